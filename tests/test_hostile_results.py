"""Issue 25, items 10-19: wrong or misleading results users found, each reproduced here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import run, scenario

import qsim

# --- 10. calibration due times after a warm-up ---------------------------------------------

# One lane; the others' jobs arrive every 160 s (on multiples of 160 s from the run's 0, with
# or without a warm-up whose length is a multiple of 160 s) and hold the QPU 100 s each.
CALIBRATED = {"backend": {"lanes": 1, "calibration": {"every": "1h", "duration": "5m"}},
              "horizon": "3h"}
OTHERS = {"name": "b", "kind": "background", "arrivals": "160s", "quantum": "100s"}
PROBE = {"name": "a", "kind": "independent", "jobs": 1, "quantum": "1s"}


def calibration_rows(warmup: str) -> tuple[list[tuple[float, str]], list[tuple[float, ...]],
                                           float]:
    result = run(OTHERS, PROBE, warmup=warmup, **CALIBRATED)
    records = [(t, kind) for t, kind, _ in result.trace.rows() if kind.startswith("cal")]
    table = result.calibrations
    rows = list(zip(*(table[c].tolist() for c in ("due_at", "start_at", "deferred_s"))))
    return records, rows, result.summary()["backend"]["calibration_deferred_s"]


def test_calibrations_are_due_on_the_scenario_clock_whatever_the_warm_up() -> None:
    """SPEC §1: due at every, 2·every, ... of the scenario's clock, whose 0 a warm-up moves
    before it (and a calibration due at a time t <= 0 falls in the warm-up).

    Without a warm-up: due 3600, the others' job of 3520 holds the QPU until 3620: deferred
    20 s, 3620-3920; due 7200, the QPU free (the job of 7040 ended at 7140, the one of 7200
    is submitted after the timer): 7200-7500. After a warm-up of 3200 s (not a multiple of
    the hour) the same, plus the one due at 0, which finds the QPU free (the job of -160 ended
    at -60). The bug: due on the warm-up's clock, 400 s after the scenario's times, each
    reported deferral off by the warm-up (-3180 s). Warm-up 2 h: also due at -3600 (the job of
    -3680 holds it until -3580), left out of the run's figures, which are from 0 on."""
    assert calibration_rows("0s") == (
        [(3620.0, "calibration.start"), (3920.0, "calibration.end"),
         (7200.0, "calibration.start"), (7500.0, "calibration.end")],
        [(3600.0, 3620.0, 20.0), (7200.0, 7200.0, 0.0)], 20.0)
    assert calibration_rows("3200s") == (
        [(0.0, "calibration.start"), (300.0, "calibration.end"),
         (3620.0, "calibration.start"), (3920.0, "calibration.end"),
         (7200.0, "calibration.start"), (7500.0, "calibration.end")],
        [(0.0, 0.0, 0.0), (3600.0, 3620.0, 20.0), (7200.0, 7200.0, 0.0)], 20.0)
    records, rows, deferred = calibration_rows("2h")
    assert rows == [(-3600.0, -3580.0, 20.0), (0.0, 0.0, 0.0), (3600.0, 3620.0, 20.0),
                    (7200.0, 7200.0, 0.0)]
    assert records[:2] == [(-3580.0, "calibration.start"), (-3280.0, "calibration.end")]
    assert deferred == 20.0  # the warm-up's calibration is not the run's


def test_calibration_deferrals_are_never_negative() -> None:
    for warmup in ("0s", "1s", "17m", "1d"):
        s = scenario({**OTHERS, "arrivals": {"dist": "exponential", "mean": "160s"}}, PROBE,
                     warmup=warmup, **CALIBRATED)
        result = qsim.simulate(s, seed=7)
        assert (result.calibrations["deferred_s"] >= 0).all(), warmup
        assert result.summary()["backend"]["calibration_deferred_s"] >= 0, warmup


# --- 13. what stopped a batch ---------------------------------------------------------------

