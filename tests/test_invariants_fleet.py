"""The invariants of every run hold on each backend of several (SPEC §18), checked with
Hypothesis over random fleets: each backend's records (its jobs, its calibrations, the
contexts of the workloads on it) must pass the one-backend checks of test_invariants, with
that backend's lanes, lock and session entry."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_invariants import (
    background,
    check_drained_entry,
    check_job_phases_in_order,
    check_lanes,
    check_one_status_per_job,
    check_qpu_exclusive,
    check_records_in_time_order,
    check_session_exclusive,
    foreground,
)

import qsim

NAMES = ("a", "b", "c")
PER_BACKEND = (check_qpu_exclusive, check_lanes, check_session_exclusive, check_drained_entry)


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(2, 3))
    choices = [*NAMES[:count], "least_busy", {"least_busy": list(NAMES[:2])}]
    workloads = []
    for i in range(draw(st.integers(1, 4))):
        w = draw(foreground(f"w{i}"))
        w["backend"] = draw(st.sampled_from(choices))
        workloads.append(w)
    for i in range(draw(st.integers(0, 2))):
        workloads.append({**draw(background()), "name": f"others{i}",
                          "backend": draw(st.sampled_from(choices))})
    lock = draw(st.sampled_from(["quantum"] * 4 + ["all"]))
    backends = []
    for name in NAMES[:count]:
        b: dict[str, Any] = {"name": name, "lanes": draw(st.integers(1, 4)),
                             "queue": draw(st.sampled_from(["fifo", "fair_share"])),
                             "job_lock": lock,
                             "session_entry": draw(st.sampled_from(["drain", "overlap"]))}
        if draw(st.integers(0, 2)) == 0:
            b["calibration"] = {"every": float(draw(st.integers(20, 200))),
                                "duration": float(draw(st.integers(0, 15)))}
        if draw(st.integers(0, 2)) == 0:
            start = float(draw(st.integers(0, 100)))
            b["outages"] = [{"start": start, "end": start + draw(st.integers(1, 60)),
                             "kind": draw(st.sampled_from(["pause", "down"]))}]
        backends.append(b)
    data: dict[str, Any] = {"name": "fleet", "seed": draw(st.integers(0, 2**16)),
                            "backends": backends, "workloads": workloads}
    if draw(st.booleans()) or all(w["kind"] == "background" for w in workloads):
        data["horizon"] = float(draw(st.integers(1, 400)))
    return data


class _OneBackend:
    """The view of one backend that the one-backend checks read: its records, jobs and
    contexts, and a scenario whose ``backend`` is this one."""

    def __init__(self, result: qsim.RunResult, index: int) -> None:
        trace, records = result.trace, result.records
        job_backend = np.frombuffer(trace.job_backend or b"", np.uint8)
        on = [i for i, b in enumerate(trace.workload_backend) if b == index]
        job = records["job"].to_numpy()
        context_workload = dict(zip(result.contexts["context"], result.contexts["workload"]))
        names = {w.name for i, w in enumerate(result.info.scenario.workloads) if i in on}
        mine = np.zeros(len(records), bool)
        has_job = job >= 0
        mine[has_job] = job_backend[job[has_job]] == index
        kind = records["kind"].to_numpy()
        backend_of = np.array([trace.backend_of.get(s, 0) for s in range(len(records))])
        mine |= np.isin(kind, ["calibration.start", "calibration.end"]) & (backend_of == index)
        is_context = np.char.startswith(kind.astype(str), "context.")
        mine |= is_context & np.isin(records["context"].map(context_workload).to_numpy(),
                                     list(names))
        mine |= kind == "run.end"
        self.records = records[mine]
        self.jobs = result.jobs[result.jobs["backend"] == NAMES[index]]
        self.contexts = result.contexts[result.contexts["workload"].isin(names)]
        spec = result.info.scenario.backends[index]
        scenario = result.info.scenario.model_copy(update={"backend": spec})
        self.info = dataclasses.replace(result.info, scenario=scenario)


@settings(max_examples=100, deadline=None)
@given(fleets())
def test_invariants_hold_on_each_backend(data: dict[str, Any]) -> None:
    result = qsim.simulate(qsim.parse_scenario(data, "fleet.yaml"))
    for check in (check_records_in_time_order, check_one_status_per_job,
                  check_job_phases_in_order):
        check(result)
    for index in range(len(data["backends"])):
        view = _OneBackend(result, index)
        for check in PER_BACKEND:
            check(view)  # type: ignore[arg-type]  # what the checks read of a result


@settings(max_examples=20, deadline=None)
@given(fleets())
def test_same_seed_gives_the_same_fleet_log(data: dict[str, Any]) -> None:
    sc = qsim.parse_scenario(data, "fleet.yaml")
    first, again = qsim.simulate(sc), qsim.simulate(sc)
    assert first.trace.rows() == again.trace.rows()
    assert list(first.trace.job_backend or []) == list(again.trace.job_backend or [])


def test_the_view_of_one_backend_is_what_the_checks_need() -> None:
    # Two one-lane backends, each running a job at once: the whole log breaks one lane and one
    # QPU, each backend's own records do not.
    data = {"name": "two", "backends": [{"name": "a", "lanes": 1}, {"name": "b", "lanes": 1}],
            "workloads": [{"name": "x", "kind": "independent", "jobs": 2, "quantum": 10,
                           "backend": "a"},
                          {"name": "y", "kind": "independent", "jobs": 2, "quantum": 10,
                           "backend": "b"}]}
    result = qsim.simulate(qsim.parse_scenario(data, "two.yaml"))
    whole = qsim.RunResult(result.trace, result.info)
    whole.__dict__["info"] = dataclasses.replace(result.info, scenario=result.info.scenario)
    for check in (check_lanes, check_qpu_exclusive):
        try:
            check(whole)
        except AssertionError:
            pass
        else:
            raise AssertionError(f"{check.__name__} passed on two backends' log as one")
        for index in (0, 1):
            view = _OneBackend(result, index)
            assert len(view.records) == 13  # 2 jobs x 6 records + run.end
            check(view)  # type: ignore[arg-type]
