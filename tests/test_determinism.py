"""Same scenario and seed: the same record log, value for value. Another seed: another log."""

from __future__ import annotations

from helpers import scenario

import qsim

BUSY = scenario(
    {"name": "others", "kind": "background", "arrivals": {"dist": "exponential", "mean": "20s"},
     "compile": {"dist": "uniform", "low": "1s", "high": "3s"},
     "quantum": {"dist": "lognormal", "mean": "8s", "cv": 1.5}, "post": "1s"},
    {"name": "vqe", "kind": "iterative", "iterations": 15, "mode": "session",
     "classical": {"dist": "exponential", "mean": "10s"}, "compile": "2s",
     "quantum": {"dist": "exponential", "mean": "6s"},
     "failure": {"probability": 0.2, "kind": "user", "stage": "quantum"}},
    {"name": "sweep", "kind": "independent", "jobs": 12, "mode": "batch", "start": "30s",
     "quantum": {"dist": "normal", "mean": "5s", "sd": "2s"}},
)


def log(result: qsim.RunResult) -> list:
    return list(result.trace)


def test_same_seed_gives_the_identical_record_log() -> None:
    first, second = qsim.simulate(BUSY), qsim.simulate(BUSY)
    assert len(first.trace) > 100
    assert log(first) == log(second)
    assert first.summary() == second.summary()


def test_another_seed_or_replication_gives_another_log() -> None:
    base = log(qsim.simulate(BUSY, seed=1))
    assert log(qsim.simulate(BUSY, seed=2)) != base
    assert log(qsim.simulate(BUSY, seed=1, replication=1)) != base


def test_seed_defaults_to_the_scenario_seed() -> None:
    assert log(qsim.simulate(BUSY)) == log(qsim.simulate(BUSY, seed=BUSY.seed))
    assert qsim.simulate(BUSY).info.seed == 0


def test_summary_holds_plain_python_values_only() -> None:
    """The summary is a plain dict (SPEC §7): no numpy scalars leaking into users' code, and
    no NaN (not JSON): a figure that does not exist is None (``first_qpu_start_s`` of a
    workload none of whose jobs reached the QPU)."""
    def check(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert type(value) in (str, int, float, bool, type(None)), (type(value), value)
            assert value == value, "NaN in the summary"

    check(qsim.simulate(BUSY).summary())


def test_too_many_workloads_for_the_record_log_is_a_clear_error() -> None:
    import pytest

    many = [{"name": f"w{i}", "kind": "independent", "jobs": 1, "quantum": "1s"}
            for i in range(4096)]
    with pytest.raises(qsim.ScenarioError, match="4096 workloads; qsim simulates at most 4095"):
        qsim.parse_scenario({"name": "huge", "workloads": many})  # refused before any run
