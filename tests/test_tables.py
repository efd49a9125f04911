"""Tables and accounting from hand-written record logs (no SimPy involved)."""

from __future__ import annotations

import numpy as np
import pytest

from qsim.analysis import accounting
from qsim.analysis.tables import (
    TraceMeta,
    calibrations_frame,
    contexts_frame,
    intervals_frame,
    jobs_frame,
    windows_frame,
)
from qsim.records.log import Kind as K
from qsim.records.log import Trace

META = TraceMeta(workloads=("s", "bg"), modes=("session", "job"), legacy_lock=False, end_s=40.0)


def session_trace() -> Trace:
    """Session job 0 runs 0-13 (quantum 2-12); background job 1 queued at 5, runs 20-30, and a
    user-failed job 2 of the session; a calibration due at 12 runs 13-15."""
    tr = Trace()
    for t, kind, job, ctx, wl, info in [
        (0, K.CONTEXT_OPEN, -1, 0, 0, None), (0, K.JOB_SUBMIT, 0, 0, 0, None),
        (0, K.JOB_DISPATCH, 0, 0, 0, None), (0, K.CONTEXT_ACTIVATE, -1, 0, 0, None),
        (2, K.JOB_READY, 0, 0, 0, None), (2, K.QPU_START, 0, 0, 0, None),
        (5, K.JOB_SUBMIT, 1, -1, 1, None), (5, K.JOB_SUBMIT, 2, 0, 0, None),
        (5, K.JOB_DISPATCH, 2, 0, 0, None), (6, K.JOB_READY, 2, 0, 0, None),
        (12, K.QPU_END, 0, 0, 0, None), (12, K.QPU_START, 2, 0, 0, None),
        (13, K.JOB_DONE, 0, 0, 0, None), (14, K.QPU_END, 2, 0, 0, None),
        (14, K.JOB_FAILED, 2, 0, 0, "user_error"), (14, K.CONTEXT_DRAIN, -1, 0, 0, None),
        (14, K.CONTEXT_CLOSE, -1, 0, 0, None), (14, K.CONTEXT_RELEASE, -1, 0, 0, None),
        (14, K.CALIBRATION_START, -1, -1, -1, 12.0), (16, K.CALIBRATION_END, -1, -1, -1, None),
        (16, K.JOB_DISPATCH, 1, -1, 1, None), (20, K.JOB_READY, 1, -1, 1, None),
        (20, K.QPU_START, 1, -1, 1, None), (40, K.JOB_INCOMPLETE, 1, -1, 1, None),
        (40, K.RUN_END, -1, -1, -1, None),
    ]:
        tr.add(float(t), kind, job, ctx, wl, info)
    return tr


def test_jobs_table_phases_status_and_charges() -> None:
    jobs = jobs_frame(session_trace(), META)
    assert jobs["status"].tolist() == ["done", "incomplete", "failed"]
    assert jobs["reason"].fillna("").tolist() == ["", "", "user_error"]
    assert jobs["queue_wait_s"].tolist() == [0.0, 11.0, 0.0]
    assert jobs["quantum_s"].tolist() == [10.0, 20.0, 2.0]  # incomplete: up to the end
    assert jobs["charged_s"].tolist() == [10.0, 20.0, 2.0]
    assert jobs["post_start_at"].tolist()[0] == 12.0
    assert np.isnan(jobs["post_start_at"][2])  # a failed job has no post-processing


