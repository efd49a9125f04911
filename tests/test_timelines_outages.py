"""Exact timelines of SPEC §16, outages (``backend.outages``). Fixed durations, hand-computed;
lanes 5 unless given.

The rules as the implementation contract states them:
- A fixed period ``{start, end | duration, kind}``, or a random process ``{every, duration,
  kind}`` (first up-time drawn from ``every`` at t = 0; own random stream). ``kind`` defaults to
  ``pause``. Overlapping outages merge: one ``outage.start``, one ``outage.end``.
- At an outage start, in order: ``outage.start``; for ``kind: down`` the job on the QPU gets
  ``qpu.end`` and ``job.failed`` (reason ``outage``, charged 0; an iterative workload retries it
  at that instant, the retry submitted in the instant's submission phase as every retry is);
  then the active batch or session, if none of its jobs is on the QPU, gets
  ``context.deactivate`` and ``context.release``. If one of its jobs is on the QPU (pause), the
  context goes inactive right after that job's ``qpu.end``.
- During the outage nothing is dispatched and the QPU starts nothing (no job, no calibration);
  what runs finishes its phase; submissions queue; ``max_time`` keeps counting; the ITTL does
  not run.
- At the outage end, dispatch and the QPU's choice run as usual (calibrations that fell due
  coalesce into one, which goes first); a context's next dispatched job re-activates it.
- Same instant (SPEC §10/§11): an outage start or end is a timer: after job phase ends, before
  submissions; dispatch and the QPU's choice come last.
- Summary, per backend: ``outage_s`` (time in outage within the run) and ``outages`` (merged
  outages started).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import column, job, job_rows, loop, run, workload

import qsim
from qsim.input.errors import ScenarioError
from qsim.input.scenario import load_scenario


def outages(*periods: dict[str, Any], **backend: Any) -> dict[str, Any]:
    return {"outages": list(periods), **backend}


def pause(start: str, end: str) -> dict[str, Any]:
    return {"start": start, "end": end, "kind": "pause"}


def down(start: str, end: str) -> dict[str, Any]:
    return {"start": start, "end": end, "kind": "down"}


def backend_summary(result) -> dict[str, Any]:
    return result.summary()["backend"]


def windows(result, name: str | None = None) -> list[tuple[float, float]]:
    w = result.windows if name is None else result.windows[result.windows["workload"] == name]
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def outage_rows(result) -> list[tuple[float, str, int]]:
    return [r for r in result.trace.rows() if r[1].startswith("outage.")]


# ---- (1) job mode: a pause during a quantum phase ---------------------------------------------


def test_pause_during_a_quantum_phase_lets_it_end_and_starts_nothing_until_the_end() -> None:
    """x: two jobs (compile 2, quantum 10, post 1) dispatched at 0, ready at 2; job 0 on the
    QPU 2-12. Pause 5-20. Job 0 finishes its quantum phase at 12 and post-processes 12-13; the
    QPU is then free but job 1 (waiting since 2) does not start. late (same phases) is
    submitted at 8: it queues (4 lanes are free, yet nothing is dispatched). At 20: the
    outage ends, late is dispatched (dispatch before the QPU's choice), then job 1 takes the
    QPU 20-30 (post 30-31); late, ready at 22, waits: QPU 30-40, post 40-41."""
    result = run(job("x", jobs=2, compile="2s", post="1s"),
                 job("late", start="8s", compile="2s", post="1s"),
                 backend=outages(pause("5s", "20s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.dispatch", 0), (0.0, "job.dispatch", 1),
        (2.0, "job.ready", 0), (2.0, "job.ready", 1), (2.0, "qpu.start", 0),
        (5.0, "outage.start", -1),
        (8.0, "job.submit", 2),
        (12.0, "qpu.end", 0), (13.0, "job.done", 0),
        (20.0, "outage.end", -1), (20.0, "job.dispatch", 2), (20.0, "qpu.start", 1),
        (22.0, "job.ready", 2),
        (30.0, "qpu.end", 1), (30.0, "qpu.start", 2), (31.0, "job.done", 1),
        (40.0, "qpu.end", 2), (41.0, "job.done", 2), (41.0, "run.end", -1)]
    assert result.jobs["status"].tolist() == ["done"] * 3
    assert result.jobs["queue_wait_s"].tolist() == [0.0, 0.0, 12.0]  # late: 8 -> 20
    assert result.jobs["qpu_wait_s"].tolist() == [0.0, 18.0, 8.0]  # job 1: 2 -> 20
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (15.0, 1)


def test_no_outages_is_the_same_run_as_without_the_key() -> None:
    scenario = (job("x", jobs=2, compile="2s", post="1s"), job("late", start="8s"))
    assert run(*scenario, backend=outages()).trace.rows() == run(*scenario).trace.rows()


def test_an_outage_start_comes_after_a_job_end_and_its_end_before_a_submission() -> None:
    """Same-instant order (SPEC §10/§11): job phase ends, then timers (the outage's start or
    end), then submissions, then dispatch, then the QPU's choice. x: two 10 s jobs (post 1),
    both ready at 0; job 0 on the QPU 0-10. A down outage 10-20: job 0's quantum phase ends
    at 10 before the outage starts, so it is not failed (post 10-11, done); the QPU's choice
    comes after the outage start, so job 1 does not start at 10 but at 20 (20-30, done 31).
    late (5 s) is submitted at 20, after the outage's end: dispatched and ready at once, it
    waits behind job 1 (ready since 0): 30-35."""
    result = run(job("x", jobs=2, post="1s"), job("late", start="20s", quantum="5s"),
                 backend=outages(down("10s", "20s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.dispatch", 0), (0.0, "job.dispatch", 1),
        (0.0, "job.ready", 0), (0.0, "job.ready", 1), (0.0, "qpu.start", 0),
        (10.0, "qpu.end", 0), (10.0, "outage.start", -1), (11.0, "job.done", 0),
        (20.0, "outage.end", -1), (20.0, "job.submit", 2), (20.0, "job.dispatch", 2),
        (20.0, "job.ready", 2), (20.0, "qpu.start", 1),
        (30.0, "qpu.end", 1), (30.0, "qpu.start", 2), (31.0, "job.done", 1),
        (35.0, "qpu.end", 2), (35.0, "job.done", 2), (35.0, "run.end", -1)]
    assert result.jobs["status"].tolist() == ["done"] * 3


def test_the_background_keeps_arriving_during_an_outage() -> None:
    """others: a 1 s job every 10 s; x: one 1 s job at 35. Pause 12-33. The arrivals at 20
    and 30 are submitted and queue; at 33 both are dispatched and run 33-34, 34-35; x,
    submitted at 35 after that instant's job end, runs 35-36, and the stream stops with it."""
    others = {"name": "others", "kind": "background", "arrivals": "10s", "quantum": "1s"}
    result = run(job("x", start="35s", quantum="1s"), others,
                 backend=outages(pause("12s", "33s")))
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), *job_rows(10, 0, 0, 1, 0),
        (12.0, "outage.start", -1), (20.0, "job.submit", 1), (30.0, "job.submit", 2),
        (33.0, "outage.end", -1), (33.0, "job.dispatch", 1), (33.0, "job.dispatch", 2),
        (33.0, "job.ready", 1), (33.0, "job.ready", 2), (33.0, "qpu.start", 1),
        (34.0, "qpu.end", 1), (34.0, "job.done", 1), (34.0, "qpu.start", 2),
        (35.0, "qpu.end", 2), (35.0, "job.done", 2),
        (35.0, "job.submit", 3), *job_rows(35, 3, 0, 1, 0), (36.0, "run.end", -1)]
    assert column(result, "queue_wait_s", "others") == [0.0, 13.0, 3.0]