def test_a_batch_whose_max_time_passes_between_jobs_is_stopped_by_max_time() -> None:
    """A loop of 10 s jobs, 5 s of classical time between them, in a batch of max_time 25 s:
    j0 0-10 (window 0-11, closed by the interactive TTL), j1 15-25; max_time closes the batch
    at 25 with nothing queued, so no job carries its reason; j2, submitted at 30, is
    cancelled for the closed batch. The bug: "a closed context" (that of j2), where what to
    change is the batch's max_time. The close record says why it closed."""
    from qsim.present.report import _progress

    result = run({"name": "a", "kind": "iterative", "iterations": 10, "quantum": "10s",
                  "classical": "5s", "mode": {"kind": "batch", "max_time": "25s"}})
    closes = [(r.t, r.kind, r.info) for r in result.trace if r.kind == "context.close"]
    assert closes == [(25.0, "context.close", "max_time")]
    entry = result.summary()["workloads"][0]
    assert (entry["stopped_by"], entry["jobs"]["done"], entry["jobs"]["cancelled"]) == \
        ("max_time", 2, 1)
    assert _progress(entry) == "2/10 done (stopped by its max_time: raise mode.max_time to " \
                               "let it finish)"
    cancelled = run({"name": "a", "kind": "iterative", "iterations": 10, "quantum": "10s",
                     "classical": "5s", "mode": {"kind": "batch", "cancel_at": "12s"}})
    assert cancelled.summary()["workloads"][0]["stopped_by"] == "cancel_at"


# --- 14. --percentiles in compare -------------------------------------------------------------

def test_percentiles_keep_the_paired_differences_one_indented_line_each() -> None:
    """With --percentiles each paired difference stays on its own indented line, its
    p10-p90 range in it; the bug put the range on a line of its own, unindented."""
    import io

    from rich.console import Console

    from qsim.experiments import compare
    from qsim.present.report import print_comparison

    s = scenario({"name": "v", "kind": "iterative", "iterations": 4,
                  "quantum": {"dist": "exponential", "mean": "10s"},
                  "classical": {"dist": "exponential", "mean": "5s"}})
    result = compare(s, replications=5, workers=1)
    text = io.StringIO()
    print_comparison(Console(file=text, width=200), result, percentiles=True)
    lines = text.getvalue().split("Paired difference against ")[1].splitlines()
    assert lines[0].endswith("(same random streams, mean ± 95% CI [p10–p90]):")
    assert len(lines) == 3, lines  # two modes against the cheapest
    for line in lines[1:]:
        assert line.startswith("  ") and " mode: cost " in line, line
    session = next(line for line in lines if line.startswith("  session mode"))
    # the same wall time in every mode (no one else on the backend): no interval, no range
    assert re.fullmatch(r"  session mode: cost \$[\d.]+ ± \$[\d.]+ \[\$[\d.]+–\$[\d.]+\], "
                        r"wall time 0s", session), session


def test_the_compare_picture_draws_the_spread_with_percentiles() -> None:
    """``spread=True`` (``--percentiles``): whiskers from p10 to p90, and the title says so."""
    from qsim.present.plots import compare as picture

    data = {"workload": "vqe", "replications": 10, "modes": {
        "job": {"usage_s": {"mean": 30.0, "ci95": [29.0, 31.0], "p10": 20.0, "p90": 40.0}},
        "session": {"usage_s": {"mean": 50.0, "ci95": [48.0, 52.0], "p10": 45.0, "p90": 58.0}}}}

    def drawn(ax: object) -> list[tuple[float, float]]:
        usage = next(a for a in ax.child_axes if a.get_gid() == "compare/usage_s")  # type: ignore[attr-defined]
        return sorted((round(s[:, 1].min(), 6), round(s[:, 1].max(), 6))
                      for c in usage.collections for s in c.get_segments())

    assert drawn(picture(data)) == [(29.0, 31.0), (48.0, 52.0)]
    spread = picture(data, spread=True)
    assert drawn(spread) == [(20.0, 40.0), (45.0, 58.0)]
    assert "whiskers: 10th to 90th percentile of the runs" in spread.get_title(loc="left")


# --- 15. the trace summary's classical time ------------------------------------------------