def test_system_failures_are_not_charged_and_legacy_charges_the_locked_span() -> None:
    tr = Trace()
    for t, kind, job, info in [(0, K.JOB_SUBMIT, 0, None), (0, K.JOB_DISPATCH, 0, None),
                               (1, K.JOB_READY, 0, None), (1, K.QPU_START, 0, None),
                               (4, K.QPU_END, 0, None), (4, K.JOB_FAILED, 0, "system_error"),
                               (4, K.JOB_SUBMIT, 1, None), (4, K.JOB_DISPATCH, 1, None),
                               (5, K.JOB_READY, 1, None), (5, K.QPU_START, 1, None),
                               (7, K.QPU_END, 1, None), (9, K.JOB_DONE, 1, None)]:
        tr.add(float(t), kind, job, -1, 0, info)
    meta = TraceMeta(("x",), ("job",), legacy_lock=True, end_s=9.0)
    jobs = jobs_frame(tr, meta)
    assert jobs["charged_s"].tolist() == [0.0, 5.0]
    assert intervals_frame(tr, meta)[["start_at", "end_at"]].values.tolist() == [
        [0.0, 4.0], [4.0, 9.0]]


def test_windows_contexts_intervals_and_calibrations() -> None:
    tr = session_trace()
    assert windows_frame(tr, META)[["start_at", "end_at", "length_s"]].values.tolist() == [
        [0.0, 14.0, 14.0]]
    ctx = contexts_frame(tr, META)
    assert ctx[["at", "change", "state", "accepting_jobs"]].values.tolist() == [
        [0.0, "open", "open", True], [0.0, "activate", "active", True],
        [14.0, "drain", "active", False], [14.0, "close", "closed", False]]
    iv = intervals_frame(tr, META)
    assert iv[["start_at", "end_at", "what"]].values.tolist() == [
        [2.0, 12.0, "job"], [12.0, 14.0, "job"], [14.0, 16.0, "calibration"],
        [20.0, 40.0, "job"]]
    cal = calibrations_frame(tr, META)
    assert cal[["due_at", "start_at", "deferred_s"]].values.tolist() == [[12.0, 14.0, 2.0]]


def test_idle_gaps_inside_windows() -> None:
    g0, g1 = accounting.idle_gaps(np.array([0.0, 36.0]), np.array([31.0, 49.0]),
                                  np.array([2.0, 20.0, 38.0]), np.array([12.0, 30.0, 48.0]))
    assert list(zip(g0.tolist(), g1.tolist())) == [
        (0.0, 2.0), (12.0, 20.0), (30.0, 31.0), (36.0, 38.0), (48.0, 49.0)]
    idle = accounting.Idle.of(g0.tolist(), g1.tolist())
    assert (idle.idle_s, idle.gaps, idle.longest_gap_s) == (2 + 8 + 1 + 2 + 1, 5, 8.0)


def test_idle_with_no_work_is_the_whole_window() -> None:
    g0, g1 = accounting.idle_gaps(np.array([0.0]), np.array([60.0]), np.empty(0), np.empty(0))
    idle = accounting.Idle.of(g0.tolist(), g1.tolist())
    assert (idle.idle_s, idle.gaps, idle.longest_gap_s) == (60.0, 1, 60.0)


@pytest.mark.parametrize("windows,expected", [
    (([0.0], [100.0]), 23.0), (([5.0], [25.0]), 16.0), (([0.0, 21.0], [8.0, 22.0]), 4.0),
    (([31.0], [40.0]), 0.0)])
def test_busy_within_windows(windows, expected) -> None:
    busy = (np.array([4.0, 10.0, 22.0]), np.array([8.0, 20.0, 31.0]))
    starts, ends = map(np.array, windows)
    assert accounting.busy_within(starts, ends, *busy) == expected


def test_first_start_to_end_is_one_window() -> None:
    starts, ends = accounting.billed_windows(np.array([0.0, 18.0]), np.array([15.0, 49.0]),
                                             "session", "first_start_to_end")
    assert (starts.tolist(), ends.tolist()) == ([0.0], [49.0])
    assert accounting.usage("session", np.array([30.0]), ends - starts) == 49.0
    assert accounting.usage("batch", np.array([10.0, 20.0]), np.array([99.0])) == 30.0


