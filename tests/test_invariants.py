"""Invariants of every run, checked with Hypothesis over random scenarios.

The scenarios mix modes, lanes, loads, failures and timers (ITTL, max TTL, cancel_at, the
horizon, calibrations, the legacy lock, fair share). Durations are often small whole numbers,
so that many events share an instant and the same-instant rules of SPEC §10-§11 are exercised.

Each invariant is computed from the record log (walked in ``seq`` order, the model's own total
order) or from first principles of SPEC §6, not read back from the summary it is meant to check.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import qsim
from qsim.input.dists import Circuits
from qsim.input.work import WorkLimitError

EPS = 1e-9
JOB_ENDS = ("job.done", "job.failed", "job.cancelled", "job.incomplete")

# ---- random scenarios --------------------------------------------------------------------------

SMALL_FIXED = st.sampled_from([0, 1, 2, 3, 5, 10])


@st.composite
def durations(draw: st.DrawFn, low: float = 0.0, high: float = 20.0) -> Any:
    """A duration distribution: usually a small whole number (ties), else random."""
    kind = draw(st.sampled_from(["fixed", "fixed", "exponential", "uniform", "lognormal"]))
    if kind == "fixed":
        return draw(SMALL_FIXED)
    mean = draw(st.floats(max(low, 0.5), high))
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "uniform":
        return {"dist": "uniform", "low": 0.0, "high": 2 * mean}
    return {"dist": "lognormal", "mean": mean, "cv": draw(st.floats(0.1, 2.0))}


@st.composite
def quantum(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 5)) == 0:  # the circuit form (SPEC §2)
        return {"circuits": draw(st.integers(1, 20)), "shots": draw(st.integers(1, 4000))}
    return draw(durations(high=15.0))


@st.composite
def mode(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["job", "batch", "session"]))
    if kind == "job" or draw(st.booleans()):
        return kind
    out: dict[str, Any] = {"kind": kind, "close": draw(st.booleans())}
    max_time = draw(st.sampled_from([None, 20.0, 60.0, 300.0]))
    if max_time is not None:
        out["max_time"] = max_time
    # Every TTL offered fits every max_time; a default TTL longer than max_time (session:
    # 60 s against 20 s) yields to it (SPEC §11).
    ttl = draw(st.sampled_from([None, 0.0, 1.0, 5.0, 20.0]))
    if ttl is not None:
        out["interactive_ttl"] = ttl
    if draw(st.integers(0, 3)) == 0:
        out["cancel_at"] = float(draw(st.integers(0, 120)))
    return out


@st.composite
def failure_keys(draw: st.DrawFn, iterative: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.integers(0, 2)) == 0:
        out["failure"] = {"probability": draw(st.sampled_from([0.1, 0.3, 0.7, 1.0])),
                          "kind": draw(st.sampled_from(["system", "user"])),
                          "stage": draw(st.sampled_from(["compile", "quantum"]))}
    if iterative and draw(st.booleans()):
        out["on_failure"] = draw(st.sampled_from(["retry", "abort"]))
        out["max_retries"] = draw(st.integers(0, 3))
    if draw(st.integers(0, 4)) == 0:
        out["max_execution_time"] = float(draw(st.integers(1, 8)))
    return out


@st.composite
def foreground(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["iterative", "independent"]))
    out: dict[str, Any] = {
        "name": name, "kind": kind, "mode": draw(mode()), "compile": draw(durations(high=8.0)),
        "quantum": draw(quantum()), "post": draw(durations(high=3.0)),
        "start": float(draw(st.integers(0, 30))), **draw(failure_keys(kind == "iterative")),
    }
    if kind == "iterative":
        out.update(iterations=draw(st.integers(1, 5)), jobs_per_iteration=draw(st.integers(1, 3)),
                   parallel=draw(st.integers(1, 2)), classical=draw(durations(high=40.0)))
    else:
        out.update(jobs=draw(st.integers(1, 8)),
                   submit_interval=float(draw(st.sampled_from([0, 0, 1, 4, 20]))))
    if draw(st.integers(0, 3)) == 0:
        out.update(instance=draw(st.sampled_from(["a", "b"])), share=draw(st.sampled_from([1, 3])))
    return out


@st.composite
def background(draw: st.DrawFn) -> dict[str, Any]:
    return {"name": "others", "kind": "background",
            "arrivals": {"dist": "exponential", "mean": draw(st.floats(5.0, 60.0))},
            "compile": draw(durations(high=5.0)), "quantum": draw(durations(high=20.0)),
            "post": draw(durations(high=2.0)), **draw(failure_keys(False))}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    workloads = [draw(foreground(f"w{i}")) for i in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        workloads.insert(draw(st.integers(0, len(workloads))), draw(background()))
    backend: dict[str, Any] = {"lanes": draw(st.integers(1, 5)),
                               "queue": draw(st.sampled_from(["fifo", "fifo", "fair_share"])),
                               "job_lock": draw(st.sampled_from(["quantum"] * 4 + ["all"])),
                               "session_entry": draw(st.sampled_from(["drain", "overlap"]))}
    if draw(st.integers(0, 3)) == 0:
        backend["calibration"] = {"every": float(draw(st.integers(20, 200))),
                                  "duration": float(draw(st.integers(0, 15)))}
    data: dict[str, Any] = {"name": "random", "seed": draw(st.integers(0, 2**16)),
                            "backend": backend, "workloads": workloads}
    if draw(st.integers(0, 3)) == 0:
        data["horizon"] = float(draw(st.integers(1, 400)))
    if draw(st.integers(0, 3)) == 0:
        data["accounting"] = {"session": "first_start_to_end"}
    return data


def simulate(data: dict[str, Any]) -> qsim.RunResult:
    try:
        return qsim.simulate(qsim.parse_scenario(data, "random.yaml"))
    except WorkLimitError:
        # The work guard refused the scenario before running it, so there is no run to check:
        # a background load within a hair of 1 with no horizon (arrivals' mean and quantum's
        # drawn equal), where the estimate's M/M/1 wait, load/(1 - load), diverges.
        reject()


# ---- the invariants ------------------------------------------------------------------------------

def check_records_in_time_order(result: qsim.RunResult) -> None:
    records = result.records
    assert (records["seq"].to_numpy() == np.arange(len(records))).all()
    assert (np.diff(records["t"].to_numpy()) >= 0).all(), "records out of time order"
    assert records["kind"].iloc[-1] == "run.end" and records["t"].iloc[-1] == result.info.end_s


def check_one_status_per_job(result: qsim.RunResult) -> None:
    records = result.records
    submitted = records.loc[records["kind"] == "job.submit", "job"]
    ends = records[records["kind"].isin(JOB_ENDS)]
    assert sorted(submitted) == list(range(len(submitted)))
    assert sorted(ends["job"]) == sorted(submitted), "a job ended twice or never"
    incomplete = ends[ends["kind"] == "job.incomplete"]
    assert (incomplete["t"] == result.info.end_s).all(), "incomplete before the run ended"


def check_job_phases_in_order(result: qsim.RunResult) -> None:
    jobs = result.jobs
    order = ["submit_at", "dispatch_at", "compile_end_at", "quantum_start_at",
             "quantum_end_at", "end_at"]
    times = jobs[order].to_numpy()
    for a in range(len(order)):
        for b in range(a + 1, len(order)):
            both = ~np.isnan(times[:, a]) & ~np.isnan(times[:, b])
            assert (times[both, a] <= times[both, b] + EPS).all(), f"{order[a]} > {order[b]}"


def check_qpu_exclusive(result: qsim.RunResult) -> None:
    """One thing at a time on the QPU, walking the records in order: a job from qpu.start to
    qpu.end (under the legacy lock from dispatch to its end), a calibration from start to end."""
    legacy = result.info.scenario.backend.job_lock == "all"
    acquire = {"job.dispatch"} if legacy else {"qpu.start"}
    release = set(JOB_ENDS) if legacy else {"qpu.end", "job.incomplete"}
    holder: object = None
    records = result.records
    for kind, job in zip(records["kind"], records["job"]):
        if kind in acquire or kind == "calibration.start":
            assert holder is None, f"the QPU ran two things at once ({holder} and {job})"
            holder = "calibration" if kind == "calibration.start" else job
        elif kind == "calibration.end" or (kind in release and job == holder):
            holder = None


def check_lanes(result: qsim.RunResult) -> None:
    """Running jobs (dispatched, not ended), counted in record order, never exceed the lanes."""
    records = result.records
    dispatched = set(records.loc[records["kind"] == "job.dispatch", "job"])
    level, lanes = 0, result.info.scenario.backend.lanes
    for kind, job in zip(records["kind"], records["job"]):
        if kind == "job.dispatch":
            level += 1
            assert level <= lanes, "lanes over-filled"
        elif kind in JOB_ENDS and job in dispatched:
            level -= 1
    assert level == 0


def session_context_ids(result: qsim.RunResult) -> set[int]:
    contexts = result.contexts
    return set(contexts.loc[contexts["mode"] == "session", "context"])


def check_session_exclusive(result: qsim.RunResult) -> None:
    """While a session is active (activation until pause, close or window end) no other job is
    dispatched and no calibration starts; no two contexts are ever active at once."""
    sessions = session_context_ids(result)
    records = result.records
    job_context = dict(zip(result.jobs["job"], result.jobs["context"]))
    active: int | None = None
    for kind, job, ctx in zip(records["kind"], records["job"], records["context"]):
        if kind == "context.activate":
            assert active is None, "two batches or sessions active at once"
            active = ctx
        elif kind in ("context.deactivate", "context.close", "context.release") and ctx == active:
            active = None
        elif active in sessions:
            assert not (kind == "job.dispatch" and job_context[job] != active), \
                "another job dispatched inside an active session"
            assert kind != "calibration.start", "a calibration inside an active session"


def check_drained_entry(result: qsim.RunResult) -> None:
    """Under ``session_entry: drain`` (SPEC §3.3): when a session activates, no other job is
    compiling, waiting for the QPU or on it (under the legacy lock: running at all) and no
    calibration runs; while it stays active, no other job and no calibration takes the QPU.
    So no other workload's job or calibration holds the QPU inside an active session window.
    (After cancel or max-TTL expiry the session is no longer active, SPEC §11: others may then
    use the QPU while its window runs on until its jobs end.)"""
    if result.info.scenario.backend.session_entry != "drain":
        return
    sessions = session_context_ids(result)
    legacy = result.info.scenario.backend.job_lock == "all"
    leaves = set(JOB_ENDS) if legacy else {"qpu.end", *JOB_ENDS}
    job_context = dict(zip(result.jobs["job"], result.jobs["context"]))
    records = result.records
    in_flight: set[int] = set()  # dispatched and not yet past the QPU
    calibrating = False
    active: int | None = None
    for kind, job, ctx in zip(records["kind"], records["job"], records["context"]):
        if kind == "job.dispatch":
            in_flight.add(job)
        elif kind in leaves:
            in_flight.discard(job)
        elif kind in ("calibration.start", "calibration.end"):
            calibrating = kind == "calibration.start"
        if kind == "context.activate" and ctx in sessions:
            others = {j for j in in_flight if job_context[j] != ctx}
            assert not others, f"session {ctx} activated while {others} were in flight"
            assert not calibrating, f"session {ctx} activated during a calibration"
            active = ctx
        elif kind in ("context.deactivate", "context.close", "context.release") and ctx == active:
            active = None
        elif active is not None:
            assert not (kind == "qpu.start" and job_context[job] != active), \
                "another job on the QPU inside an active session"
            assert kind != "calibration.start", "a calibration inside an active session"


def expected_charge(result: qsim.RunResult) -> pd.DataFrame:
    """Each job's charge by SPEC §6 and §11, from its own times: ``lo`` for ended jobs, and for
    a job cut off by the end of the run while holding the QPU, ``hi`` allows what it used so
    far (the SPEC does not say whether that is billed)."""
    jobs = result.jobs
    legacy = result.info.scenario.backend.job_lock == "all"
    # Legacy lock: the whole locked span; else the quantum phase (capped, or cut by a failure).
    first, last = ("dispatch_at", "end_at") if legacy else ("quantum_start_at", "quantum_end_at")
    used = (jobs[last] - jobs[first]).fillna(0.0).where(jobs["reason"] != "system_error", 0.0)
    # SPEC §19: a user failure on the QPU is charged at least its circuit form's overhead.
    overhead = {w.name: w.quantum.overhead if isinstance(w.quantum, Circuits) else 0.0
                for w in result.info.scenario.workloads}
    on_qpu = (jobs["reason"] == "user_error") & jobs["quantum_start_at"].notna()
    used = used.where(~on_qpu, np.maximum(used, jobs["workload"].map(overhead)))
    cut = (jobs["status"] == "incomplete") & jobs[first].notna()
    ended = used.where(~cut, 0.0)
    partial = (result.info.end_s - jobs[first]).where(cut, 0.0)
    return pd.DataFrame({"workload": jobs["workload"], "lo": ended, "hi": ended + partial})


def check_usage(result: qsim.RunResult) -> None:
    """Job and batch: usage = sum of charged time (SPEC §6); session: usage >= quantum time."""
    charge = expected_charge(result).groupby("workload")[["lo", "hi"]].sum()
    scenario = result.info.scenario
    for w in result.summary()["workloads"]:
        if w["mode"] == "session":
            assert w["usage_s"] >= w["quantum_s"] - EPS, "session usage below its quantum time"
        elif w["jobs"]["submitted"]:
            lo, hi = charge.loc[w["name"], "lo"], charge.loc[w["name"], "hi"]
            assert lo - EPS <= w["usage_s"] <= hi + EPS, f"{w['name']}: usage != charged"
        # A job that would run past max_execution_time is stopped at the cap (SPEC §2).
        cap = scenario.workload(w["name"]).max_execution_time
        jobs = result.jobs
        too_long = jobs[(jobs["workload"] == w["name"]) & (jobs["reason"] == "ran_too_long")]
        ran = too_long["quantum_end_at"] - too_long["quantum_start_at"]
        assert np.allclose(ran, cap, rtol=0, atol=EPS), "ran_too_long not stopped at the cap"


INVARIANTS = (check_records_in_time_order, check_one_status_per_job, check_job_phases_in_order,
              check_qpu_exclusive, check_lanes, check_session_exclusive, check_drained_entry,
              check_usage)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_invariants_hold_for_random_scenarios(data: dict[str, Any]) -> None:
    result = simulate(data)
    for check in INVARIANTS:
        check(result)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_same_seed_gives_the_same_log(data: dict[str, Any]) -> None:
    first, second = simulate(data), simulate(data)
    pd.testing.assert_frame_equal(first.records, second.records)
    assert first.summary() == second.summary()


# ---- the checks themselves can fail -----------------------------------------------------------

def test_the_checks_catch_broken_logs() -> None:
    # A check that cannot fail proves nothing: corrupt real results and expect each to fire.
    data = {"name": "t", "backend": {"lanes": 1}, "workloads": [
        {"name": "s", "kind": "iterative", "iterations": 2, "quantum": 5, "classical": 2,
         "mode": "session"},
        {"name": "b", "kind": "independent", "jobs": 3, "quantum": 4, "start": 1}]}
    result = simulate(data)
    for check in INVARIANTS:
        check(result)
    records = result.records.copy()
    broken = _with_records(result, records.assign(kind=records["kind"].replace(
        {"job.done": "job.dispatch"})))
    _expect_failure(check_lanes, broken)
    _expect_failure(check_one_status_per_job, broken)
    activate = records.index[records["kind"] == "context.activate"][0]
    late = records.copy()
    late.loc[activate:, "t"] = late.loc[activate:, "t"].to_numpy()[::-1]
    _expect_failure(check_records_in_time_order, _with_records(result, late))
    # Lose the first qpu.end: the next qpu.start finds the QPU still held.
    first_end = records.index[records["kind"] == "qpu.end"][0]
    overlap = records.copy()
    overlap.loc[first_end, "kind"] = "job.ready"
    _expect_failure(check_qpu_exclusive, _with_records(result, overlap))
    # Claim the session's jobs belong to no context: its own dispatches become intrusions.
    foreign = result.jobs.assign(context=-1)
    _expect_failure(check_session_exclusive, _with_records(result, records, jobs=foreign))
    # Under overlap, s activates at 1 while o's job holds the QPU (0-10): passed off as a
    # drain, that entry is caught.
    overlap = simulate({"name": "t", "backend": {"session_entry": "overlap"}, "workloads": [
        {"name": "o", "kind": "independent", "jobs": 1, "quantum": 10},
        {"name": "s", "kind": "independent", "jobs": 1, "quantum": 5, "start": 1,
         "mode": "session"}]})
    check_session_exclusive(overlap)
    as_drain = overlap.info.scenario.model_copy(update={
        "backend": overlap.info.scenario.backend.model_copy(update={"session_entry": "drain"})})
    _expect_failure(check_drained_entry, qsim.RunResult(
        overlap.trace, dataclasses.replace(overlap.info, scenario=as_drain)))
    # The summary reads the jobs table's numpy columns: overcharge those.
    arrays = result.job_arrays
    overcharged = {**arrays, "charged_s": arrays["charged_s"] + 1.0}
    _expect_failure(check_usage, _with_records(result, records, job_arrays=overcharged))


def _with_records(result: qsim.RunResult, records: pd.DataFrame, **tables: Any
                  ) -> qsim.RunResult:
    """A copy of ``result`` whose cached tables are replaced (the record log stays)."""
    copy = qsim.RunResult(result.trace, result.info)
    copy.__dict__.update({"records": records, "jobs": result.jobs,
                          "contexts": result.contexts, **tables})
    return copy


def _expect_failure(check: Any, result: qsim.RunResult) -> None:
    try:
        check(result)
    except AssertionError:
        return
    raise AssertionError(f"{check.__name__} did not detect the corruption")
