"""Exact timelines of SPEC §3.3 exclusive session entry (``backend.session_entry: drain``, the
default) against the what-if ``overlap``. Fixed durations, hand-computed; lanes 5 unless given.

Under drain, when a session's job is the next to dispatch, the backend dispatches nothing else
and waits until no other job is compiling, waiting for the QPU or on it and no calibration is
running; others' jobs in post-processing finish in their lanes. The wait is the job's queue
wait. Under overlap the session activates at once; others' jobs already dispatched run inside
its window, behind its jobs on the QPU, and the session pays for that time.

Calibrations (SPEC §1: at the first moment the QPU is free and no session is active): a session
is not active until its job is dispatched, so a calibration due before or during the drain
runs as soon as the QPU is free, and the session's job waits for it to end, even when it falls
due at the very instant the drain would end.
"""

from __future__ import annotations

import pytest
from helpers import column, job, loop, run, workload

OVERLAP = {"session_entry": "overlap"}


def windows(result, name: str | None = None) -> list[tuple[float, float]]:
    w = result.windows if name is None else result.windows[result.windows["workload"] == name]
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def others_in_windows(result, name: str) -> float:
    """QPU time of other workloads' jobs and of calibrations inside ``name``'s windows,
    from the QPU intervals and the windows tables (SPEC §7 ``others_in_windows_s``)."""
    qpu = result.intervals
    others = qpu[qpu["workload"] != name]
    total = 0.0
    for start, end in windows(result, name):
        for a, b in zip(others["start_at"], others["end_at"]):
            total += max(0.0, min(b, end) - max(a, start))
    return total


def calibrations(result) -> list[list[float]]:
    return result.calibrations[["due_at", "start_at", "end_at"]].values.tolist()


# ---- (a) first activation: others compiling, waiting, on the QPU and in post ----------------

# At t=5, when s's first job reaches the head of the queue (one lane of five is free):
#   p  dispatched 0, QPU 0-2, post 2-32         -> in post
#   q  dispatched 0, compile 0-2, QPU 2-12      -> on the QPU
#   w  dispatched 0, compile 0-3, waits for q   -> waiting for the QPU (QPU 12-17)
#   c  dispatched 0, compile 0-20, QPU 20-24    -> compiling
# late (job mode) is submitted at 6, behind s.
FIRST_ENTRY = (
    job("p", quantum="2s", post="30s"), job("q", compile="2s"),
    job("w", compile="3s", quantum="5s"), job("c", compile="20s", quantum="4s"),
    loop("s", 2, start="5s", compile="1s", post="1s", classical="2s", mode="session"),
    job("late", start="6s"),
)


