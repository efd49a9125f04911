"""The backend's rules as small objects, each chosen once from the scenario (SPEC §1, §3.3, §4).

- the **queue policy** picks which waiting queue is dispatched next: ``Fifo`` (oldest
  submission first) or ``FairShare`` (the instance that used least per share over a rolling
  window; its usage is an ``InstanceLedger`` the engine may share between backends, SPEC §18);
- the **session entry** says how a session enters a shared backend: ``Drain`` (wait until no
  other job compiles or holds the QPU) or ``Overlap`` (the what-if: at once);
- the **QPU lock** says what a job holds the QPU for: ``QuantumLock`` (its quantum phase) or
  ``WholeJobLock`` (the legacy what-if: from dispatch to its end);
- the **QPU order** says which dispatched job the free QPU serves next: ``ContextFirst`` (the
  active batch's or session's first, then first ready) or ``ReadyFirst`` (the what-if: first
  ready, whatever the context).

The backend asks each rule only at the points where it decides (a dispatch, a job's end), and
reads a rule's constant answers (``keeps_order``, ``charges_jobs``, ``whole_job``) once, at
construction, where the hot path needs them as plain attributes. A new rule is one class here
and one entry in its table (``QUEUE_POLICIES``, ``SESSION_ENTRIES``, ``QPU_LOCKS``,
``QPU_ORDERS``) with the
scenario key that names it (``qsim.input.scenario.Backend``); nothing else compares these names.
"""

from __future__ import annotations

import struct
from array import array
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from math import inf
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar, Protocol, Union

from qsim.records.log import UNCHARGED_REASONS, USER_ERROR

if TYPE_CHECKING:
    from qsim.model.jobs import Job
    from qsim.model.modes import Context


# ---- usage over a rolling window (fair share, SPEC §4, §11; usage limits, §19) --------------

class InstanceUsage:
    """Usage of one instance over a rolling window (entries expire as time moves on).

    The entries are two arrays of floats (times, seconds) read from ``head`` on, then the
    newest, not yet packed, in two lists (``times_tail``, ``seconds_tail``): a window of 28
    days holds hundreds of thousands of entries, 16 bytes each in the arrays and nothing for
    the garbage collector to walk (a deque of tuples was ~110 bytes each), while a list's
    append is a specialised opcode where an array("d")'s parses its float twice. The tails
    are packed once they hold ``TAIL`` entries, when every packed entry has expired, and
    when an entry is added to an empty usage: whenever there is an entry, the oldest is
    packed, at ``times[head]``, so ``expire`` never looks for it in the tails.
    ``oldest`` is the first entry's time (inf when there is none), so that ``ratio`` costs
    one comparison when nothing expires.
    """

    __slots__ = ("share", "window_s", "total", "times", "seconds", "head", "oldest",
                 "times_tail", "seconds_tail", "tail")

    TAIL = 1024

    def __init__(self, share: float, window_s: float) -> None:
        self.share = share
        self.window_s = window_s
        self.total = 0.0
        self.times = array("d")
        self.seconds = array("d")
        self.head = 0
        self.oldest = inf
        self.times_tail: list[float] = []
        self.seconds_tail: list[float] = []
        # ``TAIL``, read once per entry: an instance's slot, where Python 3.11 reads a class
        # attribute of an instance through the generic lookup (no specialised form).
        self.tail = self.TAIL

    def add(self, t: float, seconds: float) -> None:
        self.times_tail.append(t)
        self.seconds_tail.append(seconds)
        self.total += seconds
        if self.oldest == inf:  # no other entry: this is the oldest (packed, see the class)
            self.oldest = t
            self.pack()
        elif len(self.times_tail) >= self.tail:
            self.pack()

    def pack(self) -> None:
        """Move the tails' entries to the end of the arrays (struct packs floats without
        the argument parser), after dropping the expired entries first if they are more than
        half the arrays (amortised O(1): a pack comes once every ``TAIL`` entries added)."""
        head = self.head
        if head > 4096 and 2 * head > len(self.times):
            del self.times[:head], self.seconds[:head]
            self.head = 0
        times_tail = self.times_tail
        count = len(times_tail)
        self.times.frombytes(struct.pack(f"{count}d", *times_tail))
        self.seconds.frombytes(struct.pack(f"{count}d", *self.seconds_tail))
        times_tail.clear()
        self.seconds_tail.clear()

    def ratio(self, now: float) -> float:
        """Usage per share within the window ending ``now``."""
        self.move_to(now)
        return self.total / self.share

    def move_to(self, now: float) -> None:
        """The window ends at ``now``: drop the entries it has passed."""
        limit = now - self.window_s
        if self.oldest < limit:
            self.expire(limit)

    def expire(self, limit: float) -> None:
        """Drop the entries made before ``limit``; called only when the oldest is (``oldest <
        limit``). A run longer than the window calls it about once for every two jobs, each
        call dropping one or two entries: it is written for that, one subtraction and one
        comparison per entry (the oldest is packed at ``times[head]``: the class docstring)."""
        times, seconds, head, total = self.times, self.seconds, self.head, self.total
        while True:  # times[head] has expired
            total -= seconds[head]
            head += 1
            try:  # (no cost unless raised: no end to compare with per entry)
                oldest = times[head]
            except IndexError:  # every packed entry has gone: the tails' are the oldest now
                del times[:], seconds[:]
                self.head = head = 0
                if not self.times_tail:
                    self.total, self.oldest = total, inf
                    return
                self.pack()
                oldest = times[0]
            if oldest >= limit:
                self.total, self.head, self.oldest = total, head, oldest
                return


