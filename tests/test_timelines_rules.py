"""One exact timeline per rule of SPEC §3–§6 and §10–§11 (fixed durations, hand-computed)."""

from __future__ import annotations

import pytest
from helpers import job, loop, run, workload


def dispatches(result) -> list[float]:
    return result.jobs["dispatch_at"].tolist()


def windows(result, name: str | None = None) -> list[tuple[float, float]]:
    w = result.windows if name is None else result.windows[result.windows["workload"] == name]
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def test_ittl_expiry_then_reactivation_through_the_normal_queue() -> None:
    # Lane 1. The session pauses at 15 (ITTL 5 s); others' job, waiting since 12, runs 15-35;
    # the session's next job (submitted at 30) queues behind it and re-activates at 35.
    result = run(loop("s", 2, classical="20s", mode={"kind": "session", "interactive_ttl": "5s"}),
                 job("others", start="12s", quantum="20s"), backend={"lanes": 1})
    assert result.jobs["workload"].tolist() == ["s", "others", "s"]
    assert dispatches(result) == [0.0, 15.0, 35.0]
    assert windows(result) == [(0.0, 15.0), (35.0, 45.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["windows"], s["queue_wait_s"]) == (25.0, 2, 5.0)
    states = result.contexts[["at", "change", "state"]].to_records(index=False).tolist()
    assert states == [(0.0, "open", "open"), (0.0, "activate", "active"),
                      (15.0, "deactivate", "inactive"), (35.0, "activate", "active"),
                      (45.0, "drain", "active"), (45.0, "close", "closed")]


def test_max_ttl_cancels_queued_jobs_while_dispatched_ones_finish() -> None:
    result = run(job("b", jobs=4, mode={"kind": "batch", "max_time": "15s"}),
                 backend={"lanes": 2})
    jobs = result.jobs
    assert jobs["status"].tolist() == ["done", "done", "done", "cancelled"]
    assert jobs["reason"].tolist()[3] == "max_time"
    assert jobs["end_at"].tolist() == [10.0, 20.0, 30.0, 15.0]
    assert windows(result) == [(0.0, 30.0)]  # extended until the dispatched jobs end
    closes = result.contexts[result.contexts["state"] == "closed"]["at"].tolist()
    assert closes == [15.0]
    b = workload(result)
    assert (b["usage_s"], b["jobs"]["cancelled"], b["wall_time_s"]) == (30.0, 1, 30.0)


def test_cancel_at_cancels_queued_job_and_stops_the_loop() -> None:
    result = run(loop("s", 3, jobs_per_iteration=2, mode={"kind": "session", "cancel_at": "25s"}),
                 backend={"lanes": 1})
    jobs = result.jobs
    assert jobs["status"].tolist() == ["done", "done", "done", "cancelled"]
    assert (jobs["reason"][3], jobs["end_at"][3]) == ("cancelled", 25.0)
    assert windows(result) == [(0.0, 30.0)]
    s = workload(result)
    assert (s["usage_s"], s["jobs"]["submitted"]) == (30.0, 4)


def test_close_false_keeps_the_batch_ittl_tail() -> None:
    closed = run(job("b", mode="batch"))
    open_ = run(job("b", mode={"kind": "batch", "close": False}))
    assert windows(closed) == [(0.0, 10.0)]
    assert windows(open_) == [(0.0, 11.0)]
    assert workload(open_)["usage_s"] == workload(closed)["usage_s"] == 10.0  # batch: quantum


def test_session_auto_closes_when_it_receives_no_job_for_1800_s() -> None:
    result = run(loop("s", 3, start="2000s", mode={"kind": "session", "open_at": 0}))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (1800.0, "context.drain", -1), (1800.0, "context.close", -1),
        (2000.0, "job.submit", 0), (2000.0, "job.cancelled", 0), (2000.0, "run.end", -1)]
    assert result.jobs["reason"].tolist() == ["context_closed"]
    s = workload(result)
    assert (s["usage_s"], s["jobs"]["cancelled"], s["windows"]) == (0.0, 1, 0)


