"""SPEC §9: the worked timelines, exactly (whole record sequences, not only totals)."""

from __future__ import annotations

from helpers import job_rows, run, workload

VQE = {"name": "vqe", "kind": "iterative", "iterations": 3, "compile": "2s", "quantum": "10s",
       "post": "1s", "classical": "5s"}


def vqe(mode: object) -> dict:
    return {**VQE, "mode": mode}


def test_a_session_closed_exact_records() -> None:
    result = run(vqe("session"))
    expected = [(0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
                (0.0, "context.activate", -1), (2.0, "job.ready", 0), (2.0, "qpu.start", 0),
                (12.0, "qpu.end", 0), (13.0, "job.done", 0),
                (18.0, "job.submit", 1), *job_rows(18, 1, 2, 10, 1),
                (36.0, "job.submit", 2), *job_rows(36, 2, 2, 10, 1),
                (49.0, "context.drain", -1), (49.0, "context.close", -1),
                (49.0, "context.release", -1), (49.0, "run.end", -1)]
    assert result.trace.rows() == expected
    w = workload(result)
    assert (w["usage_s"], w["quantum_s"], w["idle_s"], w["wall_time_s"], w["windows"]) == (
        49.0, 30.0, 19.0, 49.0, 1)
    assert (w["idle_gaps"], w["longest_idle_gap_s"]) == (4, 8.0)
    assert w["cost_usd"] == 49.0 * 1.60


def test_a_session_not_closed_pays_the_ittl_tail() -> None:
    result = run(vqe({"kind": "session", "close": False}))
    w = workload(result)
    assert w["usage_s"] == 109.0
    assert w["idle_s"] == 79.0
    assert result.info.end_s == 109.0
    assert result.trace.rows()[-3:] == [
        (109.0, "context.deactivate", -1), (109.0, "context.release", -1), (109.0, "run.end", -1)]


def test_a_job_mode() -> None:
    result = run(vqe("job"))
    w = workload(result)
    assert (w["usage_s"], w["wall_time_s"], w["windows"], w["idle_s"]) == (30.0, 49.0, 0, 0.0)
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), *job_rows(0, 0, 2, 10, 1),
        (18.0, "job.submit", 1), *job_rows(18, 1, 2, 10, 1),
        (36.0, "job.submit", 2), *job_rows(36, 2, 2, 10, 1), (49.0, "run.end", -1)]


def test_a_batch_three_windows_each_ended_by_the_ittl() -> None:
    result = run(vqe("batch"))
    w = workload(result)
    assert (w["usage_s"], w["windows"]) == (30.0, 3)
    windows = result.windows[["start_at", "end_at"]].to_records(index=False).tolist()
    assert windows == [(0.0, 14.0), (18.0, 32.0), (36.0, 49.0)]
    assert result.trace.rows() == [
        (0.0, "context.open", -1), (0.0, "job.submit", 0), (0.0, "job.dispatch", 0),
        (0.0, "context.activate", -1), *job_rows(0, 0, 2, 10, 1)[1:],
        (14.0, "context.deactivate", -1), (14.0, "context.release", -1),
        (18.0, "job.submit", 1), (18.0, "job.dispatch", 1), (18.0, "context.activate", -1),
        *job_rows(18, 1, 2, 10, 1)[1:],
        (32.0, "context.deactivate", -1), (32.0, "context.release", -1),
        (36.0, "job.submit", 2), (36.0, "job.dispatch", 2), (36.0, "context.activate", -1),
        *job_rows(36, 2, 2, 10, 1)[1:],
        (49.0, "context.drain", -1), (49.0, "context.close", -1),
        (49.0, "context.release", -1), (49.0, "run.end", -1)]


SWEEP = {"name": "sweep", "kind": "independent", "jobs": 10, "compile": "20s", "quantum": "5s",
         "post": "2s"}


def test_b_batch_of_ten_quantum_phases() -> None:
    result = run({**SWEEP, "mode": "batch"})
    quantum = result.jobs[["quantum_start_at", "quantum_end_at"]].to_records(index=False).tolist()
    assert quantum == [(20.0 + 5 * i, 25.0 + 5 * i) for i in range(5)] + [
        (47.0, 52.0), (52.0, 57.0), (57.0, 62.0), (62.0, 67.0), (67.0, 72.0)]
    assert result.jobs["dispatch_at"].tolist() == [0.0] * 5 + [27.0, 32.0, 37.0, 42.0, 47.0]
    w = workload(result)
    assert (w["wall_time_s"], w["usage_s"]) == (74.0, 50.0)


def test_b_legacy_lock_runs_strictly_one_after_another() -> None:
    result = run({**SWEEP, "mode": "job"}, backend={"job_lock": "all"})
    assert result.jobs["dispatch_at"].tolist() == [27.0 * i for i in range(10)]
    w = workload(result)
    assert (w["wall_time_s"], w["usage_s"]) == (270.0, 270.0)