def test_first_activation_drains_compiling_waiting_and_running_jobs() -> None:
    """Drain: nothing is dispatched from 5 (late neither, though a lane is free) until c
    leaves the QPU at 24: q 2-12, w 12-17, c 20-24 on the QPU; p's post (to 32) does not count.
    s j0 dispatched 24 (the session activates): compile 24-25, QPU 25-35, post 35-36;
    classical 36-38; j1 dispatched 38, QPU 39-49, ends 50; the workload closes the session at
    50. Window 24-50: usage 26 = quantum 20 + idle 6 (two compiles, two posts, the classical
    step). Queue wait of j0: 24 - 5 = 19 (the drain), of j1: 0. late waits until the session
    is closed: dispatched 50, QPU 50-60. No other job is on the QPU inside the window."""
    result = run(*FIRST_ENTRY)
    assert column(result, "quantum_start_at", "q") == [2.0]
    assert column(result, "quantum_start_at", "w") == [12.0]
    assert column(result, "quantum_start_at", "c") == [20.0]
    assert column(result, "end_at", "p") == [32.0]
    assert column(result, "dispatch_at", "s") == [24.0, 38.0]
    assert column(result, "quantum_start_at", "s") == [25.0, 39.0]
    assert column(result, "end_at", "s") == [36.0, 50.0]
    assert column(result, "queue_wait_s", "s") == [19.0, 0.0]
    assert column(result, "dispatch_at", "late") == [50.0]
    assert column(result, "quantum_start_at", "late") == [50.0]
    assert windows(result, "s") == [(24.0, 50.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["quantum_s"], s["idle_s"]) == (26.0, 20.0, 6.0)
    assert (s["queue_wait_s"], s["first_queue_wait_s"], s["wall_time_s"]) == (19.0, 19.0, 45.0)
    assert others_in_windows(result, "s") == 0.0
    assert workload(result, "late")["queue_wait_s"] == 44.0


def test_first_activation_under_overlap_runs_others_inside_the_window() -> None:
    """Overlap: s j0 dispatched at 5, the session active at once; ready at 6. At 12 (q leaves
    the QPU) the session's job goes first, ahead of w (ready since 3): s 12-22, post to 23;
    then w 22-27. j1, submitted at 25, is ready at 26 and again goes ahead of c (ready since
    20): s 27-37, ends 38; c 37-41. Window 5-38: usage 33, of which others' QPU time inside it
    is 13 (q 5-12, w 22-27, c 37-38). late: dispatched when the session closes at 38; c holds
    the QPU until 41: late 41-51."""
    result = run(*FIRST_ENTRY, backend=OVERLAP)
    assert column(result, "dispatch_at", "s") == [5.0, 25.0]
    assert column(result, "quantum_start_at", "s") == [12.0, 27.0]
    assert column(result, "end_at", "s") == [23.0, 38.0]
    assert column(result, "quantum_start_at", "w") == [22.0]
    assert column(result, "quantum_start_at", "c") == [37.0]
    assert column(result, "dispatch_at", "late") == [38.0]
    assert column(result, "quantum_start_at", "late") == [41.0]
    assert windows(result, "s") == [(5.0, 38.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["quantum_s"], s["idle_s"]) == (33.0, 20.0, 13.0)
    assert (s["queue_wait_s"], s["wall_time_s"]) == (0.0, 33.0)
    assert others_in_windows(result, "s") == 13.0


# ---- (b) re-activation after an ITTL pause ----------------------------------------------------

# s (ITTL 5 s): j0 0-12 (QPU 1-11); the ITTL fires at 17 and the session pauses.
# o: 2 jobs queued since 2, dispatched at 17 when the session releases the backend:
#   compile 17-19, QPU 19-27 and 27-35, post 27-37 and 35-45.
# s j1 is submitted at 32 (its result at 12, classical 20); x (job mode) at 33.
REENTRY = (
    loop("s", 2, compile="1s", post="1s", classical="20s",
         mode={"kind": "session", "interactive_ttl": "5s"}),
    job("o", jobs=2, start="2s", compile="2s", quantum="8s", post="10s"),
    job("x", start="33s"),
)


def test_reactivation_after_a_pause_drains_the_jobs_that_got_in() -> None:
    """Drain: at 32 o1 is on the QPU (to 35), o0 in post (to 37, allowed). s j1 dispatched at
    35 (queue wait 3), compile 35-36, QPU 36-46, ends 47: the session closes. Windows 0-17
    (the ITTL tail charged) and 35-47: usage 29. x, submitted during the drain, waits for the
    session: dispatched 47, QPU 47-57."""
    result = run(*REENTRY)
    assert column(result, "dispatch_at", "o") == [17.0, 17.0]
    assert column(result, "quantum_start_at", "o") == [19.0, 27.0]
    assert column(result, "end_at", "o") == [37.0, 45.0]
    assert column(result, "submit_at", "s") == [0.0, 32.0]
    assert column(result, "dispatch_at", "s") == [0.0, 35.0]
    assert column(result, "quantum_start_at", "s") == [1.0, 36.0]
    assert column(result, "queue_wait_s", "s") == [0.0, 3.0]
    assert windows(result, "s") == [(0.0, 17.0), (35.0, 47.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["windows"], s["queue_wait_s"]) == (29.0, 2, 3.0)
    assert others_in_windows(result, "s") == 0.0
    assert column(result, "dispatch_at", "x") == [47.0]
    assert column(result, "quantum_start_at", "x") == [47.0]
    states = result.contexts[["at", "change"]].to_records(index=False).tolist()
    assert states == [(0.0, "open"), (0.0, "activate"), (17.0, "deactivate"),
                      (35.0, "activate"), (47.0, "drain"), (47.0, "close")]


def test_reactivation_under_overlap_pays_for_the_job_ahead_on_the_qpu() -> None:
    """Overlap: j1 dispatched at 32 re-activates the session at once; ready at 33, it waits
    for o1 (to 35): QPU 35-45, ends 46. Windows 0-17 and 32-46: usage 31, 3 s of it o1's.
    x: dispatched 46, QPU 46-56."""
    result = run(*REENTRY, backend=OVERLAP)
    assert column(result, "dispatch_at", "s") == [0.0, 32.0]
    assert column(result, "quantum_start_at", "s") == [1.0, 35.0]
    assert windows(result, "s") == [(0.0, 17.0), (32.0, 46.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["windows"], s["queue_wait_s"]) == (31.0, 2, 0.0)
    assert others_in_windows(result, "s") == 3.0
    assert column(result, "quantum_start_at", "x") == [46.0]


# ---- (c) a calibration due during the drain ---------------------------------------------------

# Calibration every 10 s, 3 s long. o: QPU 0-12. c: compile 0-14, quantum 4. s (session, one
# job: compile 1, quantum 10, post 1) submitted at 5; late (job mode) at 6.
CAL = {"calibration": {"every": "10s", "duration": "3s"}}
CAL_DRAIN = (job("o", quantum="12s"), job("c", compile="14s", quantum="4s"),
             job("s", start="5s", compile="1s", post="1s", mode="session"),
             job("late", start="6s"))


def test_a_calibration_due_during_the_drain_runs_and_the_session_waits_for_it() -> None:
    """Drain: due at 10 while o holds the QPU; at 12 the QPU is free and no session is active
    (s is still draining), so it runs 12-15, ahead of c (ready at 14): c 15-19. At 19 the
    backend is quiet: s dispatched 19 (queue wait 14), compile 19-20, QPU 20-30, ends 31. The
    calibration due at 20 falls inside the session and waits for its close at 31 (the one due
    at 30 coalesces into it); late, dispatched at 31, waits behind it: calibration 31-34,
    late 34-44. Window 19-31: usage 12, nothing else on the QPU inside it."""
    result = run(*CAL_DRAIN, backend=CAL)
    assert calibrations(result) == [[10.0, 12.0, 15.0], [20.0, 31.0, 34.0]]
    assert column(result, "quantum_start_at", "c") == [15.0]
    assert column(result, "dispatch_at", "s") == [19.0]
    assert column(result, "quantum_start_at", "s") == [20.0]
    assert column(result, "queue_wait_s", "s") == [14.0]
    assert windows(result, "s") == [(19.0, 31.0)]
    assert workload(result, "s")["usage_s"] == 12.0
    assert others_in_windows(result, "s") == 0.0
    assert column(result, "dispatch_at", "late") == [31.0]
    assert column(result, "quantum_start_at", "late") == [34.0]


def test_a_calibration_under_overlap_waits_for_the_whole_session() -> None:
    """Overlap: s active from 5 defers the calibration due at 10. s ready at 6 goes first at
    12 (o leaves): 12-22, ends 23. c (ready 14) takes the QPU at 22 inside the window (a job,
    not a calibration: the session is still active): 22-26. The session closes at 23; the
    calibration runs when c is done, 26-29, ahead of late (dispatched 23): late 29-39.
    Window 5-23: usage 18, of which 8 s is others' (o 5-12, c 22-23)."""
    result = run(*CAL_DRAIN, backend={**CAL, **OVERLAP})
    assert calibrations(result) == [[10.0, 26.0, 29.0]]
    assert column(result, "dispatch_at", "s") == [5.0]
    assert column(result, "quantum_start_at", "s") == [12.0]
    assert column(result, "quantum_start_at", "c") == [22.0]
    assert windows(result, "s") == [(5.0, 23.0)]
    assert workload(result, "s")["usage_s"] == 18.0
    assert others_in_windows(result, "s") == 8.0
    assert column(result, "quantum_start_at", "late") == [29.0]


@pytest.mark.parametrize(("entry", "s_window", "first_calibration", "others_in"),
                         [("drain", (15.0, 25.0), [12.0, 12.0, 15.0], 0.0),
                          ("overlap", (5.0, 22.0), [12.0, 22.0, 25.0], 7.0)])
def test_a_calibration_due_as_the_drain_ends_goes_first(
        entry: str, s_window: tuple[float, float], first_calibration: list[float],
        others_in: float) -> None:
    """Calibration every 12 s, 3 s long. o on the QPU 0-12; s (one job, no compile)
    submitted at 5, late (job mode, quantum 1) at 6.
    Drain: at 12 o leaves the QPU, which would end the drain, as the calibration falls due.
    No session is active yet, so the calibration goes first (SPEC §1: ahead of waiting user
    jobs), 12-15, and s enters at 15: QPU 15-25, closed at 25 (dispatch before the QPU's
    choice, SPEC §11, would have let s in at 12 and deferred the calibration for the whole
    session). The one due at 24 waits for the close: late, dispatched 25, runs after it:
    calibration 25-28, late 28-29.
    Overlap: s active from 5 defers the calibration due at 12: s 12-22, closed at 22; late
    dispatched 22; calibration 22-25; the one due at 24 passed while the QPU was busy with the
    first: 25-28, then late 28-29."""
    result = run(job("o", quantum="12s"), job("s", start="5s", mode="session"),
                 job("late", start="6s", quantum="1s"),
                 backend={"session_entry": entry,
                          "calibration": {"every": "12s", "duration": "3s"}})
    assert windows(result, "s") == [s_window]
    assert column(result, "dispatch_at", "s") == [s_window[0]]
    assert calibrations(result) == [first_calibration, [24.0, 25.0, 28.0]]
    assert column(result, "quantum_start_at", "late") == [28.0]
    assert others_in_windows(result, "s") == others_in


# ---- (d) fair share picks the session's job; the drain follows --------------------------------

# Lanes 2, fair share. a: 2 jobs at 0 (QPU 0-10 and 10-20, post 5 each: ends 15 and 25).
# b (job mode, instance a) queued at 1; s (session, instance s) at 2: compile 1, post 1.
FAIR = (job("a", jobs=2, post="5s"), job("b", start="1s", instance="a"),
        job("s", start="2s", compile="1s", post="1s", mode="session"))


def test_fair_share_chooses_the_session_and_drains_for_it() -> None:
    """At 15 a0 ends: instance a has 10 s of usage, s none, so fair share picks s's job over
    b's older one (fifo would take b). a1 is on the QPU until 20: the drain holds the free lane
    idle (b is not dispatched into it). s dispatched 20 (queue wait 18), compile 20-21, QPU
    21-31, ends 32. b waits for the session: dispatched 32, QPU 32-42. Window 20-32: usage 12."""
    result = run(*FAIR, backend={"lanes": 2, "queue": "fair_share"})
    assert column(result, "end_at", "a") == [15.0, 25.0]
    assert column(result, "dispatch_at", "s") == [20.0]
    assert column(result, "quantum_start_at", "s") == [21.0]
    assert column(result, "queue_wait_s", "s") == [18.0]
    assert windows(result, "s") == [(20.0, 32.0)]
    assert workload(result, "s")["usage_s"] == 12.0
    assert others_in_windows(result, "s") == 0.0
    assert column(result, "dispatch_at", "b") == [32.0]
    assert column(result, "quantum_start_at", "b") == [32.0]
    fifo = run(*FAIR, backend={"lanes": 2})
    assert column(fifo, "dispatch_at", "b") == [15.0]  # b is older: fifo dispatches it at 15


def test_fair_share_under_overlap_activates_the_session_at_once() -> None:
    """Overlap: s dispatched at 15 and active; ready 16, it waits for a1 (to 20): QPU 20-30,
    ends 31. Window 15-31: usage 16, 5 s of it a1's. b: dispatched 31, QPU 31-41."""
    result = run(*FAIR, backend={"lanes": 2, "queue": "fair_share", **OVERLAP})
    assert column(result, "dispatch_at", "s") == [15.0]
    assert column(result, "quantum_start_at", "s") == [20.0]
    assert windows(result, "s") == [(15.0, 31.0)]
    assert workload(result, "s")["usage_s"] == 16.0
    assert others_in_windows(result, "s") == 5.0
    assert column(result, "quantum_start_at", "b") == [31.0]


def test_once_fair_share_has_chosen_the_session_the_drain_holds_for_it() -> None:
    """The drain is a commitment: a job that would come first by fair share but arrives during
    the drain waits for the session (else a stream of fresh instances could starve it).
    Lanes 2. t1 (instance t) QPU 0-10; a QPU 10-20. s (session, instance t) queued at 5: at 10
    it is the only queued job, and its drain begins (a on the QPU). z (a fresh instance, no
    usage, so ahead of t's 10 s) arrives at 12 into the free lane's queue: not dispatched.
    s dispatched 20, QPU 20-30; z dispatched 30, QPU 30-40."""
    result = run(job("t1", instance="t"), job("a"),
                 job("s", start="5s", instance="t", mode="session"), job("z", start="12s"),
                 backend={"lanes": 2, "queue": "fair_share"})
    assert column(result, "quantum_start_at", "a") == [10.0]
    assert column(result, "dispatch_at", "s") == [20.0]
    assert column(result, "quantum_start_at", "s") == [20.0]
    assert column(result, "dispatch_at", "z") == [30.0]
    assert column(result, "quantum_start_at", "z") == [30.0]
    assert others_in_windows(result, "s") == 0.0


# ---- a cancelled session's jobs, one batch at a time ------------------------------------------

# s1: 7 jobs at 0, cancelled at 5 (as in test_timelines_guards): j0-j4 dispatched at 0, QPU
# 0-10, ..., 40-50; j5, j6 cancelled at 5. s2 (session, one job) submitted at 1.
CANCELLED = (job("s1", jobs=7, mode={"kind": "session", "cancel_at": "5s"}),
             job("s2", start="1s", mode="session"))


def test_a_new_session_drains_behind_a_cancelled_sessions_jobs() -> None:
    """Drain: at 5 the cancelled s1 releases the backend, and s2's job is next; s1's j1-j4 are
    waiting for or on the QPU until 50, so s2 waits although lanes free from 10: dispatched
    50, QPU 50-60. Windows: s1 0-50, s2 50-60."""
    result = run(*CANCELLED)
    assert column(result, "status", "s1") == ["done"] * 5 + ["cancelled"] * 2
    assert column(result, "quantum_start_at", "s1")[:5] == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert column(result, "dispatch_at", "s2") == [50.0]
    assert column(result, "queue_wait_s", "s2") == [49.0]
    assert windows(result, "s1") == [(0.0, 50.0)]
    assert windows(result, "s2") == [(50.0, 60.0)]
    assert workload(result, "s2")["usage_s"] == 10.0
    assert others_in_windows(result, "s2") == 0.0


def test_a_new_session_overlapping_a_cancelled_one_goes_first_on_the_qpu() -> None:
    """Overlap: s2 dispatched at 10 (j0's lane) and active; ready at 10, it goes ahead of s1's
    j1 (a closed session has no priority): s2 10-20, then j1-j4 20-60. Windows: s1 0-60 (its
    jobs pushed back), s2 10-20."""
    result = run(*CANCELLED, backend=OVERLAP)
    assert column(result, "quantum_start_at", "s1")[:5] == [0.0, 20.0, 30.0, 40.0, 50.0]
    assert column(result, "dispatch_at", "s2") == [10.0]
    assert column(result, "quantum_start_at", "s2") == [10.0]
    assert windows(result, "s1") == [(0.0, 60.0)]
    assert windows(result, "s2") == [(10.0, 20.0)]


@pytest.mark.parametrize(("entry", "s_window"), [("drain", (30.0, 40.0)),
                                                 ("overlap", (21.0, 40.0))])
def test_one_batch_at_a_time_then_the_session_drains(
        entry: str, s_window: tuple[float, float]) -> None:
    """SPEC §11 one batch at a time. Lanes 2. b (batch, not closed: ITTL tail 1 s): 2 jobs at
    0, QPU 0-10 and 10-20. s's job (at 0) is skipped while the batch is active, not drained
    for: others' job (at 5) takes the lane b0 frees at 10 and the QPU after b1 (the batch goes
    first): 20-30. At 21 the batch goes inactive and s's job is next.
    Drain: others' job is on the QPU until 30: s dispatched 30, QPU 30-40. Window 30-40.
    Overlap: s dispatched at 21 and active, QPU 30-40 behind others': window 21-40."""
    result = run(job("b", jobs=2, mode={"kind": "batch", "close": False}),
                 job("s", mode="session"), job("others", start="5s"),
                 backend={"lanes": 2, "session_entry": entry})
    assert column(result, "dispatch_at", "b") == [0.0, 0.0]
    assert column(result, "dispatch_at", "others") == [10.0]
    assert column(result, "quantum_start_at", "others") == [20.0]
    assert windows(result, "b") == [(0.0, 21.0)]
    assert column(result, "dispatch_at", "s") == [s_window[0]]
    assert column(result, "quantum_start_at", "s") == [30.0]
    assert windows(result, "s") == [s_window]


# ---- what the drain buys ---------------------------------------------------------------------

def test_under_drain_load_leaves_a_sessions_idle_time_as_it_is_alone() -> None:
    """Below the ITTL a session keeps one window; under drain nothing of others runs in it, so
    its idle time is exactly that on an idle backend (10 compiles of 2 s, 10 posts of 1 s, 9
    classical steps of 5 s: 75 s) whatever the load; under overlap, load adds to it."""
    vqe = loop("vqe", 10, start="600s", compile="2s", quantum="8s", post="1s", classical="5s",
               mode="session")
    others = {"name": "others", "kind": "background",
              "arrivals": {"dist": "exponential", "mean": 30.0}, "compile": 1.0,
              "quantum": {"dist": "lognormal", "mean": 15.0, "cv": 1.0}, "post": 0.5}
    overlapped = []
    for seed in range(5):
        drained = workload(run(vqe, others, seed=seed), "vqe")
        assert drained["idle_s"] == pytest.approx(75.0, abs=1e-9)
        assert drained["usage_s"] == pytest.approx(75.0 + 80.0, abs=1e-9)
        overlapped.append(workload(run(vqe, others, seed=seed, backend=OVERLAP), "vqe"))
    assert all(w["idle_s"] >= 75.0 - 1e-9 for w in overlapped)
    assert any(w["idle_s"] > 75.0 + 1.0 for w in overlapped)