def test_a_stream_that_stops_during_outages_submits_nothing_in_one() -> None:
    """The same run with ``during_outages: stop`` (SPEC §17): the arrivals due at 20 and 30
    fall in the pause [12, 33) and are not submitted (the users saw the backend was not
    `active`); the stream's clock is not shifted: its next arrival is at 40, after x's. An
    arrival at an outage's start is in it, one at its end is not (timers come first): the
    second run's pause [10, 30) drops the arrivals at 10 and 20 and keeps the one at 30."""
    others = {"name": "others", "kind": "background", "arrivals": "10s", "quantum": "1s",
              "during_outages": "stop"}
    result = run(job("x", start="35s", quantum="1s"), others,
                 backend=outages(pause("12s", "33s")))
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), *job_rows(10, 0, 0, 1, 0),
        (12.0, "outage.start", -1), (33.0, "outage.end", -1),
        (35.0, "job.submit", 1), *job_rows(35, 1, 0, 1, 0), (36.0, "run.end", -1)]
    edges = run(job("x", start="35s", quantum="1s"), others,
                backend=outages(pause("10s", "30s")))
    assert edges.trace.rows() == [
        (10.0, "outage.start", -1), (30.0, "outage.end", -1),
        (30.0, "job.submit", 0), *job_rows(30, 0, 0, 1, 0),
        (35.0, "job.submit", 1), *job_rows(35, 1, 0, 1, 0), (36.0, "run.end", -1)]


