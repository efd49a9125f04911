"""replicate() and compare(): the Python API behind --replications and `qsim compare`."""

from __future__ import annotations

import math

import pytest
from helpers import scenario
from scipy import stats

import qsim
from qsim.analysis.student_t import t_quantile
from qsim.experiments import Comparison, Estimate, aggregate

LOOP = {"name": "loop", "kind": "iterative", "mode": "session", "iterations": 3,
        "compile": "2s", "quantum": "10s", "post": "1s",
        "classical": {"dist": "exponential", "mean": "5s"}}
OTHERS = {"name": "others", "kind": "background",
          "arrivals": {"dist": "exponential", "mean": "20s"},
          "quantum": {"dist": "lognormal", "mean": "8s", "cv": 1}}


@pytest.fixture
def sc() -> qsim.Scenario:
    return scenario(OTHERS, LOOP, seed=5)


# ---------------------------------------------------------------------------------------------
# Estimates


def test_estimate_is_a_t_interval() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    est = Estimate.of(values)
    half = stats.t.ppf(0.975, 4) * stats.tstd(values) / math.sqrt(5)
    assert est.mean == 3.0 and est.n == 5
    assert est.low == pytest.approx(3 - half, rel=1e-11)
    assert est.high == pytest.approx(3 + half, rel=1e-11)
    # the spread of the runs: numpy's linear percentiles of 1..5
    assert est.to_dict() == {"mean": 3.0, "ci95": [est.low, est.high],
                             "p10": pytest.approx(1.4), "p50": 3.0, "p90": pytest.approx(4.6)}


@pytest.mark.parametrize("p", [0.6, 0.95, 0.975, 0.995, 0.999])
def test_the_pure_python_t_quantile_agrees_with_scipy(p: float) -> None:
    for dof in [*range(1, 60), 99, 250, 1000]:
        assert t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=1e-11)
        assert t_quantile(1 - p, dof) == pytest.approx(stats.t.ppf(1 - p, dof), rel=1e-11)
    assert t_quantile(p, 100_000) == pytest.approx(stats.t.ppf(p, 100_000), rel=1e-10)


def test_estimate_of_one_value_has_no_interval() -> None:
    assert Estimate.of([7.0]).to_dict() == {"mean": 7.0, "ci95": None, "p10": 7.0, "p50": 7.0,
                                            "p90": 7.0}


def test_estimate_of_equal_values_is_a_point() -> None:
    assert Estimate.of([2.5] * 4).to_dict() == {"mean": 2.5, "ci95": [2.5, 2.5], "p10": 2.5,
                                                "p50": 2.5, "p90": 2.5}


def test_aggregate_keeps_labels_and_averages_figures() -> None:
    runs = [{"scenario": "s", "seed": 4, "end_s": float(x),
             "workloads": [{"name": "w", "mode": "job", "jobs": {"done": x}}]} for x in (1, 3)]
    out = aggregate(runs)
    assert out["scenario"] == "s" and out["seed"] == 4 and out["replications"] == 2
    assert out["workloads"][0]["name"] == "w" and out["workloads"][0]["mode"] == "job"
    assert out["end_s"]["mean"] == 2.0
    assert out["workloads"][0]["jobs"]["done"]["mean"] == 2.0


# ---------------------------------------------------------------------------------------------
# replicate


def test_replication_r_is_simulate_with_replication_r(sc: qsim.Scenario) -> None:
    reps = qsim.replicate(sc, 3, workers=1)
    assert reps.replications == 3 and reps.seed == 5
    for r, summary in enumerate(reps.summaries):
        assert summary == qsim.simulate(sc, 5, replication=r).summary()
    assert reps.summaries[0] == qsim.simulate(sc).summary()  # replication 0 is the plain run
    assert reps.summaries[0] != reps.summaries[1]  # independent streams


def test_processes_give_the_same_answer(sc: qsim.Scenario) -> None:
    serial = qsim.replicate(sc, 6, workers=1)
    parallel = qsim.replicate(sc, 6, workers=2)
    assert parallel.summaries == serial.summaries
    assert parallel.to_dict() == serial.to_dict()


def test_seed_overrides_the_scenario(sc: qsim.Scenario) -> None:
    reps = qsim.replicate(sc, 2, seed=9, workers=1)
    assert reps.seed == 9 and reps.to_dict()["seed"] == 9
    assert reps.summaries[1] == qsim.simulate(sc, 9, replication=1).summary()


def test_to_dict_shape(sc: qsim.Scenario) -> None:
    out = qsim.replicate(sc, 4, workers=1).to_dict()
    plain = qsim.simulate(sc).summary()
    assert set(out) == set(plain) | {"replications"}
    loop = out["workloads"][1]
    assert set(loop) == set(plain["workloads"][1])
    assert loop["name"] == "loop" and loop["mode"] == "session"
    assert set(loop["usage_s"]) == {"mean", "ci95", "p10", "p50", "p90"}
    assert set(out["backend"]["utilization"]) == {"mean", "ci95", "p10", "p50", "p90"}
    assert loop["complete"] is True  # a flag holds when it holds in every replication


