"""One backend: execution lanes, a single QPU, the dispatch queue, fair share, calibrations.

Dispatch and the QPU's choice are each run at most once per instant, after everything else of
that instant (see ``clock``). Queued jobs live in one deque per workload: every rule of SPEC
§4 picks among queue heads, so a dispatch costs O(workloads), never O(queue length).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable

import simpy

from qsim.clock import DISPATCH, END, QPU, TIMER, At
from qsim.jobs import CONTEXT_CLOSED, ENDED, RUNNING, SYSTEM_ERROR, Job
from qsim.trace import Kind, Trace

if TYPE_CHECKING:
    from qsim.modes import Context
    from qsim.scenario import Backend as BackendSpec


class InstanceUsage:
    """Usage of one fair-share instance over a rolling window (entries expire as time moves on)."""

    def __init__(self, share: float, window_s: float) -> None:
        self.share = share
        self.window_s = window_s
        self.total = 0.0
        self._entries: deque[tuple[float, float]] = deque()

    def add(self, t: float, seconds: float) -> None:
        self._entries.append((t, seconds))
        self.total += seconds

    def ratio(self, now: float) -> float:
        entries = self._entries
        while entries and entries[0][0] < now - self.window_s:
            self.total -= entries.popleft()[1]
        return self.total / self.share


class Backend:
    """Lanes, QPU and queue. Contexts register themselves; workloads call ``submit``."""

    def __init__(
        self, env: simpy.Environment, trace: Trace, spec: BackendSpec,
        workload_instances: list[tuple[str, float]],
    ) -> None:
        self.env = env
        self.trace = trace
        self.legacy_lock = spec.job_lock == "all"
        self.fair_share = spec.queue == "fair_share"
        self.lanes_free = spec.lanes
        self.queues: list[deque[Job]] = [deque() for _ in workload_instances]
        self.contexts: list[Context | None] = [None] * len(workload_instances)
        self.active: Context | None = None  # the one active batch or session, if any
        self.live: dict[int, Job] = {}  # submitted and not ended, in queue order
        self.waiting_for_qpu: list[Job] = []  # compiled jobs; at most `lanes` of them
        self.queued = 0  # jobs in all queues: when 0, a freed lane has nothing to dispatch
        self.qpu_busy = False
        self.calibration_due: float | None = None
        self._next_id = 0
        self._settle_pending = False  # a settle event is scheduled for this instant
        self._want_dispatch = False
        self._want_qpu = False
        self._instant_work = False  # a job dispatched now has no compile phase
        self._usage: dict[str, InstanceUsage] = {}
        self._instance_of: list[InstanceUsage] = []
        for name, share in workload_instances:
            usage = self._usage.setdefault(name, InstanceUsage(share, spec.fair_share_window))
            self._instance_of.append(usage)
        if spec.calibration is not None:
            self._schedule_calibration(spec.calibration.every, spec.calibration.duration, 1)

    # ---- submission and the end of a job -------------------------------------------------

    def submit(self, job: Job) -> None:
        job.id = self._next_id
        self._next_id += 1
        context = job.context
        self.trace.add(self.env.now, Kind.JOB_SUBMIT, job.id, _cid(context), job.workload)
        if context is not None and not context.accepting:
            self.finish(job, Kind.JOB_CANCELLED, CONTEXT_CLOSED)
            return
        self.live[job.id] = job
        self.queues[job.workload].append(job)
        self.queued += 1
        if context is not None:
            context.on_submit()
        if self.lanes_free:  # else the next freed lane asks for a dispatch itself
            self.request_dispatch()

    def finish(self, job: Job, kind: Kind, reason: str | None = None) -> None:
        """End ``job`` now with a final status; frees its lane (and the QPU under legacy lock)."""
        was_running = job.state == RUNNING
        job.state = ENDED
        job.status = _STATUS[kind]
        job.reason = reason
        counted = self.live.pop(job.id, None) is not None  # False: rejected at submission
        self.trace.add(self.env.now, kind, job.id, _cid(job.context), job.workload, reason)
        if was_running:
            self.lanes_free += 1
            if self.legacy_lock:
                self._release_qpu()
            self._charge_job(job, reason)
            if self.queued:
                self.request_dispatch()
        if counted and job.context is not None:
            job.context.on_job_end(was_running)
        job.on_end(job)

    def cancel_queued(self, context: Context, reason: str) -> None:
        """Cancel every queued (not yet dispatched) job of ``context``."""
        queue = self.queues[context.workload]
        while queue:
            self.queued -= 1
            self.finish(queue.popleft(), Kind.JOB_CANCELLED, reason)

    # ---- dispatch (SPEC §4) ----------------------------------------------------------------

    def request_dispatch(self) -> None:
        self._want_dispatch = True
        self._settle_soon(DISPATCH)

    def request_qpu(self) -> None:
        self._want_qpu = True
        self._settle_soon(DISPATCH)

    def _settle_soon(self, priority: int) -> None:
        if not self._settle_pending:
            self._settle_pending = True
            At(self.env, 0, priority, self._settle)

    def _settle(self, _event: object) -> None:
        """Dispatch, then let the QPU choose: once per instant, after everything else.

        One event does both (they are the last two steps of SPEC §11's order) unless a job
        dispatched here has no compile: it becomes ready at this instant, after this event,
        so the QPU must choose in a later event of the same instant.
        """
        self._settle_pending = False
        self._instant_work = False
        if self._want_dispatch:
            self._want_dispatch = False
            self._dispatch()
        if not self._want_qpu:
            return
        if self._instant_work:
            self._settle_soon(QPU)
            return
        self._want_qpu = False
        self._choose_for_qpu()

    def _dispatch(self) -> None:
        while self.lanes_free > 0 and self._qpu_allows_dispatch():
            job = self._pick()
            if job is None:
                return
            self._start(job)

    def _qpu_allows_dispatch(self) -> bool:
        if not self.legacy_lock:
            return True
        # Legacy lock: a job takes the QPU at dispatch; a due calibration goes first.
        return not self.qpu_busy and not self._calibration_may_run()

    def _pick(self) -> Job | None:
        active = self.active
        if active is not None:
            queue = self.queues[active.workload]
            if queue:
                self.queued -= 1
                return queue.popleft()
            if active.exclusive:
                return None  # a session holds the backend even while it has nothing queued
        best_queue: deque[Job] | None = None
        best_key: tuple[float, int] | None = None
        now = self.env.now
        for index, queue in enumerate(self.queues):
            if not queue:
                continue
            if active is not None and self.contexts[index] is not None:
                continue  # one batch at a time: no other batch or session (re)starts
            head = queue[0].id
            key = (self._instance_of[index].ratio(now) if self.fair_share else 0.0, head)
            if best_key is None or key < best_key:
                best_queue, best_key = queue, key
        if best_queue is None:
            return None
        self.queued -= 1
        return best_queue.popleft()

    def _start(self, job: Job) -> None:
        now = self.env.now
        self.lanes_free -= 1
        job.state = RUNNING
        context = job.context
        self.trace.add(now, Kind.JOB_DISPATCH, job.id, _cid(context), job.workload)
        if context is not None:
            context.on_dispatch()  # may activate the context
        if self.legacy_lock:
            self.qpu_busy = True
        if job.compile_s == 0:
            self._instant_work = True
        At(self.env, job.compile_s, END, lambda _e: self._compiled(job))

    def _compiled(self, job: Job) -> None:
        if job.fail_stage == "compile":
            self.finish(job, Kind.JOB_FAILED, job.fail_reason)
            return
        job.ready_at = self.env.now
        self.trace.add(job.ready_at, Kind.JOB_READY, job.id, _cid(job.context), job.workload)
        if self.legacy_lock:
            self._run_quantum(job)  # it holds the QPU since dispatch
            return
        self.waiting_for_qpu.append(job)
        if not self.qpu_busy:  # else the QPU's release asks for a choice itself
            self.request_qpu()

    # ---- the QPU ----------------------------------------------------------------------------

    def _choose_for_qpu(self) -> None:
        if self.qpu_busy:
            return
        if self._calibration_may_run():
            self._run_calibration()
            return
        if not self.waiting_for_qpu:
            return
        job = min(self.waiting_for_qpu, key=self._qpu_order)
        self.waiting_for_qpu.remove(job)
        self.qpu_busy = True
        self._run_quantum(job)

    def _qpu_order(self, job: Job) -> tuple[int, float, int]:
        # Jobs of the active batch or session first, then first ready, then queue order.
        first = 0 if (job.context is not None and job.context is self.active) else 1
        return first, job.ready_at, job.id

    def _run_quantum(self, job: Job) -> None:
        self.trace.add(self.env.now, Kind.QPU_START, job.id, _cid(job.context), job.workload)
        run, reason = job.quantum_run()
        At(self.env, run, END, lambda _e: self._quantum_ended(job, reason))

    def _quantum_ended(self, job: Job, reason: str | None) -> None:
        self.trace.add(self.env.now, Kind.QPU_END, job.id, _cid(job.context), job.workload)
        if not self.legacy_lock:
            self._release_qpu()
        if reason is not None:
            self.finish(job, Kind.JOB_FAILED, reason)
            return
        At(self.env, job.post_s, END, lambda _e: self.finish(job, Kind.JOB_DONE))

    def _release_qpu(self) -> None:
        self.qpu_busy = False
        if self.waiting_for_qpu or self.calibration_due is not None:
            self.request_qpu()
        if self.legacy_lock:
            self.request_dispatch()

    # ---- calibrations (SPEC §1) -------------------------------------------------------------

    def _schedule_calibration(self, every: float, duration: float, k: int) -> None:
        def due(_event: object) -> None:
            if self.calibration_due is None:  # due times passing while deferred coalesce
                self.calibration_due = self.env.now
            self.request_qpu()
            self._schedule_calibration(every, duration, k + 1)

        self._calibration_duration = duration
        At(self.env, k * every - self.env.now, TIMER, due)

    def _calibration_may_run(self) -> bool:
        session_active = self.active is not None and self.active.exclusive
        return self.calibration_due is not None and not session_active

    def _run_calibration(self) -> None:
        due, self.calibration_due = self.calibration_due, None
        self.qpu_busy = True
        self.trace.add(self.env.now, Kind.CALIBRATION_START, info=due)

        def ended(_event: object) -> None:
            self.trace.add(self.env.now, Kind.CALIBRATION_END)
            self.qpu_busy = False
            self.request_qpu()
            self.request_dispatch()

        At(self.env, self._calibration_duration, END, ended)

    # ---- fair share (SPEC §4, §11) ----------------------------------------------------------

    def _charge_job(self, job: Job, reason: str | None) -> None:
        # Job and batch jobs add their charged time when they end; sessions add windows.
        if not self.fair_share or (job.context is not None and job.context.exclusive):
            return
        self.charge_instance(job.workload, charged_seconds(reason, self._job_spans(job)))

    def charge_instance(self, workload: int, seconds: float) -> None:
        if self.fair_share:
            self._instance_of[workload].add(self.env.now, seconds)

    def _job_spans(self, job: Job) -> float:
        run, _ = job.quantum_run()
        if job.fail_stage == "compile":
            run = 0.0
        if self.legacy_lock:
            return job.compile_s + run + (job.post_s if job.status == "done" else 0.0)
        return run


def charged_seconds(reason: str | None, used: float) -> float:
    """Charged quantum time of an ended job (SPEC §6): nothing for a system failure."""
    return 0.0 if reason == SYSTEM_ERROR else used


_STATUS = {Kind.JOB_DONE: "done", Kind.JOB_FAILED: "failed", Kind.JOB_CANCELLED: "cancelled"}


def _cid(context: Context | None) -> int:
    return -1 if context is None else context.id