# ---- (2) session mode: a pause in the classical gap --------------------------------------------

VQE = {"name": "vqe", "kind": "iterative", "iterations": 3, "compile": "2s", "quantum": "10s",
       "post": "1s", "classical": "5s"}


def test_pause_in_a_session_gap_ends_the_window_and_the_next_job_reactivates_it() -> None:
    """SPEC §9 A (session, closed) with a pause 14-20. Job 0 runs 0-13 (QPU 2-12); the
    optimiser runs 13-18. At 14 the session is active with no job on the QPU: it goes
    inactive at once (window 0-14). Job 1 is submitted at 18 and queues; at 20 the outage ends,
    job 1 is dispatched (the backend is quiet: no drain wait) and re-activates the session:
    compile 20-22, QPU 22-32, post 32-33; optimiser 33-38; job 2 38-51 (QPU 40-50); closed at
    51. Windows 0-14 and 20-51: usage 14 + 31 = 45 (SPEC §9 A: 49). Idle inside them: 0-2,
    12-14 | 20-22, 32-40, 50-51: 15 s in 5 gaps, the longest 8."""
    result = run({**VQE, "mode": "session"}, backend=outages(pause("14s", "20s")))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (2.0, "job.ready", 0), (2.0, "qpu.start", 0),
        (12.0, "qpu.end", 0), (13.0, "job.done", 0),
        (14.0, "outage.start", -1), (14.0, "context.deactivate", -1),
        (14.0, "context.release", -1),
        (18.0, "job.submit", 1),
        (20.0, "outage.end", -1), (20.0, "job.dispatch", 1), (20.0, "context.activate", -1),
        *job_rows(20, 1, 2, 10, 1)[1:],
        (38.0, "job.submit", 2), *job_rows(38, 2, 2, 10, 1),
        (51.0, "context.drain", -1), (51.0, "context.close", -1),
        (51.0, "context.release", -1), (51.0, "run.end", -1)]
    assert windows(result) == [(0.0, 14.0), (20.0, 51.0)]
    w = workload(result)
    assert (w["usage_s"], w["quantum_s"], w["wall_time_s"], w["windows"]) == (45.0, 30.0, 51.0, 2)
    assert (w["idle_s"], w["idle_gaps"], w["longest_idle_gap_s"]) == (15.0, 5, 8.0)
    assert w["queue_wait_s"] == 2.0  # job 1: 18 -> 20
    states = result.contexts[["at", "change", "state"]].to_records(index=False).tolist()
    assert states == [(0.0, "open", "open"), (0.0, "activate", "active"),
                      (14.0, "deactivate", "inactive"), (20.0, "activate", "active"),
                      (51.0, "drain", "active"), (51.0, "close", "closed")]
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (6.0, 1)


def test_pause_in_a_session_ittl_tail_ends_the_window_and_the_run() -> None:
    """One job (0-13, QPU 2-12), session not closed: without an outage its ITTL tail runs to
    73 (usage 73). A pause 20-30 makes it inactive at 20 (window 0-20). The ITTL does not run
    during the outage, nor fire later on an inactive session: the workload has ended and its
    only context is inactive, so the run ends at 20 (SPEC §11), inside the outage."""
    result = run(loop("s", 1, compile="2s", post="1s", mode={"kind": "session", "close": False}),
                 backend=outages(pause("20s", "30s")))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (2.0, "job.ready", 0), (2.0, "qpu.start", 0),
        (12.0, "qpu.end", 0), (13.0, "job.done", 0),
        (20.0, "outage.start", -1), (20.0, "context.deactivate", -1),
        (20.0, "context.release", -1), (20.0, "run.end", -1)]
    assert windows(result) == [(0.0, 20.0)]
    assert workload(result)["usage_s"] == 20.0
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (0.0, 1)  # within the run: 20 -> 20


