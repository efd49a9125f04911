"""The command line as its users meet it: a real subprocess, its stdout, stderr and exit code."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import SMALL_YAML
from rich.console import Console

import qsim
from qsim.present.cli import main
from qsim.present.report import DelayedProgress

ROOT = Path(__file__).resolve().parents[1]
VQE = ROOT / "scenarios" / "vqe.yaml"
SMALL = SMALL_YAML


def qsim_cli(*args: str | Path, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``qsim ARGS`` as the console script does (``app()``), in a fresh interpreter."""
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


def as_json(data: object) -> object:
    """What ``data`` looks like after a JSON round trip (tuples become lists, ...)."""
    return json.loads(json.dumps(data))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


# ---------------------------------------------------------------------------------------------
# Version and help


@pytest.mark.slow
def test_version() -> None:
    proc = qsim_cli("--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"qsim {qsim.__version__}\n", "")


@pytest.mark.slow
def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("qsim")
    if not script.exists():
        pytest.skip("qsim is not installed as a console script in this environment")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("qsim ")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "validate", "compare", "advise"])
def test_every_command_has_help_with_examples(command: str) -> None:
    proc = qsim_cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Examples" in proc.stdout and f"qsim {command} scenarios/" in proc.stdout


@pytest.mark.slow
def test_top_level_help_lists_the_commands() -> None:
    proc = qsim_cli("--help")
    assert proc.returncode == 0
    for command in ("run", "validate", "compare"):
        assert command in proc.stdout


