"""Hostile input and interruption (issue 17): no input file, option or signal produces a
traceback, a hang past the work limit, a non-JSON output, a deleted user file or a silent exit.

One section per mechanism: safe loading, bounded numbers, the work estimate and limit, finite
results, progress, Ctrl-C, output folders and standard output, escaped text; then a fuzz test
(Hypothesis) of random scenario mappings and random bytes against the whole command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SMALL_YAML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qsim
from qsim.input import limits
from qsim.input.dists import Fixed
from qsim.input.work import WorkLimitError, estimate
from qsim.model import engine
from qsim.present import files
from qsim.present.cli import main
from qsim.present.shared import json_text as _json_text

ROOT = Path(__file__).resolve().parents[1]
SMALL = SMALL_YAML
# A background stream of ~0.2 s per simulated 3 days: long enough to interrupt
LONG = """\
name: long
horizon: {horizon}
workloads:
  - name: others
    kind: background
    arrivals: {{dist: exponential, mean: 5s}}
    quantum: {{dist: exponential, mean: 4s}}
"""
ONE = "name: x\nworkloads:\n  - name: a\n    kind: iterative\n    iterations: 3\n"


def write(folder: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def cli(*args: str | Path) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def qsim_cli(*args: str | Path, cwd: Path, timeout: float = 60, **kw: Any
             ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    if "stdout" not in kw:
        kw["capture_output"] = True
    return subprocess.run(command, text=True, cwd=cwd, timeout=timeout, **kw)


def one_error_line(err: str) -> str:
    """The single ``qsim: error:`` line of ``err``, after any ``qsim: warning:`` lines the
    scenario has (SPEC §12): asserting there is exactly one, and nothing else."""
    assert err.endswith("\n") and "Traceback" not in err and "\x1b" not in err, err
    *warnings, last = err.removesuffix("\n").split("\n")
    assert all(w.startswith("qsim: warning: ") for w in warnings), err
    assert last.startswith("qsim: error: "), err
    return last.removeprefix("qsim: error: ")


def peak_allocated(call: Callable[[], object]) -> int:
    """The most bytes Python held at once (tracemalloc) while ``call`` ran: a bound on the
    work of refusing something, which does not depend on how loaded the machine is."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# A refusal reads the file (at most 10 MB) and little else: about 10.3 MB at the peak
# (measured for every case below); the alias bomb once took 6 GB.
REFUSAL_BYTES = 64 * 2**20


# ---------------------------------------------------------------------------------------------
# Safe loading: bounded files, one located line


def _bomb() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


