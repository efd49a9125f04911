"""The limits the service enforces on an instance (SPEC §19): usage limits that hold its jobs,
cost limits that cancel its work.

A scenario with no limit in force runs on a plain ``Backend`` and pays nothing for this
module (the engine does not even import it). With one, its backend is a ``LimitedBackend``:
the same backend whose submission, booking and cancellation steps also consult the
instance's ``InstanceLimit``, chosen once per workload at construction (``limits_of``: None
for a workload whose instance has no limit). The rule lives in ``InstanceLimit``; the
backend subclass only routes its jobs through it.

Usage is booked as fair share books it (SPEC §11): a job's charged time at its end in job and
batch mode, a session window's length when it ends. Booked usage leaves the limit's window
``limit_window`` after it was booked (an entry booked at t counts while now < t + window).
"""

from __future__ import annotations

from collections import deque
from heapq import merge
from math import inf
from typing import TYPE_CHECKING

from qsim.model.backend import Backend
from qsim.model.clock import TIMER
from qsim.model.jobs import HELD, QUEUED, RUNNING, Job
from qsim.model.rules import charge_of
from qsim.records.log import CONTEXT_CLOSED, COST_LIMIT, TAIL_JOBS, Kind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from qsim.input.scenario import Backend as BackendSpec
    from qsim.input.scenario import InstanceLimits
    from qsim.model.clock import Clock
    from qsim.model.modes import Context
    from qsim.model.rules import InstanceLedger
    from qsim.records.log import Trace


class UsageWindow:
    """Usage booked over a rolling window: each entry leaves ``window_s`` after its booking."""

    __slots__ = ("window_s", "entries", "total")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.entries: deque[tuple[float, float]] = deque()  # (leaves at, seconds)
        self.total = 0.0

    def add(self, now: float, seconds: float) -> None:
        self.expire(now)
        self.entries.append((now + self.window_s, seconds))
        self.total += seconds

    def expire(self, now: float) -> None:
        entries = self.entries
        while entries and entries[0][0] <= now:
            self.total -= entries.popleft()[1]
        if not entries:
            self.total = 0.0  # no rounding left over from the subtractions

    def below_at(self, limit: float) -> float:
        """When the usage falls below ``limit`` as entries leave (inf: it never does)."""
        left = sum(seconds for _, seconds in self.entries)
        for leaves_at, seconds in self.entries:
            left -= seconds
            if left < limit:
                return leaves_at
        return inf


class InstanceLimit:
    """One instance's limits in force and their state during the run."""

    def __init__(self, name: str, spec: InstanceLimits, price: float,
                 workloads: Sequence[int]) -> None:
        self.name = name
        self.limit_s = spec.limit_s
        self.window = None if spec.limit_s is None else UsageWindow(spec.window_s)
        self.cost_limit = spec.cost_limit_usd
        self.finish_running = spec.on_cost_limit == "finish"
        self.price = price
        self.workloads = tuple(workloads)
        self.spent_s = 0.0  # usage booked, for the cost limit (prior `used` included)
        self.holding = False
        self.tripped = False  # the cost limit was reached: all its work is cancelled
        self.held: list[Job] = []  # in submission order
        self.release_token = 0  # bumping it disarms a pending release timer
        self.cost_token = 0  # bumping it disarms a pending session-cost timer

    def reaches_cost(self, extra_s: float = 0.0) -> bool:
        return self.cost_limit is not None and (self.spent_s + extra_s) * self.price \
            >= self.cost_limit


