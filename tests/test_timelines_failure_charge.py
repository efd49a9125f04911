"""What a failure costs (issue 29, SPEC §19): a user failure during the quantum phase is
charged what it used, and at least the circuit form's per-job ``overhead`` ("including the
overhead incurred to prepare the QPU"); a system failure nothing. The log and the fair-share
ledger charge the same."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import job, run, workload

from qsim.model.jobs import Job
from qsim.model.rules import FairShare, InstanceLedger, QuantumLock
from qsim.records.log import Kind

# One circuit of 1000 shots: 2 s of overhead + 1000 * (250 us + 10 us) = 2.26 s a job.
CIRCUIT: dict[str, Any] = {"circuits": 1, "shots": 1000, "circuit_duration": "10us"}
PHASE = 2 + 1000 * 260e-6


def failing(kind: str, seed: int, quantum: object = CIRCUIT) -> Any:
    return run(job("x", compile="1s", quantum=quantum,
                   failure={"probability": 1, "kind": kind, "stage": "quantum"}), seed=seed)


def test_a_user_failure_inside_the_overhead_is_charged_the_overhead() -> None:
    # Seed 3 draws a failure 1.686 % of the way through: 0.038 s into the phase.
    result = failing("user", 3)
    used = PHASE * 0.01686
    assert result.trace.rows() == [
        (0.0, "job.submit", 0), (0.0, "job.dispatch", 0), (1.0, "job.ready", 0),
        (1.0, "qpu.start", 0), (pytest.approx(1 + used, abs=1e-5), "qpu.end", 0),
        (pytest.approx(1 + used, abs=1e-5), "job.failed", 0),
        (pytest.approx(1 + used, abs=1e-5), "run.end", -1)]
    row = result.jobs.iloc[0]
    assert row["quantum_s"] == pytest.approx(used, abs=1e-5)  # the QPU was held this long
    assert row["charged_s"] == 2.0  # the overhead, not what it used
    assert workload(result)["usage_s"] == 2.0


def test_a_user_failure_after_the_overhead_is_charged_what_it_used() -> None:
    # Seed 4 draws a failure 91.27 % of the way through: 2.063 s into the phase.
    result = failing("user", 4)
    row = result.jobs.iloc[0]
    assert 2.0 < row["quantum_s"] < PHASE
    assert row["quantum_end_at"] == row["end_at"] == 1 + row["quantum_s"]
    assert row["charged_s"] == row["quantum_s"]
    assert workload(result)["usage_s"] == row["quantum_s"]


def test_a_system_failure_inside_the_overhead_costs_nothing() -> None:
    row = failing("system", 3).jobs.iloc[0]
    assert 0 < row["quantum_s"] < 2.0
    assert row["charged_s"] == 0.0


def test_a_duration_quantum_has_no_overhead_to_charge() -> None:
    # Without the circuit form qsim knows no overhead: a failure is charged what it used.
    row = failing("user", 3, quantum="2.26s").jobs.iloc[0]
    assert 0 < row["quantum_s"] < 2.0
    assert row["charged_s"] == row["quantum_s"]


def _ended(fail_stage: str | None, reason: str | None, run_s: float) -> Job:
    job_ = Job(0, None, 1.0, run_s, 0.0, fail_stage, reason, None)
    job_.reason, job_.end_kind = reason, Kind.JOB_FAILED if reason else Kind.JOB_DONE
    return job_


@pytest.mark.parametrize(("stage", "reason", "run_s", "booked"), [
    ("quantum", "user_error", 0.5, 2.0),  # inside the overhead: the overhead
    ("quantum", "user_error", 2.1, 2.1),  # after it: what it used
    ("quantum", "system_error", 0.5, 0.0),  # a system failure: nothing
    (None, None, 2.26, 2.26),  # done: its quantum time
])
def test_fair_share_books_what_the_log_charges(stage: str | None, reason: str | None,
                                               run_s: float, booked: float) -> None:
    ledger = InstanceLedger([("i", 1.0)], 1e6, None, failure_charge=(2.0,))
    FairShare(ledger, QuantumLock.charged).charge_job(_ended(stage, reason, run_s), 10.0)
    assert ledger.of_workload[0].total == booked

