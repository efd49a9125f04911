"""One backend: execution lanes, a single QPU, the dispatch queue, fair share, calibrations.

Dispatch and the QPU's choice are each run at most once per instant, after everything else of
that instant (see ``clock``). Queued jobs live in one deque per workload: every rule of SPEC
§4 picks among queue heads, so a dispatch costs O(workloads), never O(queue length).

Exclusive session entry (SPEC §3.3, ``session_entry: drain``): when the job that would
activate or re-activate a session is the one dispatched next, the backend commits to it (the
*drain*): it dispatches nothing else until no other job is compiling, waiting for the QPU or
on it and no calibration is running or due, then dispatches that job, which activates the
session. Others' jobs in post-processing finish in their lanes. The drain costs nothing while
no session's job is queued: dispatch then takes the oldest job as before, and no job phase
does any extra bookkeeping for it (whether a job still compiles is read off the clock's heap,
during a drain only).

Calibrations during a drain (SPEC §1: one runs "at the first moment the QPU is free and no
session is active", ahead of waiting user jobs): a session is not active until its job is
dispatched, so a calibration due before or during the drain takes the QPU as soon as it is
free, and the session's job waits for it to end. This holds even when the calibration and
the end of the drain fall in one instant (the last other job leaves the QPU as the
calibration is due, or the session's job is submitted to an idle backend as it falls due):
the calibration goes first, where dispatch-before-QPU (SPEC §11) alone would let the session
in and defer the calibration for the whole session.
"""

from __future__ import annotations

from array import array
from collections import deque
from heapq import heappush
from math import inf as _INF
from typing import TYPE_CHECKING

from qsim.model.clock import END, TIMER, Clock
from qsim.model.jobs import ENDED, QUEUED, RUNNING, Job
from qsim.trace import CONTEXT_CLOSED, SYSTEM_ERROR, Kind, Trace

if TYPE_CHECKING:
    from collections.abc import Mapping

    from qsim.model.modes import Context
    from qsim.scenario import Backend as BackendSpec


class InstanceUsage:
    """Usage of one fair-share instance over a rolling window (entries expire as time moves on).

    The entries are two arrays of floats (times, seconds) read from ``_head`` on: a window of
    28 days holds hundreds of thousands of them, 16 bytes each and nothing for the garbage
    collector to walk (a deque of tuples was ~110 bytes each). ``_oldest`` is the first
    entry's time (inf when there is none), so that ``ratio`` costs one comparison when
    nothing expires. Same additions and subtractions, in the same order, as ever.
    """

    __slots__ = ("share", "window_s", "total", "_times", "_seconds", "_head", "_oldest")

    def __init__(self, share: float, window_s: float) -> None:
        self.share = share
        self.window_s = window_s
        self.total = 0.0
        self._times = array("d")
        self._seconds = array("d")
        self._head = 0
        self._oldest = _INF

    def add(self, t: float, seconds: float) -> None:
        self._times.append(t)
        self._seconds.append(seconds)
        self.total += seconds
        if self._oldest == _INF:
            self._oldest = self._times[self._head]

    def ratio(self, now: float) -> float:
        limit = now - self.window_s
        if self._oldest < limit:
            self._expire(limit)
        return self.total / self.share

    def _expire(self, limit: float) -> None:
        times, seconds, head = self._times, self._seconds, self._head
        end = len(times)
        total = self.total
        while head < end and times[head] < limit:
            total -= seconds[head]
            head += 1
        self.total = total
        if head == end:
            del times[:], seconds[:]
            head = 0
        elif head > 4096 and 2 * head > end:  # drop the expired half (amortised O(1))
            del times[:head], seconds[:head]
            head = 0
        self._head = head
        self._oldest = times[head] if head < len(times) else _INF


# Record kinds as plain ints: the hot path packs them into record codes.
_SUBMIT, _DISPATCH, _READY = int(Kind.JOB_SUBMIT), int(Kind.JOB_DISPATCH), int(Kind.JOB_READY)
_QPU_START, _QPU_END = int(Kind.QPU_START), int(Kind.QPU_END)
_JOB_UNIT = Trace.JOB_UNIT