def test_the_trace_summary_tells_the_set_up_from_the_time_between_jobs() -> None:
    """LOOP: 3 s then 1 s before the first job (set-up: imports, transpiling, opening the
    session), 5 s between the two jobs. The bug: "classical time between jobs 9s"."""
    from pathlib import Path

    from test_recorded import LOOP, think, trace

    from qsim.present.trace_command import summary
    from qsim.records import trace_file as recording

    rec = recording.parse_trace(trace(LOOP))
    assert rec.think_parts() == (4.0, 5.0, 0.0)
    lines = summary(rec, "vqe.py", Path("out"), 20.0).splitlines()
    assert lines[2:4] == ["  classical time 4s before the first job (set-up), 5s between jobs",
                          "  the script ran 20s here"]
    after = recording.parse_trace(trace([*LOOP, think(2)]))
    assert after.think_parts() == (4.0, 5.0, 2.0)
    assert summary(after, "vqe.py", Path("out"), 20.0).splitlines()[2] == (
        "  classical time 4s before the first job (set-up), 5s between jobs, 2s after the last")
    assert "4s of set-up before the first job and 5s of classical time between jobs" in \
        recording.scenario_text(rec, name="p")


# --- 16. validate checks the work as run does -------------------------------------------------

def cli(*args: object) -> tuple[int, str, str]:
    import contextlib
    import io

    from qsim.present.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


LOOP100 = "  - {name: a, kind: iterative, iterations: 100, quantum: 1s}\n"


@pytest.mark.parametrize("top,text", [
    ("warmup: 1e12\n", LOOP100 + "  - {name: b, kind: background, load: 0.5, quantum: 1s}\n"),
    ("backend: {calibration: {every: 1us, duration: 0.5us}}\n", LOOP100),
    ("horizon: 1d\n", LOOP100 + "  - {name: b, kind: background, arrivals: 1us, quantum: 0s}\n"),
])
def test_validate_refuses_what_run_refuses(top: str, text: str, tmp_path: Path) -> None:
    """The bug: `validate` said ok, then `run` refused the work. The same line, exit 2;
    `--max-jobs` raises the limit for both."""
    path = tmp_path / "s.yaml"
    path.write_text("name: x\n" + top + "workloads:\n" + text)
    run_code, _, run_err = cli("run", path, "--json")
    code, out, err = cli("validate", path)
    assert (run_code, code, out) == (2, 2, "")
    assert err == run_err and err.startswith("qsim: error: x: ") and err.count("\n") == 1, err
    code, out, err = cli("validate", path, "--max-jobs", str(10**12))
    assert code == 0 and out.startswith(f"{path}: ok"), err


# --- 11. a recorded program that mixes modes says so ---------------------------------------

def test_the_trace_summary_and_scenario_say_when_a_program_mixes_modes() -> None:
    from test_recorded import CLOSE, OPEN, submit, think, trace, wait

    from qsim.present.trace_command import summary
    from qsim.records import trace_file as recording

    data = trace([OPEN, submit(0), wait(0), CLOSE, think(2), submit(1), wait(1)])
    data["jobs"][1]["context"] = None
    mixed = recording.parse_trace(data)
    note = ("  it mixes modes: qsim run replays each job in the mode it ran in (1 in job mode, "
            "the rest in session mode); a mode: of another kind puts them all in that one")
    assert note in summary(mixed, "qaoa.py", Path("out"), 1.0).splitlines()
    assert "# The program mixes modes: each job replays in the mode it ran in (1 in job mode" \
        in recording.scenario_text(mixed, name="p")
    single = recording.parse_trace(trace([OPEN, submit(0), wait(0), submit(1), wait(1), CLOSE]))
    assert "mixes modes" not in summary(single, "vqe.py", Path("out"), 1.0)
    assert "mixes modes" not in recording.scenario_text(single, name="p")


# --- 18. two commands writing the same --out ------------------------------------------------

HOLDER = """\
import sys
from pathlib import Path
from qsim.present.files import check_out_dir
check_out_dir(Path(sys.argv[1]))  # takes the folder's lock, as a command does before its run
print("locked", flush=True)
sys.stdin.read()  # holds it until killed
"""


