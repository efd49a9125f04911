"""Issue 26: the timeline shows the background's queue level (jobs submitted and not yet
dispatched, per backend) on its own axis, and the report a line per backend with its outage
time. The series drawn is checked against the record log's own count, not against pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import run
from rich.console import Console

from qsim.analysis.queue_level import left_queue_at, queue_level_at
from qsim.analysis.queue_stats import queue_level_of_jobs
from qsim.present.plot_queue import queue_levels
from qsim.present.plots import timeline
from qsim.present.report import print_summary

BACKGROUND = {"name": "others", "kind": "background", "load": 0.9,
              "quantum": {"dist": "exponential", "mean": "20s"}}


def logged_queue(result: object, at: float, backend: int | None = None) -> int:
    """From the record log alone: jobs with a ``job.submit`` at or before ``at`` and neither a
    ``job.dispatch`` nor an end (``job.done``/``job.failed``/``job.cancelled``) at or before
    it; on one backend (the jobs table's) if given."""
    records = result.records  # type: ignore[attr-defined]
    records = records[records["t"] <= at]
    jobs = result.jobs  # type: ignore[attr-defined]
    if backend is not None:
        names = result.info.scenario.backends  # type: ignore[attr-defined]
        mine = set(jobs.loc[jobs["backend"] == names[backend].name, "job"])
        records = records[records["job"].isin(mine)]
    submitted = set(records.loc[records["kind"] == "job.submit", "job"])
    left = set(records.loc[records["kind"].isin(
        ["job.dispatch", "job.done", "job.failed", "job.cancelled"]), "job"])
    return len(submitted - left)


def test_the_level_drawn_is_the_record_logs_count() -> None:
    result = run(BACKGROUND, horizon="3h", seed=4,
                 backend={"lanes": 2, "outages": [{"start": "1h", "end": "1h30m"}]})
    levels = queue_levels(result, 0.0, result.info.end_s)
    instants, level = levels[""]
    assert len(instants) == 501 and instants[0] == 0.0 and instants[-1] == result.info.end_s
    assert level.max() > 20  # the outage let a queue build up
    for k in (0, 77, 180, 200, 249, 250, 251, 333, 499):  # 1h30m (the outage's end): k = 250
        assert level[k] == logged_queue(result, instants[k]), k


def test_per_backend_levels_are_each_backends_count() -> None:
    result = run({**BACKGROUND, "backend": "a"}, {**BACKGROUND, "name": "b-users",
                                                  "backend": "b", "load": 0.5},
                 horizon="2h", seed=2, backends=[{"name": "a", "lanes": 1},
                                                 {"name": "b", "lanes": 1}])
    levels = queue_levels(result, 0.0, result.info.end_s, bins=40)
    assert list(levels) == ["a", "b"]
    for k, name in enumerate(["a", "b"]):
        instants, level = levels[name]
        assert [int(x) for x in level[[5, 20, 39]]] == [
            logged_queue(result, instants[i], backend=k) for i in (5, 20, 39)]
    assert levels["a"][1].mean() > levels["b"][1].mean()  # the busier backend's queue


def test_the_binned_count_is_the_sorted_count_at_every_instant() -> None:
    # the fast count (arithmetic bins, no sort) against queue_stats' searchsorted one, on
    # instants that fall exactly on submissions and dispatches too
    rng = np.random.default_rng(0)
    submit = np.round(rng.uniform(0, 1000, 5000), 0)
    left = submit + np.round(rng.exponential(30, 5000), 0)
    left[::7] = np.nan  # never left
    instants = np.linspace(0.0, 1000.0, 201)  # every 5 s: on the whole seconds above
    grid = queue_level_of_jobs(submit, left, 1000.0 + 1e-9, step=5.0)
    assert np.array_equal(queue_level_at(submit, left, instants), grid.level)


def test_a_job_that_left_the_queue_without_a_dispatch_leaves_it_at_its_end() -> None:
    arrays = {"dispatch_at": np.array([5.0, np.nan, np.nan]),
              "end_at": np.array([9.0, 7.0, 100.0])}
    assert left_queue_at(arrays, 100.0)[:2].tolist() == [5.0, 7.0]
    assert np.isnan(left_queue_at(arrays, 100.0)[2])  # still queued at the run's end


def test_the_timeline_has_the_queue_panel_only_with_a_background() -> None:
    result = run(BACKGROUND, horizon="1h", seed=1,
                 backend={"outages": [{"start": "20m", "end": "30m"}]})
    ax = timeline(result)
    panels = [a for a in ax.figure.axes if a is not ax]
    assert len(panels) == 1
    gids = {artist.get_gid() for artist in panels[0].get_children()}
    assert {"queue", "queue/outage"} <= gids
    assert panels[0].get_xlabel() == "time (min)" and ax.get_xlabel() == ""
    alone = timeline(run({"name": "w", "kind": "independent", "jobs": 3, "quantum": "10s"}))
    assert alone.figure.axes == [alone]  # no background: no panel


def test_the_report_has_a_line_per_backend_with_its_outage_time() -> None:
    result = run({**BACKGROUND, "backend": "a"}, horizon="2h", seed=3,
                 backends=[{"name": "a", "outages": [{"start": "10m", "end": "25m"}]},
                           {"name": "b", "outages": [{"start": "1h", "end": "1h2m"}]}])
    out = Console(width=200, file=io.StringIO(), color_system=None)
    print_summary(out, result.summary())
    text = out.file.getvalue()  # type: ignore[attr-defined]
    rows = {line.split("│")[1].strip(): line for line in text.splitlines()
            if line.startswith("│ a ") or line.startswith("│ b ")}
    assert "1 (15m)" in rows["a"] and "1 (2m)" in rows["b"]


@pytest.mark.parametrize("bins", [1, 2, 500])
def test_any_number_of_bins(bins: int) -> None:
    instants = np.linspace(0.0, 10.0, bins + 1)
    level = queue_level_at(np.array([0.0, 2.0, 10.0]), np.array([5.0, np.nan, 10.0]), instants)
    expected = [int(0 <= t < 5) + int(t >= 2) for t in instants.tolist()]
    assert level.tolist() == expected