HOSTILE_FILES: dict[str, tuple[bytes, str]] = {
    "NUL byte": (b"name: x\x00\n",
                 "{f}:1: control character U+0000 (NUL) in column 8: scenario files are plain "
                 "text"),
    "BEL in a name": (b'name: x\nworkloads:\n  - name: "a\x07b"\n',
                      "{f}:3: control character U+0007 (BEL) in column 13: scenario files are "
                      "plain text"),
    "raw ESC": (b"name: \x1b[31mred\n",
                "{f}:1: control character U+001B (ESC) in column 7: scenario files are plain "
                "text"),
    "alias bomb": (_bomb(), "{f}:6: with its aliases (*name) expanded the document holds more "
                            "than 100,000 values (qsim's limit)"),
    "recursive alias": (b"name: x\nworkloads: &w [*w]\n",
                        "{f}:2: the alias *w is inside its own anchor &w: it would repeat for "
                        "ever"),
    "5,000 levels": (b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n",
                     "{f}:1: nested more than 100 levels deep (qsim's limit; each mapping and "
                     "each list is a level: a {{dist: sum}} takes two)"),
    "1,000 levels of mappings": (b"".join(b"  " * i + b"k:\n" for i in range(1000)),
                                 "{f}:100: nested more than 100 levels deep (qsim's limit; "
                                 "each mapping and each list is a level: a {{dist: sum}} "
                                 "takes two)"),
    "400-digit circuits": ((ONE + "    quantum: {circuits: " + "9" * 400 + ", shots: 1}\n")
                           .encode(), "{f}:6: a whole number of more than 100 digits "
                                      "(qsim's limit)"),
    "more than 10 MB": (b"# " + b"x" * limits.MAX_FILE_BYTES + b"\n",
                        "{f}: larger than 10 MB: not a scenario file (qsim reads at most that "
                        "much)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_hostile_files_are_one_located_line(case: str, tmp_path: Path) -> None:
    text, message = HOSTILE_FILES[case]
    path = write(tmp_path, text)
    result: list[tuple[int, str, str]] = []
    peak = peak_allocated(lambda: result.append(cli("validate", path)))
    assert peak < REFUSAL_BYTES  # the bomb took 47 s and 6 GB before
    code, out, err = result[0]
    assert (code, out) == (2, "")
    assert one_error_line(err) == message.format(f=path)


@pytest.mark.parametrize("values,problem", [
    ("[" * 3000 + "]" * 3000, "nested more than 100 levels deep (qsim's limit; each mapping "
                              "and each list is a level: a {dist: sum} takes two)"),
    ("\x1b[31m1", "control character U+001B (ESC) in column 2: scenario files are plain text"),
])
def test_sweep_values_are_read_with_a_files_limits(values: str, problem: str,
                                                   tmp_path: Path) -> None:
    code, _, err = cli("sweep", write(tmp_path, SMALL), "--vary", f"backend.lanes={values}")
    line = one_error_line(err)
    assert code == 2 and line.startswith("--vary backend.lanes: cannot read the values ")
    assert line.endswith(f" as YAML: {problem}") and len(line) < 250


@pytest.mark.parametrize("trace,problem", [
    ("[" * 100_000 + "]" * 100_000, "not a trace qsim can read: nested too deeply"),
    ('{"format": ' + "9" * 5000 + "}", "not a trace qsim can read: a number of more than "
                                       "4,300 digits"),
])
def test_a_recorded_trace_is_read_with_limits(trace: str, problem: str, tmp_path: Path) -> None:
    write(tmp_path, trace, "t.json")
    path = write(tmp_path, "name: x\nworkloads:\n  - {name: r, kind: recorded, trace: t.json}\n")
    code, _, err = cli("validate", path)
    assert code == 2 and one_error_line(err) == (
        f"{path}:3: workloads[0].trace: {tmp_path / 't.json'}: {problem}")


def test_a_file_that_never_ends_is_read_to_the_limit_only(tmp_path: Path) -> None:
    # /dev/zero, a device, is now refused unread (issue 25: tests/test_hostile_25.py); a
    # regular file larger than the limit is read only to the limit
    with open(tmp_path / "big.yaml", "wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)
    code, _, err = cli("validate", tmp_path / "big.yaml")
    assert code == 2 and "larger than 10 MB" in one_error_line(err)


# ---------------------------------------------------------------------------------------------
# Numbers: bounded to what the model computes in floats and holds, checked at validation

BAD_NUMBERS = {
    "cv 1e200": ("    quantum: {dist: lognormal, mean: 1s, cv: 1.0e+200}\n",
                 ":6: workloads[0].quantum.cv: must be at most 100 (got 1e+200)"),
    "duration 1e308": ("    quantum: 1.0e+308\n",
                       ":6: workloads[0].quantum: must be at most 1e+12 s (about 31,700 years, "
                       "qsim's limit for any duration) (got 1e+308)"),
    "50-digit circuits": ("    quantum: {circuits: " + "1" * 50 + ", shots: 1}\n",
                          ":6: workloads[0].quantum.circuits: must be at most 1,000,000,000 "
                          "(got " + "1" * 50 + ")"),
    "circuit time": ("    quantum: {circuits: 1000000000, shots: 1000000000}\n",
                     ":6: workloads[0].quantum: gives 1e+14 s of quantum time a job; at most "
                     "1e+12 s (qsim's limit for any duration) (got {'circuits': 1000000000, "
                     "'shots': 1000000000})"),
    "per-circuit compile": ("    quantum: {circuits: 1000000000, shots: 1}\n"
                            "    compile: {per_circuit: 1d}\n",
                            ":7: workloads[0].compile: gives 8.64e+13 s a job with the "
                            "quantum's 1,000,000,000 circuits; at most 1e+12 s (qsim's limit "
                            "for any duration)"),
    "parallel 1e9": ("    quantum: 1s\n    parallel: 1e9\n",
                     ":7: workloads[0].parallel: must be at most 10,000 (got '1e9')"),
    "max_retries": ("    quantum: 1s\n    max_retries: 1000000\n",
                    ":7: workloads[0].max_retries: must be at most 1000 (got 1000000)"),
    "price": ("    quantum: 1s\npricing: {usd_per_second: 1.0e+300}\n",
              ":7: pricing.usd_per_second: must be at most 1e+06 (got 1e+300)"),
    "lanes": ("    quantum: 1s\nbackend: {lanes: 1000000}\n",
              ":7: backend.lanes: must be at most 10,000 (got 1000000)"),
    "probability as text": ("    quantum: 1s\n    failure: {probability: 2e0}\n",
                            ":7: workloads[0].failure.probability: must be between 0 and 1 "
                            "(got '2e0')"),
    "zero inter-arrival": ("    quantum: 1s\n  - name: b\n    kind: background\n"
                           "    arrivals: 0s\n    quantum: 1s\n",
                           ":9: workloads[1].arrivals: must have a mean greater than 0: jobs 0 s "
                           "apart would arrive for ever without time moving on (got '0s')"),
    "exponential mean 0": ("    quantum: 1s\n  - name: b\n    kind: background\n"
                           "    arrivals: {dist: exponential, mean: 0}\n    quantum: 1s\n",
                           ":9: workloads[1].arrivals: must have a mean greater than 0: jobs 0 "
                           "s apart would arrive for ever without time moving on (got {'dist': "
                           "'exponential', 'mean': 0})"),
    "calibrations alone": ("    quantum: 1s\nbackend:\n"
                           "  calibration: {every: 1us, duration: 1us}\n",
                           ":8: backend.calibration.duration: must be shorter than every (1us): "
                           "calibrations alone would take the QPU for ever (got '1us')"),
}


@pytest.mark.parametrize("case", list(BAD_NUMBERS))
def test_numbers_beyond_the_model_are_refused_at_validation(case: str, tmp_path: Path) -> None:
    tail, message = BAD_NUMBERS[case]
    path = write(tmp_path, ONE + tail)
    code, out, err = cli("validate", path)
    assert (code, out) == (2, "")
    assert one_error_line(err) == f"{path}{message}"


def test_yaml_1_1_number_strings_are_numbers(tmp_path: Path) -> None:
    # YAML 1.1 reads 2e-3 and 1e3 (an exponent without a dot or a sign) as strings.
    path = write(tmp_path, "name: x\nseed: 1e3\nworkloads:\n  - name: a\n    kind: iterative\n"
                           "    iterations: 1e3\n    quantum: {dist: lognormal, mean: 2e-3, "
                           "cv: 5e-1}\n    failure: {probability: 2e-3}\n    share: 2e0\n")
    w = qsim.load_scenario(path).workloads[0]
    assert (w.iterations, w.quantum.mean, w.quantum.cv, w.failure.probability, w.share) == (
        1000, 0.002, 0.5, 0.002, 2.0)
    assert qsim.load_scenario(path).seed == 1000


# ---------------------------------------------------------------------------------------------
# The work estimate and limit


def test_a_billion_jobs_are_refused_before_they_start(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "name: x\nworkloads:\n  - {name: a, kind: independent, jobs: 1e9, "
                           "quantum: 1s}\n")
    runs: list[object] = []  # the work done: no simulation is even set up
    monkeypatch.setattr(engine, "_Simulation", lambda *a: runs.append(a))
    result: list[tuple[int, str, str]] = []
    peak = peak_allocated(lambda: result.append(cli("run", path, "--out", tmp_path / "out")))
    assert (runs, peak < REFUSAL_BYTES) == ([], True)
    code, out, err = result[0]
    assert (code, out) == (2, "")
    assert one_error_line(err) == (
        "x: about 1e+09 jobs expected (a: 1e+09), more than the limit of 5,000,000 jobs; raise "
        "the limit with --max-jobs N (max_jobs=N in Python) if the run is meant to be that "
        "long, or shorten the horizon or the workloads")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("text,expected", [
    # iterations in job mode with nothing to take time: every iteration at t = 0
    ("  - {name: a, kind: iterative, iterations: 1e9, quantum: 0s}\n", "about 1e+09 jobs"),
    # a background stream over a long horizon
    ("  - {name: a, kind: background, arrivals: 10ms, quantum: 0s}\nhorizon: 30d\n",
     "about 2.6e+08 jobs"),
    # calibrations every microsecond
    ("  - {name: a, kind: iterative, iterations: 100, quantum: 1s}\n"
     "backend: {calibration: {every: 1us, duration: 0.5us}}\n", "calibrations: 1e+08"),
    # an overloaded QPU and nothing to end the run: the foreground falls ever further behind
    ("  - {name: a, kind: iterative, iterations: 100, quantum: 1s}\n"
     "  - {name: b, kind: background, arrivals: 1s, quantum: 2s}\n",
     "the background load (2.00) is more than the QPU serves"),
])
def test_what_would_run_for_hours_is_refused(text: str, expected: str, tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nworkloads:\n" + text)
    code, _, err = cli("run", path, "--json")
    assert code == 2 and expected in one_error_line(err)


def test_the_estimate_counts_the_warm_up_and_repeats_are_bounded_before_copying() -> None:
    warm = qsim.parse_scenario({"name": "w", "warmup": "10d", "horizon": "1d", "workloads": [
        {"name": "b", "kind": "background", "arrivals": "10s", "quantum": "1s"},
        {"name": "a", "kind": "iterative", "iterations": 3, "quantum": "1s"}]})
    assert estimate(warm).by_workload == {"a": 3.0, "b": 11 * 86400 / 10}
    def repeats(times: int) -> qsim.Scenario:
        return qsim.parse_scenario({"name": "r", "workloads": [
            {"name": f"a{i}", "kind": "iterative", "iterations": 3, "quantum": "1s",
             "repeat": {"every": "1d", "times": times}} for i in range(3)]})

    def refused() -> None:
        with pytest.raises(qsim.ScenarioError, match="would hold 12,285 workloads with their "
                                                     "repeats; qsim simulates at most 4095"):
            repeats(4095)

    # Refused before any copy is made: about 12 kB at the peak (measured), where 4,095
    # copies, the most accepted, take 7 MB and the 12,285 asked for would take three times that.
    assert peak_allocated(refused) < 2**20
    assert peak_allocated(lambda: repeats(1365)) > 2 * 2**20  # the bound can fail


def test_max_jobs_raises_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nworkloads:\n  - {name: a, kind: independent, jobs: 3000, "
                           "quantum: 1ms}\n")
    code, _, err = cli("run", path, "--json", "--max-jobs", "1000")
    assert code == 2 and "about 3,000 jobs expected" in one_error_line(err)
    code, out, err = cli("run", path, "--json", "--max-jobs", "3000")
    assert (code, err) == (0, "")
    assert json.loads(out)["workloads"][0]["jobs"]["done"] == 3000
    for command in (("compare",), ("sweep", "--vary", "backend.lanes=1,2")):
        code, _, err = cli(*command, path, "--max-jobs", "1000")
        assert code == 2 and "more than the limit of 1,000 jobs" in one_error_line(err)


def test_the_api_takes_max_jobs_for_all_the_runs_together() -> None:
    scenario = qsim.parse_scenario({"name": "x", "workloads": [
        {"name": "a", "kind": "independent", "jobs": 100, "quantum": "1ms"}]})
    assert estimate(scenario).jobs == 100
    with pytest.raises(WorkLimitError, match="about 100 jobs expected"):
        qsim.simulate(scenario, max_jobs=99)
    assert qsim.simulate(scenario, max_jobs=100).summary()["workloads"][0]["jobs"]["done"] == 100
    with pytest.raises(WorkLimitError, match="about 1,000 jobs expected in 10 runs"):
        qsim.replicate(scenario, 10, max_jobs=999, workers=1)
    with pytest.raises(WorkLimitError, match="about 300 jobs expected in 3 runs"):
        qsim.compare(scenario, max_jobs=299, workers=1)
    with pytest.raises(WorkLimitError, match="about 200 jobs expected in 2 runs"):
        qsim.sweep(scenario, {"backend.lanes": [1, 2]}, max_jobs=199, workers=1)
    assert qsim.replicate(scenario, 2, max_jobs=None, workers=1).replications == 2


def test_a_run_past_the_limit_is_stopped_while_it_runs() -> None:
    # The engine's own guard, without the estimate in front of it: a million-iteration loop.
    scenario = qsim.parse_scenario({"name": "x", "workloads": [
        {"name": "a", "kind": "iterative", "iterations": 10**6, "quantum": "1s"}]})
    with pytest.raises(WorkLimitError, match=r"x: the run passed the limit of 2,000 jobs at "
                                             r"simulated .* \(([\d,]+) jobs and .* records so "
                                             r"far\)") as caught:
        engine.run(scenario, max_jobs=2000)
    # Stopped within one look of the watching thread (0.2 s): 3,800-6,100 jobs measured, and
    # fewer on a loaded machine; the run it stopped would have submitted 1,000,000.
    jobs = re.search(r"\(([\d,]+) jobs", str(caught.value))
    assert jobs is not None and 2000 < int(jobs[1].replace(",", "")) < 100_000


def test_replications_are_bounded(tmp_path: Path) -> None:
    code, _, err = cli("run", write(tmp_path, SMALL), "-r", "1000000000")
    assert code == 2
    assert one_error_line(err).startswith("replications must be at most 100,000 (got "
                                          "1,000,000,000)")


# ---------------------------------------------------------------------------------------------
# Finite results only; strict JSON


def test_a_clock_that_reaches_inf_names_the_workload_and_the_phase() -> None:
    scenario = qsim.parse_scenario({"name": "t", "workloads": [
        {"name": "a", "kind": "iterative", "iterations": 3, "quantum": "1s"}]})
    # A distribution no file can write (validation bounds every duration): built directly.
    broken = scenario.workloads[0].model_copy(
        update={"compile": Fixed.model_construct(value=math.inf)})
    with pytest.raises(qsim.QsimError, match=r"t: the run's clock reached inf at a job.ready "
                                             r"record: the workload 'a' \(workloads\[0\]\), "
                                             r"its compile drew durations"):
        qsim.simulate(scenario.model_copy(update={"workloads": (broken,)}))


def test_json_output_is_strict() -> None:
    with pytest.raises(qsim.QsimError, match="not a finite number"):
        _json_text({"x": math.nan})
    with pytest.raises(qsim.QsimError, match="not a finite number"):
        _json_text({"x": math.inf})


def test_compare_with_an_infinite_ratio_is_strict_json(tmp_path: Path) -> None:
    # Job mode charges nothing for system errors; a session bills its window: the session's
    # cost ratio against a best of 0 is infinite, which JSON cannot hold.
    path = write(tmp_path, ONE + "    quantum: 5s\n    failure: {probability: 1, kind: system}\n"
                                 "    on_failure: abort\n")
    code, out, err = cli("compare", path, "--json", "--modes", "job,session")
    assert (code, err) == (0, "")

    def no_constants(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    data = json.loads(out, parse_constant=no_constants)
    assert data["verdict"]["cost_ratio"] == {"job": 1.0, "session": None}
    code, out, _ = cli("compare", path, "--modes", "job,session")
    assert code == 0 and "∞" in out


# ---------------------------------------------------------------------------------------------
# Progress of a single long run


@pytest.mark.slow
def test_a_single_long_run_shows_progress_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, LONG.format(horizon="12d"))  # about 2 s
    env = {**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "80"}
    start = time.monotonic()
    proc = qsim_cli("run", path, "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    if time.monotonic() - start > 2.5:  # the bar appears after a second of work
        assert "simulating" in proc.stderr and "%" in proc.stderr


# ---------------------------------------------------------------------------------------------
# Ctrl-C: within about a second, one line, exit 130, nothing left behind


def _default_sigint() -> None:
    """In the child, before qsim starts: SIGINT as a terminal leaves it. A suite started with
    SIGINT ignored (``nohup ... &``, some CI runners) passes SIG_IGN on to its children, and
    Python then installs no KeyboardInterrupt handler: the interrupt would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(args: list[str], cwd: Path, group: bool, after: float = 2.0
               ) -> tuple[int, str, float]:
    """Start ``qsim ARGS`` in a session of its own, send SIGINT after ``after`` s to the
    whole group (as a terminal does) or the main process alone; (code, stderr, seconds to
    exit). The group must be empty once it has exited: no worker outlives it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qsim.present.cli import app; app()", *args], cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_default_sigint)
    try:
        time.sleep(after)
        assert proc.poll() is None, "finished before the interrupt: make it longer"
        sent = time.monotonic()
        (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        took = time.monotonic() - sent
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("processes of the group outlived it")
        return proc.returncode, err, took
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("args,group", [
    (["run", "long.yaml", "-r", "50", "--out", "out"], True),  # a pool: workers and all
    (["run", "long.yaml", "-r", "50", "--out", "out"], False),  # the main process alone
    (["run", "longer.yaml", "--out", "out", "--plot", "t.png"], True),  # one long run
    (["compare", "long.yaml", "-r", "20", "--out", "out"], True),
], ids=["replications-group", "replications-main", "single-run", "compare"])
def test_ctrl_c_stops_within_a_second(args: list[str], group: bool, tmp_path: Path) -> None:
    loop = "  - {name: loop, kind: iterative, iterations: 3, quantum: 1s, start: 1d}\n"
    write(tmp_path, LONG.format(horizon="3d") + loop, "long.yaml")
    write(tmp_path, LONG.format(horizon="200d"), "longer.yaml")  # about a minute
    code, err, took = _interrupt(args, tmp_path, group)
    assert (code, err) == (130, "qsim: interrupted\n")
    assert took < 3  # about a second (0.4-0.7 s measured), with room for a loaded CI machine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml", "longer.yaml"]


# ---------------------------------------------------------------------------------------------
# Output folders: replaced only when qsim wrote them; standard output that fails


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write(tmp_path, SMALL, "small.yaml")


def _out(small: Path, out: Path) -> tuple[int, str]:
    code, _, err = cli("run", small, "--json", "--out", out)
    return code, err


def test_a_folder_of_photos_is_refused(small: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.png").write_bytes(b"\x89PNG holiday")
    (photos / "wedding.png").write_bytes(b"\x89PNG wedding")
    code, err = _out(small, photos)
    assert code == 2
    assert one_error_line(err) == (
        f"--out {photos}: qsim did not write this folder (it has no valid .qsim-manifest.json), "
        "and replacing it would lose holiday.png (and 1 other); choose a new folder")
    assert sorted(p.name for p in photos.iterdir()) == ["holiday.png", "wedding.png"]
    assert (photos / "wedding.png").read_bytes() == b"\x89PNG wedding"


def test_qsim_replaces_its_own_folder_and_nothing_more(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()  # an empty folder loses nothing
    assert _out(small, out) == (0, "")
    manifest = json.loads((out / files.MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["contexts.csv", "jobs.csv", "summary.json",
                                         "timeline.png"]
    assert manifest["qsim_version"] == qsim.__version__
    assert _out(small, out) == (0, "")  # its own, unchanged: replaced
    (out / "notes.txt").write_text("mine")
    code, err = _out(small, out)
    assert code == 2 and one_error_line(err) == (
        f"--out {out}: replacing it would lose notes.txt, which qsim did not write there; "
        "choose a new folder")
    (out / "notes.txt").unlink()
    with open(out / "jobs.csv", "a") as fh:
        fh.write("my edit\n")
    code, err = _out(small, out)
    assert code == 2 and one_error_line(err) == (
        f"--out {out}: jobs.csv has changed since qsim wrote it, and replacing it would lose "
        "that; choose a new folder")
    assert (out / "jobs.csv").read_text().endswith("my edit\n")
    (out / "jobs.csv").unlink()
    (out / "jobs.csv").mkdir()  # a folder where qsim wrote a file
    code, err = _out(small, out)
    assert code == 2 and "would lose jobs.csv" in one_error_line(err)


@pytest.mark.parametrize("dangling", [False, True])
def test_an_out_that_is_a_symlink_is_refused_and_left_alone(dangling: bool, small: Path,
                                                            tmp_path: Path) -> None:
    target = tmp_path / "real"
    if not dangling:
        target.mkdir()
        (target / "keep.txt").write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    code, err = _out(small, link)
    assert code == 2
    assert one_error_line(err) == (f"--out {link}: is a symbolic link (to {target}); give a "
                                   "real folder: qsim replaces an --out folder whole and never "
                                   "a link")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no .old, no .tmp
    if not dangling:
        assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_a_file_added_during_the_run_is_not_lost(tmp_path: Path) -> None:
    # The folder is checked again just before the swap (a long run leaves time).
    out = tmp_path / "out"
    files.write_out_dir(out, {"summary.json": "{}\n"})
    files.check_out_dir(out)
    (out / "added.txt").write_text("added while qsim ran")
    with pytest.raises(qsim.QsimError, match="would lose added.txt"):
        files.write_out_dir(out, {"summary.json": "{}\n"})
    assert sorted(p.name for p in out.iterdir()) == [".qsim-manifest.json", "added.txt",
                                                     "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_an_interrupted_write_leaves_nothing_behind(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if written:
            raise KeyboardInterrupt
        written.append(self.name)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(KeyboardInterrupt):
        files.write_out_dir(tmp_path / "out", {"a.csv": "1\n", "b.csv": "2\n"})
    assert list(tmp_path.iterdir()) == []
    written.clear()
    with pytest.raises(KeyboardInterrupt):
        files.write_file(tmp_path / "ok.png", b"x")  # the first write passes; then Ctrl-C
        files.write_file(tmp_path / "t.png", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["ok.png"]


def test_tables_written_on_their_own_thread_are_in_the_manifest(small: Path,
                                                                 tmp_path: Path) -> None:
    # jobs.csv is written by Arrow on a second thread, straight into the new folder, while
    # the timeline is drawn: the manifest must still list every file as written.
    out = tmp_path / "out"
    code, err = _out(small, out)
    assert (code, err) == (0, "")
    listed = json.loads((out / files.MANIFEST).read_text())["files"]
    assert set(listed) == {"summary.json", "jobs.csv", "contexts.csv", "timeline.png"}
    for name, entry in listed.items():
        data = (out / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    files.check_out_dir(out)  # so a second run may replace it


def test_a_table_writer_that_fails_leaves_the_old_folder_and_no_temporary_one(
        small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qsim.present import out_tables

    out = tmp_path / "out"
    assert _out(small, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(out_tables, "_write_csv", full_disk)
    code, err = _out(small, out)
    assert code == 2
    assert one_error_line(err) == f"--out {out.absolute()}: cannot write: No space left on device"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.yaml"]


def test_a_folder_lists_only_the_files_it_was_given(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="written but not listed"), \
            files.out_folder(tmp_path / "out") as folder:
            folder.add("a.csv", "1\n")
            folder.path("b.csv").write_text("stray")  # written, never adopted
    assert [p.name for p in tmp_path.iterdir()] == []
    for bad in (files.MANIFEST, "../x.csv", ".hidden", ""):
        with pytest.raises(ValueError, match="not a name"), \
                files.out_folder(tmp_path / "out") as folder:
            folder.add(bad, "x")
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--json"], []], ids=["json", "report"])
def test_a_full_disk_on_stdout_is_one_error_line(args: list[str], small: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        proc = qsim_cli("run", small, *args, cwd=small.parent, stdout=full, stderr=subprocess.PIPE,
                        capture_output=False)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == ("cannot write to standard output: No space left on "
                                           "device")


@pytest.mark.slow
def test_a_closed_pipe_on_stdout_is_one_error_line(small: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qsim.present.cli import app; app()", "run", str(small),
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before qsim writes (as `| head -c0` would)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert one_error_line(err) == "cannot write to standard output: Broken pipe"


# ---------------------------------------------------------------------------------------------
# Text: escaped in messages, reports and pictures; shortened in pictures


def test_names_and_keys_with_control_characters_stay_on_one_escaped_line(tmp_path: Path
                                                                         ) -> None:
    path = write(tmp_path, 'name: "\\e[31mred"\nworkloads:\n  - name: "a\\nb"\n'
                           '    kind: iterative\n    iterations: 3\n    quantum: 1s\n'
                           '    "col\\nour\\e[1m": 1\n')
    code, _, err = cli("validate", path)
    assert code == 2
    assert one_error_line(err) == (f"{path}:7: workloads[0].col\\nour\\x1b[1m: unknown key "
                                   "'col\\nour\\x1b[1m'; allowed: name, kind, mode, start, "
                                   "compile, quantum, post, instance, share, max_execution_time, "
                                   "failure, repeat, backend, iterations, jobs_per_iteration, "
                                   "parallel, classical, on_failure, max_retries")


def test_reports_escape_names(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: "\\e[31mred\\e[0m"\nworkloads:\n  - name: "a\\e[2Jb"\n'
                           '    kind: iterative\n    iterations: 3\n    quantum: 1s\n'
                           '    mode: session\n')
    for args in (("run", path), ("validate", path), ("compare", path)):
        code, out, err = cli(*args)
        assert (code, err) == (0, "")
        assert "\x1b" not in out and "\\x1b" in out


def test_pictures_shorten_and_escape_names(tmp_path: Path) -> None:
    long = "w" * 10_000
    scenario = qsim.parse_scenario({"name": "$\\frac{$" + long, "workloads": [
        {"name": long, "kind": "iterative", "iterations": 2, "quantum": "1s", "mode": "batch"},
        {"name": "a$b$\\c", "kind": "independent", "jobs": 2, "quantum": "1s"}]})
    result = qsim.simulate(scenario)
    picture = tmp_path / "t.png"
    qsim.plots.save_timeline(result, picture)  # no mathtext error
    png = picture.read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width < 3000 and height < 3000  # was 260,000 pixels wide
    qsim.plots.save_compare(qsim.compare(scenario, long, workers=1), tmp_path / "c.png")


def test_a_million_lanes_draw_a_bounded_picture(tmp_path: Path) -> None:
    result = qsim.simulate(qsim.parse_scenario({
        "name": "wide", "backend": {"lanes": limits.MAX_LANES},
        "workloads": [{"name": "a", "kind": "independent", "jobs": 100, "quantum": "1ms",
                       "compile": "10s"}]}))
    picture = tmp_path / "t.png"
    qsim.plots.save_timeline(result, picture)
    png = picture.read_bytes()
    assert int.from_bytes(png[20:24], "big") < 5000


# ---------------------------------------------------------------------------------------------
# Fuzz: random scenarios and random bytes through the whole command line

FIELDS = ["name", "seed", "horizon", "backend", "pricing", "accounting", "workloads", "kind",
          "mode", "iterations", "jobs", "parallel", "quantum", "compile", "arrivals", "dist",
          "mean", "cv", "sd", "values", "circuits", "shots", "every", "duration", "lanes",
          "probability", "failure", "max_retries", "submit_interval", "start", "classical"]
HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 2, 10**9, 10**12, 2**63, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["0s", "1us", "1e-300s", "1e12s", "2e-3", "1e6", "5 parsecs", "-3s", "",
                     "session", "batch", "job", "exponential", "lognormal", "background",
                     "iterative", "independent", "\x1b[31m", "a\nb", "$x$", "∞", "1h30m"]),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(HOSTILE_VALUES, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


def _valid_base() -> dict[str, Any]:
    return yaml.safe_load(SMALL)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario with a few fields set to hostile values (mostly invalid; some run)."""
    data = _valid_base()
    for _ in range(draw(st.integers(0, 3))):
        target: Any = data if draw(st.booleans()) else draw(st.sampled_from(data["workloads"]))
        if not isinstance(target, dict):
            break
        target[draw(st.sampled_from(FIELDS))] = draw(VALUES)
    return data


def _runs_or_one_error(text: bytes, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write(folder, text)
        code, out, err = cli("run", path, "--json", "--out", folder / "out", "--max-jobs",
                             "20000", *extra)
        if code == 0:
            assert all(line.startswith("qsim: warning: ") for line in err.splitlines()), err
            summary = json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
            assert math.isfinite(summary["end_s"])
            # Its work is bounded: the limit, plus what one look of the watching thread
            # (0.2 s) may let through before it stops a run past it.
            jobs = sum(w["jobs"]["submitted"] for w in summary["workloads"])
            assert jobs + summary["backend"]["calibrations"] <= 3 * 20000
            assert (folder / "out" / files.MANIFEST).is_file()
        else:
            assert (code, out) == (2, "")
            one_error_line(err)
            assert sorted(p.name for p in folder.iterdir()) == ["s.yaml"]  # nothing written


FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
@FUZZ
@given(mutated_scenarios())
def test_fuzz_scenarios_run_or_fail_with_one_line(data: dict[str, Any]) -> None:
    _runs_or_one_error(yaml.safe_dump(data, allow_unicode=False).encode(), [])


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
def test_fuzz_random_mappings_fail_with_one_line(data: dict[str, Any]) -> None:
    _runs_or_one_error(yaml.safe_dump(data, allow_unicode=False).encode(), [])


@pytest.mark.slow
@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.builds(lambda head, tail: head + tail,
                           st.sampled_from([SMALL.encode(), b"name: x\nworkloads:\n", b""]),
                           st.binary(max_size=60))))
def test_fuzz_random_bytes_fail_with_one_line(text: bytes) -> None:
    _runs_or_one_error(text, [])
