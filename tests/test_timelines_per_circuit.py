"""A fixed charge per circuit (issue 29, SPEC §19): ``per_circuit_overhead: D`` in the circuit
form adds D per circuit (times the multiplier: the circuits mitigation adds are circuits too)
to each job's quantum time, which the QPU is held for and which is charged; default 0, the
published formula unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import job, run, scenario, workload

import qsim

# Four circuits of 1000 shots, 10 us each with the backend's 250 us rep_delay:
# 2 s + 4 x 1000 x 260 us = 3.04 s a job without a per-circuit charge.
CIRCUITS: dict[str, Any] = {"circuits": 4, "shots": 1000, "circuit_duration": "10us"}


def one_job(**quantum: object) -> qsim.RunResult:
    return run(job("x", compile="1s", post="1s", quantum={**CIRCUITS, **quantum}))


def test_the_charge_per_circuit_lengthens_the_quantum_phase() -> None:
    # 3.04 s + 4 x 0.5 s = 5.04 s on the QPU, 1-6.04; post 1 s.
    q = 2 + 4 * 0.5 + 4 * 1000 * 260e-6
    result = one_job(per_circuit_overhead="500ms")
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0), (1.0, "job.ready", 0),
        (1.0, "qpu.start", 0), (pytest.approx(1 + q), "qpu.end", 0),
        (pytest.approx(2 + q), "job.done", 0), (pytest.approx(2 + q), "run.end", -1)]
    x = workload(result)
    assert x["usage_s"] == x["quantum_s"] == pytest.approx(5.04)
    assert result.jobs.iloc[0]["charged_s"] == pytest.approx(5.04)


def test_the_multiplier_multiplies_the_circuits_charged() -> None:
    # ZNE's x3: 12 circuits run, each charged 0.5 s: 2 + 6 + 12 x 1000 x 260 us = 11.12 s.
    result = one_job(per_circuit_overhead="500ms", multiplier=3)
    assert workload(result)["quantum_s"] == pytest.approx(2 + 12 * 0.5 + 12 * 0.26)


def test_the_default_is_the_published_formula() -> None:
    plain, zero = one_job(), one_job(per_circuit_overhead=0)
    assert workload(plain)["quantum_s"] == workload(zero)["quantum_s"] == pytest.approx(3.04)
    assert plain.trace.rows() == zero.trace.rows()


def test_a_session_pays_its_window_with_the_longer_jobs() -> None:
    # Session, one job: window 0-(1 + 5.04 + 1) = 7.04 s.
    result = run(job("s", compile="1s", post="1s", mode="session",
                     quantum={**CIRCUITS, "per_circuit_overhead": "500ms"}))
    assert workload(result)["usage_s"] == pytest.approx(7.04)


def test_the_dump_carries_it_only_when_given() -> None:
    given = scenario(job("x", quantum={**CIRCUITS, "per_circuit_overhead": "1s"}))
    plain = scenario(job("x", quantum=CIRCUITS))
    assert given.model_dump()["workloads"][0]["quantum"]["per_circuit_overhead"] == 1.0
    assert "per_circuit_overhead" not in plain.model_dump()["workloads"][0]["quantum"]
    assert qsim.parse_scenario(given.model_dump(), "dump.yaml") == given


def test_a_charge_that_makes_the_job_too_long_is_refused() -> None:
    with pytest.raises(qsim.QsimError, match=r"workloads\[0\]\.quantum.*quantum time a job"):
        scenario(job("x", quantum={**CIRCUITS, "circuits": 100_000_000,
                                   "per_circuit_overhead": "1d"}))
