"""Exact timelines guarding rules no other test pins down (issue 20): each fails under the
mutation named in its docstring. Fixed durations, hand-computed; lanes 5 unless given."""

from __future__ import annotations

from helpers import column, job, loop, run, workload


def windows(result) -> list[tuple[float, float]]:
    w = result.windows
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def changes(result) -> list[tuple[float, str, str]]:
    return result.contexts[["at", "change", "state"]].to_records(index=False).tolist()


CANCELLED_SESSION = job("s", jobs=7, mode={"kind": "session", "cancel_at": "5s"})


def test_a_cancelled_session_frees_its_lanes_for_others_at_once() -> None:
    """SPEC §11 (after cancel). Fails while ``Context.cancel`` keeps ``backend.active``.

    s: 7 jobs at 0, 5 lanes: j0-j4 dispatched at 0, quantum 0-10, 10-20, ..., 40-50; j5, j6
    queued. Cancel at 5: j5, j6 cancelled, the session closed. others' job (submitted at 1)
    takes the lane j0 frees at 10 (the bug: at 50, when the last session job ends). On the QPU
    it is behind j1-j4 (ready at 0, it at 10; a closed session has no priority): 50-60.
    The session's window still runs until its dispatched jobs end: 0-50."""
    result = run(CANCELLED_SESSION, job("others", start="1s"))
    assert column(result, "status", "s") == ["done"] * 5 + ["cancelled"] * 2
    assert column(result, "end_at", "s") == [10.0, 20.0, 30.0, 40.0, 50.0, 5.0, 5.0]
    assert column(result, "dispatch_at", "others") == [10.0]
    assert column(result, "quantum_start_at", "others") == [50.0]
    assert windows(result) == [(0.0, 50.0)]
    assert workload(result, "s")["usage_s"] == 50.0
    assert workload(result, "others")["queue_wait_s"] == 9.0


def test_a_cancelled_session_no_longer_defers_calibrations() -> None:
    """SPEC §1, §11. Fails while ``Context.cancel`` keeps ``backend.active`` (exclusivity).

    As above, without others: quantum 0-10, ..., 30-40. The calibration due at 35 waits only
    for the QPU (busy with j3): it runs 40-45, ahead of j4, which then runs 45-55 (the bug:
    j4 40-50, calibration deferred to 50). Window 0-55, usage 55."""
    result = run(CANCELLED_SESSION, backend={"calibration": {"every": "35s", "duration": "5s"}})
    calibrations = [(t, kind) for t, kind, _ in result.trace.rows() if kind.startswith("cal")]
    assert calibrations[:2] == [(40.0, "calibration.start"), (45.0, "calibration.end")]
    assert column(result, "quantum_start_at", "s")[:5] == [0.0, 10.0, 20.0, 30.0, 45.0]
    assert windows(result) == [(0.0, 55.0)]
    assert workload(result)["usage_s"] == 55.0


def test_the_active_batch_goes_first_on_the_qpu_even_when_ready_later() -> None:
    """SPEC §1. Fails under a QPU order by ready time alone (``_qpu_order`` without its first
    key). A batch, not a session: under the default session drain no other job can be waiting
    for the QPU inside a session's window.

    others: 2 jobs at 0, compile 2: o0 on the QPU 2-12, o1 ready at 2 and waiting.
    b (batch): 1 job at 1, compile 2: dispatched at 1 (the batch activates), ready at 3.
    At 12 the batch's job goes first although o1 has waited longer: b 12-22, o1 22-32
    (the mutant: o1 12-22, b 22-32)."""
    result = run(job("others", jobs=2, compile="2s"), job("b", start="1s", compile="2s",
                                                         mode="batch"))
    assert column(result, "compile_end_at", "others") == [2.0, 2.0]
    assert column(result, "compile_end_at", "b") == [3.0]
    assert column(result, "quantum_start_at", "others") == [2.0, 22.0]
    assert column(result, "quantum_start_at", "b") == [12.0]
    assert windows(result) == [(1.0, 22.0)]


