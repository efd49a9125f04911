"""A sweep that varies the plan onto one that refuses the program (issue 29, SPEC §19): the
open plan refuses sessions, so that point is marked refused (a ``refused`` column saying why,
a ``refused`` cell, a sentence, not drawn) and the sweep goes on with the others."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from helpers import job, loop, scenario
from rich.console import Console
from test_plan_terms import PLANNED, qsim_cli, write

import qsim
from qsim.present.sweep_command import incomplete_points, refused_note, sweep_table
from qsim.present.sweep_plots import sweep_figure

WHY = ("workloads.vqe.mode.kind: the open plan refuses sessions (\"Open Plan users cannot "
       "submit session jobs\"); open_sessions: as_jobs runs them in job mode as a what-if")
PAYG = scenario(loop("vqe", 3, mode="session"), job("sweep", jobs=2, mode="batch"))


@pytest.fixture(scope="module")
def table() -> object:
    return qsim.sweep(PAYG, {"plan": ["payg", "open", "flex"]}, replications=2, workers=1)


def text(renderable: object) -> str:
    out = Console(width=120, record=True, file=io.StringIO())
    out.print(renderable)
    return out.export_text()


def test_the_refused_point_has_rows_that_say_why_and_no_figures(table: object) -> None:
    t = table
    assert t["plan"].tolist() == ["payg"] * 4 + ["open"] * 4 + ["flex"] * 4  # type: ignore[index]
    assert t["refused"].tolist() == [""] * 4 + [WHY] * 4 + [""] * 4  # type: ignore[index]
    assert t.columns[-1] == "refused"  # type: ignore[attr-defined]
    refused = t[t["plan"] == "open"]  # type: ignore[index]
    assert refused["workload"].tolist() == ["vqe", "sweep"] * 2
    assert refused["mode"].tolist() == ["session", "batch"] * 2
    assert not refused["complete"].any()
    assert refused["usage_s"].isna().all() and refused["jobs.done"].isna().all()


def test_the_points_that_ran_are_as_without_the_refused_one(table: object) -> None:
    alone = qsim.sweep(PAYG, {"plan": ["payg", "flex"]}, replications=2, workers=1)
    ran = table[table["refused"] == ""].drop(columns="refused")  # type: ignore[index]
    # the same figures; whole numbers as nullable integers beside the refused point's gaps
    pd.testing.assert_frame_equal(ran.reset_index(drop=True), alone, check_dtype=False)
    assert "refused" not in alone.columns  # a sweep with nothing refused is as before
    assert str(ran["jobs.done"].dtype) == "Int64"  # whole numbers stay whole


def test_the_table_marks_it_refused_and_a_sentence_says_why(table: object) -> None:
    shown = text(sweep_table(table))  # type: ignore[arg-type]
    rows = [line.split() for line in shown.splitlines() if line.strip()[:4] in ("payg",
                                                                                  "open", "flex")]
    assert [(r[0], r[-1]) for r in rows] == [("payg", "yes"), ("open", "refused"),
                                             ("flex", "yes")]
    assert rows[1][2:-1] == ["-"] * 5
    assert refused_note(table) == (  # type: ignore[arg-type]
        f"1 of 3 points refused, not run (plan=open): {WHY}; no figures for it.")
    assert incomplete_points(table) == ""  # type: ignore[arg-type]  # refused, not unfinished


def test_the_picture_draws_nothing_for_it(table: object) -> None:
    fig = sweep_figure(table)  # type: ignore[arg-type]
    ticks = [t.get_text() for t in fig.axes[2].get_xticklabels()]
    assert ticks == ["payg", "flex"]
    assert "not drawn, refused: plan = open" in fig.get_suptitle()
    drawn = [y for ax in fig.axes for line in ax.get_lines() for y in line.get_ydata()]
    assert drawn and not any(math.isnan(y) for y in drawn)


def test_the_cli_goes_on_and_writes_the_mark(tmp_path: Path) -> None:
    path = write(tmp_path, PLANNED.replace("plan: open", "plan: payg"))
    out = tmp_path / "out"
    proc = qsim_cli("sweep", path, "--vary", "plan=payg,open", "--out", out)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "1 of 2 points refused, not run (plan=open)" in proc.stdout
    csv = (out / "sweep.csv").read_text().splitlines()
    assert csv[0].endswith(",refused") and csv[-1].endswith('as a what-if"')
    assert (out / "sweep.png").stat().st_size > 0


def test_a_grid_refused_everywhere_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, PLANNED.replace("plan: open", "plan: payg"))
    proc = qsim_cli("sweep", path, "--vary", "plan=open")
    assert proc.returncode == 2
    assert proc.stderr == ("qsim: error: --vary: every point of the grid is refused, nothing "
                           f"to run: plan=open: {WHY}\n")