def test_after_an_outage_a_session_reenters_through_the_drain() -> None:
    """s: session loop of two 10 s jobs (no compile, no post), optimiser 5 s: job 0 0-10.
    Pause 12-30: the session goes inactive at 12 (window 0-12). o (job mode; compile 2,
    quantum 5) is submitted at 13 and s's job 1 at 15: both queue. At 30, o, the older, is
    dispatched first (the session is inactive: no priority); s's job would re-activate the
    session, so the backend drains (SPEC §3.3): o compiles 30-32 and runs 32-37. At 37 the
    backend is quiet: s's job 1 is dispatched, re-activates the session, runs 37-47; closed
    at 47. Windows 0-12 and 37-47 (usage 22); the drain 30-37 is job 1's queue wait (22 s
    from 15, of which 15 s outage)."""
    result = run(loop("s", 2, classical="5s", mode="session"),
                 job("o", start="13s", compile="2s", quantum="5s"),
                 backend=outages(pause("12s", "30s")))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (0.0, "job.ready", 0), (0.0, "qpu.start", 0),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        (12.0, "outage.start", -1), (12.0, "context.deactivate", -1),
        (12.0, "context.release", -1),
        (13.0, "job.submit", 1), (15.0, "job.submit", 2),
        (30.0, "outage.end", -1), (30.0, "job.dispatch", 1),
        (32.0, "job.ready", 1), (32.0, "qpu.start", 1),
        (37.0, "qpu.end", 1), (37.0, "job.done", 1),
        (37.0, "job.dispatch", 2), (37.0, "context.activate", -1), (37.0, "job.ready", 2),
        (37.0, "qpu.start", 2), (47.0, "qpu.end", 2), (47.0, "job.done", 2),
        (47.0, "context.drain", -1), (47.0, "context.close", -1),
        (47.0, "context.release", -1), (47.0, "run.end", -1)]
    assert windows(result, "s") == [(0.0, 12.0), (37.0, 47.0)]
    assert workload(result, "s")["usage_s"] == 22.0
    assert column(result, "queue_wait_s", "s") == [0.0, 22.0]


# ---- (3) a down outage fails the job on the QPU ------------------------------------------------


