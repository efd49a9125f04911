"""qsim.analysis.queue_stats on hand-made series whose figures are known exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import qsim
from qsim.analysis.queue_stats import (
    GRID_S,
    QueueStats,
    compare,
    queue_level_of_jobs,
    queue_level_of_run,
    queue_stats,
    resample,
)


def regular(levels: list[float] | np.ndarray, paused: list[bool] | None = None,
            step: float = GRID_S) -> QueueStats:
    levels = np.asarray(levels, dtype=float)
    t = step * np.arange(len(levels))
    return queue_stats(resample(t, levels, None if paused is None else np.asarray(paused)))


def test_a_constant_queue_has_its_level_everywhere_and_no_movement() -> None:
    stats = regular([5.0] * 361)  # one hour
    assert (stats.p10, stats.p50, stats.p90, stats.p99, stats.mean) == (5, 5, 5, 5, 5)
    assert stats.paused_share == 0
    assert stats.arrivals_per_10min == 0 and math.isnan(stats.dispersion)
    assert math.isnan(stats.acf_1h)  # a constant level has no correlation
    assert stats.hours == pytest.approx(361 * 10 / 3600)


def test_quantiles_and_mean_of_two_levels() -> None:
    stats = regular([0.0] * 100 + [10.0] * 100)
    assert (stats.p10, stats.p90, stats.p99, stats.mean) == (0, 10, 10, 5)


def test_irregular_samples_are_held_until_the_next_one_time_weighted() -> None:
    # level 1 at 0 s, 3 from 35 s, last sample at 60 s: grid 0..60 reads 1,1,1,1,3,3,3
    grid = resample(np.array([0.0, 35.0, 60.0]), np.array([1.0, 3.0, 3.0]))
    assert grid.level.tolist() == [1, 1, 1, 1, 3, 3, 3]
    assert queue_stats(grid).mean == pytest.approx(13 / 7)


def test_duplicate_instants_keep_the_last_sample() -> None:
    grid = resample(np.array([0.0, 0.0, 10.0]), np.array([1.0, 2.0, 2.0]))
    assert grid.level.tolist() == [2, 2]


def test_a_gap_longer_than_a_minute_is_missing_not_held() -> None:
    t = np.concatenate([np.arange(0, 601, 10.0), np.arange(2000, 3001, 10.0)])
    level = np.where(t < 1000, 1.0, 9.0)
    grid = resample(t, level)
    missing = grid.t[~grid.valid]
    assert missing[0] == 670 and missing[-1] == 1990  # 660 is 60 s after 600: still held
    stats = queue_stats(grid)
    valid_points = 67 + 101
    assert stats.coverage == pytest.approx(valid_points / len(grid.t))
    assert stats.mean == pytest.approx((67 * 1 + 101 * 9) / valid_points)
    # the jump from 1 to 9 across the gap is not an arrival: it is never observed
    assert stats.arrivals_per_10min == 0


def test_arrivals_per_block_are_the_positive_increments_and_their_dispersion() -> None:
    # three 10-min blocks (60 increments each): +1 six times then -1 six times (6 arrivals);
    # nothing (0); +2 twelve times, -24 once (24 arrivals).
    steps = np.zeros(180)
    steps[0:6], steps[6:12] = 1, -1
    steps[120:132], steps[132] = 2, -24
    levels = np.concatenate([[30.0], 30 + np.cumsum(steps)])
    stats = regular(levels)
    counts = np.array([6.0, 0.0, 24.0])
    assert stats.arrivals_per_10min == pytest.approx(counts.mean())
    assert stats.dispersion == pytest.approx(counts.var() / counts.mean())
    assert stats.departures_per_10min == pytest.approx(np.mean([6, 0, 24]))


def test_an_incomplete_last_block_is_not_counted() -> None:
    steps = np.zeros(90)
    steps[70] = 5  # in the second block, which has 30 of its 60 increments
    stats = regular(np.concatenate([[0.0], np.cumsum(steps)]))
    assert stats.arrivals_per_10min == 0


def test_autocorrelation_of_a_two_hour_square_wave() -> None:
    hours = 48
    t = np.arange(0, hours * 3600 + 1, GRID_S)
    level = ((t // 3600) % 2).astype(float)  # 0 for an hour, 1 for an hour
    stats = queue_stats(resample(t, level))
    assert stats.acf_1h == pytest.approx(-1.0, abs=1e-3)
    assert stats.acf_24h == pytest.approx(1.0, abs=1e-3)


def test_paused_share_counts_grid_time_not_samples() -> None:
    # samples at 0 (paused) and 30 s (active), last at 40: grid 0,10,20 paused; 30,40 active
    grid = resample(np.array([0.0, 30.0, 40.0]), np.ones(3), np.array([True, False, False]))
    assert queue_stats(grid).paused_share == pytest.approx(3 / 5)


def test_decreasing_times_are_refused() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        resample(np.array([0.0, 10.0, 5.0]), np.ones(3))


def test_a_runs_queue_counts_submitted_and_not_yet_dispatched() -> None:
    submit = np.array([0.0, 5.0, 15.0, 21.0])
    left = np.array([12.0, np.nan, 15.0, 30.0])  # job 1 never dispatched; job 2 at once
    grid = queue_level_of_jobs(submit, left, end_s=40.0, paused=[(10.0, 30.0)])
    assert grid.t.tolist() == [0, 10, 20, 30]
    assert grid.level.tolist() == [1, 2, 1, 1]
    assert grid.paused.tolist() == [False, True, True, False]


def test_queue_level_of_run_ignores_an_incomplete_jobs_end_and_filters_workloads() -> None:
    arrays = {
        "submit_at": np.array([0.0, 0.0, 5.0]),
        "dispatch_at": np.array([20.0, np.nan, np.nan]),
        "end_at": np.array([50.0, 15.0, 60.0]),  # job 1 cancelled in the queue; job 2 incomplete
        "workload": np.array([0, 0, 1]),
    }
    grid = queue_level_of_run(arrays, end_s=60.0)
    assert grid.level.tolist() == [2, 3, 1, 1, 1, 1]  # job 0 leaves at 20, job 1 at 15
    only_first = queue_level_of_run(arrays, end_s=60.0, workloads=[0])
    assert only_first.level.tolist() == [2, 2, 0, 0, 0, 0]


def test_a_simulated_runs_queue_matches_a_count_over_its_records() -> None:
    scenario = qsim.parse_scenario({
        "name": "busy", "seed": 3, "horizon": "2h",
        "backend": {"lanes": 2},
        "workloads": [{"name": "others", "kind": "background",
                       "arrivals": {"dist": "exponential", "mean": "20s"},
                       "quantum": {"dist": "exponential", "mean": "25s"}}],
    })
    result = qsim.simulate(scenario)
    grid = queue_level_of_run(result.job_arrays, result.info.end_s)
    submitted: dict[int, float] = {}
    dispatched: dict[int, float] = {}
    for r in result.trace:
        if r.kind == "job.submit":
            submitted[r.job] = r.t
        elif r.kind == "job.dispatch":
            dispatched[r.job] = r.t
    for t, level in zip(grid.t.tolist(), grid.level.tolist()):
        expected = sum(1 for j, s in submitted.items()
                       if s <= t and not (j in dispatched and dispatched[j] <= t))
        assert level == expected
    assert grid.level.max() > 3  # the queue did build up: the check above is not vacuous


def test_compare_applies_issue_26s_bounds() -> None:
    base = dict(hours=1.0, coverage=1.0, p10=0.0, p50=100.0, p90=400.0, p99=900.0, mean=200.0,
                paused_share=0.10, arrivals_per_10min=50.0, dispersion=40.0,
                departures_per_10min=50.0, acf_1h=0.9, acf_24h=0.8)
    data = QueueStats(**base)
    inside = QueueStats(**{**base, "p50": 134.0, "p90": 499.0, "mean": 151.0,
                           "paused_share": 0.129, "dispersion": 79.0, "acf_24h": 0.61})
    outside = QueueStats(**{**base, "p50": 136.0, "p90": 501.0, "mean": 149.0,
                            "paused_share": 0.131, "dispersion": 19.0, "acf_24h": 0.59})
    assert all(compare(data, inside).values())
    assert not any(compare(data, outside).values())


def test_the_queue_data_benchmark_prints_a_backends_figures(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows = ["timestamp,pending_jobs,status_msg,operational"]
    for i in range(721):  # two hours every 10 s: a sawtooth, paused for its last 12 minutes
        rows.append(f"2023-11-16T{12 + i // 360:02d}:{(i // 6) % 60:02d}:{(i % 6) * 10:02d}Z,"
                    f"{i % 60},{'internal' if i >= 649 else 'active'},true")
    data = tmp_path / "data"
    data.mkdir()
    (data / "ibm_test.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "benchmarks/queue_data.py", "--data", str(data),
                           "--out", str(out)], cwd=root, capture_output=True, text=True,
                          check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("| ibm_test"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    # hours, p10, p50, p90, p99, mean, paused share (72 of 721 grid points)
    # 721 points: 13 zeros and 12 of each of 1..59, so the 361st is 29 and the 649th 53
    assert cells[1:8] == ["2", "5.0", "29.0", "53.0", "59.0", "29.5", "10.0 %"]
    assert (out / "queue_data.md").read_text().startswith("# Real backends")
    assert (out / "queue_data.png").read_bytes()[:4] == b"\x89PNG"
