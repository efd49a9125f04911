"""Exact timelines of a background stream's ``hold`` (SPEC §17): jobs the service holds a time
after their submission before they may be dispatched. Fixed durations, hand-computed; lanes 1,
no compile or post, so that jobs wait in the queue.

The rule as the implementation contract states it:
- Each job the stream submits (its pending jobs too) gets ``job.submit`` then ``job.hold`` at
  its submission, and ``job.release`` a draw of ``hold`` later (a timer: after that instant's
  job ends, before its submissions). While held it is submitted and not dispatched (it counts
  in ``pending_jobs``) but no lane takes it.
- At its release it takes its place in the queue by submission (job id), as SPEC §19 puts back
  jobs a usage limit released; dispatch follows as at any instant (an outage still holds it).
- Held at the run's end: ``job.incomplete`` with no reason, as a background job still queued.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from helpers import job, job_rows, run

import qsim

Rows = list[tuple[float, str, int]]
ONE_LANE: dict[str, Any] = {"lanes": 1}


def others(**extra: object) -> dict[str, object]:
    return {"name": "others", "kind": "background", "quantum": "1s", **extra}


def run_file(folder: Path, data: dict[str, object]) -> qsim.RunResult:
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return qsim.simulate(qsim.load_scenario(path))


def test_a_released_job_goes_ahead_of_jobs_submitted_after_it(tmp_path: Path) -> None:
    """The stream's job 0 arrives at 0 and is held 30 s. x's job 1 (at 5) runs 5-15 while it
    is held; y's jobs 2-4 (at 10) queue behind it: 2 runs 15-25, 3 25-35. At 30 job 0 is
    released into a queue holding job 4: it goes ahead of it (submitted before it) and runs
    35-36, job 4 36-46. The run ends when the foreground does."""
    (tmp_path / "a.csv").write_text("at\n0\n")
    data = {"name": "t", "backend": ONE_LANE, "workloads": [
        others(arrivals={"trace": "a.csv"}, hold="30s"),
        job("x", start="5s"), job("y", jobs=3, start="10s")]}
    result = run_file(tmp_path, data)
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.hold", 0),
        (5.0, "job.submit", 1), *job_rows(5.0, 1, 0, 10, 0)[:3],
        (10.0, "job.submit", 2), (10.0, "job.submit", 3), (10.0, "job.submit", 4),
        (15.0, "qpu.end", 1), (15.0, "job.done", 1), *job_rows(15.0, 2, 0, 10, 0)[:3],
        (25.0, "qpu.end", 2), (25.0, "job.done", 2), *job_rows(25.0, 3, 0, 10, 0)[:3],
        (30.0, "job.release", 0),
        (35.0, "qpu.end", 3), (35.0, "job.done", 3), *job_rows(35.0, 0, 0, 1, 0),
        *job_rows(36.0, 4, 0, 10, 0),
        (46.0, "run.end", -1)]
    jobs = result.jobs
    assert jobs["queue_wait_s"].tolist() == [35.0, 0.0, 5.0, 15.0, 26.0]


def test_a_release_during_a_pause_waits_for_its_end_and_pending_jobs_are_held() -> None:
    """Two pending jobs (0, 1) at 0, held 30 s; x's job 2 runs 0-10. A pause from 20 to 40:
    both are released at 30 and queue; dispatch waits for the outage's end, at 40."""
    result = run(job("x"), others(arrivals="1000s", pending=2, hold="30s"), backend={
        **ONE_LANE, "outages": [{"start": "20s", "end": "40s", "kind": "pause"}]},
        horizon="50s")
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.hold", 0),
        (0.0, "job.submit", 1), (0.0, "job.hold", 1),
        (0.0, "job.submit", 2), *job_rows(0.0, 2, 0, 10, 0),
        (20.0, "outage.start", -1),
        (30.0, "job.release", 0), (30.0, "job.release", 1),
        (40.0, "outage.end", -1), *job_rows(40.0, 0, 0, 1, 0), *job_rows(41.0, 1, 0, 1, 0),
        (50.0, "run.end", -1)]


def test_a_job_held_at_the_end_is_incomplete_as_a_queued_background_job() -> None:
    """Job 0 is held (until 30); job 2 queued behind job 1 (0-60) at the horizon, 20: both
    are ``incomplete`` with no reason (a usage limit's would say ``limit``), as job 1 is."""
    result = run(others(arrivals="1000s", pending=1, hold="30s"),
                 others(name="queued", arrivals="1000s", pending=2, quantum="60s"),
                 backend=ONE_LANE, horizon="20s")
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.hold", 0), (0.0, "job.submit", 1),
        (0.0, "job.submit", 2), *job_rows(0.0, 1, 0, 60, 0)[:3],
        (20.0, "job.incomplete", 0), (20.0, "job.incomplete", 1),
        (20.0, "job.incomplete", 2), (20.0, "run.end", -1)]
    jobs = result.jobs
    assert jobs["status"].tolist() == ["incomplete"] * 3
    assert [r if isinstance(r, str) else None for r in jobs["reason"].tolist()] == [None] * 3


def test_no_hold_no_hold_records() -> None:
    result = run(job("x"), others(arrivals="3s"), horizon="20s")
    kinds = {kind for _, kind, _ in result.trace.rows()}
    assert not kinds & {"job.hold", "job.release"}