def test_a_second_command_on_the_same_out_refuses_naming_the_first(tmp_path: Path) -> None:
    """The bug: two `qsim run --out SAME` at once both said ok, and one result vanished. The
    second now refuses (exit 2, nothing written) while the first holds the folder; the lock
    is the OS's (flock), so a first run that crashed (SIGKILL) leaves none behind."""
    import os
    import subprocess
    import sys

    from helpers import SMALL_YAML

    scenario_file, out = tmp_path / "s.yaml", tmp_path / "out"
    scenario_file.write_text(SMALL_YAML)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        code, stdout, err = cli("run", scenario_file, "--out", out)
        assert (code, stdout) == (2, "")
        assert err == (f"qsim: error: --out {out}: another qsim (pid {holder.pid}: qsim "
                       f"{out}) is writing this folder; wait for it to end, or choose another "
                       "folder\n")
        assert not out.exists()
        code, _, err = cli("compare", scenario_file, "--out", out)
        assert code == 2 and f"another qsim (pid {holder.pid}" in err
    finally:
        holder.kill()  # a crash: no clean-up of its own
        holder.wait()
    code, _, err = cli("run", scenario_file, "--out", out)
    assert (code, err) == (0, "")
    assert (out / "summary.json").is_file()
    code, _, err = cli("run", scenario_file, "--out", out)  # again, in the same process
    assert (code, err) == (0, "")
    assert sorted(os.listdir(tmp_path)) == ["out", "s.yaml"]  # nothing beside it


# --- 19. the notebooks' extra ---------------------------------------------------------------

def test_the_notebooks_extra_brings_what_the_notebooks_need() -> None:
    """The README's install (`pip install -e .`) brings no Jupyter kernel nor Qiskit; the
    `notebooks` extra brings what runs them (nbclient, a kernel) and what they import beyond
    qsim's own dependencies (record-your-vqe: the qiskit extra's packages and scipy)."""
    import json

    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", r)[0] for r in extras["notebooks"]}
    qiskit = {re.split(r"[<>=\[ ]", r)[0] for r in extras["qiskit"]}
    assert {"nbclient", "ipykernel", "scipy"} | qiskit <= names
    base = {re.split(r"[<>=\[ ]", r)[0] for r in project["dependencies"]}
    imported = set()
    notebooks = [*root.glob("notebooks/*.ipynb"), *root.glob("qsim/examples/*.ipynb")]
    assert any(p.name == "record-your-vqe.ipynb" for p in notebooks)  # wherever they live
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                imported |= set(re.findall(r"^\s*(?:from|import) (\w+)",
                                           "".join(cell["source"]), re.M))
    packages = {"qiskit_ibm_runtime": "qiskit-ibm-runtime", "qiskit_aer": "qiskit-aer",
                "yaml": "pyyaml"}  # module -> distribution, where the names differ
    stdlib = {"pathlib", "tempfile", "warnings", "json", "os", "math", "sys", "qsim"}
    needed = {packages.get(m, m) for m in imported - stdlib}
    assert needed <= base | names, needed - base - names
    assert "pip install -e '.[notebooks]'" in (root / "README.md").read_text()


# --- 17. what was silently accepted, each decided ---------------------------------------------

@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_below_one_are_refused(workers: object) -> None:
    """Decided: refused. ``workers=0`` ran on every core and ``-1`` on one, silently; None
    (the default) is every core, and a count is at least 1."""
    s = scenario({"name": "a", "kind": "iterative", "iterations": 2, "quantum": "1s"})
    expected = f"workers must be a whole number of at least 1, or None for all the cores " \
               f"(got {workers!r})"
    for call in (lambda: qsim.replicate(s, 2, workers=workers),
                 lambda: qsim.sweep(s, {"backend.lanes": [1, 2]}, workers=workers),
                 lambda: qsim.compare(s, workers=workers)):
        with pytest.raises(qsim.QsimError) as caught:
            call()  # type: ignore[no-untyped-call]
        assert str(caught.value) == expected
    assert qsim.replicate(s, 2, workers=1).replications == 2


