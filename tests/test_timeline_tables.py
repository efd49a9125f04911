"""The timeline drawn from a run's numpy columns (``timeline_tables.from_result``, what
``qsim run --plot/--out`` draws, without pandas) is the picture ``timeline_from_tables``
draws from the run's DataFrames, pixel for pixel, as bars and as occupancy bands."""

from __future__ import annotations

import io

import pytest

import qsim
from qsim.present import plots
from qsim.present import timeline_tables as tt

SCENARIO = {
    "name": "two ways", "horizon": "2h",
    "backend": {"lanes": 3, "calibration": {"every": "40m", "duration": "3m"}},
    "workloads": [
        {"name": "others", "kind": "background", "arrivals": {"dist": "exponential",
                                                               "mean": "5s"},
         "compile": {"dist": "exponential", "mean": "3s"}, "quantum": "6s", "post": "1s"},
        {"name": "vqe", "kind": "iterative", "iterations": 12, "start": "10m",
         "quantum": "5s", "mode": {"kind": "session", "interactive_ttl": "10s"},
         "classical": {"dist": "exponential", "mean": "12s"},
         "failure": {"probability": 0.2, "kind": "system", "stage": "quantum"},
         "on_failure": "retry", "max_retries": 2},
        {"name": "sweep", "kind": "independent", "mode": "batch", "jobs": 10,
         "start": "30m", "quantum": "20s"},
    ]}


def png(ax: object) -> bytes:
    buffer = io.BytesIO()
    plots._save(ax.figure, buffer)  # type: ignore[attr-defined, arg-type]
    return buffer.getvalue()


@pytest.mark.parametrize("max_bars", [plots.MAX_BARS, 10], ids=["bars", "occupancy"])
@pytest.mark.parametrize("window", [(None, None), (900.0, 3000.0)], ids=["all", "window"])
def test_the_numpy_columns_draw_the_dataframes_picture(
        max_bars: int, window: tuple[float | None, float | None]) -> None:
    result = qsim.simulate(qsim.parse_scenario(SCENARIO, "two ways"))
    scenario = result.info.scenario
    modes = {w.name: w.mode.kind for w in scenario.workloads}
    start, end = window[0], result.info.end_s if window[1] is None else window[1]
    # end marks, and a queue left at the end (jobs never given a lane, counted in a note)
    assert result.jobs["status"].isin(["failed"]).any()
    assert (result.jobs["dispatch_at"].isna() & (result.jobs["status"] == "incomplete")).any()
    frames = plots.timeline_from_tables(
        result.jobs, result.windows, result.intervals, result.calibrations,
        scenario.backend.lanes, modes, None, start, end, contexts=result.contexts,
        idle=result.idle_gaps, max_bars=max_bars, outages=result.outage_arrays)
    arrays = plots._draw_timeline(tt.from_result(result), scenario.backend.lanes, modes, None,
                                  start, end, max_bars, result.outage_arrays)
    gids = {c.get_gid() for c in arrays.collections}
    assert any(str(g).startswith("occupancy/" if max_bars == 10 else "jobs/") for g in gids)
    assert png(arrays) == png(frames)


def test_drawing_leaves_the_garbage_collector_as_it_found_it() -> None:
    # timeline_png has the collector skip what existed before it while it draws (gc.freeze):
    # left frozen, those objects' cycles would never be freed in a caller's process.
    import gc

    from qsim.present.shared import timeline_png

    result = qsim.simulate(qsim.parse_scenario(SCENARIO, "two ways"))
    gc.unfreeze()  # an earlier test ran the console script in this process, which freezes
    assert timeline_png(result, (None, None)).startswith(b"\x89PNG")
    assert gc.get_freeze_count() == 0
