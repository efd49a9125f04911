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

The plain stretch (issue 32): most of a long run is background jobs with nothing else due at
their instants. A heap entry that would ask for a settle and is the last of its instant (no
settle asked for yet, the heap's next entry later, no outage) makes the dispatch or the QPU's
choice itself, as the settle would right after it: a background arrival whose job finds a free
lane and every queue empty with no context active (``submit_last``: the job skips the
queue; under fair share it moves its instance's usage window as the pick would), a compile
end that finds the QPU free and no job or calibration waiting for it, a QPU release with jobs
waiting, a background job's end with jobs queued. The same records in the
same order, the same heap entries; only the settle and its bookkeeping are skipped.
tests/test_timelines_plain.py holds the instants where something else is due.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from heapq import heappush
from typing import TYPE_CHECKING

from qsim.model.clock import END, TIMER, Clock
from qsim.model.jobs import ENDED, HELD, QUEUED, RUNNING, Job
from qsim.model.rules import (
    QPU_LOCKS,
    QPU_ORDERS,
    SESSION_ENTRIES,
    InstanceLedger,
    QpuLock,
    QueuePolicy,
    queue_policy,
)
from qsim.records.log import CONTEXT_CLOSED, TAIL_JOBS, Kind, Trace

if TYPE_CHECKING:
    from collections.abc import Callable

    from qsim.input.scenario import Backend as BackendSpec
    from qsim.model.modes import Context
    from qsim.model.rules import JobBooker


# Record kinds as plain ints: the hot path packs them into record codes.
_SUBMIT, _DISPATCH, _READY = int(Kind.JOB_SUBMIT), int(Kind.JOB_DISPATCH), int(Kind.JOB_READY)
_QPU_START, _QPU_END = int(Kind.QPU_START), int(Kind.QPU_END)
_JOB_UNIT = Trace.JOB_UNIT
# The log's tails are packed when a job whose id is a multiple of TAIL_JOBS is submitted or
# ends (ends alone, or submissions alone, can go on for hours: a backlog, an outage).
_TAIL_MASK = TAIL_JOBS - 1


class Backend:
    """Lanes, QPU and queue. Contexts register themselves; workloads call ``submit``.

    A job's phases are plain calls on the clock's heap, its records two appends of its code:
    this is the path every job takes several times, so it avoids objects it does not need.

    Its attributes are slots: CPython 3.11 keeps an instance's attributes in its fast inline
    storage only while the class has fewer than 30 of them (beyond that every attribute read
    on the hot path takes a slower, hinted dict lookup: +8% instructions per job at 33).
    """

    __slots__ = (
        "env", "trace", "_log_t", "_log_code", "policy", "entry", "lock", "legacy_lock",
        "_keeps_order", "_charges_jobs", "_job_booker", "drain",
        "lanes_free", "queues", "contexts", "_code_base", "active", "_queue_order",
        "waiting_for_qpu", "queued", "_session_jobs_queued", "_oldest_first",
        "_dispatch_on_release", "qpu_busy", "calibration_due", "_calibration_duration",
        "_want_dispatch", "_want_qpu", "_instant_work", "_heap", "_end_keys",
        "_settle_hook", "_after_compile", "_after_quantum", "_after_post",
        "in_outage", "_legacy_quantum", "_held_quantum", "_run_hook", "index",
        "_qpu_order",
    )

    def __init__(self, env: Clock, trace: Trace, spec: BackendSpec, workloads: int,
                 ledger: InstanceLedger) -> None:
        self.env = env
        self.trace = trace
        # The record log's two tails: a record is one append to each.
        self._log_t = trace.t_tail
        self._log_code = trace.code_tail
        # The rules (qsim.model.rules), chosen once; their constant answers are read here
        # once, as plain attributes, where the per-job path needs them.
        self.lock: QpuLock = QPU_LOCKS[spec.job_lock]()
        self.policy: QueuePolicy = queue_policy(spec.queue, ledger, self.lock)
        self.entry = SESSION_ENTRIES[spec.session_entry]()
        # Which waiting job the free QPU takes (SPEC §1, §19: qpu_order), as the key of a min:
        # only read when more than one job waits and the first ready is not plainly first.
        self._qpu_order = QPU_ORDERS[spec.qpu_order].key_for(self)
        self.legacy_lock = self.lock.whole_job
        self._keeps_order = self.policy.keeps_order
        self._charges_jobs = self.policy.charges_jobs
        # What books an ended job's usage (when ``_charges_jobs``, its ``charge_job``): the
        # policy, unless a subclass books elsewhere too. The object, not its bound method:
        # a method of an object's class is a specialised call in Python 3.11, a bound
        # method in a slot is not (nor is a local read of it free: a frame's slot more).
        self._job_booker: JobBooker = self.policy
        self.drain = self.entry.drains
        self.lanes_free = spec.lanes
        self.queues: list[deque[Job]] = [deque() for _ in range(workloads)]
        self.contexts: list[Context | None] = [None] * workloads
        # Each job's records share its packed fields: the base for its workload, plus its id.
        self._code_base = [Trace.job_code(-1, -1, w) for w in range(workloads)]
        self.active: Context | None = None  # the one active batch or session, if any
        # Every queued job in queue order, plus jobs that have left their queue since (skipped
        # when they reach the front): the oldest queued job without scanning the queues.
        # Only a policy that keeps order reads it; else it stays empty (it would hold every
        # job).
        self._queue_order: deque[Job] = deque()
        self.waiting_for_qpu: deque[Job] = deque()  # compiled jobs, in ready order
        self.queued = 0  # jobs in all queues: when 0, a freed lane has nothing to dispatch
        # Exclusive entry (module docstring). The next job is simply the oldest queued one
        # under fifo with no context active, unless a session's job is queued under drain.
        self._session_jobs_queued = 0
        self._oldest_first = self._keeps_order
        # A freed QPU asks for a dispatch: under the legacy lock (a job waits for the QPU to be
        # dispatched) and during a drain (its last job leaving the QPU may end it).
        self._dispatch_on_release = self.legacy_lock
        self.qpu_busy = False
        self.calibration_due: float | None = None
        self._want_dispatch = False
        self._want_qpu = False
        self._instant_work = False  # a job dispatched now has no compile phase
        self._heap, self._end_keys = env.heap, env.keys(END)
        # Bound once rather than once per use: these are handed to the clock for every job.
        self._settle_hook = self._run_hook = self._settle
        self.index = 0  # its place in the scenario's backends (SPEC §18)
        self._after_compile = self._compiled
        self._after_quantum = self._quantum_ended
        self._after_post = self.finish
        # Outages (SPEC §16): while one lasts, the settle hook holds every dispatch and QPU
        # choice (``pause``), so a backend that never has one pays nothing for them.
        self.in_outage = False
        # Under the legacy lock, what starts a compiled job's quantum phase: held in a list
        # during an outage.
        self._legacy_quantum: Callable[[Job], None] = self._run_quantum
        self._held_quantum: list[Job] = []
        if spec.calibration is not None:
            self._schedule_calibration(spec.calibration.every, spec.calibration.duration, 1)

    def add_context(self, workload: int, context: Context) -> None:
        """The batch or session every job of ``workload`` belongs to."""
        self.contexts[workload] = context
        self._code_base[workload] = Trace.job_code(-1, context.id, workload)

    def jobs_submitted(self) -> int:
        """Jobs submitted so far, on every backend (ids are given in submission order)."""
        return self.trace.jobs

    # ---- submission and the end of a job -------------------------------------------------

    def submit(self, job: Job) -> None:
        trace = self.trace  # it counts the jobs: one id sequence for all the backends
        job.id = job_id = trace.jobs
        trace.jobs = job_id + 1
        if not job_id & _TAIL_MASK:
            trace.pack()
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
        if self._keeps_order:
            self._queue_order.append(job)
        self.queued += 1
        # Else there is nothing to dispatch it to: a freed lane, or the end of a session's
        # window, asks for a dispatch itself (so a queue behind a session costs nothing).
        active = self.active
        if self.lanes_free and (active is None or not active.exclusive or context is active):
            self._want_dispatch = True  # request_dispatch(), written out: once per job
            self.env.settle = self._settle_hook

    def submit_last(self, job: Job) -> None:
        """``submit`` for a job with no context, as the last act of its caller's heap entry
        (a background arrival, its next arrival already pushed): when the instant is
        otherwise over (the module docstring's plain stretch), the dispatch this instant's
        settle would make, made now, without queueing the job. With every queue empty (and
        so no session's job queued) that dispatch takes this job under any queue policy."""
        env = self.env
        heap = self._heap
        if (self.queued or not self.lanes_free or self.active is not None
                or self.in_outage or self.legacy_lock
                or env.settle is not None
                or (heap and heap[0][0] <= env.now)):
            self.submit(job)
            return
        trace = self.trace
        job.id = job_id = trace.jobs
        trace.jobs = job_id + 1
        if not job_id & _TAIL_MASK:
            trace.pack()
        job.code = code = self._code_base[job.workload] + (job_id + 1) * _JOB_UNIT
        self._log_t.append(env.now)
        self._log_code.append(code | _SUBMIT)
        if self._charges_jobs:
            # Its queue would be the only one the policy's pick looks at: what the pick does
            # to that queue's instance (its window moved up to now), done here.
            self.policy.look_at(job.workload, env.now)
        self._start(job)

    def finish(self, job: Job, kind: int = Kind.JOB_DONE, reason: str | None = None) -> None:
        """End ``job`` now with a final status; frees its lane (and the QPU under legacy lock).

        It is also the callback that ends a job's post-processing (hence the defaults)."""
        # Compared where it is tested (``if state == ...``), not kept in flags: CPython 3.11
        # specialises only an int compare that a jump consumes, and this runs once per job.
        state = job.state  # QUEUED, RUNNING, HELD, or NEW when rejected at submission
        job.state = ENDED
        job.end_kind = kind
        if not job.id & _TAIL_MASK:
            self.trace.pack()
        if reason is None:
            self._log_t.append(self.env.now)
            self._log_code.append(job.code | kind)
        else:
            job.reason = reason
            self.trace.add(self.env.now, Kind(kind), job.id, _cid(job.context), job.workload,
                           reason)
        if state == RUNNING:
            self.lanes_free += 1
            if self.legacy_lock:
                self._release_qpu()
            if self._charges_jobs:
                self._job_booker.charge_job(job, self.env.now)
            if self.queued:
                env = self.env
                if (reason is None and job.on_end is None and job.context is None
                        and env.settle is None and not self.in_outage
                        and (not self._heap or self._heap[0][0] > env.now)):
                    # A background job's post end, alone in its instant: the settle's
                    # dispatch, made now (no context and no on_end: nothing follows here).
                    self._dispatch()
                    return
                self._want_dispatch = True  # request_dispatch(), written out: once per job
                env.settle = self._settle_hook
        context = job.context
        if context is not None and state in (RUNNING, QUEUED):
            context.on_job_end(state == RUNNING)
        if job.on_end is not None:
            job.on_end(job)

    def cancel_queued(self, context: Context, reason: str) -> None:
        """Cancel every queued (not yet dispatched) job of ``context``."""
        if context is self.entry.entering:
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
            if self.drain and (self._session_jobs_queued or self.entry.entering is not None):
                return self._next_or_drain()
            if not self._keeps_order:  # the policy's answer with no context active (and no
                # session queued: _next_or_drain's answer too)
                queue = self.policy.pick(self.queues, self.contexts, False, self.env.now)
                return None if queue is None else queue.popleft()
        queue = self._pick(active)
        return None if queue is None else queue.popleft()

    def _next_or_drain(self) -> Job | None:
        """With no context active and a session's job queued, under drain (SPEC §3.3): the
        next job by §4's order, unless it would activate a session; then the backend drains
        for it, and it is dispatched (None until then) once the backend is quiet."""
        entry = self.entry
        context = entry.entering
        if context is None:
            queue = self._oldest_queue() if self._keeps_order else self.policy.pick(
                self.queues, self.contexts, False, self.env.now)
            if queue is None:
                return None
            context = queue[0].context
            if context is None or not context.exclusive:
                return queue.popleft()
            entry.entering = context  # committed: nothing else goes before it
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
        self.entry.entering = None
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
            self._oldest_first = self._keeps_order

    def _pick(self, active: Context | None) -> deque[Job] | None:
        """The queue whose head is dispatched next, with a context active or fair share."""
        if active is not None:
            queue = self.queues[active.workload]
            if queue:
                return queue
            if active.exclusive:
                return None  # a session holds the backend even while it has nothing queued
        return self.policy.pick(self.queues, self.contexts, active is not None, self.env.now)

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
        if job.compile_s == 0.0:  # (a float: float == int is a slow compare)
            self._instant_work = True
        heappush(self._heap, (now + job.compile_s, next(self._end_keys), self._after_compile,
                              job))  # env.call, written out (see Clock)

    def _compiled(self, job: Job) -> None:
        # ``is not None`` first: most jobs never fail, and None == str is a slow compare.
        if job.fail_stage is not None and job.fail_stage == "compile":
            self.finish(job, Kind.JOB_FAILED, job.stop_reason)
            return
        job.ready_at = now = self.env.now
        self._log_t.append(now)
        self._log_code.append(job.code | _READY)
        if self.legacy_lock:
            self._legacy_quantum(job)  # it holds the QPU since dispatch
            return
        if not self.qpu_busy and not self.waiting_for_qpu and self.env.settle is None \
                and self.calibration_due is None and not self.in_outage \
                and (not self._heap or self._heap[0][0] > now):
            self._log_t.append(now)  # alone in its instant: the QPU's choice, made now
            self._log_code.append(job.code | _QPU_START)
            self.qpu_busy = True
            heappush(self._heap, (now + job.run_s, next(self._end_keys), self._after_quantum, job))
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
        heappush(self._heap, (now + job.run_s, next(self._end_keys), self._after_quantum,
                              job))

    def _run_quantum(self, job: Job) -> None:
        now = self.env.now
        self._log_t.append(now)
        self._log_code.append(job.code | _QPU_START)
        heappush(self._heap, (now + job.run_s, next(self._end_keys), self._after_quantum,
                              job))  # env.call, written out (see Clock)

    def _quantum_ended(self, job: Job) -> None:
        env = self.env
        now = env.now
        alone = env.settle is None
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
        heap = self._heap
        heappush(heap, (now + job.post_s, next(self._end_keys), self._after_post,
                        job))  # env.call, written out (see Clock)
        if (alone and self._want_qpu and not self._want_dispatch and not self.in_outage
                and heap[0][0] > now):
            env.settle = None  # alone in its instant: the QPU's choice, made now
            self._want_qpu = False
            self._choose_for_qpu()

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
        self.log(Kind.CALIBRATION_START, due)
        self.env.call(self._calibration_duration, END, self._calibration_ended)

    def _calibration_ended(self, _arg: object) -> None:
        self.log(Kind.CALIBRATION_END)
        self.qpu_busy = False
        self.request_qpu()
        self.request_dispatch()

    # ---- outages (SPEC §16; when they come is qsim.model.availability's) ----------------------

    def pause(self) -> None:
        """An outage begins: no dispatch and no QPU start until ``resume`` (what runs finishes
        its phase); the active batch or session goes inactive once none of its jobs is on
        the QPU."""
        self.in_outage = True
        self._hold_settle()
        self._legacy_quantum = self._held_quantum.append
        active = self.active
        if active is None:
            return
        on_qpu = self.env.pending(self._after_quantum)
        if on_qpu is not None and on_qpu[3].context is active:
            # Inactive right after that phase ends: a call at its time and rank, pushed after
            # it, so it runs after it (SPEC §16: "as soon as its jobs on the QPU have ended").
            heappush(self._heap, (on_qpu[0], next(self._end_keys), self._suspend, active))
        else:
            active.suspend()

    def fail_on_qpu(self, reason: str) -> None:
        """A ``down`` outage: the job in its quantum phase fails now, charged nothing."""
        entry = self.env.pending(self._after_quantum)
        if entry is None:
            return
        self.env.revoke(entry)
        job: Job = entry[3]
        self.trace.add(self.env.now, Kind.QPU_END, job.id, _cid(job.context), job.workload)
        if not self.legacy_lock:  # (under the legacy lock the job's end releases the QPU)
            self.qpu_busy = False
        self.finish(job, Kind.JOB_FAILED, reason)
        if self.in_outage and job.context is not None:
            self._suspend(job.context)  # a down within a pause: its job has left the QPU

    def resume(self) -> None:
        """The outage is over: dispatch and the QPU's choice as at any instant."""
        self.in_outage = False
        self._settle_hook = self._run_hook
        self._legacy_quantum = self._run_quantum
        held, self._held_quantum = self._held_quantum, []
        for job in held:
            self._run_quantum(job)
        self.request_dispatch()
        self.request_qpu()

    def _hold_settle(self) -> None:
        """An outage: what this instant asked for, and what is asked until ``resume``,
        waits for it (the settle hook does nothing meanwhile)."""
        self.env.withdraw(self._settle_hook)
        self._settle_hook = self._hold

    def _hold(self) -> None:
        """The settle hook during an outage: what was asked for waits for ``resume``."""

    def log(self, kind: Kind, info: object = None) -> None:
        """A record of this backend itself (a calibration, an outage): rare, so it may say
        which backend (the log keeps that only for backends after the first)."""
        if self.index:
            self.trace.backend_of[len(self.trace)] = self.index
        self.trace.add(self.env.now, kind, info=info)

    def _suspend(self, context: Context) -> None:
        if self.in_outage and context is self.active:
            context.suspend()

    # ---- a background stream's hold (SPEC §17; when, qsim.model.holds') -------------------

    def submit_held(self, job: Job) -> None:
        """``submit`` for a job of a stream that holds its jobs: ``job.submit`` and
        ``job.hold`` now; in no queue until ``release_held`` (a background job: no context).
        """
        trace = self.trace
        job.id = job_id = trace.jobs
        trace.jobs = job_id + 1
        if not job_id & _TAIL_MASK:
            trace.pack()
        job.code = code = self._code_base[job.workload] + (job_id + 1) * _JOB_UNIT
        now = self.env.now
        self._log_t.extend((now, now))
        self._log_code.extend((code | _SUBMIT, code | Kind.JOB_HOLD))
        job.state = HELD

    def release_held(self, job: Job) -> None:
        """``job.release`` now: the job takes its place by submission (job id) in its queue
        and in the queue order, as SPEC §19 puts back the jobs a usage limit held; then
        dispatch as at any instant (an outage holds it)."""
        self._log_t.append(self.env.now)
        self._log_code.append(job.code | Kind.JOB_RELEASE)
        job.state = QUEUED
        _insert_by_id(self.queues[job.workload], job)
        if self._keeps_order:
            _insert_by_id(self._queue_order, job)
        self.queued += 1
        self.request_dispatch()

    # ---- fair share (SPEC §4, §11) ----------------------------------------------------------

    def charge_instance(self, workload: int, seconds: float) -> None:
        """Book a session window's length for the workload's instance (SPEC §11)."""
        self.policy.book(workload, self.env.now, seconds)


def _cid(context: Context | None) -> int:
    return -1 if context is None else context.id


def _insert_by_id(queue: deque[Job], job: Job) -> None:
    """Put ``job`` into ``queue`` (in job id order, left jobs included) by its id."""
    if not queue or queue[-1].id < job.id:
        queue.append(job)
    else:
        queue.insert(bisect_left(queue, job.id, key=_job_id), job)


def _job_id(job: Job) -> int:
    return job.id
