"""One guard per rule that a one-place bug once broke without failing the suite (issue 24).

Each test asserts, with fixed durations and hand-computed figures, what a user reads: the exact
timeline, or the exact figure of the summary, the comparison or the picture. Each docstring
names the rule (SPEC section) and the one-place break it was seen to catch: the break was made
in qsim/ by hand, the test failed, and the file was restored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import column, job, loop, run, scenario, workload

import qsim


def windows(result: qsim.RunResult, name: str | None = None) -> list[tuple[float, float]]:
    w = result.windows if name is None else result.windows[result.windows["workload"] == name]
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def calibrations(result: qsim.RunResult) -> list[list[float]]:
    return result.calibrations[["due_at", "start_at", "end_at"]].values.tolist()


# ---- 1. cancelling a session frees its spare lanes at once ---------------------------------


def test_cancelling_a_session_dispatches_waiting_jobs_into_its_spare_lanes_at_once() -> None:
    """SPEC §11 "After cancel or max-TTL expiry the context is closed at once: ... other jobs
    may be dispatched into lanes it frees". Lanes 2. s's one job runs 0-100 on the QPU; the
    session is cancelled at 30. others' job, submitted at 10, waited (the session was active);
    at 30 the second lane is spare, so it is dispatched at 30: compile 30-50, then it waits
    for the QPU until s's job ends at 100 and runs 100-110. s's window lasts until its running
    job ends (100).

    Break caught: dropping ``self.backend.request_dispatch()`` at the end of
    ``Context.cancel`` (qsim/model/modes.py): others' job is then dispatched only when s's
    job ends (100) and runs 120-130."""
    result = run(job("s", quantum="100s", mode={"kind": "session", "cancel_at": "30s"}),
                 job("others", start="10s", compile="20s"), backend={"lanes": 2})
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), (0.0, "job.ready", 0), (0.0, "qpu.start", 0),
        (10.0, "job.submit", 1), (30.0, "context.close", -1), (30.0, "job.dispatch", 1),
        (50.0, "job.ready", 1), (100.0, "qpu.end", 0), (100.0, "job.done", 0),
        (100.0, "context.release", -1), (100.0, "qpu.start", 1), (110.0, "qpu.end", 1),
        (110.0, "job.done", 1), (110.0, "run.end", -1)]
    assert windows(result) == [(0.0, 100.0)]
    others = workload(result, "others")
    assert (others["queue_wait_s"], others["qpu_wait_s"], others["wall_time_s"]) == (
        20.0, 50.0, 100.0)
    assert workload(result, "s")["usage_s"] == 100.0


# ---- 2. others_in_windows_s counts calibrations --------------------------------------------


def test_others_in_windows_counts_a_calibration_inside_a_batch_window() -> None:
    """SPEC §7 ``others_in_windows_s``: "QPU time of other workloads' jobs and of
    calibrations inside its active windows". Lanes 2; b's two jobs are dispatched at 0 (the
    batch's window opens), compile 0-5; j0 is on the QPU 5-15. A calibration (every 12 s, 3 s)
    falls due at 12 while the QPU is busy and takes it at 15, ahead of the waiting j1 (a
    batch does not hold calibrations off): 15-18; j1 runs 18-28, the batch closes at its
    last result, 28. The one other thing on the QPU inside the window 0-28 is that
    calibration: 3 s.

    Break caught: ``others = (busy["workload"] != index) & (busy["workload"] >= 0)`` in
    ``_others_in_windows`` (qsim/analysis/metrics.py), i.e. other users' jobs only: 0.0."""
    result = run(job("b", jobs=2, compile="5s", mode="batch"),
                 backend={"lanes": 2, "calibration": {"every": "12s", "duration": "3s"}})
    assert column(result, "quantum_start_at", "b") == [5.0, 18.0]
    assert calibrations(result)[0] == [12.0, 15.0, 18.0]
    assert windows(result) == [(0.0, 28.0)]
    b = workload(result)
    assert b["others_in_windows_s"] == 3.0
    assert (b["qpu_wait_s"], b["idle_s"]) == (13.0, 8.0)  # j1 waited 5-18; idle 0-5, 15-18


# ---- 3. the drain on a one-lane backend ------------------------------------------------------


