"""The pictures: figures built from hand-written tables, checked for what is on them.

Each test reads the drawn geometry back from the Axes (every artist has a ``gid``) rather
than trusting that a file appeared. A few tests draw real runs to check that the picture and
the summary agree, since both come from the same record log.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run
from matplotlib.axes import Axes

import qsim
from qsim import QsimError, plots
from qsim.plots import assign_lanes, compare, occupancy, time_unit, timeline_from_tables
from qsim.present import plot_timeline

NAN = np.nan
JOB_COLUMNS = ["job", "workload", "context", "submit_at", "dispatch_at", "compile_end_at",
               "quantum_start_at", "quantum_end_at", "end_at", "status"]


def jobs_table(*rows: tuple) -> pd.DataFrame:
    """Rows of (workload, context, submit, dispatch, ready, quantum start, quantum end, end,
    status); job ids in row order; the derived columns filled as the core fills them."""
    frame = pd.DataFrame([(i, *r) for i, r in enumerate(rows)], columns=JOB_COLUMNS)
    frame["compile_start_at"] = frame["dispatch_at"]
    done = frame["status"] == "done"
    frame["post_start_at"] = frame["quantum_end_at"].where(done)
    frame["post_end_at"] = frame["end_at"].where(done)
    return frame


def windows_table(*rows: tuple) -> pd.DataFrame:
    """Rows of (context, workload, mode, start, end)."""
    frame = pd.DataFrame(rows, columns=["context", "workload", "mode", "start_at", "end_at"])
    frame["length_s"] = frame["end_at"] - frame["start_at"]
    return frame


def intervals_table(jobs: pd.DataFrame, calibrations: pd.DataFrame) -> pd.DataFrame:
    held = jobs[jobs["quantum_start_at"].notna()]
    rows = pd.DataFrame({"start_at": held["quantum_start_at"],
                         "end_at": held["quantum_end_at"].fillna(held["end_at"]), "what": "job",
                         "job": held["job"], "workload": held["workload"],
                         "context": held["context"]})
    cal = pd.DataFrame({"start_at": calibrations["start_at"], "end_at": calibrations["end_at"],
                        "what": "calibration", "job": -1, "workload": None, "context": -1})
    out = pd.concat([rows, cal], ignore_index=True).sort_values("start_at")
    out.insert(2, "length_s", out["end_at"] - out["start_at"])
    return out.reset_index(drop=True)


def contexts_table(*rows: tuple) -> pd.DataFrame:
    """Rows of (context, workload, mode, at, change)."""
    return pd.DataFrame(rows, columns=["context", "workload", "mode", "at", "change"])


# A batch "vqe" (context 0) and a job-mode stream "bg" on 3 lanes, 0-40 s:
#   vqe job 0: lane 0, compile 0-2, quantum 2-12, post 12-13; window 0-14 (ITTL tail 13-14)
#   bg  job 1: lane 1, compile 1-3, waits 3-12, quantum 12-15, post 15-16
#   calibration due 15, runs 16-18
#   vqe job 2: lane 0 again, compile 18-20, quantum 20-30, post 30-31; window 18-32 (tail 31-32)
#   bg  job 3: submitted at 19, still queued when the run ends at 40 (never dispatched)
#   bg  job 4: lane 1 again, compile 25-26, waits 26-30, quantum 30-33, fails at 33
JOBS = jobs_table(
    ("vqe", 0, 0, 0, 2, 2, 12, 13, "done"),
    ("bg", -1, 1, 1, 3, 12, 15, 16, "done"),
    ("vqe", 0, 18, 18, 20, 20, 30, 31, "done"),
    ("bg", -1, 19, NAN, NAN, NAN, NAN, 40, "incomplete"),
    ("bg", -1, 25, 25, 26, 30, 33, 33, "failed"),
)
WINDOWS = windows_table((0, "vqe", "batch", 0.0, 14.0), (0, "vqe", "batch", 18.0, 32.0))
CALIBRATIONS = pd.DataFrame({"due_at": [15.0], "start_at": [16.0], "end_at": [18.0],
                             "deferred_s": [1.0]})
INTERVALS = intervals_table(JOBS, CALIBRATIONS)
CONTEXTS = contexts_table((0, "vqe", "batch", 0.0, "open"), (0, "vqe", "batch", 0.0, "activate"),
                          (0, "vqe", "batch", 14.0, "deactivate"),
                          (0, "vqe", "batch", 18.0, "activate"),
                          (0, "vqe", "batch", 32.0, "deactivate"),
                          (0, "vqe", "batch", 35.0, "close"))
WORKLOADS = {"vqe": "batch", "bg": "job"}
CONTEXT_ROW, QPU_ROW, LANE_ROW = 0, 1, 2  # rows, top to bottom; lane k is LANE_ROW + k


def draw(**kw: object) -> Axes:
    args = dict(jobs=JOBS, windows=WINDOWS, intervals=INTERVALS, calibrations=CALIBRATIONS,
                lanes=3, workloads=WORKLOADS, contexts=CONTEXTS)
    return timeline_from_tables(**{**args, **kw})  # type: ignore[arg-type]


def bars(ax: Axes, gid: str) -> list[tuple[float, float, float]]:
    """(left, right, row) of every rectangle in the collections tagged ``gid``, sorted."""
    out = []
    for col in ax.collections:
        if col.get_gid() == gid:
            for path in col.get_paths():
                x, y = path.vertices[:, 0], path.vertices[:, 1]
                mid = (y.min() + y.max()) / 2
                out.append((round(x.min(), 6), round(x.max(), 6), round(mid, 6)))
    return sorted(out)


def marks(ax: Axes, gid: str) -> list[tuple[float, float]]:
    return sorted((round(x, 6), round(y, 6)) for line in ax.lines if line.get_gid() == gid
                  for x, y in zip(line.get_xdata(), line.get_ydata()))


def legend_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def gids(ax: Axes) -> set[str]:
    return {a.get_gid() for a in [*ax.collections, *ax.lines] if a.get_gid()}


# --- lanes ------------------------------------------------------------------------------------


def test_lanes_are_the_lowest_free_one_and_freed_lanes_are_reused_at_once() -> None:
    jobs = jobs_table(
        ("a", -1, 0, 0, 1, 1, 2, 5, "done"),   # lane 0
        ("a", -1, 0, 0, 1, 2, 3, 3, "done"),   # lane 1, free again at 3
        ("a", -1, 0, 3, 4, 4, 5, 6, "done"),   # dispatched at 3: takes lane 1 back
        ("a", -1, 0, 1, 2, 5, 6, 7, "done"),   # lane 2
        ("a", -1, 0, NAN, NAN, NAN, NAN, 9, "cancelled"),  # never held a lane
        ("a", -1, 0, 5, 6, 6, 7, 8, "done"),   # lane 0 freed at 5, dispatched at 5
    )
    assert assign_lanes(jobs).tolist() == [0, 1, 1, 2, -1, 0]


def test_simultaneous_dispatches_go_in_job_order() -> None:
    jobs = jobs_table(*[("a", -1, 0, 0, 1, 1, 2, 2, "done")] * 3).iloc[::-1]
    assert dict(zip(jobs["job"], assign_lanes(jobs))) == {0: 0, 1: 1, 2: 2}


# --- the timeline from hand-written tables --------------------------------------------------


def test_rows_axis_and_legend() -> None:
    ax = draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "vqe (batch)", "QPU", "lane 1", "lane 2", "lane 3"]
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_xlim() == (0.0, 40.0)
    labels = legend_labels(ax)
    for expected in ("vqe · batch", "bg · job", "phase: compile", "phase: quantum",
                     "phase: post", "active window (QPU reserved)", "ITTL tail (no job left)",
                     "inactive (paused)", "deactivated (ITTL expired)", "re-activated", "closed",
                     "reserved, QPU idle", "calibration", "lane held, waiting for the QPU",
                     "job failed"):
        assert expected in labels


def test_each_job_is_a_bar_split_into_its_phases_on_its_lane() -> None:
    ax = draw()
    lane0, lane1 = LANE_ROW, LANE_ROW + 1
    assert bars(ax, "jobs/vqe/compile") == [(0, 2, lane0), (18, 20, lane0)]
    assert bars(ax, "jobs/vqe/quantum") == [(2, 12, lane0), (20, 30, lane0)]
    assert bars(ax, "jobs/vqe/post") == [(12, 13, lane0), (30, 31, lane0)]
    assert bars(ax, "jobs/bg/compile") == [(1, 3, lane1), (25, 26, lane1)]
    assert bars(ax, "jobs/bg/quantum") == [(12, 15, lane1), (30, 33, lane1)]
    assert bars(ax, "jobs/bg/post") == [(15, 16, lane1)]  # the failed job has none
    assert bars(ax, "jobs/wait") == [(3, 12, lane1), (26, 30, lane1)]
    assert marks(ax, "end/failed") == [(33, lane1)]


def test_one_collection_per_workload_and_phase() -> None:
    ax = draw()
    tagged = [c.get_gid() for c in ax.collections if (c.get_gid() or "").startswith("jobs/")]
    assert len(tagged) == len(set(tagged))


def test_qpu_row_holds_quantum_phases_and_calibrations() -> None:
    ax = draw()
    assert bars(ax, "qpu/vqe") == [(2, 12, QPU_ROW), (20, 30, QPU_ROW)]
    assert bars(ax, "qpu/bg") == [(12, 15, QPU_ROW), (30, 33, QPU_ROW)]
    assert bars(ax, "calibration") == [(16, 18, QPU_ROW)]
    assert [(a, b) for a, b, _ in bars(ax, "calibration/deferred")] == [(15, 16)]


def test_windows_shaded_behind_every_row_and_on_their_own_row() -> None:
    ax = draw()
    behind = bars(ax, "window/vqe")
    assert [(a, b) for a, b, _ in behind] == [(0, 14), (18, 32)]
    band = next(c for c in ax.collections if c.get_gid() == "window/vqe")
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() <= -0.5 and ys.max() >= 4.5  # spans all five rows
    assert band.get_zorder() < min(c.get_zorder() for c in ax.collections
                                   if (c.get_gid() or "").startswith("jobs/"))
    assert bars(ax, "context/vqe") == [(0, 14, CONTEXT_ROW), (18, 32, CONTEXT_ROW)]


def test_ittl_tails_and_idle_gaps_are_marked() -> None:
    ax = draw()
    assert bars(ax, "ittl") == [(13, 14, CONTEXT_ROW), (31, 32, CONTEXT_ROW)]
    # idle: inside vqe's windows, when the QPU ran none of vqe's jobs (bg's turn included)
    assert bars(ax, "idle") == [(0, 2, QPU_ROW), (12, 14, QPU_ROW), (18, 20, QPU_ROW),
                                (30, 32, QPU_ROW)]


def test_deactivation_reactivation_and_close_are_visible() -> None:
    ax = draw()
    assert [x for x, _ in marks(ax, "mark/deactivated")] == [14, 32]
    assert [x for x, _ in marks(ax, "mark/re-activated")] == [18]
    assert [x for x, _ in marks(ax, "mark/closed")] == [35]
    assert bars(ax, "inactive") == [(14, 18, CONTEXT_ROW)]


def test_without_a_contexts_table_window_boundaries_give_the_changes() -> None:
    ax = draw(contexts=None)
    assert [x for x, _ in marks(ax, "mark/deactivated")] == [14]
    assert [x for x, _ in marks(ax, "mark/re-activated")] == [18]
    assert "mark/closed" not in gids(ax)


def test_jobs_that_never_held_a_lane_are_counted_on_the_figure() -> None:
    ax = draw()
    assert "1 waiting here (1 in all still queued when the run ended)" in ax.get_title(loc="right")


def test_a_window_of_the_run_clips_bars_and_picks_the_unit() -> None:
    ax = draw(start=10, end=20)
    assert ax.get_xlim() == (10.0, 20.0)
    assert bars(ax, "jobs/vqe/quantum") == [(10, 12, LANE_ROW)]  # 2-12 and 20-30, clipped
    assert bars(ax, "jobs/bg/compile") == []  # nothing of it between 10 and 20
    assert [x for x, _ in marks(ax, "mark/deactivated")] == [14]


@pytest.mark.parametrize("span, unit", [(40, "s"), (1200, "min"), (5 * 3600, "h"),
                                        (10 * 86400, "d")])
def test_time_unit_follows_the_span(span: float, unit: str) -> None:
    assert time_unit(span)[0] == unit
    ax = draw(end=span)
    assert ax.get_xlabel() == f"time ({unit})"
    scale = time_unit(span)[1]
    assert bars(ax, "qpu/vqe")[0][:2] == (round(2 / scale, 6), round(12 / scale, 6))


def test_drawing_into_a_given_axes_returns_it() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert draw(ax=ax) is ax


def test_workload_names_alone_are_enough() -> None:
    ax = draw(workloads=["vqe", "bg"], contexts=None)
    assert "vqe · batch" in legend_labels(ax)  # the mode comes from the windows table
    assert "bg" in legend_labels(ax)


def test_empty_run_draws_empty_rows() -> None:
    empty = jobs_table()
    no_calibrations = CALIBRATIONS.iloc[:0]
    ax = timeline_from_tables(empty, WINDOWS.iloc[:0], intervals_table(empty, no_calibrations),
                              no_calibrations, 5, ["x"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["QPU"] + [f"lane {k}" for k in range(1, 6)]


# --- many jobs: occupancy bands -------------------------------------------------------------


def many_jobs(n: int) -> pd.DataFrame:
    """n jobs one after another on one lane, each 1 s: compile 0.2, quantum 0.5, post 0.3."""
    t = np.arange(n, dtype=float)
    return pd.DataFrame({
        "job": np.arange(n), "workload": "bg", "context": -1, "submit_at": t, "dispatch_at": t,
        "compile_start_at": t, "compile_end_at": t + 0.2, "quantum_start_at": t + 0.2,
        "quantum_end_at": t + 0.7, "post_start_at": t + 0.7, "post_end_at": t + 1.0,
        "end_at": t + 1.0, "status": "done"})


def test_past_max_bars_jobs_become_occupancy_bands_and_the_figure_says_so() -> None:
    jobs = many_jobs(5000)
    ax = timeline_from_tables(jobs, WINDOWS.iloc[:0], intervals_table(jobs, CALIBRATIONS.iloc[:0]),
                              CALIBRATIONS.iloc[:0], 1, ["bg"])
    assert not any(g.startswith("jobs/") for g in gids(ax))
    assert {"occupancy/bg/compile", "occupancy/bg/quantum", "occupancy/bg/post",
            "occupancy/qpu/bg"} <= gids(ax)
    assert "5,000 jobs" in ax.get_title(loc="right")
    assert "occupancy" in ax.get_title(loc="right")
    # The QPU was busy half the time: its band fills half of the row (0.35 of its 0.7),
    # stacked up from the row's bottom edge at y = 0.35 (rows grow downwards).
    qpu = next(c for c in ax.collections if c.get_gid() == "occupancy/qpu/bg")
    ys = qpu.get_paths()[0].vertices[:, 1]
    assert np.median(ys[ys < 0.3]) == pytest.approx(0.35 - 0.7 * 0.5, abs=0.01)


def test_below_max_bars_every_job_is_drawn() -> None:
    jobs = many_jobs(300)
    ax = timeline_from_tables(jobs, WINDOWS.iloc[:0], intervals_table(jobs, CALIBRATIONS.iloc[:0]),
                              CALIBRATIONS.iloc[:0], 1, ["bg"])
    assert len(bars(ax, "jobs/bg/quantum")) == 300
    assert not any(g.startswith("occupancy/") for g in gids(ax))


def test_occupancy_is_the_share_of_each_bin_covered() -> None:
    edges = np.array([0.0, 10.0, 20.0, 30.0])
    share = occupancy(np.array([5.0, 12.0, 25.0]), np.array([15.0, 14.0, 40.0]), edges)
    assert share == pytest.approx([0.5, 0.7, 0.5])  # [5,10]; [10,15] + [12,14]; [25,30]


def test_occupancy_counts_an_interval_on_an_edge_exactly_as_a_binary_search_would() -> None:
    # The bins are found by arithmetic, then corrected where rounding would misplace a point
    # lying on (or one float beside) an edge.
    edges = np.linspace(0.1, 0.7, 7)
    beside = np.concatenate([edges, np.nextafter(edges, 1), np.nextafter(edges, -1), [-5, 5]])
    found = plot_timeline._edges_at_or_below(beside, edges)
    np.testing.assert_array_equal(found, np.searchsorted(edges, beside, side="right"))
    share = occupancy(np.array([0.1, 0.2]), np.array([0.2, 0.45]), edges)
    assert share == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.0, 0.0])


def test_a_hatch_is_drawn_only_on_bars_wide_enough_to_show_it() -> None:
    # 1,400 hatched calibrations a fraction of a pixel wide took Agg 0.8 s to draw, unseen.
    cal = pd.DataFrame({"due_at": [0.0, 1000.0], "start_at": [0.0, 1000.0],
                        "end_at": [1.0, 3000.0], "deferred_s": [0.0, 0.0]})
    jobs = many_jobs(3)
    ax = timeline_from_tables(jobs, WINDOWS.iloc[:0], intervals_table(jobs, cal), cal, 1,
                              ["bg"], start=0, end=10_000)
    drawn = [c for c in ax.collections if c.get_gid() == "calibration"]
    hatched = {c.get_hatch(): len(c.get_paths()) for c in drawn}
    assert hatched == {None: 1, "..": 1}  # the 1 s one plain, the 2,000 s one hatched
    minutes = [b - a for a, b, _ in bars(ax, "calibration")]  # the axis reads in minutes
    assert sorted(minutes) == pytest.approx([1 / 60, 2000 / 60], abs=1e-6)  # bars() rounds


# --- compare ----------------------------------------------------------------------------------


def panel(ax: Axes, key: str) -> Axes:
    return next(a for a in ax.child_axes if a.get_gid() == f"compare/{key}")


def heights(ax: Axes) -> list[float]:
    return [round(p.get_height(), 6) for p in ax.patches]


def texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def whiskers(ax: Axes) -> list[tuple[float, float]]:
    out = []
    for col in ax.collections:
        for seg in col.get_segments():
            out.append((round(seg[:, 1].min(), 6), round(seg[:, 1].max(), 6)))
    return sorted(out)


SINGLE = {"workload": "vqe", "modes": {
    "session": {"usage_s": 49.0, "quantum_s": 30.0, "cost_usd": 78.4, "wall_time_s": 49.0,
                "idle_s": 19.0, "windows": 1},
    "job": {"usage_s": 30.0, "quantum_s": 30.0, "cost_usd": 48.0, "wall_time_s": 49.0,
            "idle_s": 0.0, "windows": 0},
    "batch": {"usage_s": 30.0, "quantum_s": 30.0, "cost_usd": 48.0, "wall_time_s": 49.0,
              "idle_s": 15.0, "windows": 3}}}


def test_compare_four_panels_modes_in_order_values_labelled() -> None:
    ax = compare(SINGLE)
    assert len(ax.child_axes) == 4
    usage = panel(ax, "usage_s")
    assert [t.get_text() for t in usage.get_xticklabels()] == ["job", "batch", "session"]
    assert heights(usage) == [30.0, 30.0, 49.0]
    assert texts(usage) == ["30 s", "30 s", "49 s"]
    assert texts(panel(ax, "cost_usd")) == ["$48.00", "$48.00", "$78.40"]
    # billed idle: a session's usage beyond its quantum time; batch's 15 s idle is not billed
    assert texts(panel(ax, "billed_idle_s")) == ["not billed", "not billed", "19 s"]
    assert panel(ax, "billed_idle_s").get_title() == "idle, billed"
    assert panel(ax, "wall_time_s").get_title() == "wall time"
    assert all(whiskers(panel(ax, k)) == [] for k in ("usage_s", "cost_usd"))
    assert "vqe" in ax.get_title(loc="left") and "whiskers" not in ax.get_title(loc="left")


def test_compare_with_replications_draws_confidence_whiskers() -> None:
    data = {"workload": "vqe", "replications": 10, "modes": {
        "job": {"usage_s": {"mean": 1800.0, "low": 1700.0, "high": 1900.0},
                "cost_usd": {"mean": 2880.0, "ci95": [2700.0, 3000.0]},
                "wall_time_s": {"mean": 7200.0, "ci95": None}, "idle_s": 0.0},
        "session": {"usage_s": {"mean": 3000.0, "low": 2900.0, "high": 3300.0},
                    "cost_usd": {"mean": 4800.0, "ci95": [4600.0, 5000.0]},
                    "wall_time_s": {"mean": 3600.0, "ci95": None}, "idle_s": 60.0}}}
    ax = compare(data)
    usage = panel(ax, "usage_s")  # 3000 s is shown in minutes
    assert usage.get_ylabel() == "min"
    assert heights(usage) == [30.0, 50.0]
    assert whiskers(usage) == [(round(1700 / 60, 6), round(1900 / 60, 6)),
                               (round(2900 / 60, 6), 55.0)]
    assert whiskers(panel(ax, "cost_usd")) == [(2700.0, 3000.0), (4600.0, 5000.0)]
    assert whiskers(panel(ax, "wall_time_s")) == []  # no interval given
    assert "mean of 10 runs" in ax.get_title(loc="left")


def test_compare_accepts_an_object_with_to_dict() -> None:
    class Comparison:
        replications = 1

        def to_dict(self) -> dict:
            return SINGLE

    assert heights(panel(compare(Comparison()), "usage_s")) == [30.0, 30.0, 49.0]


# --- real runs: the picture agrees with the numbers -----------------------------------------

ITERATIVE = {"name": "vqe", "kind": "iterative", "iterations": 3, "compile": 2, "quantum": 10,
             "post": 1, "classical": 5}


def drawn_length(ax: Axes, gid: str) -> float:
    return sum(b - a for a, b, _ in bars(ax, gid))


@pytest.mark.parametrize("mode, tail", [
    ("session", 0.0), ({"kind": "session", "close": False}, 60.0), ("batch", 2.0)])
def test_spec_timeline_a_picture_matches_the_summary(mode: object, tail: float) -> None:
    result = run({**ITERATIVE, "mode": mode})
    summary = result.summary()["workloads"][0]
    ax = plots.timeline(result)
    assert drawn_length(ax, "idle") == pytest.approx(summary["idle_s"])
    assert len(bars(ax, "idle")) == summary["idle_gaps"]
    assert len(bars(ax, "context/vqe")) == summary["windows"]
    assert drawn_length(ax, "context/vqe") == pytest.approx(result.windows["length_s"].sum())
    if summary["mode"] == "session":  # a session is billed for its windows
        assert drawn_length(ax, "context/vqe") == pytest.approx(summary["usage_s"])
    assert drawn_length(ax, "ittl") == pytest.approx(tail)
    assert bars(ax, "jobs/vqe/quantum") == [(2, 12, 2), (20, 30, 2), (38, 48, 2)]


def test_lanes_never_exceed_the_backend_and_calibrations_show() -> None:
    result = run({"name": "sweep", "kind": "independent", "mode": "batch", "jobs": 12,
                  "compile": 20, "quantum": 5, "post": 2},
                 {"name": "others", "kind": "background", "compile": 1, "quantum": 3, "post": 1,
                  "arrivals": {"dist": "exponential", "mean": 4}},
                 backend={"lanes": 3, "calibration": {"every": 30, "duration": 4}})
    assert assign_lanes(result.jobs).max() < 3
    ax = plots.timeline(result)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "lane 3"
    assert len(bars(ax, "calibration")) == len(result.calibrations) > 0
    on_qpu = sum(len(bars(ax, g)) for g in ("qpu/sweep", "qpu/others"))
    assert on_qpu == (result.intervals["what"] == "job").sum()


@pytest.mark.slow
def test_save_helpers_write_pngs(tmp_path: Path) -> None:
    result = run({**ITERATIVE, "mode": "session"})
    plots.save_timeline(result, tmp_path / "timeline.png")
    plots.save_timeline(result, tmp_path / "window.png", start=10, end=30)
    plots.save_compare(SINGLE, tmp_path / "compare.png")
    for name in ("timeline.png", "window.png", "compare.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("text, expected", [(None, (None, None)), ("10m:25m", (600.0, 1500.0)),
                                            ("600:1500", (600.0, 1500.0)), ("1h:", (3600.0, None)),
                                            (":90s", (None, 90.0))])
def test_window_option_is_parsed_into_seconds(text: str | None, expected: tuple) -> None:
    assert plots.parse_window(text) == expected


@pytest.mark.parametrize("text, message", [
    ("10m", "--window: expected START:END, e.g. 10m:25m or 600:1500 (got '10m')"),
    ("5m:2m", "--window: END must be after START (got '5m:2m')"),
    ("a:b", "--window: not a duration")])
def test_bad_window_option_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(QsimError, match=re.escape(message)):
        plots.parse_window(text)


@pytest.mark.slow
def test_no_pyplot_state_is_touched(tmp_path: Path) -> None:
    code = ("import sys; sys.path.insert(0, 'tests'); from helpers import run; "
            "from qsim import plots; r = run({'name': 'a', 'kind': 'independent', 'jobs': 2, "
            "'quantum': 1}); plots.save_timeline(r, sys.argv[1]); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "t.png")], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("accounting", ["active_windows", "first_start_to_end"])
def test_the_idle_drawn_is_the_idle_counted_under_both_accounting_readings(
        accounting: str) -> None:
    # A session that pauses: 2 iterations, classical 100 s > the 60 s ITTL, so the window
    # closes at 73 (job 0-13 + 60 s tail) and re-opens at 113 for the second job (113-126).
    # Counted over its active windows, idle is 2 + 1 + 60 + 2 + 1 = 66 s; over one span from
    # the first activation to the end (first_start_to_end), the 40 s pause counts too: 106 s.
    result = run({**ITERATIVE, "iterations": 2, "classical": 100, "mode": "session"},
                 accounting={"session": accounting})
    summary = result.summary()["workloads"][0]
    expected = {"active_windows": 66.0, "first_start_to_end": 106.0}[accounting]
    assert summary["idle_s"] == pytest.approx(expected)
    ax = plots.timeline(result)
    assert drawn_length(ax, "idle") == pytest.approx(summary["idle_s"])
    assert len(bars(ax, "idle")) == summary["idle_gaps"]
    gaps = result.idle_gaps
    assert gaps["length_s"].sum() == pytest.approx(summary["idle_s"])


def test_a_window_says_how_many_were_still_queued_in_all() -> None:
    # scenarios/vqe.yaml, seed 0: 147 of the others' jobs were still queued when the run
    # ended (the report's count); 19 of them had been submitted by 22 min, the window's end.
    result = qsim.simulate(qsim.load_scenario("scenarios/vqe.yaml"))
    assert result.summary()["workloads"][1]["jobs"]["incomplete"] == 147
    ax = plots.timeline(result, start=720, end=1320)
    assert "19 waiting here (147 in all still queued when the run ended)" in ax.get_title(
        loc="right")


@pytest.mark.slow
def test_names_the_font_cannot_draw_are_escaped_not_boxes(tmp_path: Path) -> None:
    # DejaVu Sans, matplotlib's default, has no CJK or emoji: each such glyph used to be a
    # box and a warning on stderr. They are written as escapes instead.
    scenario = tmp_path / "cjk.yaml"
    scenario.write_text('name: "量子 🚀"\nworkloads:\n  - {name: "化学-vqe🧪", kind: iterative, '
                        'iterations: 2, quantum: 5s, classical: 2s, mode: session}\n',
                        encoding="utf-8")
    for command in (["run", str(scenario), "--plot", str(tmp_path / "t.png")],
                    ["compare", str(scenario), "--plot", str(tmp_path / "c.png")]):
        done = subprocess.run([sys.executable, "-m", "qsim", *command], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""  # no "Glyph ... missing from font" warnings
    assert plot_timeline.label("化学-vqe") == "\\u5316\\u5b66-vqe"
    assert plot_timeline.label("vqe é") == "vqe é"  # what the font has stays as it is