def test_estimate_helper(sc: qsim.Scenario) -> None:
    reps = qsim.replicate(sc, 3, workers=1)
    est = reps.estimate("loop", "usage_s")
    assert est.to_dict() == reps.to_dict()["workloads"][1]["usage_s"]


def test_progress_reports_every_run(sc: qsim.Scenario) -> None:
    calls: list[tuple[int, int]] = []
    qsim.replicate(sc, 5, workers=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    calls.clear()
    qsim.replicate(sc, 5, workers=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5) and [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_replications_must_be_a_positive_count(sc: qsim.Scenario, bad: object) -> None:
    with pytest.raises(qsim.QsimError, match="replications must be a whole number"):
        qsim.replicate(sc, bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# compare


def test_compare_defaults_to_the_first_foreground_workload(sc: qsim.Scenario) -> None:
    result = qsim.compare(sc, workers=1)
    assert result.workload == "loop" and list(result.modes) == ["job", "batch", "session"]


def test_compare_entries_are_the_plain_runs_of_each_variant(sc: qsim.Scenario) -> None:
    result = qsim.compare(sc, modes=("batch", "job"), workers=1)
    assert list(result.modes) == ["batch", "job"]
    for mode, entry in result.modes.items():
        expected = qsim.simulate(sc.with_mode("loop", mode)).summary()["workloads"][1]
        assert entry == expected
    out = result.to_dict()
    assert (out["workload"], out["modes"], out["scenario"], out["seed"]) == (
        "loop", result.modes, sc.name, sc.seed)
    assert out["verdict"]["incomplete"] == []


def test_common_random_numbers(sc: qsim.Scenario) -> None:
    """The other workloads draw the same durations whatever the compared workload's mode."""
    runs = {m: qsim.simulate(sc.with_mode("loop", m) if m != "session" else sc)
            for m in ("job", "batch", "session")}
    submitted = {m: r.jobs[r.jobs["workload"] == "others"]["submit_at"].tolist()
                 for m, r in runs.items()}
    n = min(len(v) for v in submitted.values())
    assert n > 3
    assert submitted["job"][:n] == submitted["batch"][:n] == submitted["session"][:n]


def test_compare_keeps_the_workloads_own_mode_settings() -> None:
    custom = dict(LOOP, mode={"kind": "session", "interactive_ttl": "5s", "close": False})
    sc = scenario(custom)
    result = qsim.compare(sc, modes=("session",), workers=1)
    assert result.modes["session"] == qsim.simulate(sc).summary()["workloads"][0]


def test_compare_replications_aggregate_each_mode(sc: qsim.Scenario) -> None:
    result = qsim.compare(sc, modes=("job", "session"), replications=3, workers=2)
    assert result.replications == 3
    job = result.modes["job"]
    assert job["mode"] == "job" and set(job["usage_s"]) == {"mean", "ci95", "p10", "p50", "p90"}
    reps = qsim.replicate(sc.with_mode("loop", "job"), 3, workers=1)
    assert job == reps.to_dict()["workloads"][1]


def test_verdict_picks_cheapest_and_fastest() -> None:
    modes = {
        "job": {"cost_usd": 10.0, "wall_time_s": 300.0},
        "batch": {"cost_usd": 10.0, "wall_time_s": 200.0},
        "session": {"cost_usd": {"mean": 25.0, "ci95": [24.0, 26.0]},
                    "wall_time_s": {"mean": 100.0, "ci95": None}},
    }
    verdict = Comparison("w", modes).verdict  # type: ignore[arg-type]
    assert verdict.cheapest == ("job", "batch") and verdict.fastest == ("session",)
    assert verdict.cost_ratio == {"job": 1.0, "batch": 1.0, "session": 2.5}
    assert verdict.time_ratio == {"job": 3.0, "batch": 2.0, "session": 1.0}


def test_verdict_when_nothing_is_charged() -> None:
    modes = {"job": {"cost_usd": 0.0, "wall_time_s": 1.0},
             "session": {"cost_usd": 5.0, "wall_time_s": 1.0}}
    verdict = Comparison("w", modes).verdict  # type: ignore[arg-type]
    assert verdict.cheapest == ("job",) and verdict.cost_ratio["session"] == math.inf


@pytest.mark.parametrize("kwargs, message", [
    ({"workload": "nope"}, "no workload named 'nope'"),
    ({"workload": "others"}, "workload 'others' is a background stream"),
    ({"modes": ("job", "sesion")}, "unknown mode 'sesion'"),
    ({"modes": ("job", "job")}, "mode 'job' is listed twice"),
    ({"modes": ()}, "no modes to compare"),
    ({"replications": 0}, "replications must be a whole number"),
])
def test_compare_errors(sc: qsim.Scenario, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(qsim.QsimError, match=message):
        qsim.compare(sc, workers=1, **kwargs)  # type: ignore[arg-type]


def test_compare_needs_a_foreground_workload() -> None:
    sc = scenario(OTHERS, horizon="5m")
    with pytest.raises(qsim.QsimError, match="only background workloads"):
        qsim.compare(sc)
