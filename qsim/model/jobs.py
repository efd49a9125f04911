"""A job's static description and its life-cycle state, shared by backend, modes and workloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qsim.records.log import RAN_TOO_LONG

if TYPE_CHECKING:
    from qsim.model.modes import Context


NEW, QUEUED, RUNNING, ENDED = 0, 1, 2, 3  # NEW: not (yet) accepted by the backend
#: Submitted but not yet eligible for dispatch: a usage limit holds it (SPEC §19), or its
#: stream's ``hold`` (§17).
HELD = 4


@dataclass(slots=True, eq=False)
class Job:
    """One primitive request. Durations are drawn at submission, in submission order."""

    workload: int  # index of the workload in the scenario
    context: Context | None
    compile_s: float
    run_s: float  # how long the quantum phase runs (see quantum_run)
    post_s: float
    fail_stage: str | None  # None, "compile" or "quantum"
    stop_reason: str | None  # why compile or the quantum phase ends the job (None: it goes on)
    on_end: Callable[[Job], None] | None  # called when the job has a final status
    attempt: int = 0  # 0 for the first submission, k for the k-th retry
    id: int = -1  # queue order, assigned by the backend at submission
    code: int = 0  # the job's packed record fields (Trace.job_code), set at submission
    state: int = NEW
    ready_at: float = 0.0  # when compile ended (QPU order is first-ready first)
    status: str = ""  # final: done, failed, cancelled, incomplete
    reason: str | None = None


def quantum_run(quantum_s: float, cap_s: float, fail_stage: str | None,
                fail_reason: str | None, fail_fraction: float) -> tuple[float, str | None]:
    """Seconds the quantum phase runs and why it stops early (None: it completes).

    A quantum-stage failure strikes ``fail_fraction`` of the way through; the job's
    ``max_execution_time`` (``cap_s``) stops it first if it would run longer.
    """
    run, reason = quantum_s, None
    if fail_stage == "quantum":
        run, reason = quantum_s * fail_fraction, fail_reason
    if run >= cap_s and quantum_s > cap_s:
        run, reason = cap_s, RAN_TOO_LONG
    return run, reason