def test_active_batch_jumps_the_queue_ahead_of_waiting_jobs() -> None:
    # Lane 1. j2 (sweep's first job) waits in the normal queue and activates the batch at 20;
    # j5, submitted at 15, then runs before j3 and j4 (waiting since 6).
    result = run(job("others", jobs=2), job("sweep", jobs=2, start="5s", submit_interval="10s",
                                            mode="batch"),
                 job("late", jobs=2, start="6s"), backend={"lanes": 1})
    order = ["others", "others", "sweep", "late", "late", "sweep"]
    assert result.jobs["workload"].tolist() == order
    assert dispatches(result) == [0.0, 10.0, 20.0, 40.0, 50.0, 30.0]
    assert windows(result) == [(20.0, 40.0)]


def test_no_second_batch_while_one_is_active_but_job_mode_goes_on() -> None:
    result = run(job("b1", jobs=2, mode={"kind": "batch", "close": False}),
                 job("b2", mode="batch"), job("others", start="5s"), backend={"lanes": 1})
    # At 20 b1 is still active (ITTL to 21): b2's first job is skipped, others' job is not.
    assert dispatches(result) == [0.0, 10.0, 30.0, 20.0]
    assert windows(result, "b1") == [(0.0, 21.0)]
    assert windows(result, "b2") == [(30.0, 40.0)]


def test_two_loops_share_one_session() -> None:
    result = run(loop("qaoa", 2, parallel=2, classical="5s", mode="session"))
    jobs = result.jobs
    assert jobs["submit_at"].tolist() == [0.0, 0.0, 15.0, 25.0]
    assert jobs["quantum_start_at"].tolist() == [0.0, 10.0, 20.0, 30.0]
    assert windows(result) == [(0.0, 40.0)]
    q = workload(result)
    assert (q["usage_s"], q["quantum_s"], q["idle_s"], q["windows"]) == (40.0, 40.0, 0.0, 1)


@pytest.mark.parametrize("kind", ["system", "user"])
def test_quantum_stage_failure_ends_part_way_without_post(kind: str) -> None:
    result = run(job("x", compile="1s", post="3s",
                     failure={"probability": 1, "kind": kind, "stage": "quantum"}))
    row = result.jobs.iloc[0]
    assert (row["status"], row["reason"]) == ("failed", f"{kind}_error")
    assert 0 < row["quantum_s"] < 10
    assert row["end_at"] == row["quantum_end_at"] == 1 + row["quantum_s"]  # no post-processing
    expected_charge = 0.0 if kind == "system" else row["quantum_s"]
    assert row["charged_s"] == expected_charge
    assert workload(result)["usage_s"] == expected_charge
    assert workload(result)["quantum_s"] == row["quantum_s"]  # executed, charged or not


@pytest.mark.parametrize("kind", ["system", "user"])
def test_compile_stage_failure_ends_at_compile_end_and_costs_nothing(kind: str) -> None:
    result = run(job("x", compile="4s", failure={"probability": 1, "kind": kind,
                                                 "stage": "compile"}))
    assert [r[1] for r in result.trace.rows()] == [
        "job.submit", "job.dispatch", "job.failed", "run.end"]
    row = result.jobs.iloc[0]
    assert (row["end_at"], row["charged_s"], row["quantum_s"]) == (4.0, 0.0, 0.0)


def test_ran_too_long_is_stopped_and_charged_the_cap() -> None:
    result = run(job("x", quantum="20s", post="1s", max_execution_time="15s"))
    row = result.jobs.iloc[0]
    assert (row["status"], row["reason"]) == ("failed", "ran_too_long")
    assert (row["quantum_end_at"], row["end_at"], row["charged_s"]) == (15.0, 15.0, 15.0)
    assert workload(result)["usage_s"] == 15.0


def test_retries_stop_after_max_retries() -> None:
    failing = {"probability": 1, "kind": "system", "stage": "compile"}
    result = run(loop("v", 5, compile="1s", failure=failing, max_retries=2))
    jobs = result.jobs
    assert jobs["submit_at"].tolist() == [0.0, 1.0, 2.0]  # retried at the failure instant
    assert jobs["status"].tolist() == ["failed"] * 3
    assert workload(result)["wall_time_s"] == 3.0