def test_a_calibration_due_during_the_drain_runs_first_on_a_one_lane_backend() -> None:
    """SPEC §1 (a calibration runs "at the first moment the QPU is free and no session is
    active") with §3.3's drain, on one lane. others' job runs 0-10; s's job is submitted at 5
    and waits for the lane. At 10 the lane frees and a calibration (every 10 s, 3 s) falls
    due: the session is not active yet, so the calibration takes the QPU 10-13 and s's job is
    dispatched at 13 (the session activates then), QPU 13-23. The next calibration, due at 20
    inside the session, waits until the session closes at 23.

    Break caught: ``self.drain = spec.session_entry == "drain" and spec.lanes > 1`` in
    ``Backend.__init__`` (qsim/model/backend.py; "one lane cannot overlap anyway"): s's job
    is then dispatched at 10, activates the session and holds the calibration off until it
    closes at 20.
    Also caught: ``_quiet`` without its ``calibration_due is not None`` check (the same
    file): the drain ends at 10, before the calibration due at that instant could run."""
    result = run(job("others"), loop("s", 1, start="5s", mode="session"),
                 backend={"lanes": 1, "calibration": {"every": "10s", "duration": "3s"}})
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0), (0.0, "job.ready", 0),
        (0.0, "qpu.start", 0), (5.0, "context.open", -1), (5.0, "job.submit", 1),
        (10.0, "qpu.end", 0), (10.0, "job.done", 0), (10.0, "calibration.start", -1),
        (13.0, "calibration.end", -1), (13.0, "job.dispatch", 1), (13.0, "context.activate", -1),
        (13.0, "job.ready", 1), (13.0, "qpu.start", 1), (23.0, "qpu.end", 1),
        (23.0, "job.done", 1), (23.0, "context.drain", -1), (23.0, "context.close", -1),
        (23.0, "context.release", -1), (23.0, "run.end", -1)]
    s = workload(result, "s")
    assert (s["queue_wait_s"], s["usage_s"], s["others_in_windows_s"]) == (8.0, 10.0, 0.0)


# ---- 4. first_qpu_start_s from the first submission ------------------------------------------


def test_first_qpu_start_is_measured_from_the_first_submission() -> None:
    """SPEC §7 ``first_qpu_start_s``: "from its first submission to its first quantum start".
    One lane. a: dispatched 0, compile 0-2, QPU 2-12. b, submitted at 1, waits for the lane
    until 12, compiles 12-14, QPU 14-24: its first quantum start is 13 s after its first
    submission (its first dispatch was 2 s before it, the run's start 14 s).

    Break caught: ``jobs["dispatch_at"][first]`` instead of ``jobs["submit_at"][first]`` in
    ``_first_qpu_start`` (qsim/analysis/metrics.py): b then reads 2.0."""
    result = run(job("a", compile="2s"), job("b", start="1s", compile="2s"),
                 backend={"lanes": 1})
    assert column(result, "dispatch_at", "b") == [12.0]
    assert column(result, "quantum_start_at", "b") == [14.0]
    a, b = workload(result, "a"), workload(result, "b")
    assert (a["first_qpu_start_s"], b["first_qpu_start_s"]) == (2.0, 13.0)
    assert (b["first_queue_wait_s"], b["qpu_wait_s"]) == (11.0, 0.0)


# ---- 5. reserved-idle time: sessions only ----------------------------------------------------

LOOP2 = {"compile": "2s", "post": "1s", "classical": "5s"}


@pytest.mark.parametrize("mode, reserved, free", [
    ("session", 11.0, 0.0),
    ({"kind": "batch", "interactive_ttl": "60s"}, 0.0, 11.0),
    ("job", 0.0, 11.0)])
def test_only_a_session_reserves_the_qpu(mode: object, reserved: float, free: float) -> None:
    """SPEC §7 "Per backend: QPU busy, reserved-idle and free time": only a session reserves
    the QPU (it is dedicated, §3.3); a batch is not exclusive. A two-round loop: jobs 0-13
    (QPU 2-12) and 18-31 (QPU 20-30), one window 0-31 (the batch's 60 s ITTL keeps it open
    like the session's). QPU busy 20 s of 31; the 11 idle seconds inside the window are
    reserved under a session, free under batch and job mode.

    Break caught: ``w.mode.kind != "job"`` instead of ``w.mode.kind == "session"`` for the
    reserving windows in ``summarize`` (qsim/analysis/metrics.py): the batch then reports
    11 s reserved and 0 s free."""
    result = run(loop("l", 2, mode=mode, **LOOP2))
    assert column(result, "quantum_start_at", "l") == [2.0, 20.0]
    backend = result.summary()["backend"]
    assert (backend["qpu_busy_s"], backend["qpu_reserved_idle_s"], backend["qpu_free_s"]) == (
        20.0, reserved, free)
    assert result.summary()["end_s"] == 31.0


# ---- 6. the comparison picture bills idle to sessions only ------------------------------------


