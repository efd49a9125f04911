"""Counts drawn from whole-number distributions (SPEC §20): ``iterations``, ``jobs`` and
``jobs_per_iteration`` given as a distribution are drawn once per run, per copy under
``repeat``, from the workload's own stream ``(NAME, FIELD)``; every other stream is as it was,
so a fixed count gives the same record log as before."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import job, job_rows, loop, run, scenario

import qsim
from qsim.input.errors import QsimError
from qsim.model.rng import Streams


def drawn(seed: int, name: str, field: str, dist: object) -> int:
    """The count a run of ``seed`` draws: one draw of the stream ``(name, field)``."""
    return int(dist.sample(Streams(seed).generator(name, field), 1)[0])  # type: ignore


def test_a_drawn_count_runs_exactly_as_that_fixed_count() -> None:
    # Jobs of 10 s one after another: the record log of a run is the log of the same
    # scenario with the count it drew written as a number.
    spec = {"dist": "uniform_int", "low": 2, "high": 6}
    dist = scenario(job("s", jobs=spec)).workloads[0].jobs  # type: ignore[arg-type]
    for seed in range(4):
        got = run(job("s", jobs=spec), seed=seed)  # type: ignore[arg-type]
        n = drawn(seed, "s", "jobs", dist)
        assert got.trace.rows() == run(job("s", jobs=n), seed=seed).trace.rows()
        assert len(got.jobs) == n


def test_iterations_drawn_timeline() -> None:
    # One 10-s job per iteration, nothing between: iteration k's job runs [10k, 10k + 10).
    spec = {"dist": "empirical", "values": [2, 3]}
    seen = set()
    for seed in range(10):
        result = run(loop("v", spec), seed=seed)  # type: ignore[arg-type]
        n = len(result.jobs)
        seen.add(n)
        rows = []
        for k in range(n):
            rows += [(10.0 * k, "job.submit", k), *job_rows(10.0 * k, k, 0.0, 10.0, 0.0)]
        assert result.trace.rows() == [*rows, (10.0 * n, "run.end", -1)]
        assert result.info.scenario.workloads[0].iterations == n  # the run's own count
    assert seen == {2, 3}


def test_a_fixed_count_is_a_number_and_draws_nothing() -> None:
    s = scenario(loop("v", {"dist": "fixed", "value": 3}))  # type: ignore[arg-type]
    assert s.workloads[0].iterations == 3 and isinstance(s.workloads[0].iterations, int)
    one = scenario(loop("v", {"dist": "uniform_int", "low": 3, "high": 3}))  # type: ignore
    assert run(loop("v", 3)).trace.rows() == qsim.simulate(one).trace.rows()


def test_each_copy_of_a_repeat_draws_its_own_count() -> None:
    s = scenario(job("s", jobs={"dist": "uniform_int", "low": 1, "high": 1000}, quantum="1s",
                     repeat={"every": "1h", "times": 3}))
    result = qsim.simulate(s, seed=7)
    counts = [w.jobs for w in result.info.scenario.workloads]
    dist = s.workloads[0].jobs
    assert counts == [drawn(7, f"s#{k}", "jobs", dist) for k in (1, 2, 3)]
    assert len(set(counts)) == 3  # 1 in 10^6 to fail by chance; seed 7 is fixed
    assert result.jobs.groupby("workload").size().tolist() == counts


def test_other_streams_do_not_move() -> None:
    # A background beside the loop: its arrivals are the same whether the loop's count is
    # drawn or written as the number drawn.
    others = {"name": "o", "kind": "background", "arrivals": {"dist": "exponential",
                                                               "mean": "7s"}, "quantum": "1s"}
    spec = {"dist": "geometric", "mean": 4}
    a = run(loop("v", spec, mode="session"), others, seed=3, horizon="120s")  # type: ignore
    n = a.info.scenario.workloads[0].iterations
    b = run(loop("v", n, mode="session"), others, seed=3, horizon="120s")
    assert a.trace.rows() == b.trace.rows()


@pytest.mark.parametrize("spec, mean, low, high", [
    ({"dist": "uniform_int", "low": 5, "high": 15}, 10.0, 5, 15),
    ({"dist": "geometric", "mean": 6}, 6.0, 1, None),
    ({"dist": "empirical", "values": [1, 4, 10]}, 5.0, 1, 10),
])
def test_draws_over_many_seeds_have_the_distribution_mean_and_range(
        spec: dict[str, object], mean: float, low: int, high: int | None) -> None:
    # Jobs of 0 s: the runs are cheap; the count of each run's jobs is its draw.
    s = scenario(job("s", jobs=spec, quantum="0s"))
    runs = 400
    counts = np.array([len(qsim.simulate(s, seed=seed).jobs) for seed in range(runs)])
    assert counts.min() >= low and (high is None or counts.max() <= high)
    assert counts.min() == low  # the range is reached, not just respected
    se = counts.std(ddof=1) / math.sqrt(runs)
    assert abs(counts.mean() - mean) <= 4 * se


def test_jobs_per_iteration_drawn_once_per_run() -> None:
    s = scenario(loop("v", 3, jobs_per_iteration={"dist": "uniform_int", "low": 1,
                                                  "high": 9}, quantum="1s"))
    for seed in range(5):
        result = qsim.simulate(s, seed=seed)
        k = drawn(seed, "v", "jobs_per_iteration", s.workloads[0].jobs_per_iteration)
        assert len(result.jobs) == 3 * k


@pytest.mark.parametrize("value, words", [
    ({"dist": "uniform_int", "low": 5, "high": 2}, "high: must not be less than low (5)"),
    ({"dist": "uniform_int", "low": 0, "high": 2}, "iterations.low: must be at least 1 (got 0)"),
    (0, "iterations: must be at least 1 (got 0)"),
    (-3, "iterations: must be at least 1 (got -3)"),
    (2.5, "iterations"),
    ({"dist": "geometric", "mean": 0.5}, "iterations.mean: must be at least 1 (got 0.5)"),
    ({"dist": "empirical", "values": [1, 2.5]}, "whole number >= 1, not 2.5"),
    ({"dist": "poisson", "mean": 2}, "unknown"),
])
def test_bad_counts_name_the_field(value: object, words: str) -> None:
    with pytest.raises(QsimError) as err:
        scenario(loop("v", value))  # type: ignore[arg-type]
    text = str(err.value)
    assert "test.yaml" in text and "workloads[0].iterations" in text and words in text
    assert "\n" not in text


def test_the_work_estimate_reads_the_upper_bound_or_the_99_9th_percentile() -> None:
    from qsim.input.work import estimate
    bounded = scenario(job("s", jobs={"dist": "uniform_int", "low": 2, "high": 50}))
    assert estimate(bounded).jobs == 50
    # geometric, mean 4: P(X > k) = 0.75^k <= 0.001 first at k = 25
    unbounded = scenario(job("s", jobs={"dist": "geometric", "mean": 4}))
    assert estimate(unbounded).jobs == 25
    # rounded exponential, mean 10: P(X >= x) = e^(-x/10) = 0.001 at x = 69.08 -> 69
    rounded = scenario(job("s", jobs={"dist": "exponential", "mean": 10}))
    assert estimate(rounded).jobs == 69


def test_cli_bad_count_one_line_exit_2(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path
    path = Path(str(tmp_path)) / "bad.yaml"
    path.write_text("name: t\nworkloads:\n  - {name: v, kind: iterative, quantum: 1s,\n"
                    "     iterations: {dist: uniform_int, low: 9, high: 3}}\n")
    done = subprocess.run([sys.executable, "-m", "qsim", "run", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"qsim: error: {path}:4: workloads[0].iterations.high: must not be "
                           "less than low (9) (got 3)\n")


def test_validate_show_says_what_is_drawn(capsys: pytest.CaptureFixture[str],
                                          tmp_path: object) -> None:
    from pathlib import Path

    from qsim.present.validate_command import validate
    path = Path(str(tmp_path)) / "s.yaml"
    path.write_text("name: t\nworkloads:\n  - {name: v, kind: iterative, quantum: 1s,\n"
                    "     iterations: {dist: geometric, mean: 4},"
                    " repeat: {every: 1h, times: 2}}\n")
    assert validate(str(path), show=True) == 0
    out = capsys.readouterr().out
    assert out.count("# v: iterations drawn each run (each copy): mean 4, at most 25 "
                     "(99.9th percentile) in the work estimate\n") == 1
