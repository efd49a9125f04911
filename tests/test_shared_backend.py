"""SPEC §1 and §4 on a shared backend: fair share between instances, and calibrations."""

from __future__ import annotations

import pytest
from helpers import run, workload


def jobs(name: str, n: int, **extra: object) -> dict:
    return {"name": name, "kind": "independent", "jobs": n, "quantum": "10s", **extra}


def order(result) -> list[str]:
    """Workload of each job, in the order the QPU ran them."""
    return result.jobs.sort_values("quantum_start_at", kind="stable")["workload"].tolist()


def test_calibration_runs_between_batch_jobs_ahead_of_waiting_ones() -> None:
    # Due at 15 while j1 holds the QPU (10-20); it runs at 20, before j2 (ready since 10).
    result = run(jobs("b", 3, mode="batch"), backend={
        "lanes": 2, "calibration": {"every": "15s", "duration": "5s"}})
    assert result.jobs["quantum_start_at"].tolist() == [0.0, 10.0, 25.0]
    cal = result.calibrations
    assert cal[["due_at", "start_at", "end_at", "deferred_s"]].values.tolist() == [
        [15.0, 20.0, 25.0, 5.0]]
    assert result.windows[["start_at", "end_at"]].values.tolist() == [[0.0, 35.0]]
    assert workload(result)["usage_s"] == 30.0  # batch usage is quantum time only
    backend = result.summary()["backend"]
    assert (backend["qpu_calibration_s"], backend["calibrations"]) == (5.0, 1)
    assert backend["qpu_busy_s"] == 35.0


def test_an_active_session_defers_calibrations_until_it_ends() -> None:
    result = run({"name": "s", "kind": "iterative", "iterations": 3, "quantum": "10s",
                  "mode": "session"},
                 jobs("later", 1, start="31s"),
                 backend={"calibration": {"every": "15s", "duration": "5s"}})
    assert result.calibrations[["due_at", "start_at", "deferred_s"]].values.tolist() == [
        [15.0, 30.0, 15.0]]
    assert result.jobs["quantum_start_at"].tolist() == [0.0, 10.0, 20.0, 35.0]
    rows = result.trace.rows()
    assert (30.0, "calibration.start", -1) in rows and (35.0, "calibration.end", -1) in rows
    backend = result.summary()["backend"]
    assert (backend["calibration_deferred_s"], backend["calibration_max_deferred_s"]) == (
        15.0, 15.0)


def test_due_times_passing_while_deferred_coalesce_into_one_calibration() -> None:
    result = run({"name": "s", "kind": "iterative", "iterations": 5, "quantum": "10s",
                  "mode": "session"}, jobs("later", 1, start="60s"),
                 backend={"calibration": {"every": "15s", "duration": "2s"}})
    cal = result.calibrations
    assert cal["due_at"].tolist()[0] == 15.0  # 15, 30 and 45 passed inside the session
    assert cal["start_at"].tolist()[0] == 50.0
    assert cal["due_at"].tolist()[1:2] == [60.0]


def test_fifo_serves_the_oldest_submission_first() -> None:
    result = run(jobs("a", 3), jobs("b", 3), backend={"lanes": 1})
    assert order(result) == ["a", "a", "a", "b", "b", "b"]


def test_fair_share_alternates_equal_shares() -> None:
    result = run(jobs("a", 3), jobs("b", 3), backend={"lanes": 1, "queue": "fair_share"})
    assert order(result) == ["a", "b", "a", "b", "a", "b"]


def test_fair_share_weights_usage_by_share() -> None:
    # a's usage counts half: after a0 and b0, a (10/2) beats b (10); then a tie goes to the
    # instance whose oldest waiting job is older (a2 before b1).
    result = run(jobs("a", 3, share=2), jobs("b", 3),
                 backend={"lanes": 1, "queue": "fair_share"})
    assert order(result) == ["a", "b", "a", "a", "b", "b"]
    entries = {w["name"]: (w["instance"], w["share"]) for w in result.summary()["workloads"]}
    assert entries == {"a": ("a", 2.0), "b": ("b", 1.0)}


def test_fair_share_serves_an_instance_whose_usage_per_share_overflows() -> None:
    # A share of 1e-310 makes a's usage per share infinite once a0 has ended (t=10): a1,
    # alone waiting, still goes then; b0 and b1 (arrived at 15) beat a2 (their finite usage
    # per share against a's infinite one), and a2 goes last.
    result = run(jobs("a", 3, share=1e-310), jobs("b", 2, start="15s"),
                 backend={"lanes": 1, "queue": "fair_share"})
    assert order(result) == ["a", "a", "b", "b", "a"]


def test_workloads_of_one_instance_share_its_usage() -> None:
    result = run(jobs("a1", 2, instance="team"), jobs("a2", 2, instance="team"), jobs("b", 2),
                 backend={"lanes": 1, "queue": "fair_share"})
    assert order(result) == ["a1", "b", "a1", "b", "a2", "a2"]


@pytest.mark.parametrize("window,first", [("28d", "b"), ("15s", "a")])
def test_the_rolling_window_forgets_old_usage(window: str, first: str) -> None:
    # a used 10 s ending at t=10. At t=30 both queue a job: within a 28-day window b (no
    # usage) goes first; with a 15 s window a's usage has expired, so the tie goes by age.
    result = run(jobs("a", 2, submit_interval="30s"), jobs("b", 1, start="30s"),
                 backend={"lanes": 1, "queue": "fair_share", "fair_share_window": window})
    later = result.jobs[result.jobs["submit_at"] == 30.0].sort_values("quantum_start_at")
    assert later["workload"].tolist()[0] == first


def test_twice_the_share_gets_about_twice_the_qpu_time_under_saturation() -> None:
    stream = {"kind": "background", "arrivals": {"dist": "exponential", "mean": "2s"},
              "quantum": {"dist": "exponential", "mean": "3s"}}
    result = run({"name": "a", "share": 2, **stream}, {"name": "b", **stream},
                 backend={"lanes": 1, "queue": "fair_share"}, horizon="4h")
    used = result.jobs.groupby("workload")["quantum_s"].sum()
    assert used["a"] / used["b"] == pytest.approx(2.0, rel=0.1)
    fifo = run({"name": "a", "share": 2, **stream}, {"name": "b", **stream},
               backend={"lanes": 1}, horizon="4h").jobs.groupby("workload")["quantum_s"].sum()
    assert fifo["a"] / fifo["b"] == pytest.approx(1.0, rel=0.1)  # share is ignored by fifo


def test_fair_share_lets_a_session_finish_then_serves_the_others() -> None:
    result = run({"name": "s", "kind": "iterative", "iterations": 2, "quantum": "10s",
                  "classical": "5s", "mode": "session"},
                 jobs("x", 2, start="1s"), jobs("y", 1, start="2s"),
                 backend={"lanes": 1, "queue": "fair_share"})
    # The session holds the backend 0-25 (10 s quantum, 5 s classical, 10 s quantum) while x
    # and y queue. At 25 neither has usage: x (older) first, then y (x has 10 s now), then x.
    assert order(result) == ["s", "s", "x", "y", "x"]