def test_writing_to_the_jobs_table_leaves_the_summary_and_its_columns_alone() -> None:
    # The jobs table shares memory with the arrays the summary reads (copying them cost a
    # quarter of a second at a million jobs): pandas must copy a column before a write.
    import qsim
    from qsim.analysis.result import RunResult

    result = qsim.simulate(qsim.parse_scenario(
        {"name": "w", "horizon": "1h", "workloads": [
            {"name": "bg", "kind": "background", "arrivals": {"dist": "exponential",
                                                              "mean": "60s"},
             "compile": "5s", "quantum": "20s"}]}, "w.yaml"), seed=1)
    assert isinstance(result, RunResult)
    before = result.summary()
    jobs = result.jobs
    dispatch = jobs["dispatch_at"].to_numpy().copy()
    jobs.loc[:, "quantum_s"] = 1e6
    jobs["dispatch_at"] *= 2
    jobs.iloc[0, jobs.columns.get_loc("charged_s")] = -5.0
    assert result.summary() == before
    assert result.job_arrays["quantum_s"].max() < 1e6
    np.testing.assert_array_equal(result.job_arrays["dispatch_at"], dispatch)
    # the two names of one column are two columns: a write to one leaves the other
    np.testing.assert_array_equal(jobs["compile_start_at"].to_numpy(), dispatch)


def test_the_qpu_intervals_from_the_log_order_equal_a_sort_by_start_then_job() -> None:
    # Jobs 1 and 0 took the QPU at t=5 (job 1's zero-length phase first), job 2 at 3; a
    # calibration starts at 5 too: ties go by job, calibrations after the jobs.
    from qsim.analysis import columns

    nan = np.nan
    arrays = {"dispatch_at": np.array([1.0, 1.0, 1.0, 1.0]),
              "quantum_start_at": np.array([5.0, 5.0, 3.0, nan]),
              "quantum_end_at": np.array([6.0, 5.0, 4.0, nan]),
              "end_at": np.array([7.0, 5.5, 4.5, nan]),
              "workload": np.array([0, 1, 1, 0]), "context": np.array([-1, -1, -1, -1])}
    cal = (np.array([5.0]), np.array([8.0]))
    expected = {"start_at": [3.0, 5.0, 5.0, 5.0], "end_at": [4.0, 6.0, 5.0, 8.0],
                "job": [2, 0, 1, -1], "workload": [1, 0, 1, -1], "context": [-1, -1, -1, -1]}
    for order in (None, np.array([2, 1, 0]), np.array([2, 0, 1])):
        table = columns.qpu_intervals(arrays, *cal, META, order)
        assert {k: v.tolist() for k, v in table.items()} == expected, order


def test_calibrations_hold_the_qpu_in_a_run_where_no_job_did() -> None:
    from qsim.analysis import columns

    none = np.empty(0)
    arrays = {"dispatch_at": none, "quantum_start_at": none, "quantum_end_at": none,
              "end_at": none, "workload": np.empty(0, np.int64),
              "context": np.empty(0, np.int64)}
    for order in (None, np.empty(0, np.int64)):
        table = columns.qpu_intervals(arrays, np.array([0.0, 3600.0]), np.array([300.0, 3900.0]),
                                      META, order)
        assert {k: v.tolist() for k, v in table.items()} == {
            "start_at": [0.0, 3600.0], "end_at": [300.0, 3900.0], "job": [-1, -1],
            "workload": [-1, -1], "context": [-1, -1]}


def test_a_run_with_calibrations_and_no_job_on_the_qpu_has_a_summary_and_tables() -> None:
    import qsim

    scenario = qsim.parse_scenario({
        "name": "calibrations only", "horizon": "3h",
        "backend": {"calibration": {"every": "1h", "duration": "5m"}},
        "workloads": [{"name": "late", "kind": "independent", "jobs": 1, "quantum": "1s",
                       "start": "10h"}]}, "c.yaml")
    result = qsim.simulate(scenario)
    backend = result.summary()["backend"]
    assert (backend["calibrations"], backend["qpu_busy_s"]) == (2, 600.0)  # at 1h and 2h
    assert result.intervals["what"].tolist() == ["calibration", "calibration"]
