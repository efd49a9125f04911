"""Exact timelines of SPEC §19's usage and cost limits (issue 29). Fixed durations,
hand-computed, no background; lanes 1 unless given, so that jobs wait in the queue.

The rules as the implementation contract states them:
- Usage limit (``instances.NAME.limit``, ``limit_window``): usage is booked as fair share
  books it (each job's charged time at its end in job and batch mode, a session's window at
  its end) and leaves the window ``limit_window`` after it was booked; the prior ``used`` is
  booked at t = 0. When a booking brings the instance's usage in the window to the limit or
  over, ``limit.reached`` is recorded and each of its queued jobs gets ``job.hold``: none is
  dispatched (jobs submitted meanwhile are held at submission). When enough usage has left
  the window (a timer, so after that instant's job ends and before its submissions),
  ``limit.cleared``, each held job gets ``job.release`` and goes back to the queue in its
  order; dispatch follows as at any instant. Running jobs finish. Held at the end: the job is
  ``incomplete``, reason ``limit``.
- Cost limit (``cost_limit`` USD, ``on_cost_limit``): checked at each job's end (job and
  batch mode) and, for an active session, at the instant its open window's cost reaches the
  limit. Then ``costlimit.reached``; the instance's batches and sessions are cancelled
  (``context.close``, reason ``cost_limit``) with their queued jobs, its other queued jobs
  cancelled (reason ``cost_limit``), its running jobs stopped (``qpu.end`` if on the QPU,
  ``job.cancelled``, reason ``cost_limit``, charged the quantum time they used) unless
  ``on_cost_limit: finish``; later submissions are cancelled at once (reason ``cost_limit``).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import job, run, workload

ONE_LANE: dict[str, Any] = {"lanes": 1}


def limits(result) -> dict[str, Any]:
    return next(i for i in result.summary()["instances"] if i["name"] == "x")


def reasons(result) -> list[str | None]:
    return [r if isinstance(r, str) else None for r in result.jobs["reason"].tolist()]


def runs(t0: float, job_: int, quantum: float = 10.0) -> list[tuple[float, str, int]]:
    """A job dispatched at ``t0`` to an idle QPU, no compile, no post."""
    t1 = t0 + quantum
    return [(t0, "job.dispatch", job_), (t0, "job.ready", job_), (t0, "qpu.start", job_),
            (t1, "qpu.end", job_), (t1, "job.done", job_)]


# ---- usage limits ---------------------------------------------------------------------------


def test_a_limit_reached_mid_queue_holds_the_rest_until_the_window_rolls() -> None:
    """Five 10 s jobs, one lane, limit 25 s per 100 s. Jobs 0-2 run 0-30; job 2's end books
    the third 10 s: 30 >= 25, so jobs 3 and 4 are held at 30. The usage booked at 10 leaves
    the window at 110: 20 < 25, both are released and run 110-120, 120-130 (at 120 the usage
    booked at 20 has left before job 3's end is booked: 20 again)."""
    result = run(job("x", jobs=5), backend=ONE_LANE,
                 instances={"x": {"limit": "25s", "limit_window": "100s"}})
    assert result.trace.rows() == [
        *[(0.0, "job.submit", j) for j in range(5)],
        *runs(0.0, 0)[:3], (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        *runs(10.0, 1)[:3], (20.0, "qpu.end", 1), (20.0, "job.done", 1),
        *runs(20.0, 2)[:3], (30.0, "qpu.end", 2), (30.0, "job.done", 2),
        (30.0, "limit.reached", -1), (30.0, "job.hold", 3), (30.0, "job.hold", 4),
        (110.0, "limit.cleared", -1), (110.0, "job.release", 3), (110.0, "job.release", 4),
        *runs(110.0, 3)[:3], (120.0, "qpu.end", 3), (120.0, "job.done", 3),
        *runs(120.0, 4),
        (130.0, "run.end", -1)]
    x = limits(result)
    assert (x["limit_s"], x["limit_reached_at"], x["held_s"]) == (25.0, 30.0, 160.0)
    assert workload(result)["complete"] is True
    assert result.jobs["queue_wait_s"].tolist() == [0.0, 10.0, 20.0, 110.0, 120.0]


def test_the_limit_does_not_stop_running_jobs_and_reports_the_overshoot() -> None:
    """Two lanes: jobs 0 and 1 are dispatched at 0, the QPU runs them 0-10, 10-20. Job 0's end
    books 10 >= 5: job 2 is held at 10, job 1 runs on (the overshoot: 20 s booked of 5)."""
    result = run(job("x", jobs=3), backend={"lanes": 2}, horizon="60s",
                 instances={"x": {"limit": "5s", "limit_window": "1000s"}})
    assert result.trace.rows() == [
        *[(0.0, "job.submit", j) for j in range(3)],
        (0.0, "job.dispatch", 0), (0.0, "job.dispatch", 1),
        (0.0, "job.ready", 0), (0.0, "job.ready", 1), (0.0, "qpu.start", 0),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        (10.0, "limit.reached", -1), (10.0, "job.hold", 2), (10.0, "qpu.start", 1),
        (20.0, "qpu.end", 1), (20.0, "job.done", 1),
        (60.0, "job.incomplete", 2), (60.0, "run.end", -1)]
    assert reasons(result) == [None, None, "limit"]
    x = limits(result)
    assert (x["usage_s"], x["limit_s"], x["held_s"]) == (20.0, 5.0, 50.0)
    w = workload(result)
    assert (w["complete"], w["stopped_by"]) == (False, "a usage limit")


def test_the_open_plan_stops_at_ten_minutes_and_resumes_when_the_window_rolls() -> None:
    """plan: open, three 300 s jobs, one lane: 0-300, 300-600; at 600 ten minutes are used
    (600 >= 600) and job 2 is held until the usage booked at 300 leaves the 28-day window:
    300 + 2,419,200 = 2,419,500; it runs then."""
    result = run(job("x", jobs=3, quantum="300s"), plan="open", backend=ONE_LANE)
    late = 300.0 + 28 * 86400
    assert result.trace.rows() == [
        *[(0.0, "job.submit", j) for j in range(3)],
        *runs(0.0, 0, 300.0)[:3], (300.0, "qpu.end", 0), (300.0, "job.done", 0),
        *runs(300.0, 1, 300.0)[:3], (600.0, "qpu.end", 1), (600.0, "job.done", 1),
        (600.0, "limit.reached", -1), (600.0, "job.hold", 2),
        (late, "limit.cleared", -1), (late, "job.release", 2), *runs(late, 2, 300.0),
        (late + 300.0, "run.end", -1)]
    x = limits(result)
    assert (x["limit_s"], x["limit_reached_at"], x["held_s"]) == (600.0, 600.0, late - 600.0)


def test_the_open_plan_counts_what_was_used_before_and_cuts_off_at_the_horizon() -> None:
    """5 min used before t = 0: job 0 (0-300) brings the window to 600 s; job 1 is held to the
    horizon and ends ``incomplete``, reason ``limit``; the workload is incomplete."""
    result = run(job("x", jobs=2, quantum="300s"), plan="open", backend=ONE_LANE,
                 instances={"x": {"used": "5m"}}, horizon="1h")
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        *runs(0.0, 0, 300.0)[:3], (300.0, "qpu.end", 0), (300.0, "job.done", 0),
        (300.0, "limit.reached", -1), (300.0, "job.hold", 1),
        (3600.0, "job.incomplete", 1), (3600.0, "run.end", -1)]
    assert reasons(result) == [None, "limit"]
    x = limits(result)
    assert (x["used_s"], x["usage_s"], x["held_s"]) == (300.0, 300.0, 3300.0)
    assert workload(result)["complete"] is False


def test_a_session_window_counts_when_it_ends() -> None:
    """A session (ITTL 5 s) of two rounds 10 s apart: its first window 0-15 (the job 0-10,
    the ITTL tail to 15) books 15 >= 12 at 15; the second round's job, submitted at 20, is
    held at submission until the 15 s leave the 50 s window at 65, then re-activates the
    session 65-75 (its close at the last result ends the window)."""
    result = run({"name": "x", "kind": "iterative", "iterations": 2, "quantum": "10s",
                  "classical": "10s", "mode": {"kind": "session", "interactive_ttl": "5s"}},
                 instances={"x": {"limit": "12s", "limit_window": "50s"}})
    rows = result.trace.rows()
    assert rows == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (0.0, "job.ready", 0), (0.0, "qpu.start", 0),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        (15.0, "context.deactivate", -1), (15.0, "context.release", -1),
        (15.0, "limit.reached", -1),
        (20.0, "job.submit", 1), (20.0, "job.hold", 1),
        (65.0, "limit.cleared", -1), (65.0, "job.release", 1),
        (65.0, "job.dispatch", 1), (65.0, "context.activate", -1), (65.0, "job.ready", 1),
        (65.0, "qpu.start", 1), (75.0, "qpu.end", 1), (75.0, "job.done", 1),
        (75.0, "context.drain", -1), (75.0, "context.close", -1),
        (75.0, "context.release", -1), (75.0, "run.end", -1)]
    assert limits(result)["held_s"] == 45.0