@pytest.mark.parametrize("text", ["１h", "1h３0m", "٣s", "５"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    """Decided: refused. Python reads any Unicode digit ('１h' was 1 h), but a file that
    writes full-width or Arabic-Indic digits is far more likely pasted from elsewhere than
    meant; 0-9 only, said so."""
    from qsim.input.units import parse_duration

    with pytest.raises(ValueError, match=r"^write its digits as 0-9 \(it has '.'\)$"):
        parse_duration(text)
    with pytest.raises(qsim.ScenarioError, match=r"jobs: must be a whole number \(got '１０'\)"):
        scenario({"name": "a", "kind": "independent", "jobs": "１０", "quantum": "1s"})


def test_only_the_last_part_of_a_compound_duration_has_a_fraction() -> None:
    """Decided: refused. '1.5h30m' read as 2 h (1.5 h + 30 m): a fraction with a smaller
    unit after it is a typo for 1h30m or for 1.5h far more often than a way to write 2 h.
    The last part keeps its fraction (1h30.5m)."""
    from qsim.input.units import parse_duration

    with pytest.raises(ValueError, match=r"^only the last part of a compound duration may have "
                                         r"a fraction, e.g\. 1h30\.5m$"):
        parse_duration("1.5h30m")
    assert parse_duration("1h30.5m") == 3600 + 30.5 * 60
    assert parse_duration("1d0.5h") == 86400 + 1800


def test_a_trailing_comma_in_vary_is_refused() -> None:
    """Decided: refused. A trailing comma dropped a value (YAML's flow lists allow one), where
    a comma in the middle or at the start is already a YAML error."""
    from qsim.experiments.sweep import SweepError, parse_vary

    with pytest.raises(SweepError, match=r"^--vary backend\.lanes: ends with a comma: a value "
                                         r"missing\? write V1,V2,\.\.\. \(got '1,2,'\)$"):
        parse_vary("backend.lanes=1,2,")
    for option in ("backend.lanes=1,,2", "backend.lanes=,1"):
        with pytest.raises(SweepError, match="cannot read the values"):
            parse_vary(option)
    assert parse_vary("backend.lanes=1,2") == ("backend.lanes", [1, 2])
    assert parse_vary("mode={kind: batch, max_time: 1h},job")[1] == [
        {"kind": "batch", "max_time": "1h"}, "job"]


def test_plot_replaces_a_picture_and_refuses_anything_else(tmp_path: Path) -> None:
    """Decided: --plot replaces an existing PNG picture (drawing again is what it is for, as
    with matplotlib's savefig), and refuses a file that is not one: a picture costs nothing
    to draw again, a document named *.png by mistake may not."""
    from helpers import SMALL_YAML

    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(SMALL_YAML)
    picture = tmp_path / "t.png"
    assert cli("run", scenario_file, "--plot", picture)[0] == 0
    first = picture.read_bytes()
    picture.write_bytes(first[:100])  # an older picture (its signature is a PNG's)
    code, _, err = cli("run", scenario_file, "--plot", picture)
    assert (code, err) == (0, "") and picture.read_bytes() == first
    notes = tmp_path / "notes.png"
    notes.write_text("my notes")
    code, out, err = cli("run", scenario_file, "--plot", notes)
    assert (code, out) == (2, "")
    assert err == (f"qsim: error: --plot {notes}: exists and is not a PNG picture; replacing "
                   "it would lose it: choose another name\n")
    assert notes.read_text() == "my notes"


def test_the_nesting_limit_says_what_a_level_is(tmp_path: Path) -> None:
    """Decided: the limit stays 100 levels of the file's structure (it bounds the parser);
    the message says that every mapping and list is one, so that a {dist: sum} nested in
    another, two levels each, meeting it at 50 sums is no surprise. 48 sums fit."""
    def sums(n: int) -> str:
        return "{dist: sum, of: [" * n + "1s" + ", 1s]}" * n

    def text(n: int) -> str:
        return ("name: x\nworkloads:\n  - {name: a, kind: iterative, iterations: 1, quantum: "
                + sums(n) + "}\n")

    path = tmp_path / "s.yaml"
    path.write_text(text(48))
    assert cli("validate", path)[0] == 0
    path.write_text(text(50))
    code, _, err = cli("validate", path)
    assert code == 2
    assert err == (f"qsim: error: {path}:3: nested more than 100 levels deep (qsim's limit; "
                   "each mapping and each list is a level: a {dist: sum} takes two)\n")


def test_without_a_temporary_folder_to_lock_in_the_command_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock guards against a rare race; a temporary folder qsim cannot write must not
    stop every --out (nor end in a traceback)."""
    import tempfile

    from helpers import SMALL_YAML

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(blocked))
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(SMALL_YAML)
    code, _, err = cli("run", scenario_file, "--out", tmp_path / "out")
    assert (code, err) == (0, "")
    assert (tmp_path / "out" / "summary.json").is_file()
