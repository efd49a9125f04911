"""Invariants of SPEC §19's limits, checked with Hypothesis over the random scenarios of
``test_invariants`` with usage and cost limits added to their instances.

Computed from the record log and SPEC §11's booking rule, not from qsim.analysis.limits:
- an instance's charged usage within any ``limit_window`` never exceeds its limit by more
  than what was running (dispatched and not ended, or an open session window) when the limit
  was reached; never reached, it stays below the limit;
- between ``limit.reached`` and ``limit.cleared`` no job of the instance is dispatched;
- after ``costlimit.reached`` no job of the instance is dispatched, and under the default
  ``on_cost_limit`` none is still running;
- and every invariant of every run (records in order, one status per job, the QPU and the
  lanes, sessions' exclusivity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_invariants import (
    EPS,
    check_drained_entry,
    check_job_phases_in_order,
    check_lanes,
    check_one_status_per_job,
    check_qpu_exclusive,
    check_records_in_time_order,
    check_session_exclusive,
    scenarios,
    simulate,
)

import qsim


@st.composite
def limited(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(scenarios())
    instances: dict[str, Any] = {}
    for w in data["workloads"]:
        name = w.get("instance", w["name"])
        if w["kind"] == "background" or name in instances or not draw(st.booleans()):
            continue
        spec: dict[str, Any] = {}
        if draw(st.integers(0, 3)):
            spec["limit"] = float(draw(st.sampled_from([3, 5, 10, 20, 40])))
            spec["limit_window"] = float(draw(st.sampled_from([15, 30, 60, 200, 1000])))
            if draw(st.integers(0, 3)) == 0:
                spec["used"] = float(draw(st.integers(0, 30)))
        if draw(st.integers(0, 2)) == 0:
            spec["cost_limit"] = float(draw(st.sampled_from([5, 20, 60])))
            spec["on_cost_limit"] = draw(st.sampled_from(["cancel", "finish"]))
        if spec:
            instances[name] = spec
    if not instances:
        name = data["workloads"][-1].get("instance", data["workloads"][-1]["name"])
        if data["workloads"][-1]["kind"] != "background":
            instances[name] = {"limit": 5.0, "limit_window": 30.0}
    for w in data["workloads"]:  # a named instance must be declared once one is
        if "instance" in w:
            instances.setdefault(w["instance"], {})
    for w in data["workloads"]:  # a declared instance carries the share (SPEC §12)
        name = w.get("instance", w["name"])
        if name in instances and "share" in w:
            instances[name].setdefault("share", w.pop("share"))
            w.pop("share", None)
    data["instances"] = instances
    data.setdefault("horizon", 3000.0)
    return data


def instance_jobs(result: qsim.RunResult, instance: str) -> Any:
    names = [w.name for w in result.info.scenario.workloads if w.instance == instance]
    return result.jobs[result.jobs["workload"].isin(names)], names


def bookings(result: qsim.RunResult, instance: str, used: float) -> tuple[np.ndarray, ...]:
    """SPEC §11: a job's charge at its end (job and batch mode), a session window at its
    end; the prior ``used`` at 0. (Bookings at the run's last instant hold nothing: left out.)"""
    scenario = result.info.scenario
    jobs, names = instance_jobs(result, instance)
    sessions = [n for n in names if scenario.workload(n).mode.kind == "session"]
    per_job = jobs[~(jobs["workload"].isin(sessions) & (jobs["context"] >= 0))
                   & (jobs["status"] != "incomplete")]
    windows = result.windows[result.windows["workload"].isin(sessions)]
    # a window the run's end cuts off is billed, but booked by nobody: the run is over
    windows = windows[windows["end_at"] < result.info.end_s]
    at = np.concatenate([[0.0], per_job["end_at"], windows["end_at"]])
    seconds = np.concatenate([[used], per_job["charged_s"],
                              windows["end_at"] - windows["start_at"]])
    return at, seconds


def peak(at: np.ndarray, seconds: np.ndarray, window: float) -> float:
    """The most booked within one window, at any booking (an entry counts while t < b + W)."""
    return max(float(seconds[(at <= t) & (at > t - window)].sum()) for t in at)


def running_at(result: qsim.RunResult, instance: str, t: float) -> float:
    """Charged usage of the work running when the limit was reached at ``t``: the jobs
    dispatched by then and ending at or after it, the session windows open at ``t``."""
    scenario = result.info.scenario
    jobs, names = instance_jobs(result, instance)
    sessions = [n for n in names if scenario.workload(n).mode.kind == "session"]
    running = jobs[(jobs["dispatch_at"] <= t) & (jobs["end_at"] >= t)
                   & ~(jobs["workload"].isin(sessions) & (jobs["context"] >= 0))]
    windows = result.windows[result.windows["workload"].isin(sessions)]
    open_ = windows[(windows["start_at"] <= t) & (windows["end_at"] >= t)]
    return float(running["charged_s"].sum() + (open_["end_at"] - open_["start_at"]).sum())


def check_overshoot(result: qsim.RunResult) -> None:
    records = result.records
    for name, lim in result.info.scenario.usage_limits.items():
        if lim.limit_s is None:
            continue
        at, seconds = bookings(result, name, lim.used_s)
        most = peak(at, seconds, lim.window_s)
        reached = records[(records["kind"] == "limit.reached") & (records["info"] == name)]
        # the prior use is booked at 0: alone it may be over the limit already
        allowed = lim.limit_s + max((running_at(result, name, t) + (lim.used_s if t == 0 else 0)
                                     for t in reached["t"]), default=0.0)
        slack = EPS * max(1.0, most)
        if reached.empty:
            assert most < lim.limit_s + slack, f"{name}: {most} booked, never reached"
        assert most <= allowed + slack, f"{name}: {most} booked in a window, {allowed} allowed"


def check_nothing_dispatched_while_held(result: qsim.RunResult) -> None:
    workload_instance = {w.name: w.instance for w in result.info.scenario.workloads}
    job_instance = dict(zip(result.jobs["job"], result.jobs["workload"].map(workload_instance)))
    held: set[str] = set()
    tripped: set[str] = set()
    records = result.records
    for kind, job, info in zip(records["kind"], records["job"], records["info"]):
        if kind == "limit.reached":
            held.add(info)
        elif kind == "limit.cleared":
            held.discard(info)
        elif kind == "costlimit.reached":
            tripped.add(info)
        elif kind == "job.dispatch":
            assert job_instance[job] not in held, f"job {job} dispatched while held"
            assert job_instance[job] not in tripped, f"job {job} dispatched after a cost limit"


def check_cost_limit_stops(result: qsim.RunResult) -> None:
    records = result.records
    for name, lim in result.info.scenario.usage_limits.items():
        trips = records[(records["kind"] == "costlimit.reached") & (records["info"] == name)]
        if trips.empty or lim.on_cost_limit == "finish":
            continue
        jobs, _ = instance_jobs(result, name)
        late = jobs[jobs["submit_at"] > trips["t"].iloc[0]]
        assert (late["status"] == "cancelled").all() and (late["end_at"] == late["submit_at"]).all()
        early = jobs[jobs["submit_at"] <= trips["t"].iloc[0]]
        assert (early["end_at"] <= trips["t"].iloc[0] + EPS).all(), f"{name}: ran past the limit"


CHECKS = (check_records_in_time_order, check_one_status_per_job, check_job_phases_in_order,
          check_qpu_exclusive, check_lanes, check_session_exclusive, check_drained_entry,
          check_overshoot, check_nothing_dispatched_while_held, check_cost_limit_stops)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(limited())
def test_limits_hold_for_random_scenarios(data: dict[str, Any]) -> None:
    result = simulate(data)
    for check in CHECKS:
        check(result)


def test_the_overshoot_check_catches_a_limit_that_never_holds() -> None:
    """Breaking the rule (a limit that never holds) fails the check."""
    from qsim.model import limits

    data = {"name": "t", "backend": {"lanes": 1}, "instances": {"x": {"limit": 5.0}},
            "workloads": [{"name": "x", "kind": "independent", "jobs": 3, "quantum": 10.0}]}
    check_overshoot(simulate(data))  # holds: 10 booked of 5, the job running when reached
    reach = limits.LimitedBackend._reach
    limits.LimitedBackend._reach = lambda self, lim: None  # type: ignore[method-assign]
    try:
        with pytest.raises(AssertionError):
            check_overshoot(simulate(data))
    finally:
        limits.LimitedBackend._reach = reach  # type: ignore[method-assign]
