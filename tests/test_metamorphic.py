"""Metamorphic checks: change one input in a known direction, expect the output to move so.

1. More lanes never slow independent work. As an exact, every-sample-path statement this is
   true from one lane to any number, and for identical jobs from any k to k + 1; it is true on
   average for random durations. It is NOT true for every heterogeneous schedule: because the
   QPU serves first-ready first (SPEC §1), an extra lane can let a long quantum job overtake
   others (a Graham-type scheduling anomaly); ``test_an_extra_lane_can_slow_one_schedule``
   pins such a case, hand-computed, so the documentation does not over-claim.
2. A longer classical step raises a session's idle time (exactly, without load: each step
   adds to the window while it is shorter than the ITTL; on average under load, with
   ``session_entry: overlap``: under the default drain others never run in the window, and
   the idle time under load is exactly that alone).
3. Heavier background load raises job-mode waiting more than session waiting.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qsim

Z = 4.0
SEED = 11


def run(*workloads: dict[str, Any], seed: int = SEED, replication: int = 0, **top: Any
        ) -> qsim.RunResult:
    sc = qsim.parse_scenario({"name": "meta", "workloads": list(workloads), **top}, "meta.yaml")
    return qsim.simulate(sc, seed=seed, replication=replication)


def summary_of(result: qsim.RunResult, name: str) -> dict[str, Any]:
    return next(w for w in result.summary()["workloads"] if w["name"] == name)


def paired_z(diffs: np.ndarray) -> float:
    """Mean of paired differences in standard errors (the CI's sign test at level Z)."""
    return float(diffs.mean() / (diffs.std(ddof=1) / math.sqrt(len(diffs))))


# ---- 1. lanes ------------------------------------------------------------------------------------

def makespan(jobs: list[tuple[float, float, float]], lanes: int, interval: float = 0.0) -> float:
    """Wall time of independent jobs (compile, quantum, post), one workload each, submitted in
    order ``interval`` apart, in job mode."""
    workloads = [{"name": f"j{i}", "kind": "independent", "jobs": 1, "start": i * interval,
                  "compile": c, "quantum": q, "post": p} for i, (c, q, p) in enumerate(jobs)]
    return float(run(*workloads, backend={"lanes": lanes}).jobs["end_at"].max())


PHASE = st.sampled_from([0.0, 1.0, 2.0, 5.0, 10.0, 30.0])
JOBS = st.lists(st.tuples(PHASE, PHASE.filter(lambda q: q > 0), PHASE), min_size=1, max_size=7)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(JOBS, st.integers(2, 5), st.sampled_from([0.0, 0.0, 3.0]))
def test_any_lanes_are_never_slower_than_one(jobs: list, lanes: int, interval: float) -> None:
    # With one lane the jobs run one after another. With more, some job always progresses in
    # one of its phases (a job waiting for the QPU means another holds it), so no slower.
    assert makespan(jobs, lanes, interval) <= makespan(jobs, 1, interval) + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), PHASE, PHASE.filter(lambda q: q > 0), PHASE,
       st.sampled_from([0.0, 0.0, 1.0, 4.0]), st.integers(1, 4))
def test_an_extra_lane_never_slows_identical_jobs(
        n: int, c: float, q: float, p: float, interval: float, lanes: int) -> None:
    # Identical jobs end in dispatch order, so with k lanes job i is dispatched at
    # max(A_i, E_{i-k}); every later time is a max-plus function of that, monotone in k.
    sweep = {"name": "s", "kind": "independent", "jobs": n, "mode": "batch", "compile": c,
             "quantum": q, "post": p, "submit_interval": interval}
    walls = [summary_of(run(sweep, backend={"lanes": k}), "s")["wall_time_s"]
             for k in (lanes, lanes + 1)]
    assert walls[1] <= walls[0] + 1e-9


RANDOM_SWEEP = {"name": "s", "kind": "independent", "jobs": 30, "mode": "batch",
                "compile": {"dist": "exponential", "mean": 20.0},
                "quantum": {"dist": "lognormal", "mean": 5.0, "cv": 1.5},
                "post": {"dist": "exponential", "mean": 3.0}}


def walls_by_lanes(reps: int, lanes: range = range(1, 7)) -> np.ndarray:
    """Wall time per replication (rows) and lane count (columns), same draws across columns."""
    return np.array([[summary_of(run(RANDOM_SWEEP, backend={"lanes": k}, replication=r),
                                 "s")["wall_time_s"] for k in lanes] for r in range(reps)])


@pytest.mark.slow
def test_more_lanes_speed_up_random_independent_work_on_average() -> None:
    walls = walls_by_lanes(reps=40)
    for k in range(walls.shape[1] - 1):
        gain = walls[:, k] - walls[:, k + 1]
        assert paired_z(gain) > Z, f"{k + 2} lanes not faster than {k + 1}"


