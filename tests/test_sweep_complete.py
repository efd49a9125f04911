"""Completeness everywhere a sweep shows a figure (SPEC §20, issue 30): the table's
`complete` column, the count of incomplete points, hollow markers in the picture; and no
ratio to the best for a compared mode that did not finish."""

from __future__ import annotations

import io

import pytest
from helpers import job, loop, scenario
from rich.console import Console

import qsim
from qsim.present import report
from qsim.present.sweep_command import incomplete_points, sweep_table
from qsim.present.sweep_plots import sweep_figure

# 4 iterations of 10 s quantum and 20 s classical: 1m 40s in all. A batch cut at 30 s or at
# 1 m stops after one or two iterations (cheaper, shorter: less work); 1 h lets it finish.
CUT = scenario(loop("vqe", 4, classical="20s", mode={"kind": "batch", "max_time": "1h"}),
               backend={"lanes": 1})
VARY = {"workloads.vqe.mode.max_time": ["30s", "1m", "1h"]}


@pytest.fixture(scope="module")
def table() -> object:
    return qsim.sweep(CUT, VARY, replications=2, workers=1)


def text(renderable: object) -> str:
    out = Console(width=120, record=True, file=io.StringIO())
    out.print(renderable)
    return out.export_text()


def test_each_run_says_whether_it_finished(table: object) -> None:
    assert table["complete"].tolist() == [False] * 4 + [True] * 2  # type: ignore[index]
    assert table["jobs.done"].tolist() == [1, 1, 2, 2, 4, 4]  # type: ignore[index]


def test_the_table_has_a_complete_column_and_counts_the_incomplete_points(table: object
                                                                          ) -> None:
    shown = text(sweep_table(table))  # type: ignore[arg-type]
    lines = [line.split() for line in shown.splitlines() if line.strip()[:2] in ("30", "1m",
                                                                                   "1h")]
    assert [line[-1] for line in lines] == ["no", "no", "yes"]
    assert "complete" in shown
    assert incomplete_points(table).startswith(  # type: ignore[arg-type]
        "2 of 3 points: a workload did not finish its work")


def test_a_sweep_where_everything_finished_says_nothing_more() -> None:
    t = qsim.sweep(CUT, {"workloads.vqe.mode.max_time": ["1h", "2h"]}, workers=1)
    assert incomplete_points(t) == ""
    assert "no" not in text(sweep_table(t)).split()


def test_the_cell_gives_the_share_when_some_runs_finished() -> None:
    from qsim.present.sweep_command import _complete_cell

    assert [str(_complete_cell(x)) for x in (1.0, 0.0, 0.5)] == ["yes", "no", "50% of runs"]


def test_the_picture_draws_unfinished_points_hollow(table: object) -> None:
    fig = sweep_figure(table)  # type: ignore[arg-type]
    hollow = [line for ax in fig.axes for line in ax.get_lines()
              if line.get_gid() == "incomplete"]
    assert len(hollow) == 4  # one set per panel
    assert all(line.get_markerfacecolor() == "white" and len(line.get_xdata()) == 2
               for line in hollow)
    assert "hollow markers" in fig.get_suptitle()
    whole = sweep_figure(qsim.sweep(CUT, {"workloads.vqe.mode.max_time": ["1h", "2h"]},
                                    workers=1))
    assert not [line for ax in whole.axes for line in ax.get_lines()
                if line.get_gid() == "incomplete"]
    assert "hollow" not in whole.get_suptitle()


def test_compare_shows_no_ratio_for_unfinished_work() -> None:
    cut = scenario(job("others", jobs=6, quantum="50s", start="5s"),
                   loop("vqe", 4, classical="20s", mode={"kind": "batch", "max_time": "1m"}),
                   backend={"lanes": 1})
    c = qsim.compare(cut, "vqe", workers=1)
    assert c.verdict.incomplete == ("batch",) and c.verdict.cost_ratio["batch"] < 1
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in text(report.comparison_table(c)).splitlines() if "│" in line}
    assert rows["cost vs cheapest"] == ["1.00×", "-", "2.50×"]
    assert rows["time vs fastest"][1] == "-"
    narrow = text(report.comparison_rows_table(c, 60))
    batch = next(line for line in narrow.splitlines() if "batch" in line)
    assert "×" not in batch