def test_the_comparison_picture_draws_billed_idle_for_sessions_only() -> None:
    """SPEC §3 usage: a session is billed for its windows (idle included), batch and job for
    their jobs' charged time. Under the legacy lock (``job_lock: all``, §11) a job is charged
    its whole locked span, so job and batch usage (3 x 13 = 39 s) exceeds their quantum time
    (30 s) though none of it is idle time they pay for as idle. The picture's billed-idle
    panel must draw 0 for them and 49 - 30 = 19 s for the session (SPEC §9 A's timeline).

    Break caught: ``billed = max(0.0, usage - quantum)`` for every mode (dropping ``if mode
    == "session" else 0.0``) in ``_with_billed_idle`` (qsim/present/plots.py): the job and
    batch bars are then drawn 9 s tall under their "not billed" labels."""
    spec = scenario(loop("vqe", 3, **LOOP2), backend={"job_lock": "all"})
    comparison = qsim.compare(spec, workers=1)
    figures = {m: (e["usage_s"], e["quantum_s"]) for m, e in comparison.modes.items()}
    assert figures == {"job": (39.0, 30.0), "batch": (39.0, 30.0), "session": (49.0, 30.0)}
    ax = qsim.plots.compare(comparison)
    idle = next(a for a in ax.child_axes if a.get_gid() == "compare/billed_idle_s")
    assert [t.get_text() for t in idle.get_xticklabels()] == ["job", "batch", "session"]
    assert [round(p.get_height(), 9) for p in idle.patches] == [0.0, 0.0, 19.0]
    assert [t.get_text() for t in idle.texts] == ["not billed", "not billed", "19 s"]


# ---- 7. an aborted loop is not complete, even when it submitted every job ----------------------

# A two-round loop whose second job fails (user error at the end of compile) and aborts it.
# Seed 1 draws success, then failure; the test checks that it still does.
ABORTED_LAST = loop("vqe", 2, compile="1s", on_failure="abort",
                    failure={"probability": 0.5, "kind": "user", "stage": "compile"})


def test_a_loop_aborted_in_its_last_round_is_not_complete_and_not_ranked() -> None:
    """SPEC §7 ``complete``: "true when every job it meant to run ended done, or failed under
    its own failure rules"; for a loop (§5/§6) a failure that aborts it leaves its round
    undone. Here the loop submitted both its planned jobs (j0 done 0-11, j1 failed at the end
    of its compile, 11-12), so counting submissions alone would call it complete. The verdict
    must then rank no mode (SPEC §7, Verdict: never rank unfinished work).

    Break caught: ``return jobs["submitted"] == planned`` for every kind in ``_complete``
    (qsim/analysis/metrics.py, dropping the iterative case): complete becomes True and the
    verdict names a cheapest mode."""
    spec = scenario(ABORTED_LAST, seed=1)
    result = qsim.simulate(spec)
    assert result.jobs["status"].tolist() == ["done", "failed"]
    assert result.jobs["end_at"].tolist() == [11.0, 12.0]
    vqe = workload(result)
    assert vqe["jobs"]["submitted"] == vqe["planned_jobs"] == 2
    assert (vqe["complete"], vqe["stopped_by"]) == (False, "a failure")
    verdict = qsim.compare(spec, workers=1).verdict
    assert (verdict.cheapest, verdict.fastest) == ((), ())
    assert verdict.incomplete == ("job", "batch", "session")


# ---- 8. paired differences against the cheapest complete mode, in any order --------------------


def test_paired_differences_are_against_the_cheapest_mode_whatever_the_order() -> None:
    """SPEC §9 A in session and job mode, each replicated twice (fixed durations: the two
    replications are equal). Job mode is cheapest (30 s x 1.60 = 48.00 USD against 49 s x
    1.60 = 78.40 USD), so every difference is against it though session is listed first:
    session +30.40 USD and +0 s wall time, job 0.

    Break caught: ``best = next(iter(self.runs.values()))`` (the first mode given) instead of
    ``self.runs[self.verdict.cheapest[0]]`` in ``Comparison.paired_differences``
    (qsim/experiments/comparison.py): the session's difference reads 0 and the job's -30.40."""
    spec = scenario(loop("vqe", 3, **LOOP2))
    comparison = qsim.compare(spec, modes=("session", "job"), replications=2, workers=1)
    assert comparison.verdict.cheapest == ("job",)
    diffs = comparison.paired_differences()
    assert diffs["session"]["cost_usd"].mean == pytest.approx(30.4, abs=1e-9)
    assert diffs["session"]["wall_time_s"].mean == 0.0
    assert (diffs["job"]["cost_usd"].mean, diffs["job"]["wall_time_s"].mean) == (0.0, 0.0)
    out = comparison.to_dict()["paired_difference"]
    assert out["against"] == "job"
    assert out["modes"]["session"]["cost_usd"]["mean"] == pytest.approx(30.4, abs=1e-9)