def test_down_fails_the_running_job_and_the_loop_retries_it_after_the_outage() -> None:
    """Job mode, 2 rounds (compile 2, quantum 10, post 1, optimiser 5). Job 0 is on the QPU
    from 2; a down outage 5-15 stops it at 5: qpu.end, job.failed (reason outage, 3 s of
    quantum executed, charged 0), and the retry (job 1) is submitted at that instant. It queues
    until 15: compile 15-17, QPU 17-27, post 27-28; optimiser 28-33; job 2 33-46."""
    result = run(loop("v", 2, compile="2s", post="1s", classical="5s"),
                 backend=outages(down("5s", "15s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0), (2.0, "job.ready", 0),
        (2.0, "qpu.start", 0),
        (5.0, "outage.start", -1), (5.0, "qpu.end", 0), (5.0, "job.failed", 0),
        (5.0, "job.submit", 1),
        (15.0, "outage.end", -1), *job_rows(15, 1, 2, 10, 1),
        (33.0, "job.submit", 2), *job_rows(33, 2, 2, 10, 1), (46.0, "run.end", -1)]
    jobs = result.jobs
    assert jobs["status"].tolist() == ["failed", "done", "done"]
    assert jobs["reason"].tolist()[0] == "outage"
    first = jobs.iloc[0]
    assert (first["quantum_end_at"], first["end_at"]) == (5.0, 5.0)  # no post-processing
    assert (first["quantum_s"], first["charged_s"]) == (3.0, 0.0)
    assert jobs["queue_wait_s"].tolist() == [0.0, 10.0, 0.0]
    w = workload(result)
    assert w["jobs"] == {"submitted": 3, "done": 2, "failed": 1, "cancelled": 0,
                         "incomplete": 0}
    assert (w["usage_s"], w["quantum_s"], w["wall_time_s"]) == (20.0, 23.0, 46.0)
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (10.0, 1)


def test_down_in_a_session_fails_the_job_then_the_session_goes_inactive() -> None:
    """The same loop in a session. At 5: outage.start, job 0 fails, and then the session, with
    no job on the QPU any more, goes inactive: window 0-5. The retry (job 1) is submitted at
    that instant but, as every retry, in the submission phase (SPEC §10: after the timers, of
    which the outage start is one): after the deactivation. At 15 job 1 is dispatched and
    re-activates it: 15-28, optimiser, job 2 33-46, closed at 46. Usage (windows)
    5 + 31 = 36: a session pays its windows whatever its jobs' fate."""
    result = run(loop("v", 2, compile="2s", post="1s", classical="5s", mode="session"),
                 backend=outages(down("5s", "15s")))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (2.0, "job.ready", 0), (2.0, "qpu.start", 0),
        (5.0, "outage.start", -1), (5.0, "qpu.end", 0), (5.0, "job.failed", 0),
        (5.0, "context.deactivate", -1), (5.0, "context.release", -1), (5.0, "job.submit", 1),
        (15.0, "outage.end", -1), (15.0, "job.dispatch", 1), (15.0, "context.activate", -1),
        *job_rows(15, 1, 2, 10, 1)[1:],
        (33.0, "job.submit", 2), *job_rows(33, 2, 2, 10, 1),
        (46.0, "context.drain", -1), (46.0, "context.close", -1),
        (46.0, "context.release", -1), (46.0, "run.end", -1)]
    assert windows(result) == [(0.0, 5.0), (15.0, 46.0)]
    assert result.jobs["reason"].tolist()[0] == "outage"
    w = workload(result)
    assert (w["usage_s"], w["quantum_s"], w["windows"]) == (36.0, 23.0, 2)


def test_down_with_abort_stops_the_loop_and_the_run_ends_inside_the_outage() -> None:
    """on_failure abort: job 0 fails at 5 and the workload stops there; nothing else is left,
    so the run ends at 5 (SPEC §11) and the outage's end at 15 lies beyond it: outage_s 0."""
    result = run(loop("v", 3, compile="2s", on_failure="abort"),
                 backend=outages(down("5s", "15s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0), (2.0, "job.ready", 0),
        (2.0, "qpu.start", 0),
        (5.0, "outage.start", -1), (5.0, "qpu.end", 0), (5.0, "job.failed", 0),
        (5.0, "run.end", -1)]
    assert result.jobs["reason"].tolist() == ["outage"]
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (0.0, 1)


def test_down_when_nothing_is_on_the_qpu_fails_nothing() -> None:
    """Down 5-15 while job 0 compiles (0-8): it compiles, waits for the QPU, and runs 15-25
    (post 25-26), done: a down outage fails only the job on the QPU at its start."""
    result = run(job("x", compile="8s", post="1s"), backend=outages(down("5s", "15s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (5.0, "outage.start", -1), (8.0, "job.ready", 0),
        (15.0, "outage.end", -1), (15.0, "qpu.start", 0),
        (25.0, "qpu.end", 0), (26.0, "job.done", 0), (26.0, "run.end", -1)]
    assert result.jobs["status"].tolist() == ["done"]


# ---- (4) calibrations due during an outage ------------------------------------------------------


def test_calibrations_due_during_an_outage_coalesce_and_run_first_at_its_end() -> None:
    """Calibration every 20 s, 3 s long; pause 15-50. x: QPU 0-10. Calibrations fall due at
    20 and 40, inside the outage: none starts; they coalesce into one (due 20). late
    (quantum 5, no compile) is submitted at 30 and queues. At 50: outage.end, late is
    dispatched and ready, then the QPU chooses: the calibration first, 50-53, then late
    53-58. The next one is due at 60, after the run's end at 58."""
    result = run(job("x"), job("late", start="30s", quantum="5s"),
                 backend=outages(pause("15s", "50s"),
                                 calibration={"every": "20s", "duration": "3s"}))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), *job_rows(0, 0, 0, 10, 0),
        (15.0, "outage.start", -1), (30.0, "job.submit", 1),
        (50.0, "outage.end", -1), (50.0, "job.dispatch", 1), (50.0, "job.ready", 1),
        (50.0, "calibration.start", -1), (53.0, "calibration.end", -1),
        (53.0, "qpu.start", 1), (58.0, "qpu.end", 1), (58.0, "job.done", 1),
        (58.0, "run.end", -1)]
    cal = result.calibrations[["due_at", "start_at", "end_at"]].values.tolist()
    assert cal == [[20.0, 50.0, 53.0]]
    b = backend_summary(result)
    assert (b["calibrations"], b["qpu_calibration_s"]) == (1, 3.0)
    assert (b["outage_s"], b["outages"]) == (35.0, 1)


# ---- (5) overlapping outages merge -------------------------------------------------------------


def test_overlapping_fixed_outages_merge_into_one() -> None:
    """Outages, in no particular order: 10-20 (by duration), 5-15, 12-14 (inside both), and
    40-45 apart. The first three merge into one, 5-20: one start, one end. x: two 10 s jobs,
    job 0 on the QPU 0-10; job 1 (ready at 0) waits until 20: 20-30. late (10 s) submitted at
    42, inside the second outage, is dispatched at 45: 45-55. outage_s 15 + 5 = 20."""
    result = run(job("x", jobs=2), job("late", start="42s"),
                 backend=outages({"start": "10s", "duration": "10s"}, pause("5s", "15s"),
                                 pause("12s", "14s"), pause("40s", "45s")))
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.dispatch", 0), (0.0, "job.dispatch", 1),
        (0.0, "job.ready", 0), (0.0, "job.ready", 1), (0.0, "qpu.start", 0),
        (5.0, "outage.start", -1),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0),
        (20.0, "outage.end", -1), (20.0, "qpu.start", 1),
        (30.0, "qpu.end", 1), (30.0, "job.done", 1),
        (40.0, "outage.start", -1), (42.0, "job.submit", 2),
        (45.0, "outage.end", -1), *job_rows(45, 2, 0, 10, 0), (55.0, "run.end", -1)]
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (20.0, 2)


# ---- (6) a context whose job is on the QPU at the outage start ---------------------------------


@pytest.mark.parametrize(("mode", "usage"), [("batch", 20.0), ("session", 25.0)])
def test_pause_with_a_context_job_on_the_qpu_deactivates_at_its_quantum_end(
        mode: str, usage: float) -> None:
    """Lanes 1; two jobs (compile 2, quantum 10, post 1). Job 0 activates the context at 0,
    QPU 2-12. Pause 5-20: the context stays active while its job is on the QPU and goes
    inactive right after that job's qpu.end at 12 (window 0-12); post 12-13; job 1 stays
    queued although the lane is free at 13. At 20 job 1 is dispatched and re-activates it:
    20-33, closed at 33. Windows 0-12, 20-33. Usage: batch, the quantum time (20); session,
    the windows (12 + 13 = 25)."""
    result = run(job("c", jobs=2, compile="2s", post="1s", mode=mode),
                 backend=outages(pause("5s", "20s"), lanes=1))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.dispatch", 0), (0.0, "context.activate", -1),
        (2.0, "job.ready", 0), (2.0, "qpu.start", 0),
        (5.0, "outage.start", -1),
        (12.0, "qpu.end", 0), (12.0, "context.deactivate", -1), (12.0, "context.release", -1),
        (13.0, "job.done", 0),
        (20.0, "outage.end", -1), (20.0, "job.dispatch", 1), (20.0, "context.activate", -1),
        *job_rows(20, 1, 2, 10, 1)[1:],
        (33.0, "context.drain", -1), (33.0, "context.close", -1),
        (33.0, "context.release", -1), (33.0, "run.end", -1)]
    assert windows(result) == [(0.0, 12.0), (20.0, 33.0)]
    w = workload(result)
    assert (w["usage_s"], w["windows"]) == (usage, 2)
    assert column(result, "queue_wait_s", "c") == [0.0, 20.0]