class LimitedBackend(Backend):
    """A backend whose workloads' instances have limits (module docstring)."""

    __slots__ = ("limits_of", "instance_limits", "_failure_charge", "_charge_policy")

    def __init__(self, env: Clock, trace: Trace, spec: BackendSpec, workloads: int,
                 ledger: InstanceLedger, instances: Sequence[str],
                 limits: Mapping[str, InstanceLimits], price: float) -> None:
        super().__init__(env, trace, spec, workloads, ledger)
        self._charges_jobs = True  # every job's end is booked, under fifo too
        self._job_booker = self  # its charge_job books the limit too
        self._charge_policy = self.policy.charge_job  # fair share's booking, if any
        self._failure_charge = ledger.failure_charge
        self.instance_limits = [
            InstanceLimit(name, spec_, price, [w for w, i in enumerate(instances) if i == name])
            for name, spec_ in limits.items()]
        by_name = {lim.name: lim for lim in self.instance_limits}
        self.limits_of: list[InstanceLimit | None] = [by_name.get(i) for i in instances]
        for lim in self.instance_limits:
            if limits[lim.name].used_s:  # prior use (SPEC §12) is booked at t = 0
                env.call(0.0, TIMER, self._book_prior, (lim, limits[lim.name].used_s))

    def _book_prior(self, arg: tuple[InstanceLimit, float]) -> None:
        lim, used = arg
        self._book(lim, used)

    # ---- submission ----------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        lim = self.limits_of[job.workload]
        if lim is None or not (lim.holding or lim.tripped):
            Backend.submit(self, job)
            return
        trace = self.trace  # Backend.submit's record of the submission: one id sequence
        job.id = job_id = trace.jobs
        trace.jobs = job_id + 1
        if not job_id & (TAIL_JOBS - 1):
            trace.pack()
        job.code = self._code_base[job.workload] + (job_id + 1) * self.trace.JOB_UNIT
        self._log(job, Kind.JOB_SUBMIT)
        context = job.context
        if lim.tripped:
            self.finish(job, Kind.JOB_CANCELLED, COST_LIMIT)
        elif context is not None and not context.accepting:
            self.finish(job, Kind.JOB_CANCELLED, CONTEXT_CLOSED)
        else:
            if context is not None:
                context.on_held_submit()
            self._hold_job(lim, job)

    def submit_last(self, job: Job) -> None:
        """Always ``submit``: a job may be held or cancelled here."""
        self.submit(job)

    def _log(self, job: Job, kind: Kind) -> None:
        self._log_t.append(self.env.now)
        self._log_code.append(job.code | kind)

    # ---- booking usage -------------------------------------------------------------------

    def charge_job(self, job: Job, now: float) -> None:
        """Book an ended job for fair share (if the backend orders by it) and its instance's
        limit (the backend's ``_job_booker``)."""
        self._charge_policy(job, now)
        lim = self.limits_of[job.workload]
        context = job.context
        if lim is not None and (context is None or not context.exclusive):
            self._book(lim, charge_of(job, self.lock.charged, self._failure_charge))

    def charge_instance(self, workload: int, seconds: float) -> None:
        Backend.charge_instance(self, workload, seconds)
        lim = self.limits_of[workload]
        if lim is not None:
            self._book(lim, seconds)

    def _book(self, lim: InstanceLimit, seconds: float) -> None:
        now = self.env.now
        if lim.window is not None:
            lim.window.add(now, seconds)
            if not lim.holding and lim.limit_s is not None and lim.window.total >= lim.limit_s:
                self._reach(lim)
        lim.spent_s += seconds
        if not lim.tripped and lim.reaches_cost():
            self._trip(lim)
        elif not lim.tripped and lim.cost_limit is not None:
            self._watch_session(lim)  # a session's open window has less left to reach it

    # ---- usage limit: hold and release ---------------------------------------------------

    def _reach(self, lim: InstanceLimit) -> None:
        lim.holding = True
        self.trace.add(self.env.now, Kind.LIMIT_REACHED, info=lim.name)
        for workload in lim.workloads:
            queue = self.queues[workload]
            while queue:
                job = queue.popleft()
                self._left_queue(job)
                if job.context is not None:
                    job.context.on_hold()
                self._hold_job(lim, job)
        self._arm_release(lim)

    def _hold_job(self, lim: InstanceLimit, job: Job) -> None:
        job.state = HELD
        lim.held.append(job)
        self._log(job, Kind.JOB_HOLD)

    def _left_queue(self, job: Job) -> None:
        """``job`` left its queue without being dispatched (the queue's counts follow)."""
        self.queued -= 1
        context = job.context
        if context is not None and context.exclusive:
            if context is self.entry.entering:
                self._end_drain()  # nothing left to enter with
            self._session_queue_left()

    def _arm_release(self, lim: InstanceLimit) -> None:
        assert lim.window is not None and lim.limit_s is not None
        lim.release_token += 1
        at = lim.window.below_at(lim.limit_s)
        if at < inf:
            self.env.call(at - self.env.now, TIMER, self._release_timer, (lim, lim.release_token))

    def _release_timer(self, arg: tuple[InstanceLimit, int]) -> None:
        lim, token = arg
        if token != lim.release_token or not lim.holding or lim.tripped:
            return
        assert lim.window is not None and lim.limit_s is not None
        lim.window.expire(self.env.now)
        if lim.window.total >= lim.limit_s:  # booked meanwhile: running jobs ended
            self._arm_release(lim)
            return
        lim.holding = False
        self.trace.add(self.env.now, Kind.LIMIT_CLEARED, info=lim.name)
        held, lim.held = lim.held, []
        for job in held:
            self._log(job, Kind.JOB_RELEASE)
            self._requeue(job)
        if self._keeps_order:  # back into the queue order, by submission (job id)
            released = {job.id for job in held}
            live = (job for job in self._queue_order
                    if job.state == QUEUED and job.id not in released)
            self._queue_order = deque(merge(live, held, key=_job_id))
        self.request_dispatch()

    def _requeue(self, job: Job) -> None:
        """Backend.submit's queueing of an accepted job, for a held one."""
        job.state = QUEUED
        context = job.context
        if context is not None:
            context.on_release()
            if context.exclusive:
                self._session_jobs_queued += 1
                if self.drain:
                    self._oldest_first = False
        self.queues[job.workload].append(job)
        self.queued += 1

    def held_jobs(self) -> dict[int, str]:
        """The jobs held when the run ends, by id: ``incomplete``, reason ``limit``."""
        return {job.id: "limit" for lim in self.instance_limits for job in lim.held}

    # ---- cost limit ------------------------------------------------------------------------

    def _start(self, job: Job) -> None:
        was_open = job.context is not None and job.context.window_open
        super()._start(job)
        context = job.context
        if context is not None and context.exclusive and not was_open:
            lim = self.limits_of[job.workload]
            if lim is not None and lim.cost_limit is not None and not lim.tripped:
                self._watch_session(lim)

    def _watch_session(self, lim: InstanceLimit) -> None:
        """Arm the timer at which the active session of the instance, if any, reaches the
        cost limit with what is booked now (its open window costs as it lasts)."""
        active = self.active
        if active is None or not active.exclusive or active.workload not in lim.workloads \
                or not active.window_open or lim.cost_limit is None:
            return
        lim.cost_token += 1
        left_s = lim.cost_limit / lim.price - lim.spent_s
        at = active.window_start + left_s
        self.env.call(max(0.0, at - self.env.now), TIMER, self._session_cost,
                      (lim, lim.cost_token, active))

    def _session_cost(self, arg: tuple[InstanceLimit, int, Context]) -> None:
        lim, token, context = arg
        if token == lim.cost_token and not lim.tripped and context.window_open:
            self._trip(lim)

    def _trip(self, lim: InstanceLimit) -> None:
        """The cost limit is reached: cancel the instance's batches and sessions, queued and
        held jobs; stop its running jobs, unless they may finish."""
        lim.tripped = True
        lim.release_token += 1
        lim.cost_token += 1
        self.trace.add(self.env.now, Kind.COSTLIMIT_REACHED, info=lim.name)
        for workload in lim.workloads:
            context = self.contexts[workload]
            if context is not None:
                context.cancel(COST_LIMIT)  # its queued and held jobs too (cancel_queued)
            queue = self.queues[workload]
            while queue:
                job = queue.popleft()
                self._left_queue(job)
                self.finish(job, Kind.JOB_CANCELLED, COST_LIMIT)
        held, lim.held = lim.held, []
        for job in held:
            self.finish(job, Kind.JOB_CANCELLED, COST_LIMIT)
        if not lim.finish_running:
            for job in self._running(lim):
                self._stop(job)

    def cancel_queued(self, context: Context, reason: str) -> None:
        Backend.cancel_queued(self, context, reason)
        lim = self.limits_of[context.workload]
        if lim is None:
            return
        for job in [job for job in lim.held if job.context is context]:
            lim.held.remove(job)
            context.held -= 1
            self.finish(job, Kind.JOB_CANCELLED, reason)

    def _running(self, lim: InstanceLimit) -> list[Job]:
        """The instance's dispatched jobs that have not ended, in job order (walks the heap:
        once per cost limit reached)."""
        phases = (self._after_compile, self._after_quantum, self._after_post)
        jobs = [entry[3] for entry in self.env.entries() if entry[2] in phases]
        jobs += [*self.waiting_for_qpu, *self._held_quantum]
        mine = {job.id: job for job in jobs if job.state == RUNNING
                and job.workload in lim.workloads}
        return [mine[i] for i in sorted(mine)]

    def _stop(self, job: Job) -> None:
        """End a running job now, cancelled (SPEC §19): charged the quantum time it used
        (at least its overhead, as a failure there is), nothing if it never reached the QPU."""
        now = self.env.now
        entry = next((e for e in self.env.entries() if e[3] is job and e[2] in (
            self._after_compile, self._after_quantum, self._after_post)), None)
        if entry is not None:
            self.env.revoke(entry)
        if entry is not None and entry[2] == self._after_quantum:
            used = now - (entry[0] - job.run_s)
            least = self._failure_charge[job.workload] if self._failure_charge else 0.0
            job.run_s = max(used, least)  # what the books charge; the log keeps the time used
            self._log(job, Kind.QPU_END)
            if not self.legacy_lock:
                self._release_qpu()
        elif entry is None or entry[2] == self._after_compile:
            if job in self.waiting_for_qpu:
                self.waiting_for_qpu.remove(job)
            if job in self._held_quantum:
                self._held_quantum.remove(job)
            if entry is not None:  # the legacy lock charges the compile it held the QPU for
                job.compile_s = now - (entry[0] - job.compile_s)
            job.run_s = 0.0
        self.finish(job, Kind.JOB_CANCELLED, COST_LIMIT)


def _job_id(job: Job) -> int:
    return job.id