# ---- 9. warmup moves cancel_at as it moves open_at ---------------------------------------------


def test_a_warm_up_moves_cancel_at_with_the_workload() -> None:
    """SPEC §10/§11 (``cancel_at`` is absolute simulation time) with a warm-up: the figures are
    from t = 0 and every foreground time moves with the workload (``Scenario.warmed_up``:
    start, open_at and cancel_at). One lane, a session loop of 3 rounds of 2 jobs cancelled at
    25 s: jobs 0-10, 10-20, 20-30 (the third dispatched before the cancel finishes); the
    fourth, queued, is cancelled at 25; the window lasts until the running job ends at 30.
    With a 100 s warm-up the same, as the background (one job per 1000 s) never arrives.

    Break caught: ``for key in ("open_at",)`` instead of ``("open_at", "cancel_at")`` in
    ``Scenario.warmed_up`` (qsim/input/scenario.py): the session is cancelled before it opens, at
    -75; the first round's two jobs end ``cancelled`` (context_closed) and the loop stops."""
    spec = scenario(
        {"name": "others", "kind": "background", "arrivals": "1000s", "quantum": "1s"},
        loop("s", 3, jobs_per_iteration=2, mode={"kind": "session", "cancel_at": "25s"}),
        backend={"lanes": 1}, warmup="100s")
    result = qsim.simulate(spec)
    jobs = result.jobs
    assert jobs["workload"].tolist() == ["s"] * 4
    assert jobs["status"].tolist() == ["done", "done", "done", "cancelled"]
    assert jobs["end_at"].tolist() == [10.0, 20.0, 30.0, 25.0]
    assert jobs["reason"].tolist()[3] == "cancelled"
    assert windows(result) == [(0.0, 30.0)]
    s = workload(result, "s")
    assert (s["usage_s"], s["jobs"]["submitted"], s["stopped_by"]) == (30.0, 4, "cancel_at")


# ---- 10. a recorded job's quantum time on the replaying backend -------------------------------

# 2 s + (rep_delay + 50 us) x 2 executions x 10 000 shots
CIRCUITS = [{"name": "ansatz", "num_qubits": 2, "duration_s": 50e-6, "executions": 2,
             "shots": 10000}]


def recorded_job(i: int, quantum_s: float, **extra: Any) -> dict[str, Any]:
    return {"id": i, "primitive": "estimator", "context": None, "circuits": CIRCUITS,
            "quantum_s": quantum_s, **extra}


def test_a_recorded_job_takes_the_replaying_backends_rep_delay(tmp_path: Path) -> None:
    """SPEC §13: a recorded job's quantum time comes "from the recorded circuits and shots by
    §2's formula", with ``rep_delay`` "the backend's" (the replaying scenario's) unless the
    program set its own. Recorded on the default 250 us backend: j0 2 + 300 us x 20 000 = 8 s;
    j1 set 500 us itself: 2 + 550 us x 20 000 = 13 s. Replayed on a 1 ms backend: j0 takes
    2 + 1.05 ms x 20 000 = 23 s (0-23), j1 keeps 13 s (23-36).

    Breaks caught, each in ``RecordedWorkload.quantum_seconds`` (qsim/input/scenario.py):
    ``job.quantum_seconds(self.recording.backend.rep_delay_s)`` (the recording backend's
    rep_delay) and ``job.quantum_s`` (the recorded seconds) instead of
    ``job.quantum_seconds(self.rep_delay)``: j0 then takes the recorded 8 s."""
    trace = {"format": "qsim-trace", "version": 1, "mode": "job",
             "backend": {"name": "recorder", "rep_delay_s": 250e-6},
             "jobs": [recorded_job(0, 8.0), recorded_job(1, 13.0, rep_delay_s=500e-6)],
             "steps": [{"op": "submit", "job": 0}, {"op": "wait", "job": 0},
                       {"op": "submit", "job": 1}, {"op": "wait", "job": 1}]}
    (tmp_path / "trace.json").write_text(json.dumps(trace))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "name": "t", "backend": {"rep_delay": "1ms"},
        "workloads": [{"name": "p", "kind": "recorded", "trace": "trace.json"}]}))
    result = qsim.simulate(qsim.load_scenario(tmp_path / "s.yaml"))
    starts, ends = result.jobs["quantum_start_at"].tolist(), result.jobs["end_at"].tolist()
    assert starts[0] == 0.0 and ends[0] == pytest.approx(23.0, abs=1e-9)
    assert starts[1] == ends[0] and ends[1] == pytest.approx(36.0, abs=1e-9)
    assert workload(result)["quantum_s"] == pytest.approx(36.0, abs=1e-9)
