"""What each quick command loads (issue 32, goal 4): ``qsim --help``, a command's ``--help``
and ``qsim examples`` none of the scenario models, pydantic, PyYAML, numpy, pandas, matplotlib
or rich; ``qsim validate`` the scenario models but none of numpy, pandas, matplotlib or rich;
``qsim run --json`` piped (issue 32, goal 1) no progress bar's rich and no process pool.
Imports, not seconds: the time they cost is measured by ``benchmarks/startup.py``. Each
command runs in a fresh interpreter, as a user starts it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qsim.present.progress import RICH_TERMINAL_VARIABLES, NoProgress, could_show, progress_bar
from qsim.present.typer_params import TESTED

ROOT = Path(__file__).resolve().parent.parent
DRAWING = {"numpy", "pandas", "matplotlib", "rich", "simpy", "scipy"}  # running, drawing, showing
MODELS = {"pydantic", "yaml", "qsim.input.scenario"}  # reading a scenario


def loaded_by(args: list[str]) -> set[str]:
    """Every module loaded once ``qsim ARGS`` has run (the list goes to stderr: stdout is the
    command's); a library counts by its top-level name too. Both streams are pipes, and no
    variable tells rich to take them for a terminal."""
    code = ("import sys; from qsim.present.cli import main; code = main(sys.argv[1:]); "
            "print(' '.join(sorted(sys.modules)), file=sys.stderr); sys.exit(code)")
    env = {k: v for k, v in os.environ.items() if k not in RICH_TERMINAL_VARIABLES}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stderr
    names = set(done.stderr.splitlines()[-1].split())
    return names | {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_the_app_alone_loads_no_scenario_model_and_no_heavy_library(args: list[str]) -> None:
    assert loaded_by(args) & (DRAWING | MODELS) == set()


#: typer_params defers typer's parsers only on the typer it was tested against: with another,
#: commands import pydantic (slower, not wrong), so these two pins hold only there.
deferred = pytest.mark.skipif(
    not __import__("typer").__version__.startswith(TESTED),
    reason=f"typer_params leaves a typer other than {TESTED}x alone")


@deferred
def test_a_command_s_help_loads_no_scenario_model_and_no_pydantic() -> None:
    # typer >= 0.2x parses option values through pydantic; an option left out (every one of
    # them here, and the unused --help flag of the app) needs no parser
    # (qsim.present.typer_params).
    assert loaded_by(["run", "--help"]) & (DRAWING | MODELS) == set()


def test_validate_loads_the_scenario_models_but_nothing_to_run_or_draw() -> None:
    loaded = loaded_by(["validate", "scenarios/vqe.yaml"])
    assert "qsim.input.scenario" in loaded  # it did read the scenario
    assert loaded & DRAWING == set()


@deferred
def test_examples_loads_no_scenario_model_and_no_pydantic() -> None:
    assert loaded_by(["examples"]) & (DRAWING | MODELS) == set()


def test_run_out_writes_its_tables_and_picture_without_pandas(tmp_path: Path) -> None:
    # --out's CSVs come from numpy through Arrow and its timeline from the run's numpy
    # columns (issue 32, goal 3): pandas' import is a fifth of a second holding the GIL, on
    # the thread that draws. --parquet keeps the DataFrames' metadata, so it may load pandas.
    loaded = loaded_by(["run", "scenarios/vqe.yaml", "--out", str(tmp_path / "out")])
    assert {"matplotlib", "pyarrow"} <= loaded  # it did draw and write the tables
    assert (tmp_path / "out" / "contexts.csv").stat().st_size > 0
    assert "pandas" not in loaded
    assert "pandas" in loaded_by(["run", "scenarios/vqe.yaml", "--out", str(tmp_path / "pq"),
                                  "--parquet"])


def test_a_piped_run_loads_no_progress_bar_and_no_process_pool() -> None:
    # Its stderr is no terminal, so no bar could show (qsim.present.progress); one run needs
    # no pool of workers (qsim.experiments.runner imports it for a pool only).
    loaded = loaded_by(["run", "scenarios/vqe.yaml", "--json"])
    assert "simpy" in loaded  # it did run
    assert loaded & {"rich", "multiprocessing", "pandas", "matplotlib"} == set()


def test_a_single_run_loads_only_the_experiment_it_runs() -> None:
    # qsim.experiments resolves its names on first use: one run is qsim.experiments.run, not
    # the comparison, the estimates or the runner of many (nor concurrent.futures with it).
    loaded = loaded_by(["run", "scenarios/vqe.yaml", "--json"])
    assert "qsim.experiments.run" in loaded  # it did run
    assert loaded & {"qsim.experiments.comparison", "qsim.experiments.estimates",
                     "qsim.experiments.runner", "concurrent.futures"} == set()


def test_a_bar_could_show_on_a_terminal_or_where_rich_is_told_it_is_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in RICH_TERMINAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe, as pytest may not have it
    assert not could_show(io.StringIO())
    assert isinstance(progress_bar("runs"), NoProgress)
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich then decides, and may show it
    assert could_show(io.StringIO())
    assert not isinstance(progress_bar("runs"), NoProgress)