def test_max_time_keeps_counting_through_an_outage() -> None:
    """Batch, lanes 1, three 10 s jobs (post 1), max_time 25. Job 0: QPU 0-10, done 11; job 1
    dispatched 11, on the QPU 11-21 when a pause 12-40 starts: the batch goes inactive after
    its qpu.end at 21 (window 0-21); done 22. Job 2 stays queued; at 25, still inside the
    outage, max_time expires: the batch closes and job 2 is cancelled (reason max_time). The
    workload has ended and its context is closed: the run ends at 25, inside the outage."""
    result = run(job("b", jobs=3, post="1s", mode={"kind": "batch", "max_time": "25s"}),
                 backend=outages(pause("12s", "40s"), lanes=1))
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.submit", 1),
        (0.0, "job.submit", 2), (0.0, "job.dispatch", 0), (0.0, "context.activate", -1),
        (0.0, "job.ready", 0), (0.0, "qpu.start", 0), (10.0, "qpu.end", 0),
        (11.0, "job.done", 0), (11.0, "job.dispatch", 1), (11.0, "job.ready", 1),
        (11.0, "qpu.start", 1),
        (12.0, "outage.start", -1),
        (21.0, "qpu.end", 1), (21.0, "context.deactivate", -1), (21.0, "context.release", -1),
        (22.0, "job.done", 1),
        (25.0, "context.close", -1), (25.0, "job.cancelled", 2), (25.0, "run.end", -1)]
    assert result.jobs["status"].tolist() == ["done", "done", "cancelled"]
    assert result.jobs["reason"].tolist()[2] == "max_time"
    assert windows(result) == [(0.0, 21.0)]
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (13.0, 1)


