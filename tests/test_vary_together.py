"""``--vary-together`` (SPEC §20): PATHs whose value lists are zipped into points, not crossed
(2000/k jobs of k circuits); crossed with any ``--vary``. The table, the CSV and the picture
label each point by all its values."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import job, scenario
from rich.console import Console

import qsim
from qsim.experiments.sweep import SweepError, points
from qsim.present.sweep_command import sweep_table
from qsim.present.sweep_plots import sweep_figure

CIRCUITS = {"circuits": 1, "shots": 100}
S = scenario(job("s", jobs=20, quantum=CIRCUITS), backend={"lanes": 1})
TOGETHER = {"workloads.s.jobs": [20, 2], "workloads.s.quantum.circuits": [1, 10]}


def test_the_points_are_zipped_not_crossed() -> None:
    grid = points(S, {}, together=[TOGETHER])
    assert [p.settings for p in grid] == [
        (("workloads.s.jobs", 20), ("workloads.s.quantum.circuits", 1)),
        (("workloads.s.jobs", 2), ("workloads.s.quantum.circuits", 10))]
    assert [(p.scenario.workloads[0].jobs, p.scenario.workloads[0].quantum.circuits)
            for p in grid] == [(20, 1), (2, 10)]


def test_crossed_with_vary_the_zipped_group_slowest() -> None:
    grid = points(S, {"workloads.s.mode": ["job", "batch"]}, together=[TOGETHER])
    assert [p.label() for p in grid] == [
        "workloads.s.jobs=20, workloads.s.quantum.circuits=1, workloads.s.mode=job",
        "workloads.s.jobs=20, workloads.s.quantum.circuits=1, workloads.s.mode=batch",
        "workloads.s.jobs=2, workloads.s.quantum.circuits=10, workloads.s.mode=job",
        "workloads.s.jobs=2, workloads.s.quantum.circuits=10, workloads.s.mode=batch"]


@pytest.mark.parametrize("vary, together, message", [
    ({}, [{"workloads.s.jobs": [20, 2], "workloads.s.quantum.circuits": [1, 10, 100]}],
     "--vary-together: the lists must be as long as each other: workloads.s.jobs has 2 "
     "values, workloads.s.quantum.circuits 3"),
    ({}, [{"workloads.s.jobs": [20, 2]}],
     "--vary-together: give at least two PATHs to vary together (one alone: --vary)"),
    ({"workloads.s.jobs": [5]}, [TOGETHER],
     "--vary workloads.s.jobs: also in --vary-together; give a PATH once"),
    ({}, [{"workloads.s.jobs": [20, 20], "workloads.s.quantum.circuits": [1, 1]}],
     "--vary-together: the point workloads.s.jobs=20, workloads.s.quantum.circuits=1 is "
     "listed twice"),
])
def test_bad_groups(vary: dict[str, list[object]], together: list[dict[str, list[object]]],
                    message: str) -> None:
    with pytest.raises(SweepError) as err:
        points(S, vary, together=together)
    assert str(err.value) == message


def test_the_table_and_the_picture_label_each_point() -> None:
    table = qsim.sweep(S, {}, together=[TOGETHER], workers=1)
    assert table.attrs["together"] == [list(TOGETHER)]
    assert table[list(TOGETHER)].values.tolist() == [[20, 1], [2, 10]]
    out = Console(width=140, record=True, file=io.StringIO())
    out.print(sweep_table(table))
    shown = out.export_text()
    assert "varied: (workloads.s.jobs, workloads.s.quantum.circuits together)" in shown
    rows = [line.split()[:2] for line in shown.splitlines() if line.split()[:1] in (["20"],
                                                                                      ["2"])]
    assert rows == [["20", "1"], ["2", "10"]]
    fig = sweep_figure(table)
    ax = fig.axes[2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["20 / 1", "2 / 10"]
    assert ax.get_xlabel() == "workloads.s.jobs / quantum.circuits"
    assert len(fig.axes[0].lines) >= 1 and len(fig.legends[0].get_texts()) == 1


def test_cli_as_the_issue_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbackend: {lanes: 1}\nworkloads:\n"
                    "  - {name: s, kind: independent, jobs: 20, quantum: {circuits: 1, "
                    "shots: 100}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "qsim", "sweep", str(path), "--vary-together",
         "workloads.s.jobs=20,2", "workloads.s.quantum.circuits=1,10", "--vary",
         "workloads.s.mode=job,batch", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    assert done.returncode == 0, done.stderr
    csv = (tmp_path / "out" / "sweep.csv").read_text().splitlines()
    head = csv[0].split(",")
    assert head[:3] == ["workloads.s.jobs", "workloads.s.quantum.circuits",
                        "workloads.s.mode"]
    assert [line.split(",")[:3] for line in csv[1:]] == [
        ["20", "1", "job"], ["20", "1", "batch"], ["2", "10", "job"], ["2", "10", "batch"]]


def test_cli_unequal_lists_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nworkloads:\n  - {name: s, kind: independent, jobs: 2, "
                    "quantum: 1s}\n")
    done = subprocess.run(
        [sys.executable, "-m", "qsim", "sweep", str(path), "--vary-together",
         "workloads.s.jobs=2,3", "workloads.s.quantum=1s"],
        capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("qsim: error: --vary-together: the lists must be as long as each "
                           "other: workloads.s.jobs has 2 values, workloads.s.quantum 1\n")
