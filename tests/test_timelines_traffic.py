"""Exact timelines of background traffic that varies (SPEC §17): bursts, a profile's arrival
instants, regimes, an arrival trace, jobs already pending at t = 0. Fixed durations, the
whole record list, computed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import job, job_rows, run, scenario

Rows = list[tuple[float, str, int]]


def others(**extra: object) -> dict[str, object]:
    return {"name": "others", "kind": "background", "quantum": "1s", **extra}


def alone(instants: list[float], end: float) -> Rows:
    """Rows of one 1-s job arriving at each instant onto an idle QPU, then the run's end."""
    out: Rows = []
    for i, t in enumerate(instants):
        out += [(t, "job.submit", i), *job_rows(t, i, 0.0, 1.0, 0.0)]
    return [*out, (end, "run.end", -1)]


def test_a_burst_submits_its_jobs_at_one_instant_in_order() -> None:
    # Every 10 s two jobs arrive together; both take a lane, the second waits for the QPU.
    result = run(others(arrivals="10s", burst=2), horizon="25s")
    pair: Rows = []
    for t, a, b in ((10.0, 0, 1), (20.0, 2, 3)):
        pair += [(t, "job.submit", a), (t, "job.submit", b), (t, "job.dispatch", a),
                 (t, "job.dispatch", b), (t, "job.ready", a), (t, "job.ready", b),
                 (t, "qpu.start", a), (t + 1, "qpu.end", a), (t + 1, "job.done", a),
                 (t + 1, "qpu.start", b), (t + 2, "qpu.end", b), (t + 2, "job.done", b)]
    assert result.trace.rows() == [*pair, (25.0, "run.end", -1)]


def test_a_profile_changes_the_clock_of_the_arrivals() -> None:
    # Levels 3 and 1 are 1.5 and 0.5 once scaled to a mean of 1: over [0, 24) 6 s of the
    # stream's own time pass in 4 s, over [24, 48) in 12 s, then again in 4 s.
    result = run(others(arrivals="6s", profile={"period": "48s", "levels": [3, 1]}),
                 horizon="60s")
    assert result.trace.rows() == alone([4, 8, 12, 16, 20, 24, 36, 48, 52, 56], 60.0)


def test_a_level_of_zero_stops_the_stream_for_its_slice() -> None:
    # Levels 0, 2, 0, 2 are 0, 2, 0, 2 (mean 1): nothing arrives in [0, 10) or [20, 30).
    result = run(others(arrivals="8s", profile={"period": "40s", "levels": [0, 2, 0, 2]}),
                 horizon="45s")
    # 8 s of its own time take 4 s at rate 2: 14, 18; from 18, 4 of them pass by 20, the
    # rest after the still slice, from 30: 32; then 36, 40; then still again until 50.
    assert result.trace.rows() == alone([14.0, 18.0, 32.0, 36.0, 40.0], 45.0)


def test_regimes_alternate_between_two_levels_with_a_fixed_dwell() -> None:
    # Levels 1 and 3 (0.5 and 1.5 scaled), each held 24 s; with two levels the next is the
    # other one. Which comes first is drawn: every seed gives one of the two timelines.
    spec = others(arrivals="6s", regimes={"levels": [1, 3], "dwell": "24s"})
    low_first = alone([12, 24, 28, 32, 36, 40, 44, 48], 60.0)
    high_first = alone([4, 8, 12, 16, 20, 24, 36, 48, 52, 56], 60.0)
    seen = [run(spec, horizon="60s", seed=seed).trace.rows() for seed in range(8)]
    assert all(rows in (low_first, high_first) for rows in seen)
    assert low_first in seen and high_first in seen


def test_pending_jobs_are_queued_at_zero_before_any_foreground_job() -> None:
    # The foreground job comes first in the file, yet the three pending jobs are submitted
    # before it; lane 1 serves them in order. The stream's first arrival (at 100) never
    # comes: the run ends with x at 4.
    result = run(job("x", quantum="1s"), others(arrivals="100s", pending=3),
                 backend={"lanes": 1})
    expected = [(0.0, "job.submit", i) for i in range(4)]
    for i in range(4):
        expected += job_rows(float(i), i, 0.0, 1.0, 0.0)
    assert result.trace.rows() == [*expected, (4.0, "run.end", -1)]
    assert result.jobs["workload"].tolist() == ["others"] * 3 + ["x"]


def trace_rows() -> Rows:
    rows: Rows = [(5.0, "job.submit", 0), (5.0, "job.submit", 1), (5.0, "job.dispatch", 0),
                  (5.0, "job.dispatch", 1), (5.0, "job.ready", 0), (5.0, "job.ready", 1),
                  (5.0, "qpu.start", 0), (8.0, "qpu.end", 0), (8.0, "job.done", 0),
                  (8.0, "qpu.start", 1), (11.0, "qpu.end", 1), (11.0, "job.done", 1)]
    rows += [(12.0, "job.submit", 2), *job_rows(12.0, 2, 0.0, 1.0, 0.0)]
    rows += [(30.0, "job.submit", 3), *job_rows(30.0, 3, 0.0, 2.0, 0.0)]
    return [*rows, (40.0, "run.end", -1)]


def test_an_arrival_trace_replays_its_instants_counts_and_quantum_times(tmp_path: Path) -> None:
    (tmp_path / "arrivals.csv").write_text("at,count,quantum\n5,2,3\n12,1,1\n30,1,2\n")
    data = {"name": "t", "horizon": "40s",
            "workloads": [others(arrivals={"trace": "arrivals.csv"})]}
    result = run_file(tmp_path, data)
    assert result.trace.rows() == trace_rows()  # beyond the last row the stream stops


def test_iso_times_are_taken_relative_to_the_first_from_the_workload_start(
        tmp_path: Path) -> None:
    (tmp_path / "arrivals.csv").write_text(
        "at,count,quantum\n2023-11-01T10:00:00Z,2,3\n2023-11-01T10:00:07Z,1,1\n"
        "2023-11-01T10:00:25Z,1,2\n")
    data = {"name": "t", "horizon": "40s",
            "workloads": [others(start="5s", arrivals={"trace": "arrivals.csv"})]}
    assert run_file(tmp_path, data).trace.rows() == trace_rows()


def test_a_trace_without_quantum_times_uses_the_workload_quantum(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("at\n3\n7\n")
    data = {"name": "t", "horizon": "10s", "workloads": [others(arrivals={"trace": "a.csv"})]}
    assert run_file(tmp_path, data).trace.rows() == alone([3.0, 7.0], 10.0)


def run_file(folder: Path, data: dict[str, object]):  # type: ignore[no-untyped-def]
    import yaml

    import qsim

    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return qsim.simulate(qsim.load_scenario(path))


def test_load_accounts_for_the_burst() -> None:
    # mean inter-arrival = E[burst] x E[quantum] / load = 4 x 2 s / 0.5
    s = scenario(others(quantum="2s", load=0.5, burst={"dist": "geometric", "mean": 4}),
                 horizon="1h")
    assert s.workloads[0].arrivals.mean == pytest.approx(16.0)