def test_no_limit_no_limit_records() -> None:
    result = run(job("x", jobs=3), backend=ONE_LANE)
    assert not [r for r in result.trace.rows() if "limit" in r[1] or "hold" in r[1]]


# ---- cost limits ----------------------------------------------------------------------------

PRICE: dict[str, Any] = {"usd_per_second": 2}  # exact in binary: 15 s cost 30 USD


def test_a_cost_limit_reached_at_a_job_end_cancels_the_queue() -> None:
    """2 USD/s, limit 30 USD: job 0's end books 20 USD, job 1's 40 >= 30 at 20: jobs 2 and 3,
    queued, are cancelled (reason cost_limit); the workload is incomplete."""
    result = run(job("x", jobs=4), backend=ONE_LANE, pricing=PRICE,
                 instances={"x": {"cost_limit": 30}})
    assert result.trace.rows() == [
        *[(0.0, "job.submit", j) for j in range(4)],
        *runs(0.0, 0)[:3], (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        *runs(10.0, 1)[:3], (20.0, "qpu.end", 1), (20.0, "job.done", 1),
        (20.0, "costlimit.reached", -1),
        (20.0, "job.cancelled", 2), (20.0, "job.cancelled", 3), (20.0, "run.end", -1)]
    assert reasons(result) == [None, None, "cost_limit", "cost_limit"]
    x = limits(result)
    assert (x["cost_limit_usd"], x["cost_limit_reached_at"], x["cost_cancelled"]) == \
        (30.0, 20.0, 2)
    w = workload(result)
    assert (w["cost_usd"], w["complete"], w["stopped_by"]) == (40.0, False, "a cost limit")


def test_a_cost_limit_stops_the_running_job_and_cancels_the_session() -> None:
    """A session of two 10 s jobs (lanes 5: both dispatched at 0; the QPU runs job 0 0-10,
    job 1 from 10). 2 USD/s, limit 30 USD: the open window reaches 30 USD at 15. Job 1 is
    stopped on the QPU (charged the 5 s it used), the session is cancelled and its window
    ends there: usage 15 s, 30 USD."""
    result = run(job("x", jobs=2, mode="session"), pricing=PRICE,
                 instances={"x": {"cost_limit": 30}})
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.dispatch", 0), (0.0, "context.activate", -1), (0.0, "job.dispatch", 1),
        (0.0, "job.ready", 0), (0.0, "job.ready", 1), (0.0, "qpu.start", 0),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0), (10.0, "qpu.start", 1),
        (15.0, "costlimit.reached", -1), (15.0, "context.close", -1),
        (15.0, "qpu.end", 1), (15.0, "job.cancelled", 1), (15.0, "context.release", -1),
        (15.0, "run.end", -1)]
    jobs = result.jobs
    assert reasons(result) == [None, "cost_limit"]
    assert jobs["charged_s"].tolist() == [10.0, 5.0]
    w = workload(result)
    assert (w["usage_s"], w["cost_usd"], w["complete"]) == (15.0, 30.0, False)


