"""A job's static description and its life-cycle state, shared by backend, modes and workloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qsim.records.log import RAN_TOO_LONG, Kind

if TYPE_CHECKING:
    from qsim.model.modes import Context


NEW, QUEUED, RUNNING, ENDED = 0, 1, 2, 3  # NEW: not (yet) accepted by the backend
#: Submitted but not yet eligible for dispatch: a usage limit holds it (SPEC §19), or its
#: stream's ``hold`` (§17).
HELD = 4

#: A job's final status, by the kind of the record that ended it.
_STATUS: dict[int, str] = {
    Kind.JOB_DONE: "done", Kind.JOB_FAILED: "failed", Kind.JOB_CANCELLED: "cancelled"}


class Job:
    """One primitive request. Durations are drawn at submission, in submission order.

    A plain class with slots and a hand-written ``__init__`` rather than a dataclass: a job is
    made once per submission (a million times in a long run), so its constructor takes and
    stores only what its workload knows. What the backend learns later is stored where it
    first becomes known, and is not there before: ``id`` and ``code`` at submission,
    ``ready_at`` when compile ends, ``end_kind`` (the record kind that ended it, of which
    ``status`` is the name) when the job ends. A slot never stored raises ``AttributeError``
    when read, as a job's id read before it is submitted should.
    """

    __slots__ = ("workload", "context", "compile_s", "run_s", "post_s", "fail_stage",
                 "stop_reason", "on_end", "attempt", "state", "reason",
                 "id", "code", "ready_at", "end_kind")

    workload: int  # index of the workload in the scenario
    context: Context | None
    compile_s: float
    run_s: float  # how long the quantum phase runs (see quantum_run)
    post_s: float
    fail_stage: str | None  # None, "compile" or "quantum"
    stop_reason: str | None  # why compile or the quantum phase ends the job (None: it goes on)
    on_end: Callable[[Job], None] | None  # called when the job has a final status
    attempt: int  # 0 for the first submission, k for the k-th retry
    state: int  # NEW until the backend accepts it (a job rejected at submission stays NEW)
    reason: str | None  # why it ended (None: done), set with its status
    # Set by the backend, not by the constructor:
    id: int  # queue order, at submission
    code: int  # the job's packed record fields (Trace.job_code), at submission
    ready_at: float  # when compile ended (QPU order is first-ready first)
    end_kind: int  # the record kind that ended it (its status), when it ends

    def __init__(self, workload: int, context: Context | None, compile_s: float,
                 run_s: float, post_s: float, fail_stage: str | None = None,
                 stop_reason: str | None = None, on_end: Callable[[Job], None] | None = None,
                 attempt: int = 0) -> None:
        self.workload = workload
        self.context = context
        self.compile_s = compile_s
        self.run_s = run_s
        self.post_s = post_s
        self.fail_stage = fail_stage
        self.stop_reason = stop_reason
        self.on_end = on_end
        self.attempt = attempt
        self.state = NEW
        self.reason = None

    @property
    def status(self) -> str:
        """Final: done, failed or cancelled, once it has ended."""
        return _STATUS[self.end_kind]

    def __repr__(self) -> str:
        return (f"Job(id={getattr(self, 'id', None)}, workload={self.workload}, "
                f"state={self.state}, status={_STATUS.get(getattr(self, 'end_kind', -1))!r})")


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