# ---- (7) a random outage process: determinism and common random numbers ------------------------

RANDOM_DOWN = {"every": {"dist": "exponential", "mean": "200s"},
               "duration": {"dist": "exponential", "mean": "30s"}, "kind": "pause"}
NOISY_VQE = {"name": "vqe", "kind": "iterative", "iterations": 40,
             "compile": {"dist": "exponential", "mean": "2s"},
             "quantum": {"dist": "lognormal", "mean": "10s", "cv": 1},
             "post": "1s", "classical": {"dist": "exponential", "mean": "5s"}}
OTHERS = {"name": "others", "kind": "background",
          "arrivals": {"dist": "exponential", "mean": "40s"},
          "quantum": {"dist": "exponential", "mean": "5s"}}


def random_run(mode: str, seed: int) -> Any:
    return run({**NOISY_VQE, "mode": mode}, OTHERS, seed=seed, horizon="3000s",
               backend=outages(RANDOM_DOWN))


def test_a_random_outage_process_is_the_same_in_every_mode_of_one_seed() -> None:
    """Its own stream: job, batch and session runs draw different job durations and numbers
    of jobs, yet see the same outages (the horizon makes the three runs equally long)."""
    by_mode = {mode: outage_rows(random_run(mode, 7)) for mode in ("job", "batch", "session")}
    assert by_mode["job"] == by_mode["batch"] == by_mode["session"]
    records = by_mode["job"]
    starts = [t for t, kind, _ in records if kind == "outage.start"]
    ends = [t for t, kind, _ in records if kind == "outage.end"]
    assert len(starts) >= 4  # about 3000 / 230: the process did run
    assert starts[0] > 0.0  # the first up-time is drawn at t = 0
    # Alternating start, end, start, ...: merged periods, each start after the last end.
    assert [kind for _, kind, _ in records] == (["outage.start", "outage.end"] * len(starts))[
        :len(records)]
    assert all(a < b for a, b in zip(starts, ends))
    assert all(e < s for e, s in zip(ends, starts[1:]))
    result = random_run("session", 7)
    b = backend_summary(result)
    end_s = result.info.end_s
    assert b["outages"] == len(starts)
    assert b["outage_s"] == pytest.approx(sum(min(e, end_s) - s for s, e in zip(
        starts, [*ends, end_s])))


def test_a_random_outage_process_repeats_with_its_seed_and_varies_with_it() -> None:
    first = random_run("batch", 3)
    again = random_run("batch", 3)
    assert first.trace.rows() == again.trace.rows()
    assert first.summary() == again.summary()
    assert outage_rows(random_run("batch", 4)) != outage_rows(first)