class Backend:
    """Lanes, QPU and queue. Contexts register themselves; workloads call ``submit``.

    A job's phases are plain calls on the clock's heap, its records two appends of its code:
    this is the path every job takes several times, so it avoids objects it does not need.

    Its attributes are slots: CPython 3.11 keeps an instance's attributes in its fast inline
    storage only while the class has fewer than 30 of them (beyond that every attribute read
    on the hot path takes a slower, hinted dict lookup: +8% instructions per job at 33).
    """

    __slots__ = (
        "env", "trace", "_log_t", "_log_code", "legacy_lock", "fair_share", "drain",
        "lanes_free", "queues", "contexts", "_code_base", "active", "_queue_order",
        "waiting_for_qpu", "queued", "_session_jobs_queued", "_oldest_first", "_entering",
        "_dispatch_on_release", "qpu_busy", "calibration_due", "_calibration_duration",
        "_next_id", "_want_dispatch", "_want_qpu", "_instant_work", "_heap", "_entry_ids",
        "_settle_hook", "_after_compile", "_after_quantum", "_after_post", "_usage",
        "_instance_of",
    )

    def __init__(
        self, env: Clock, trace: Trace, spec: BackendSpec,
        workload_instances: list[tuple[str, float]],
        used_before: Mapping[str, float] | None = None,
    ) -> None:
        self.env = env
        self.trace = trace
        # The record log's two arrays: a record is one append to each.
        self._log_t = trace.t
        self._log_code = trace.code
        self.legacy_lock = spec.job_lock == "all"
        self.fair_share = spec.queue == "fair_share"
        self.drain = spec.session_entry == "drain"
        self.lanes_free = spec.lanes
        self.queues: list[deque[Job]] = [deque() for _ in workload_instances]
        self.contexts: list[Context | None] = [None] * len(workload_instances)
        # Each job's records share its packed fields: the base for its workload, plus its id.
        self._code_base = [Trace.job_code(-1, -1, w) for w in range(len(workload_instances))]
        self.active: Context | None = None  # the one active batch or session, if any
        # Every queued job in queue order, plus jobs that have left their queue since (skipped
        # when they reach the front): the oldest queued job without scanning the queues.
        # Only fifo reads it; under fair share it stays empty (it would hold every job).
        self._queue_order: deque[Job] = deque()
        self.waiting_for_qpu: deque[Job] = deque()  # compiled jobs, in ready order
        self.queued = 0  # jobs in all queues: when 0, a freed lane has nothing to dispatch
        # Exclusive entry (module docstring). The next job is simply the oldest queued one
        # under fifo with no context active, unless a session's job is queued under drain.
        self._session_jobs_queued = 0
        self._oldest_first = not self.fair_share
        self._entering: Context | None = None  # the session whose entry the backend drains for
        # A freed QPU asks for a dispatch: under the legacy lock (a job waits for the QPU to be
        # dispatched) and during a drain (its last job leaving the QPU may end it).
        self._dispatch_on_release = self.legacy_lock
        self.qpu_busy = False
        self.calibration_due: float | None = None
        self._next_id = 0
        self._want_dispatch = False
        self._want_qpu = False
        self._instant_work = False  # a job dispatched now has no compile phase
        self._heap, self._entry_ids = env.heap, env.entry_ids
        # Bound once rather than once per use: these are handed to the clock for every job.
        self._settle_hook = self._settle
        self._after_compile = self._compiled
        self._after_quantum = self._quantum_ended
        self._after_post = self.finish
        self._usage: dict[str, InstanceUsage] = {}
        self._instance_of: list[InstanceUsage] = []
        for name, share in workload_instances:
            if name not in self._usage:
                self._usage[name] = InstanceUsage(share, spec.fair_share_window)
                # An instance's prior use (SPEC §12) counts as usage entered at t = 0.
                if used_before and used_before.get(name):
                    self._usage[name].add(0.0, used_before[name])
            self._instance_of.append(self._usage[name])
        if spec.calibration is not None:
            self._schedule_calibration(spec.calibration.every, spec.calibration.duration, 1)

    def add_context(self, workload: int, context: Context) -> None:
        """The batch or session every job of ``workload`` belongs to."""
        self.contexts[workload] = context
        self._code_base[workload] = Trace.job_code(-1, context.id, workload)

    # ---- submission and the end of a job -------------------------------------------------

    def submit(self, job: Job) -> None:
        job.id = job_id = self._next_id
        self._next_id = job_id + 1
        context = job.context
        job.code = code = self._code_base[job.workload] + (job_id + 1) * _JOB_UNIT
        self._log_t.append(self.env.now)
        self._log_code.append(code | _SUBMIT)
        if context is not None:
            if not context.accepting:
                self.finish(job, Kind.JOB_CANCELLED, CONTEXT_CLOSED)
                return
            context.on_submit()
            if context.exclusive:
                self._session_jobs_queued += 1
                if self.drain:
                    self._oldest_first = False  # its entry may need a drain: look first
        job.state = QUEUED
        self.queues[job.workload].append(job)
        if not self.fair_share:
            self._queue_order.append(job)
        self.queued += 1
        # Else there is nothing to dispatch it to: a freed lane, or the end of a session's
        # window, asks for a dispatch itself (so a queue behind a session costs nothing).
        active = self.active
        if self.lanes_free and (active is None or not active.exclusive or context is active):
            self._want_dispatch = True  # request_dispatch(), written out: once per job
            self.env.settle = self._settle_hook

    def finish(self, job: Job, kind: int = Kind.JOB_DONE, reason: str | None = None) -> None:
        """End ``job`` now with a final status; frees its lane (and the QPU under legacy lock).

        It is also the callback that ends a job's post-processing (hence the defaults)."""
        was_queued = job.state == QUEUED  # not when rejected at submission
        was_running = job.state == RUNNING
        job.state = ENDED
        job.status = _STATUS[kind]
        if reason is None:
            self._log_t.append(self.env.now)
            self._log_code.append(job.code | kind)
        else:
            job.reason = reason
            self.trace.add(self.env.now, Kind(kind), job.id, _cid(job.context), job.workload,
                           reason)
        if was_running:
            self.lanes_free += 1
            if self.legacy_lock:
                self._release_qpu()
            if self.fair_share:
                self._charge_job(job)
            if self.queued:
                self._want_dispatch = True  # request_dispatch(), written out: once per job
                self.env.settle = self._settle_hook
        context = job.context
        if context is not None and (was_running or was_queued):
            context.on_job_end(was_running)
        if job.on_end is not None:
            job.on_end(job)

    def cancel_queued(self, context: Context, reason: str) -> None:
        """Cancel every queued (not yet dispatched) job of ``context``."""
        if context is self._entering:
            self._end_drain()  # nothing left to enter with
        queue = self.queues[context.workload]
        while queue:
            self.queued -= 1
            if context.exclusive:
                self._session_queue_left()
            self.finish(queue.popleft(), Kind.JOB_CANCELLED, reason)

    # ---- dispatch (SPEC §4) ----------------------------------------------------------------

    def request_dispatch(self) -> None:
        self._want_dispatch = True
        self.env.settle = self._settle_hook

    def request_qpu(self) -> None:
        self._want_qpu = True
        self.env.settle = self._settle_hook

    def _settle(self) -> None:
        """Dispatch, then let the QPU choose: once per instant, after everything else.

        Both happen at one point of the instant (they are the last two steps of SPEC §11's
        order) unless a job dispatched here has no compile: it becomes ready at this instant,
        after this call, so the QPU chooses in a second settle once that is done.
        """
        if self._want_dispatch:
            self._want_dispatch = False
            self._instant_work = False
            self._dispatch()
            if self._instant_work and self._want_qpu:
                self.env.settle = self._settle_hook
                return
        if self._want_qpu:
            self._want_qpu = False
            self._choose_for_qpu()

    def _dispatch(self) -> None:
        while self.lanes_free > 0 and self.queued:
            if self.legacy_lock and (self.qpu_busy or self._calibration_may_run()):
                return  # legacy lock: a job takes the QPU at dispatch; a calibration first
            job = self._take_next()
            if job is None:
                return
            self.queued -= 1
            self._start(job)

    def _take_next(self) -> Job | None:
        """Take the job dispatched next (SPEC §4) off its queue; None if none may go."""
        active = self.active
        if active is None and self._oldest_first:
            # Any queue may go: the oldest queued job, which heads its own workload's queue.
            order = self._queue_order
            job = order.popleft()
            while job.state != QUEUED:
                job = order.popleft()
            self.queues[job.workload].popleft()
            return job
        if active is None:
            if self.drain and (self._session_jobs_queued or self._entering is not None):
                return self._next_or_drain()
            if self.fair_share:  # _pick's answer with no context active (and no session
                # queued: _next_or_drain's answer too)
                queue = self._fair_share_pick(None)
                return None if queue is None else queue.popleft()
        queue = self._pick(active)
        return None if queue is None else queue.popleft()

    def _next_or_drain(self) -> Job | None:
        """With no context active and a session's job queued, under drain (SPEC §3.3): the
        next job by §4's order, unless it would activate a session; then the backend drains
        for it, and it is dispatched (None until then) once the backend is quiet."""
        context = self._entering
        if context is None:
            queue = self._fair_share_pick(None) if self.fair_share else self._oldest_queue()
            if queue is None:
                return None
            context = queue[0].context
            if context is None or not context.exclusive:
                return queue.popleft()
            self._entering = context  # committed: nothing else goes before it
            self._dispatch_on_release = True
        if not self._quiet():
            return None
        self._end_drain()
        return self.queues[context.workload].popleft()

    def _quiet(self) -> bool:
        """No job compiling, waiting for the QPU or on it; no calibration running or due."""
        if self.qpu_busy or self.waiting_for_qpu or self.calibration_due is not None:
            return False
        return not self.env.scheduled(self._after_compile)  # read only during a drain

    def _end_drain(self) -> None:
        self._entering = None
        self._dispatch_on_release = self.legacy_lock

    def _oldest_queue(self) -> deque[Job]:
        """The queue of the oldest queued job (there is one: dispatch checks ``queued``)."""
        order = self._queue_order
        while order[0].state != QUEUED:
            order.popleft()
        return self.queues[order[0].workload]

    def _session_queue_left(self) -> None:
        """A session's queued job was dispatched or cancelled."""
        self._session_jobs_queued -= 1
        if not self._session_jobs_queued:
            self._oldest_first = not self.fair_share

    def _pick(self, active: Context | None) -> deque[Job] | None:
        """The queue whose head is dispatched next, with a context active or fair share."""
        if active is not None:
            queue = self.queues[active.workload]
            if queue:
                return queue
            if active.exclusive:
                return None  # a session holds the backend even while it has nothing queued
        if self.fair_share:
            return self._fair_share_pick(active)
        best_queue, best_head = None, -1  # the oldest head among queues outside any context
        for queue, context in zip(self.queues, self.contexts):
            if queue and context is None and (best_head < 0 or queue[0].id < best_head):
                best_queue, best_head = queue, queue[0].id
        return best_queue

    def _fair_share_pick(self, active: Context | None) -> deque[Job] | None:
        """The queue whose instance used least per share, ties to the oldest head."""
        best_queue: deque[Job] | None = None
        best_ratio, best_id = 0.0, 0
        now = self.env.now
        contexts = self.contexts if active is not None else None
        index = -1
        for queue in self.queues:
            index += 1
            if not queue or (contexts is not None and contexts[index] is not None):
                continue
            usage = self._instance_of[index]
            limit = now - usage.window_s  # usage.ratio(now), written out: once per dispatch
            if usage._oldest < limit:
                usage._expire(limit)
            ratio = usage.total / usage.share
            if best_queue is None or ratio < best_ratio or (
                    ratio == best_ratio and queue[0].id < best_id):
                best_queue, best_ratio, best_id = queue, ratio, queue[0].id
        return best_queue

    def _start(self, job: Job) -> None:
        now = self.env.now
        self.lanes_free -= 1
        job.state = RUNNING
        self._log_t.append(now)
        self._log_code.append(job.code | _DISPATCH)
        context = job.context
        if context is not None:
            if context.exclusive:
                self._session_queue_left()
            context.on_dispatch()  # may activate the context
        if self.legacy_lock:
            self.qpu_busy = True
        if job.compile_s == 0:
            self._instant_work = True
        heappush(self._heap, (now + job.compile_s, END, next(self._entry_ids), self._after_compile,
                              job))  # env.call, written out (see Clock)

    def _compiled(self, job: Job) -> None:
        if job.fail_stage == "compile":
            self.finish(job, Kind.JOB_FAILED, job.stop_reason)
            return
        job.ready_at = now = self.env.now
        self._log_t.append(now)
        self._log_code.append(job.code | _READY)
        if self.legacy_lock:
            self._run_quantum(job)  # it holds the QPU since dispatch
            return
        self.waiting_for_qpu.append(job)
        if not self.qpu_busy:  # else the QPU's release asks for a choice itself
            self._want_qpu = True  # request_qpu(), written out: once per job
            self.env.settle = self._settle_hook

    # ---- the QPU ----------------------------------------------------------------------------

    def _choose_for_qpu(self) -> None:
        if self.qpu_busy:
            return
        if self.calibration_due is not None and self._calibration_may_run():
            self._run_calibration()
            return
        waiting = self.waiting_for_qpu
        if not waiting:
            return
        if len(waiting) == 1:
            job = waiting.pop()
        elif self.active is None and waiting[1].ready_at != waiting[0].ready_at:
            job = waiting.popleft()  # first ready
        else:
            job = min(waiting, key=self._qpu_order)
            waiting.remove(job)
        self.qpu_busy = True
        now = self.env.now  # _run_quantum(job), written out: once per job
        self._log_t.append(now)
        self._log_code.append(job.code | _QPU_START)
        heappush(self._heap, (now + job.run_s, END, next(self._entry_ids), self._after_quantum,
                              job))

    def _qpu_order(self, job: Job) -> tuple[int, float, int]:
        # Jobs of the active batch or session first, then first ready, then queue order.
        first = 0 if (job.context is not None and job.context is self.active) else 1
        return first, job.ready_at, job.id

    def _run_quantum(self, job: Job) -> None:
        now = self.env.now
        self._log_t.append(now)
        self._log_code.append(job.code | _QPU_START)
        heappush(self._heap, (now + job.run_s, END, next(self._entry_ids), self._after_quantum,
                              job))  # env.call, written out (see Clock)

    def _quantum_ended(self, job: Job) -> None:
        now = self.env.now
        self._log_t.append(now)
        self._log_code.append(job.code | _QPU_END)
        if not self.legacy_lock:  # (under the legacy lock the job's end releases the QPU)
            self.qpu_busy = False  # _release_qpu(), written out: once per job
            if self.waiting_for_qpu or self.calibration_due is not None:
                self._want_qpu = True
                self.env.settle = self._settle_hook
            if self._dispatch_on_release:
                self._want_dispatch = True
                self.env.settle = self._settle_hook
        if job.stop_reason is not None:
            self.finish(job, Kind.JOB_FAILED, job.stop_reason)
            return
        heappush(self._heap, (now + job.post_s, END, next(self._entry_ids), self._after_post,
                              job))  # env.call, written out (see Clock)

    def _release_qpu(self) -> None:
        self.qpu_busy = False
        if self.waiting_for_qpu or self.calibration_due is not None:
            self.request_qpu()
        if self._dispatch_on_release:
            self.request_dispatch()

    # ---- calibrations (SPEC §1) -------------------------------------------------------------

    def _schedule_calibration(self, every: float, duration: float, k: int) -> None:
        def due(_arg: object) -> None:
            if self.calibration_due is None:  # due times passing while deferred coalesce
                self.calibration_due = self.env.now
            self.request_qpu()
            self._schedule_calibration(every, duration, k + 1)

        self._calibration_duration = duration
        # Due at the multiples of every on the scenario's clock (SPEC §1), whose 0 is
        # env.origin here: after a warm-up the first is the first multiple after its start.
        self.env.call(k * every - (-self.env.origin) % every - self.env.now, TIMER, due)

    def _calibration_may_run(self) -> bool:
        session_active = self.active is not None and self.active.exclusive
        return self.calibration_due is not None and not session_active

    def _run_calibration(self) -> None:
        due, self.calibration_due = self.calibration_due, None
        self.qpu_busy = True
        self.trace.add(self.env.now, Kind.CALIBRATION_START, info=due)
        self.env.call(self._calibration_duration, END, self._calibration_ended)

    def _calibration_ended(self, _arg: object) -> None:
        self.trace.add(self.env.now, Kind.CALIBRATION_END)
        self.qpu_busy = False
        self.request_qpu()
        self.request_dispatch()

    # ---- fair share (SPEC §4, §11) ----------------------------------------------------------

    def _charge_job(self, job: Job) -> None:
        # Job and batch jobs add their charged time when they end; sessions add windows.
        # The job's charged time (charged_seconds: nothing for a system failure; under the
        # legacy lock it held the QPU from dispatch to its end), added as charge_instance
        # would: written out, as this runs once per job.
        context = job.context
        if context is not None and context.exclusive:
            return
        if job.reason == SYSTEM_ERROR:
            used = 0.0
        elif self.legacy_lock:
            used = job.compile_s + job.run_s + (job.post_s if job.status == "done" else 0.0)
        else:
            used = job.run_s
        usage = self._instance_of[job.workload]  # usage.add(now, used), written out
        usage._times.append(self.env.now)
        usage._seconds.append(used)
        usage.total += used
        if usage._oldest == _INF:
            usage._oldest = usage._times[usage._head]

    def charge_instance(self, workload: int, seconds: float) -> None:
        if self.fair_share:
            self._instance_of[workload].add(self.env.now, seconds)


def charged_seconds(reason: str | None, used: float) -> float:
    """Charged quantum time of an ended job (SPEC §6): nothing for a system failure."""
    return 0.0 if reason == SYSTEM_ERROR else used


_STATUS: dict[int, str] = {
    Kind.JOB_DONE: "done", Kind.JOB_FAILED: "failed", Kind.JOB_CANCELLED: "cancelled"}


def _cid(context: Context | None) -> int:
    return -1 if context is None else context.id