def test_on_cost_limit_finish_lets_the_running_job_finish() -> None:
    """The same under ``on_cost_limit: finish``: the session is cancelled at 15, job 1 ends
    its quantum phase at 20, done; the window lasts until then (40 USD)."""
    result = run(job("x", jobs=2, mode="session"), pricing=PRICE,
                 instances={"x": {"cost_limit": 30, "on_cost_limit": "finish"}})
    assert result.trace.rows()[-7:] == [
        (10.0, "qpu.start", 1),
        (15.0, "costlimit.reached", -1), (15.0, "context.close", -1),
        (20.0, "qpu.end", 1), (20.0, "job.done", 1), (20.0, "context.release", -1),
        (20.0, "run.end", -1)]
    assert workload(result)["cost_usd"] == 40.0


def test_later_submissions_are_cancelled_at_once() -> None:
    """An iterative loop of 10 s jobs, 5 s of classical between them (job mode), 2 USD/s,
    limit 30 USD: job 1 (15-25) brings the cost to 40 USD at 25; the loop submits job 2 at
    30, which is cancelled at once, and the loop stops."""
    result = run({"name": "x", "kind": "iterative", "iterations": 3, "quantum": "10s",
                  "classical": "5s"}, pricing=PRICE, instances={"x": {"cost_limit": 30}})
    assert result.trace.rows()[-6:] == [
        (25.0, "qpu.end", 1), (25.0, "job.done", 1), (25.0, "costlimit.reached", -1),
        (30.0, "job.submit", 2), (30.0, "job.cancelled", 2), (30.0, "run.end", -1)]
    assert reasons(result) == [None, None, "cost_limit"]