def test_an_extra_lane_can_slow_one_schedule() -> None:
    # A (c10 q1 p5), B (c0 q10 p20), C (c5 q10 p1), D (c0 q10 p0), all at t=0.
    # 3 lanes: B on the QPU 0-10; C (ready 5) 10-20, A (ready 10) 20-21; D gets a lane when C
    #   ends at 21 and runs 21-31. Wall 31.
    # 4 lanes: D is dispatched at 0 and ready at 0, so it takes the QPU 10-20 ahead of C
    #   (20-30, ends 31) and A (30-31, post to 36). Wall 36: the extra lane made it slower.
    jobs = [(10.0, 1.0, 5.0), (0.0, 10.0, 20.0), (5.0, 10.0, 1.0), (0.0, 10.0, 0.0)]
    assert makespan(jobs, 3) == 31.0
    assert makespan(jobs, 4) == 36.0


# ---- 2. classical step and session idle time ---------------------------------------------------

ITERATIONS, COMPILE_S, QUANTUM_S, POST_S = 10, 2.0, 8.0, 1.0
VQE = {"name": "vqe", "kind": "iterative", "iterations": ITERATIONS, "compile": COMPILE_S,
       "quantum": QUANTUM_S, "post": POST_S}


def others(arrival_mean: float) -> dict[str, Any]:
    return {"name": "others", "kind": "background",
            "arrivals": {"dist": "exponential", "mean": arrival_mean}, "compile": 1.0,
            "quantum": {"dist": "lognormal", "mean": 15.0, "cv": 1.0}, "post": 0.5}


def session_idle(classical: float, ttl: float = 60.0, **load: Any) -> float:
    vqe = {**VQE, "classical": classical, "mode": {"kind": "session", "interactive_ttl": ttl}}
    workloads = [vqe] if not load else [{**vqe, "start": 600.0}, others(load["arrival_mean"])]
    # Under load, the overlap what-if: under the default drain no other job runs inside the
    # window, so the idle time under load is exactly that alone (test_timelines_drain).
    backend = {"session_entry": "overlap"} if load else {}
    result = run(*workloads, replication=load.get("replication", 0), backend=backend)
    return summary_of(result, "vqe")["idle_s"]


@pytest.mark.parametrize("ttl", [10.0, 60.0])
def test_a_longer_classical_step_raises_session_idle_exactly(ttl: float) -> None:
    # Alone on the backend: each job's compile and post are idle, and each classical step adds
    # its length while shorter than the ITTL; at the ITTL the session pauses (the gap is then
    # free), so the idle time grows with the step up to that cap.
    steps = [0.0, 1.0, 5.0, 9.5, 10.0, 30.0, 59.0, 120.0]
    idle = [session_idle(c, ttl) for c in steps]
    expected = [ITERATIONS * (COMPILE_S + POST_S) + (ITERATIONS - 1) * min(c, ttl) for c in steps]
    assert idle == pytest.approx(expected, abs=1e-9)
    assert all(a <= b for a, b in zip(idle, idle[1:]))


def test_a_longer_classical_step_raises_session_idle_under_load() -> None:
    steps = (0.0, 5.0, 20.0, 50.0)
    idle = np.array([[session_idle(c, arrival_mean=30.0, replication=r) for c in steps]
                     for r in range(30)])
    for k in range(len(steps) - 1):
        assert paired_z(idle[:, k + 1] - idle[:, k]) > Z


# ---- 3. load hurts job mode more than a session ------------------------------------------------

CLASSICAL_S = 5.0
# Wall time on an idle backend: every job's phases and every classical step, back to back.
UNLOADED_WALL_S = ITERATIONS * (COMPILE_S + QUANTUM_S + POST_S) + (ITERATIONS - 1) * CLASSICAL_S


def waiting(mode: str, arrival_mean: float, replication: int) -> float:
    """Time the iterative workload spent waiting for lanes or the QPU: its wall time minus the
    wall time it would have alone."""
    vqe = {**VQE, "classical": CLASSICAL_S, "mode": mode, "start": 600.0}
    result = run(vqe, others(arrival_mean), replication=replication)
    return summary_of(result, "vqe")["wall_time_s"] - UNLOADED_WALL_S


def load_penalty(reps: int, light: float = 60.0, heavy: float = 25.0) -> dict[str, np.ndarray]:
    """Per replication, waiting under heavy load minus waiting under light load, per mode.
    Exponential arrivals from one stream: the heavy stream is the light one compressed."""
    return {mode: np.array([waiting(mode, heavy, r) - waiting(mode, light, r)
                            for r in range(reps)]) for mode in ("job", "session")}


@pytest.mark.slow
def test_heavier_load_raises_job_mode_waiting_more_than_session_waiting() -> None:
    penalty = load_penalty(reps=60)
    assert paired_z(penalty["job"]) > Z  # load does hurt job mode
    assert paired_z(penalty["job"] - penalty["session"]) > Z  # ... more than a session


def test_alone_on_the_backend_there_is_no_waiting() -> None:
    # The reference point of the waiting measure: no load, no wait, in either mode.
    for mode in ("job", "session"):
        vqe = {**VQE, "classical": CLASSICAL_S, "mode": mode}
        assert summary_of(run(vqe), "vqe")["wall_time_s"] == pytest.approx(UNLOADED_WALL_S)