# ---- (8) bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("periods", "field"), [
    ([{"start": "20s", "end": "10s"}], "backend.outages[0].end"),
    ([pause("1s", "2s"), {"start": "9s", "end": "5s", "kind": "down"}], "backend.outages[1].end"),
    ([{"every": "0s", "duration": "10s"}], "backend.outages[0].every"),
    ([{"every": {"dist": "exponential", "mean": "0s"}, "duration": "1s"}],
     "backend.outages[0].every"),
    ([{"start": "1s", "end": "2s", "kind": "outage"}], "backend.outages[0].kind"),
    ([{"start": "-1s", "end": "2s"}], "backend.outages[0].start"),
])
def test_bad_outages_are_refused_naming_the_field(periods: list[dict[str, Any]],
                                                  field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        run(job("x"), backend=outages(*periods))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"test.yaml: {field}: "), message


def test_an_outage_with_both_end_and_duration_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        run(job("x"), backend=outages({"start": "1s", "end": "5s", "duration": "4s"}))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("test.yaml: backend.outages[0]"), message
    assert "end" in message and "duration" in message, message


SPEC_16_EXAMPLE = """\
name: outages
horizon: 1d
backend:
  outages:
    - {start: 2h, end: 3h, kind: pause}          # or {start, duration}; fixed periods
    - {every: {dist: exponential, mean: 2d}, duration: {dist: lognormal, mean: 3h, cv: 1},
       kind: down}                               # a random process: up-time, then down-time
workloads:
  - name: x
    kind: independent
    jobs: 1
    quantum: 10s
"""


def test_the_spec_16_example_loads_and_runs(tmp_path: Path) -> None:
    """SPEC §16's YAML, verbatim, under a one-day horizon: the fixed hour 2h-3h lies in the
    run, so whatever the random process adds (merged with it or not), at least 3600 s of
    outage are reported, and the records alternate start, end."""
    path = tmp_path / "outages.yaml"
    path.write_text(SPEC_16_EXAMPLE, encoding="utf-8")
    result = qsim.simulate(load_scenario(path))
    records = outage_rows(result)
    assert records, "no outage recorded"
    assert [kind for _, kind, _ in records] == (["outage.start", "outage.end"] * len(records))[
        :len(records)]
    b = backend_summary(result)
    assert b["outages"] == sum(kind == "outage.start" for _, kind, _ in records)
    assert b["outage_s"] >= 3600.0


def test_a_pause_that_ends_before_the_contexts_job_leaves_the_qpu_leaves_it_active() -> None:
    """Reading of SPEC §16 ("inactive as soon as its jobs on the QPU have ended"): the session's
    job 1 holds the QPU 22-32; a pause 25-27 is over before it leaves, so the session never
    goes inactive (no deactivate at 32) and its window runs on: windows (0, 14), (20, 51) from
    the pause 14-20 in its gap only. Usage 14 + 31 = 45."""
    result = run({**VQE, "mode": "session"},
                 backend=outages(pause("14s", "20s"), pause("25s", "27s")))
    rows = result.trace.rows()
    assert [r for r in rows if r[1] in ("context.deactivate", "outage.start", "outage.end")] == [
        (14.0, "outage.start", -1), (14.0, "context.deactivate", -1), (20.0, "outage.end", -1),
        (25.0, "outage.start", -1), (27.0, "outage.end", -1)]
    assert (32.0, "qpu.end", 1) in rows
    assert workload(result)["usage_s"] == 45.0
    assert workload(result)["windows"] == 2


def test_fixed_periods_that_touch_are_one_outage() -> None:
    """Reading of SPEC §16 ("overlapping outages merge"): 10-20 and 20-30 touch. Every fixed
    start is scheduled when the run is built, each end only when its period starts, so at 20
    the second begins before the first ends: one outage 10-30, and the job submitted at 15 is
    dispatched at 30."""
    result = run(job("j", quantum="5s", start="15s"),
                 backend=outages(pause("10s", "20s"), pause("20s", "30s")))
    assert [r for r in result.trace.rows() if r[1].startswith("outage.")] == [
        (10.0, "outage.start", -1), (30.0, "outage.end", -1)]
    b = backend_summary(result)
    assert (b["outage_s"], b["outages"]) == (20.0, 1)
    assert result.jobs["dispatch_at"].tolist() == [30.0]