def test_abort_stops_at_the_first_failure() -> None:
    failing = {"probability": 1, "kind": "user", "stage": "compile"}
    result = run(loop("v", 5, compile="1s", failure=failing, on_failure="abort", mode="session"))
    assert result.jobs["status"].tolist() == ["failed"]
    assert windows(result) == [(0.0, 1.0)]  # the stopped workload closes its session


def test_circuit_form_quantum_time() -> None:
    quantum = {"circuits": 4, "shots": 4096, "circuit_duration": "80us"}
    row = run(job("x", quantum=quantum)).jobs.iloc[0]
    assert row["quantum_end_at"] - row["quantum_start_at"] == pytest.approx(
        2 + (250e-6 + 80e-6) * 4 * 4096, abs=1e-9)


def test_submission_at_the_instant_the_ittl_fires_is_too_late() -> None:
    result = run(loop("s", 2, classical="5s", mode={"kind": "session", "interactive_ttl": "5s"}))
    assert windows(result) == [(0.0, 15.0), (15.0, 25.0)]  # two windows, as the rules say
    assert workload(result)["windows"] == 2


def test_same_instant_submissions_follow_the_file_order() -> None:
    result = run(job("b", jobs=2, start="3s"), job("a", jobs=2, start="3s"))
    assert result.jobs["workload"].tolist() == ["b", "b", "a", "a"]


def test_qpu_chooses_last_and_session_jobs_go_first() -> None:
    # Others' job is ready at 5 (a job end); the session's job is dispatched at 5 with no
    # compile. The QPU chooses after both, and the active session's job goes first.
    # Under overlap: the default drain would not let the session in while others' job is
    # still compiling (s would wait for it, QPU 5-15, and run 15-25: see test_timelines_drain).
    result = run(job("others", compile="5s"), job("s", start="5s", mode="session"),
                 backend={"lanes": 2, "session_entry": "overlap"})
    assert result.jobs["quantum_start_at"].tolist() == [15.0, 5.0]


def test_session_accounting_first_start_to_end_counts_paused_gaps() -> None:
    vqe = loop("v", 3, compile="2s", post="1s", classical="5s",
               mode={"kind": "session", "interactive_ttl": "2s"})
    windows_only = workload(run(vqe))
    literal = workload(run(vqe, accounting={"session": "first_start_to_end"}))
    assert (windows_only["usage_s"], windows_only["windows"]) == (43.0, 3)
    assert (literal["usage_s"], literal["windows"], literal["idle_s"]) == (49.0, 1, 19.0)


def test_horizon_reports_unfinished_jobs_incomplete() -> None:
    result = run(job("x", jobs=3, mode="session"), horizon="15s", backend={"lanes": 1})
    assert result.jobs["status"].tolist() == ["done", "incomplete", "incomplete"]
    x = workload(result)
    assert x["jobs"] == {"submitted": 3, "done": 1, "failed": 0, "cancelled": 0, "incomplete": 2}
    assert windows(result) == [(0.0, 15.0)]  # cut at the horizon
    assert x["usage_s"] == 15.0


def test_with_a_horizon_the_run_and_background_go_on_until_it() -> None:
    others = {"name": "others", "kind": "background", "arrivals": "10s", "quantum": "1s"}
    result = run(job("x"), others, horizon="60s")
    assert result.info.end_s == 60.0
    assert result.jobs[result.jobs["workload"] == "others"]["submit_at"].tolist() == [
        10.0, 20.0, 30.0, 40.0, 50.0]  # the arrival at 60 is at the end instant: not made
    without = run(job("x"), others)
    assert without.info.end_s == 10.0  # x ends at 10; the stream stops with it
    assert without.jobs["workload"].tolist() == ["x"]


def test_a_context_opens_at_its_workload_start_by_default() -> None:
    result = run(loop("s", 1, start="2000s", mode="session"))
    assert result.trace.rows()[:4] == [
        (2000.0, "context.open", -1), (2000.0, "job.submit", 0), (2000.0, "job.dispatch", 0),
        (2000.0, "context.activate", -1)]
    assert workload(result)["jobs"]["done"] == 1