class InstanceLedger:
    """Every instance's usage over the rolling window, and which instance each workload bills.

    One ledger per run: every backend's fair share reads and books the same usage, as the
    service counts an instance's usage "on all the QPUs" (SPEC §18)."""

    def __init__(self, workload_instances: Sequence[tuple[str, float]], window_s: float,
                 used_before: Mapping[str, float] | None = None, *,
                 failure_charge: Sequence[float] = ()) -> None:
        self.window_s = window_s  # every instance's: a pick computes its limit once
        # Per workload, the least a user failure in the quantum phase books (SPEC §19;
        # Scenario.failure_charges); empty: none.
        self.failure_charge = tuple(failure_charge)
        self.by_name: dict[str, InstanceUsage] = {}
        self.of_workload: list[InstanceUsage] = []
        for name, share in workload_instances:
            if name not in self.by_name:
                self.by_name[name] = InstanceUsage(share, window_s)
                # An instance's prior use (SPEC §12) counts as usage entered at t = 0.
                if used_before and used_before.get(name):
                    self.by_name[name].add(0.0, used_before[name])
            self.of_workload.append(self.by_name[name])

    def book(self, workload: int, t: float, seconds: float) -> None:
        self.of_workload[workload].add(t, seconds)


# ---- queue policies (SPEC §4) ---------------------------------------------------------------

class QueuePolicy(Protocol):
    """Which queue's head is dispatched next among the queues outside the active context."""

    #: The backend keeps every queued job in one deque in submission order (oldest first).
    keeps_order: ClassVar[bool]
    #: Job ends and session windows are booked as usage (``book``).
    charges_jobs: ClassVar[bool]

    def pick(self, queues: Sequence[deque[Job]], contexts: Sequence[Context | None],
             outside_contexts: bool, now: float) -> deque[Job] | None: ...

    def book(self, workload: int, t: float, seconds: float) -> None: ...

    def charge_job(self, job: Job, now: float) -> None:
        """Book an ended job's charged time for its instance (a session's jobs are not: it
        books its windows, ``book``)."""

    def look_at(self, workload: int, now: float) -> None:
        """What ``pick`` does to a waiting queue's accounts when it looks at it (called where
        the queue of ``workload`` would be the only one it looks at, and the pick is skipped).
        """


class JobBooker(Protocol):
    """What books an ended job's usage (``Backend._job_booker``): the queue policy, or a
    backend that books more (a limited backend's instance limits)."""

    def charge_job(self, job: Job, now: float) -> None: ...


