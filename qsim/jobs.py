"""A job's static description and its life-cycle state, shared by backend, modes and workloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from qsim.modes import Context

# Reasons recorded with job.failed / job.cancelled (the `reason` column of the jobs table).
SYSTEM_ERROR = "system_error"
USER_ERROR = "user_error"
RAN_TOO_LONG = "ran_too_long"
CONTEXT_CLOSED = "context_closed"  # submitted to a closed batch or session
MAX_TIME = "max_time"  # queued when the context's max TTL expired
CANCELLED = "cancelled"  # queued when the context was cancelled (cancel_at)

QUEUED, RUNNING, ENDED = 0, 1, 2


@dataclass(slots=True, eq=False)
class Job:
    """One primitive request. Durations are drawn at submission, in submission order."""

    workload: int  # index of the workload in the scenario
    context: Context | None
    compile_s: float
    quantum_s: float
    post_s: float
    cap_s: float  # max_execution_time
    fail_stage: str | None  # None, "compile" or "quantum"
    fail_reason: str | None  # SYSTEM_ERROR or USER_ERROR when fail_stage is set
    fail_fraction: float  # where in the quantum phase a quantum-stage failure strikes
    on_end: Callable[[Job], None]
    attempt: int = 0  # 0 for the first submission, k for the k-th retry
    id: int = -1  # queue order, assigned by the backend at submission
    state: int = QUEUED
    ready_at: float = 0.0  # when compile ended (QPU order is first-ready first)
    status: str = ""  # final: done, failed, cancelled, incomplete
    reason: str | None = None

    def quantum_run(self) -> tuple[float, str | None]:
        """Seconds the quantum phase runs and why it stops early (None: it completes)."""
        run, reason = self.quantum_s, None
        if self.fail_stage == "quantum":
            run, reason = self.quantum_s * self.fail_fraction, self.fail_reason
        if run >= self.cap_s and self.quantum_s > self.cap_s:
            run, reason = self.cap_s, RAN_TOO_LONG
        return run, reason