@pytest.mark.parametrize("args", [["--help"], ["--no-such-option"], []])
def test_a_command_named_first_reads_as_it_does_in_the_whole_app(
        args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # `qsim NAME ...` builds NAME's click command alone (start-up, issue 32): its help and
    # its usage errors must be those of the whole app's NAME, and the app stays whole.
    import typer

    from qsim.present import cli

    for name in cli.ORDER:
        shown = []
        for command in (typer.main.get_command(cli.app), cli._click_command([name, *args])):
            code = cli._invoke(command, [name, *args])
            shown.append((code, *capsys.readouterr()))
        assert shown[0] == shown[1], name
        assert shown[0][0] in (0, 2), shown[0]  # help, or one usage error
    assert sorted(cli.app.registered_commands[i].name or "" for i in range(len(cli.ORDER))) \
        == sorted(cli.ORDER)


@pytest.mark.slow
def test_plot_and_window_are_offered() -> None:
    assert "--plot" in qsim_cli("run", "--help").stdout
    assert "--window" in qsim_cli("run", "--help").stdout
    assert "--plot" in qsim_cli("compare", "--help").stdout


# ---------------------------------------------------------------------------------------------
# The process the command owns: numpy's huge-page advice (issue 32)

HUGE_PAGES = "NUMPY_MADVISE_HUGEPAGE"


def numpy_advice_in_cli(small: Path, **env: str) -> str:
    """What ``qsim run SMALL --json`` left in its process's NUMPY_MADVISE_HUGEPAGE (printed
    at exit), having checked that numpy was not loaded before the command began, so that
    numpy read the variable as the command left it."""
    code = ("import atexit, os, sys\n"
            f"atexit.register(lambda: print(os.environ.get({HUGE_PAGES!r}), file=sys.stderr))\n"
            "from qsim.present.cli import app\n"
            "assert 'numpy' not in sys.modules\n"
            "app()\n")
    environ = {k: v for k, v in os.environ.items() if k != HUGE_PAGES} | env
    proc = subprocess.run([sys.executable, "-c", code, "run", str(small), "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=environ, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.splitlines()[-1]


@pytest.mark.slow
def test_the_command_asks_numpy_for_no_huge_pages(small: Path) -> None:
    assert numpy_advice_in_cli(small) == "0"


@pytest.mark.slow
def test_the_user_s_own_huge_page_setting_wins(small: Path) -> None:
    assert numpy_advice_in_cli(small, **{HUGE_PAGES: "1"}) == "1"


def test_the_python_api_leaves_the_process_s_settings_alone(
        small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HUGE_PAGES, "unset")  # so that the undo removes it again
    monkeypatch.delenv(HUGE_PAGES)
    qsim.simulate(qsim.load_scenario(small)).summary()
    assert main(["run", str(small), "--json"]) == 0
    assert HUGE_PAGES not in os.environ


# ---------------------------------------------------------------------------------------------
# qsim run


@pytest.mark.slow
def test_run_json_is_exactly_the_api_summary(small: Path) -> None:
    proc = qsim_cli("run", small, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    expected = qsim.simulate(qsim.load_scenario(small)).summary()
    assert json.loads(proc.stdout) == as_json(expected)


@pytest.mark.slow
def test_run_seed_overrides_the_file(small: Path) -> None:
    proc = qsim_cli("run", small, "--json", "--seed", "3")
    expected = qsim.simulate(qsim.load_scenario(small), seed=3).summary()
    assert json.loads(proc.stdout) == as_json(expected)
    assert json.loads(proc.stdout)["seed"] == 3


@pytest.mark.slow
def test_run_is_byte_identical_across_runs(small: Path, tmp_path: Path) -> None:
    first = qsim_cli("run", small, "--json", "--out", tmp_path / "a")
    second = qsim_cli("run", small, "--json", "--out", tmp_path / "b")
    assert first.stdout == second.stdout
    for name in ("summary.json", "jobs.csv", "contexts.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.slow
def test_run_report_names_every_figure() -> None:
    proc = qsim_cli("run", VQE)
    assert proc.returncode == 0, proc.stderr
    for text in ("vqe-under-load", "vqe", "others", "session", "usage", "cost", "wall time",
                 "queue wait", "idle", "utilisation"):
        assert text in proc.stdout
    assert proc.stderr == ""


@pytest.mark.slow
def test_out_writes_summary_and_tables(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "results" / "small"  # parents are created
    proc = qsim_cli("run", small, "--json", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".qsim-manifest.json", "contexts.csv", "jobs.csv", "summary.json", "timeline.png"]
    assert (out / "summary.json").read_text() == proc.stdout
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")
    result = qsim.simulate(qsim.load_scenario(small))
    jobs = pd.read_csv(out / "jobs.csv", keep_default_na=False, na_values=[""])
    assert list(jobs.columns) == list(result.jobs.columns)
    # Full precision: every time reads back as exactly the same float.
    for column in ("submit_at", "quantum_start_at", "end_at", "queue_wait_s", "charged_s"):
        pd.testing.assert_series_equal(jobs[column], result.jobs[column], check_dtype=False)
    contexts = pd.read_csv(out / "contexts.csv")
    assert list(contexts.columns) == list(result.contexts.columns)
    assert len(contexts) == len(result.contexts)
    assert _leftovers(out.parent) == []


@pytest.mark.slow
def test_out_replaces_a_previous_result(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    qsim_cli("run", small, "--out", out, "--seed", "1")
    proc = qsim_cli("run", small, "--out", out, "--seed", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_out_refuses_a_folder_with_other_files(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    proc = qsim_cli("run", small, "--out", out)
    assert proc.returncode == 2
    assert proc.stderr == (f"qsim: error: --out {out}: qsim did not write this folder (it has "
                           "no valid .qsim-manifest.json), and replacing it would lose "
                           "thesis.tex; choose a new folder\n")
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


@pytest.mark.slow
def test_out_that_is_a_file(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    proc = qsim_cli("run", small, "--out", target)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"qsim: error: --out {target}: exists and is not a folder\n"
    assert target.read_text() == "x"


@pytest.mark.slow
def test_out_that_cannot_be_created(small: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = qsim_cli("run", small, "--out", blocker / "sub")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"qsim: error: --out {blocker / 'sub'}: cannot create it in "
                           f"{blocker} (not a writable folder)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "small.yaml"]


def _leftovers(folder: Path) -> list[str]:
    """Temporary folders qsim may have left beside an --out folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------------
# Replications


@pytest.mark.slow
def test_replications_json_matches_the_api(small: Path) -> None:
    proc = qsim_cli("run", small, "--json", "--replications", "4")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    expected = qsim.replicate(qsim.load_scenario(small), 4, workers=1).to_dict()
    assert got == as_json(expected)
    assert got["replications"] == 4 and got["seed"] == 0
    usage = got["workloads"][0]["usage_s"]
    assert set(usage) == {"mean", "ci95", "p10", "p50", "p90"}
    assert usage["ci95"][0] <= usage["mean"] <= usage["ci95"][1]
    assert usage["p10"] <= usage["p50"] <= usage["p90"]


@pytest.mark.slow
def test_replications_out_files(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "reps"
    proc = qsim_cli("run", small, "-r", "3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "3 replications" in proc.stdout and "±" in proc.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [".qsim-manifest.json", "contexts.csv", "jobs.csv", "replications.csv",
                     "summary.json", "timeline.png"]  # the timeline of replication 0
    reps = pd.read_csv(out / "replications.csv")
    assert list(reps["replication"]) == [0, 0, 1, 1, 2, 2]
    assert list(reps["workload"]) == ["loop", "others"] * 3
    plain = qsim.simulate(qsim.load_scenario(small)).summary()["workloads"][0]
    assert reps.loc[0, "usage_s"] == plain["usage_s"]  # replication 0 is the plain run


@pytest.mark.slow
def test_progress_bar_on_stderr_only(tmp_path: Path) -> None:
    """With a terminal on stderr, a long run shows a bar there; stdout stays pure JSON."""
    env = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "80"}
    start = time.monotonic()
    proc = qsim_cli("compare", VQE, "--json", "-r", "40", env=env)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    if time.monotonic() - start > 2.5:  # the bar appears after a second of work
        assert "runs" in proc.stderr


def test_delayed_progress_shows_only_after_the_delay() -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, force_interactive=True, width=60)
    with DelayedProgress("replications", terminal, delay=0.05) as bar:
        bar.update(1, 4)
        time.sleep(0.3)
        bar.update(4, 4)
        assert bar.shown
    assert "replications" in buffer.getvalue()

    with DelayedProgress("quick", terminal, delay=5) as bar:
        bar.update(4, 4)
    assert not bar.shown

    pipe = Console(file=io.StringIO(), force_terminal=False, width=60)
    with DelayedProgress("replications", pipe, delay=0) as bar:
        time.sleep(0.1)
    assert not bar.shown and pipe.file.getvalue() == ""  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# qsim validate


@pytest.mark.slow
def test_validate_ok(small: Path) -> None:
    proc = qsim_cli("validate", small)
    assert proc.returncode == 0
    assert proc.stdout == (f"{small}: ok: scenario 'small' with 2 workloads: "
                           "loop (iterative, session), others (background, job)\n")


@pytest.mark.slow
def test_validate_show_prints_the_resolved_scenario(small: Path) -> None:
    proc = qsim_cli("validate", small, "--show")
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(proc.stdout)
    assert data == as_json(qsim.input.scenario.dump_resolved(qsim.load_scenario(small)))
    # Defaults filled in: the session's TTL, the lanes, the price.
    assert data["workloads"][0]["mode"]["interactive_ttl"] == 60.0
    assert data["backend"]["lanes"] == 5 and data["backend"]["fair_share_window"] == 28 * 86400
    assert qsim.parse_scenario(data) == qsim.load_scenario(small)


# ---------------------------------------------------------------------------------------------
# qsim compare


@pytest.mark.slow
def test_compare_json(small: Path) -> None:
    proc = qsim_cli("compare", small, "--json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["workload"] == "loop" and list(got["modes"]) == ["job", "batch", "session"]
    scenario = qsim.load_scenario(small)
    for mode, entry in got["modes"].items():
        variant = scenario if mode == "session" else scenario.with_mode("loop", mode)
        expected = qsim.simulate(variant).summary()["workloads"][0]
        assert entry == as_json(expected) and entry["mode"] == mode


@pytest.mark.slow
def test_compare_table_and_verdict(small: Path) -> None:
    proc = qsim_cli("compare", small, "--modes", "session,job")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    verdict = [line for line in lines if line.startswith("Cheapest:")]
    assert len(verdict) == 1 and verdict[0].startswith("Cheapest: job mode, $")
    assert "Fastest: session mode" in verdict[0] and "x the cost." in verdict[0]
    for text in ("usage", "cost", "wall time", "idle", "queue wait"):
        assert text in proc.stdout


@pytest.mark.slow
def test_compare_replications_json(small: Path) -> None:
    proc = qsim_cli("compare", small, "--json", "--modes", "job,session", "-r", "3")
    got = json.loads(proc.stdout)
    assert list(got["modes"]) == ["job", "session"]
    assert set(got["modes"]["job"]["usage_s"]) == {"mean", "ci95", "p10", "p50", "p90"}
    assert got["verdict"]["cheapest"] == "job" and got["verdict"]["incomplete"] == []
    assert got["paired_difference"]["against"] == "job"
    expected = qsim.compare(qsim.load_scenario(small), modes=("job", "session"),
                            replications=3, workers=1).to_dict()
    assert got == as_json(expected)


# ---------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit 2, no traceback, nothing written

WORKLOAD = "name: x\nworkloads:\n  - name: a\n    kind: iterative\n    iterations: 3\n"
BAD_FILES = {
    "syntax": (WORKLOAD + "    quantum: [1s\n",
               "{f}:7: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    "unknown key": (WORKLOAD + "    quantum: 1s\n    colour: red\n",
                    "{f}:7: workloads[0].colour: unknown key 'colour'; allowed: name, kind, "
                    "mode, start, compile, quantum, post, instance, share, max_execution_time, "
                    "failure, repeat, backend, iterations, jobs_per_iteration, parallel, "
                    "classical, on_failure, max_retries"),
    "wrong type": ("name: x\nworkloads:\n  - name: a\n    kind: iterative\n"
                   "    iterations: three\n    quantum: 1s\n",
                   "{f}:5: workloads[0].iterations: must be a whole number (got 'three')"),
    "negative duration": (WORKLOAD + "    quantum: -3s\n",
                          "{f}:6: workloads[0].quantum: must not be negative (got '-3s')"),
    "nonsense unit": (WORKLOAD + "    quantum: 5 parsecs\n",
                      "{f}:6: workloads[0].quantum: unknown unit 'parsecs': expected one of "
                      "us, ms, s, m, h, d (got '5 parsecs')"),
    "unknown mode": (WORKLOAD + "    quantum: 1s\n    mode: sesion\n",
                     "{f}:7: workloads[0].mode: must be 'job', 'batch' or 'session' "
                     "(got 'sesion')"),
    "unknown distribution": (WORKLOAD + "    quantum: {dist: gamma, mean: 3s}\n",
                             "{f}:6: workloads[0].quantum.dist: unknown distribution; expected "
                             "one of fixed, exponential, uniform, lognormal, normal, empirical, "
                             "sum, or the circuit form (circuits:, shots:) (got 'gamma')"),
    "empty file": ("", "{f}: the scenario is empty: it needs at least name: and workloads:"),
    "list": ("- name: x\n- workloads: []\n",
             "{f}:1: the top level must be a mapping (name:, workloads:, ...), not a list"),
    "duplicate names": (WORKLOAD + "    quantum: 1s\n" + WORKLOAD.split("workloads:\n")[1]
                        + "    quantum: 1s\n",
                        "{f}:7: workloads[1].name: duplicate workload name 'a'"),
    "no workloads": ("name: x\nworkloads: []\n",
                     "{f}:2: workloads: must list at least one workload"),
    "ttl beyond max_time": (WORKLOAD + "    quantum: 1s\n"
                            "    mode: {kind: session, interactive_ttl: 2h, max_time: 1h}\n",
                            "{f}:7: workloads[0].mode.interactive_ttl: must not be longer than "
                            "max_time (1h) (got '2h')"),
    "session entry": (WORKLOAD + "    quantum: 1s\nbackend:\n  session_entry: exclusive\n",
                      "{f}:8: backend.session_entry: must be 'drain' or 'overlap' "
                      "(got 'exclusive')"),
    "probability": (WORKLOAD + "    quantum: 1s\n    failure: {probability: 1.5}\n",
                    "{f}:7: workloads[0].failure.probability: must be between 0 and 1 "
                    "(got 1.5)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_scenario(case: str, tmp_path: Path) -> None:
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    proc = qsim_cli("run", path, "--out", tmp_path / "out", "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"qsim: error: {message.format(f=path)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing written


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_scenario_validate(case: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """The same messages from `qsim validate` (in-process: the subprocess path is above)."""
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"qsim: error: {message.format(f=path)}\n")


@pytest.mark.slow
def test_missing_file(tmp_path: Path) -> None:
    proc = qsim_cli("run", tmp_path / "nope.yaml", "--out", tmp_path / "out")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"qsim: error: {tmp_path / 'nope.yaml'}: no such file\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_directory_instead_of_file(tmp_path: Path) -> None:
    proc = qsim_cli("validate", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"qsim: error: {tmp_path}: is a directory, not a scenario file\n"


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (("--modes", "job,foo"), "--modes: unknown mode 'foo'; expected some of job, batch, session"),
    (("--modes", "job,job"), "--modes: mode 'job' is listed twice"),
    (("--modes", ""), "--modes: unknown mode ''; expected some of job, batch, session"),
    (("--workload", "nope"), "--workload: no workload named 'nope' in scenario 'small' "
                             "(workloads: loop, others)"),
    (("--workload", "others"), "--workload: workload 'others' is a background stream, which "
                               "always runs in job mode; choose a foreground workload"),
])
def test_bad_compare_options(args: tuple[str, ...], message: str, small: Path) -> None:
    proc = qsim_cli("compare", small, "--json", *args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"qsim: error: {message}\n"


@pytest.mark.slow
@pytest.mark.parametrize("args, start", [
    (("run",), "qsim: error: Missing argument 'FILE'."),
    (("run", "x.yaml", "--seed", "abc"), "qsim: error: Invalid value for '--seed'"),
    (("run", "x.yaml", "--seed", "-1"), "qsim: error: Invalid value for '--seed'"),
    (("run", "x.yaml", "--replications", "0"), "qsim: error: Invalid value for '--replications'"),
    (("run", "x.yaml", "--bogus"), "qsim: error: No such option: --bogus"),
    (("frobnicate",), "qsim: error: No such command 'frobnicate'."),
])
def test_usage_errors_read_like_all_others(args: tuple[str, ...], start: str) -> None:
    proc = qsim_cli(*args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(start)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------------
# Pictures

@pytest.mark.slow
def test_run_plot_writes_the_timeline_png(small: Path, tmp_path: Path) -> None:
    picture = tmp_path / "timeline.png"
    proc = qsim_cli("run", small, "--json", "--plot", picture, "--window", "0:30s")
    assert proc.returncode == 0, proc.stderr
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert json.loads(proc.stdout) == as_json(qsim.simulate(qsim.load_scenario(small)).summary())
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_compare_plot_writes_the_comparison_png(small: Path, tmp_path: Path) -> None:
    picture = tmp_path / "compare.png"
    proc = qsim_cli("compare", small, "--plot", picture)
    assert proc.returncode == 0, proc.stderr
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (("--plot", "t.jpg"), "qsim: error: --plot t.jpg: pictures are PNG files; name it *.png\n"),
    (("--plot", "t.png", "--window", "5m"),
     "qsim: error: --window: expected START:END, e.g. 10m:25m or 600:1500 (got '5m')\n"),
    (("--plot", "t.png", "--window", "9m:2m"),
     "qsim: error: --window: END must be after START (got '9m:2m')\n"),
    (("--window", "1m:2m"),
     "qsim: error: --window: it applies to the timeline; add --plot FILE or --out DIR\n"),
    (("--plot", "no/such/dir/t.png"), "qsim: error: --plot no/such/dir/t.png: cannot write"),
])
def test_bad_plot_options_write_nothing(args: tuple[str, ...], message: str, small: Path,
                                        tmp_path: Path) -> None:
    proc = qsim_cli("run", small, *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message)
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


@pytest.mark.slow
def test_a_run_without_pictures_does_not_load_matplotlib() -> None:
    # matplotlib takes about half a second to import: `qsim run` without --plot or --out
    # should not pay for pictures it does not draw.
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "qsim", "run",
                           "scenarios/vqe.yaml", "--json"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout)["workloads"]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert "qsim.model.engine" in imported  # the import log is there, and names modules
    assert "matplotlib" not in imported


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "validate", "compare", "advise"])
def test_help_renders_as_written_with_examples(command: str) -> None:
    proc = qsim_cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Examples:" in text and f"    qsim {command} scenarios/" in text
    assert "[bold]" not in text and "<bool>" not in text  # no markup shown, no flag types
    if command == "compare":  # a default in brackets is not swallowed as markup
        assert "[default: the first non-" in text


@pytest.mark.slow
def test_a_window_after_the_run_is_refused_and_nothing_is_written(small: Path,
                                                                  tmp_path: Path) -> None:
    proc = qsim_cli("run", small, "--plot", "t.png", "--window", "10h:", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("qsim: error: --window 10h:: starts after the run, which "
                                  "ended at ")
    assert len(proc.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


@pytest.mark.slow
def test_validate_show_states_what_qsim_derived() -> None:
    proc = qsim_cli("validate", "scenarios/vqe.yaml", "--show")
    assert proc.returncode == 0, proc.stderr
    # SPEC §2 by hand: 2 s + (250 us + 80 us) x 10 circuits x 4,000 shots = 15.2 s a job
    assert "# vqe: quantum 15.2s a job = 2s + (250us + 80us) x 10 circuits x 4,000 shots" \
        in proc.stdout
    assert "# others: mean inter-arrival 25s, offered load 0.800" in proc.stdout