class Fifo:
    """Oldest submission first."""

    keeps_order: ClassVar[bool] = True
    charges_jobs: ClassVar[bool] = False

    def pick(self, queues: Sequence[deque[Job]], contexts: Sequence[Context | None],
             outside_contexts: bool, now: float) -> deque[Job] | None:
        """The queue of the oldest head (only queues outside any context, if asked)."""
        best_queue, best_head = None, -1
        for queue, context in zip(queues, contexts):
            if queue and (context is None or not outside_contexts) and (
                    best_head < 0 or queue[0].id < best_head):
                best_queue, best_head = queue, queue[0].id
        return best_queue

    def book(self, workload: int, t: float, seconds: float) -> None:
        pass  # fifo keeps no account of usage

    def charge_job(self, job: Job, now: float) -> None:
        pass

    def look_at(self, workload: int, now: float) -> None:
        pass


class FairShare:
    """The instance that used least per share over the rolling window, then the oldest job
    within it; instances that tie go in the order of their oldest waiting job."""

    keeps_order: ClassVar[bool] = False
    charges_jobs: ClassVar[bool] = True

    def __init__(self, ledger: InstanceLedger, charged: Callable[[Job], float]) -> None:
        self.ledger = ledger
        self._of_workload = ledger.of_workload  # read once per waiting queue per dispatch
        self._window_s = ledger.window_s
        self._failure_charge = ledger.failure_charge
        self._charged = charged  # what the backend's QPU lock charges a job (SPEC §6)

    def pick(self, queues: Sequence[deque[Job]], contexts: Sequence[Context | None],
             outside_contexts: bool, now: float) -> deque[Job] | None:
        best_queue: deque[Job] | None = None
        best_ratio = inf  # the first waiting queue is the first best (an inf ratio too: a tie)
        # usage.move_to(now) for each queue looked at, written out: every instance's window
        # is the ledger's, so the limit is computed once (the same float as move_to's).
        limit = now - self._window_s
        of_workload = self._of_workload
        index = -1  # (an index, not a zip: a zip's object and tuples cost more than it)
        for queue in queues:
            index += 1
            if not queue or (outside_contexts and contexts[index] is not None):
                continue
            usage = of_workload[index]
            if usage.oldest < limit:
                usage.expire(limit)
            ratio = usage.total / usage.share
            if ratio < best_ratio or (ratio == best_ratio and (
                    best_queue is None or queue[0].id < best_queue[0].id)):
                best_queue, best_ratio = queue, ratio
        return best_queue

    def look_at(self, workload: int, now: float) -> None:
        """The window of the workload's instance moved up to ``now``, as ``pick`` moves it for
        each queue it looks at: the entries expire at the same instants either way, so the
        usage's running total is the same float. (``move_to``, written out: once per job.)"""
        usage = self._of_workload[workload]
        limit = now - self._window_s
        if usage.oldest < limit:
            usage.expire(limit)

    def book(self, workload: int, t: float, seconds: float) -> None:
        self.ledger.book(workload, t, seconds)

    def charge_job(self, job: Job, now: float) -> None:
        """Book an ended job's charged time (SPEC §6: nothing for a system failure or an
        outage) for its instance; a session's jobs are not (SPEC §11: it books its windows).
        ``InstanceUsage.add``, written out: once per job."""
        context = job.context
        if context is not None and context.exclusive:
            return
        # Read as an attribute, then called: a call through ``self._charged`` would look it
        # up as a method, which Python 3.11 does not specialise for an instance's attribute.
        charged = self._charged
        used = (charged(job) if job.reason is None  # done: the lock's charge, at once
                else charge_of(job, charged, self._failure_charge))
        usage = self._of_workload[job.workload]
        times_tail = usage.times_tail
        times_tail.append(now)
        usage.seconds_tail.append(used)
        usage.total += used
        if usage.oldest == inf:  # the only entry: packed at once (InstanceUsage's docstring)
            usage.oldest = now
            usage.pack()
        elif len(times_tail) >= usage.tail:
            usage.pack()