def test_limits_cost_nothing_when_absent() -> None:
    from helpers import scenario

    from qsim.model.backend import Backend
    from qsim.model.engine import _Simulation

    sim = _Simulation(scenario(job("x")), 0, 0)
    assert type(sim.backend) is Backend


@pytest.mark.parametrize("mode", ["job", "batch"])
def test_a_cost_limit_in_job_and_batch_mode_is_checked_at_each_end(mode: str) -> None:
    result = run(job("x", jobs=3, mode=mode), backend=ONE_LANE, pricing=PRICE,
                 instances={"x": {"cost_limit": 20}})
    assert result.jobs["status"].tolist() == ["done", "cancelled", "cancelled"]
    assert result.jobs["end_at"].tolist() == [10.0, 10.0, 10.0]


def test_a_limit_and_an_outage_together() -> None:
    """A pause 5-20 while the limit holds job 2 (reached at 10 by job 0's end): the outage's
    settle hook runs as without a limit (job 1, dispatched at 0, waits for the pause's end),
    and job 2 stays held."""
    result = run(job("x", jobs=3), backend={"lanes": 2, "outages": [
        {"start": "5s", "end": "20s", "kind": "pause"}]}, horizon="60s",
        instances={"x": {"limit": "5s", "limit_window": "1000s"}})
    assert result.jobs["status"].tolist() == ["done", "done", "incomplete"]
    assert reasons(result) == [None, None, "limit"]
    assert result.jobs["quantum_start_at"].tolist()[:2] == [0.0, 20.0]


def test_compare_never_ranks_work_a_cost_limit_cut_short_as_cheapest() -> None:
    """Four 10 s jobs, one lane, 2 USD/s, limit 70 USD. Job mode books 20, 40, 60 USD and
    80 at the last job's end: every job done (the limit is reached as the work ends). The
    session's open window reaches 70 USD at 35: its last job is stopped, 70 USD, less than
    job mode's 80 for less work. The verdict lists session as incomplete, not cheapest."""
    from helpers import scenario

    from qsim.experiments.comparison import compare

    s = scenario(job("x", jobs=4), backend=ONE_LANE, pricing=PRICE,
                 instances={"x": {"cost_limit": 70}})
    c = compare(s, modes=("job", "session"))
    assert c.modes["session"]["cost_usd"] == 70.0 < c.modes["job"]["cost_usd"] == 80.0
    assert c.verdict.incomplete == ("session",)
    assert c.verdict.cheapest == ("job",)