def test_a_session_stopped_while_its_other_job_runs_closes_when_that_job_ends() -> None:
    """SPEC §3.3 close, §6 abort. Fails if a closing context that sees its last job end
    starts the ITTL instead of closing (usage 72 = 12 + 60 s tail).

    One round of 2 jobs, quantum 10 capped at 6: j0 on the QPU 0-6, fails ran_too_long at 6;
    the workload aborts and closes its session (drain at 6) while j1, dispatched at 0, waits
    for the QPU; j1 runs 6-12 and fails too. The session closes at 12: usage 12, no tail."""
    result = run(loop("s", 3, jobs_per_iteration=2, max_execution_time="6s", on_failure="abort",
                      mode="session"))
    assert result.jobs["reason"].tolist() == ["ran_too_long"] * 2
    assert result.jobs["end_at"].tolist() == [6.0, 12.0]
    assert changes(result) == [(0.0, "open", "open"), (0.0, "activate", "active"),
                               (6.0, "drain", "active"), (12.0, "close", "closed")]
    assert windows(result) == [(0.0, 12.0)]
    s = workload(result)
    assert (s["usage_s"], s["jobs"]["submitted"], s["wall_time_s"]) == (12.0, 2, 12.0)


def test_max_ttl_counts_from_the_first_activation_not_the_opening() -> None:
    """SPEC §3.3 max TTL. Fails if the max-TTL timer starts when the session opens (at 0).

    Lane 1. others' job holds it 0-50, so s's first job (submitted at 0) waits 50 s and the
    session activates at 50; max TTL 95 s expires at 145. Jobs every 20 s from 50:
    50-60, 70-80, 90-100, 110-120, 130-140 done; the 6th, submitted at 150, is rejected
    (context_closed). Window 50-145 (the ITTL would run to 200). The mutant expires at 95:
    3 jobs done, window 50-100 (extended to j2's end), the 4th rejected at 110."""
    result = run(job("others", quantum="50s"),
                 loop("s", 10, classical="10s", mode={"kind": "session", "max_time": "95s"}),
                 backend={"lanes": 1})
    assert column(result, "dispatch_at", "s")[:5] == [50.0, 70.0, 90.0, 110.0, 130.0]
    assert column(result, "status", "s") == ["done"] * 5 + ["cancelled"]
    assert column(result, "reason", "s")[5] == "context_closed"
    assert column(result, "submit_at", "s")[5] == 150.0
    assert windows(result) == [(50.0, 145.0)]
    assert [(t, c) for t, c, _ in changes(result)] == [
        (0.0, "open"), (50.0, "activate"), (145.0, "close")]
    s = workload(result, "s")
    assert (s["usage_s"], s["jobs"]["done"], s["first_queue_wait_s"]) == (95.0, 5, 50.0)


def test_max_ttl_at_the_instant_the_last_job_ends_keeps_the_drain_record() -> None:
    """SPEC §10 (job ends before timers). Fails if timers are ordered before job ends.

    2 jobs at 0: quantum 0-30, 30-60; max TTL 60 s fires at 60, when j1 ends. The job end
    comes first: the workload has its last result and closes the session (drain, then close:
    nothing is left), and the max TTL then finds it closed. Timers first would cancel it at
    60 instead (close, no drain). Either way the window is 0-60 and both jobs are done.
    (The default ITTL of 60 s is not longer than this max_time; a shorter one would yield.)"""
    result = run(job("s", jobs=2, quantum="30s", mode={"kind": "session", "max_time": "60s"}))
    assert result.jobs["status"].tolist() == ["done", "done"]
    assert result.jobs["end_at"].tolist() == [30.0, 60.0]
    assert changes(result) == [(0.0, "open", "open"), (0.0, "activate", "active"),
                               (60.0, "drain", "active"), (60.0, "close", "closed")]
    assert windows(result) == [(0.0, 60.0)]
    assert workload(result)["usage_s"] == 60.0