def charge_of(job: Job, lock_charge: Callable[[Job], float],
              failure_charge: Sequence[float]) -> float:
    """What an ended job is charged: what its QPU lock charges (SPEC §6), nothing for a system
    failure or a job an outage failed (§6, §16), and a user failure in the quantum phase at
    least its workload's ``failure_charge`` (§19; empty: none). Fair share's account and a
    limited instance's usage both book this."""
    reason = job.reason
    if reason is not None and reason in UNCHARGED_REASONS:
        return 0.0
    used = lock_charge(job)
    if reason == USER_ERROR and job.fail_stage == "quantum" and failure_charge:
        used = max(used, failure_charge[job.workload])
    return used


QUEUE_POLICIES: dict[str, type[Fifo] | type[FairShare]] = {"fifo": Fifo, "fair_share": FairShare}


def queue_policy(name: str, ledger: InstanceLedger, lock: QpuLock) -> QueuePolicy:
    """The policy a scenario's ``backend.queue`` names, charging jobs as ``lock`` says."""
    policy = QUEUE_POLICIES[name]
    return FairShare(ledger, lock.charged) if policy is FairShare else Fifo()


# ---- session entry (SPEC §3.3) --------------------------------------------------------------

class Drain:
    """Exclusive entry: the session's job waits until no other job compiles, waits for the QPU
    or holds it, and no calibration runs or is due; the backend dispatches nothing else
    meanwhile (it has committed to ``entering``)."""

    drains: ClassVar[bool] = True

    def __init__(self) -> None:
        self.entering: Context | None = None  # the session the backend drains for


class Overlap:
    """The 2025 reading (what-if): a session activates at once; others' jobs already
    dispatched run to completion inside its window."""

    drains: ClassVar[bool] = False

    def __init__(self) -> None:
        self.entering: Context | None = None  # never set: nothing to drain for


SESSION_ENTRIES: dict[str, type[Drain] | type[Overlap]] = {"drain": Drain, "overlap": Overlap}


# ---- what a job holds the QPU for (SPEC §1) -------------------------------------------------

class QuantumLock:
    """Only the quantum phase holds the QPU (since May 2024)."""

    whole_job: ClassVar[bool] = False

    #: What a job that ends is charged (SPEC §6): its quantum time. An ``attrgetter`` (a C
    #: call, where a function is a Python frame): fair share asks it once per job.
    charged = staticmethod(attrgetter("run_s"))


class WholeJobLock:
    """Legacy (what-if): a job is dispatched only when a lane and the QPU are both free and
    holds the QPU until its post-processing ends; it is charged that whole locked span."""

    whole_job: ClassVar[bool] = True

    @staticmethod
    def charged(job: Job) -> float:
        return job.compile_s + job.run_s + (job.post_s if job.status == "done" else 0.0)


QpuLock = Union[QuantumLock, WholeJobLock]
QPU_LOCKS: dict[str, type[QuantumLock] | type[WholeJobLock]] = {
    "quantum": QuantumLock, "all": WholeJobLock}


# ---- which dispatched job the QPU serves next (SPEC §1, §19) ----------------------------------

#: The key the QPU takes the least of among the jobs waiting for it (ties cannot remain: the
#: last part is the job's id, its queue order).
QpuKey = Callable[["Job"], tuple[int, float, int]]


class HasActive(Protocol):
    """What a QPU order reads of its backend: the one active batch or session, if any."""

    active: Context | None


class ContextFirst:
    """Jobs of the active batch or session first, then first ready, then queue order (the
    default; SPEC §1). The documentation says batch jobs jump the queue; this reading lets
    them jump the jobs already compiled in the lanes too."""

    @staticmethod
    def key_for(backend: HasActive) -> QpuKey:
        def order(job: Job) -> tuple[int, float, int]:
            context = job.context
            first = 0 if (context is not None and context is backend.active) else 1
            return first, job.ready_at, job.id
        return order


class ReadyFirst:
    """First ready, first served, whatever the context; ties by queue order (the what-if
    ``qpu_order: ready``: the documentation says nothing of the QPU's order among dispatched
    jobs, so a user can bound what the default's reading is worth)."""

    @staticmethod
    def key_for(backend: HasActive) -> QpuKey:
        def order(job: Job) -> tuple[int, float, int]:
            return 0, job.ready_at, job.id
        return order


QPU_ORDERS: dict[str, type[ContextFirst] | type[ReadyFirst]] = {
    "context_first": ContextFirst, "ready": ReadyFirst}
