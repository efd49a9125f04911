"""Same-instant ordering, and the SimPy environment the model runs on.

SimPy orders its event heap by ``(time, priority, insertion order)`` and accepts any integer
priority, so SPEC §10's rule for events at one instant — job ends, then timers, then
submissions (by the workload's place in the file), then dispatch and the QPU's choice (§11) —
is one integer per kind of event.

``Clock`` is a ``simpy.Environment`` with three additions for the hot path, where a run of a
million jobs spends most of its time:

- ``call(delay, priority, fn, arg)`` schedules a plain function call on SimPy's own heap,
  without an ``Event`` object. Job phases are such calls (pushed on ``heap`` directly, see
  ``Clock``): nobody waits on them, so an event object (and a closure for its callback) per
  phase would be pure cost.
- ``far``: calls due more than ``FAR_S`` ahead (the run's end, a session's max time, the
  next calibration, a workload's start) wait in a second heap, out of the way of the job
  phases and arrivals that make up nearly all the traffic: every entry in the heap lengthens
  the sift of every pop and push. One entry in ``heap`` at the first far entry's time,
  before all else due then, moves the far entries due at that time into ``heap``, where they
  run by the order they would have had in it all along.
- ``settle``: a function to run once this instant has nothing left ranked before
  ``DISPATCH``. The backend sets it instead of scheduling a dispatch event: dispatch and the
  QPU's choice happen at most once per instant, at the same point of the order as an event at
  priority ``DISPATCH`` would, but without one.

``run`` is SimPy's with its step loop written out; everything else (processes, ``Event``)
is SimPy's.

The contract with SimPy lives in this module alone (SimPy is pinned below 5 in pyproject.toml,
and tests/test_clock.py holds ``run`` to ``simpy.Environment``'s behaviour): the heap
``Environment._queue``, whose entries ``Clock`` makes in its own shape (SimPy pushes only
through ``schedule``, which ``Clock`` replaces); an ``Event``'s ``_ok``, ``_value`` and
``callbacks``; and that SimPy itself reads the time only through ``schedule``, ``step`` and
``run``, which ``Clock`` replaces, so the time can be the plain attribute ``now`` (one attribute
load on the hot path, not a property call). The rest of the model uses ``now``, ``heap``,
``keys``, ``call``, ``scheduled``, ``pending``, ``revoke``, ``interrupt``, ``settle``, ``at``,
``fire`` and SimPy's public ``Event`` and ``process``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heapify, heappop, heappush
from itertools import count
from typing import Any

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event

END = 1  # job phase ends, and the lanes and QPU they free
TIMER = 2  # ITTL, max TTL, cancel_at, auto-close, calibration due
STOP = 3  # end of the run: after that instant's ends and timers, before any submission
SUBMIT_BASE = 10  # + the workload's place in the file
PENDING = SUBMIT_BASE - 1  # a background's pending jobs at t = 0 (SPEC §17): before any submission
DISPATCH = 1_000_000_000  # settle: after every submission of the instant
_FAR = -2  # ``far``'s entries moved into the heap at their time: before all else at it
FAR_S = 600.0  # a call due further ahead than this waits in ``far`` (see the docstring)


# A heap entry: (time, key, fn, arg); ``fn(arg)`` runs at that time. The key is the
# entry's priority and its place among the entries pushed at that priority, in one int:
# ``priority * 2**SEQ_BITS + n`` for the n-th such entry (``Clock.keys``). Ordered by
# (time, key), the entries come out exactly as ordered by (time, priority, insertion order),
# SimPy's order, as long as fewer than 2**SEQ_BITS entries are pushed at one priority (about
# 10**12: days of CPU at a million a second). One item fewer than (time, priority, id, ...)
# to build, unpack and free for each entry, and one comparison fewer where times tie.
HeapEntry = tuple[float, int, Callable[[Any], Any], Any]
SEQ_BITS = 40
DISPATCH_KEY = DISPATCH << SEQ_BITS  # the first key at DISPATCH: settle goes before it


def submit_priority(workload_index: int) -> int:
    """Priority of a submission by the workload at ``workload_index`` in the scenario file."""
    return SUBMIT_BASE + workload_index


class Clock(simpy.Environment):
    """SimPy's environment, plus plain scheduled calls and an end-of-instant ``settle`` hook.

    Every heap entry is ``(time, key, fn, arg)`` (``HeapEntry``): ``call``'s, and SimPy's own
    events as a call of their processing (``schedule``). The order is SimPy's (keys are
    unique, so entries never compare past them), and so is everything an ``Event`` does.

    ``heap`` is SimPy's heap and ``keys(priority)`` the counter of a priority's keys, for the
    few pushes that run for every phase of every job: ``heappush(heap, (time, next(keys), fn,
    arg))``, with ``keys`` fetched once, is ``call`` without the cost of a Python call.
    """

    now: float = 0.0  # a plain attribute here, not SimPy's property

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        # The scenario's t = 0 on this clock: a warm-up's length (the scenario's times of day,
        # such as calibrations' due times, are on the scenario's clock).
        self.origin = 0.0
        self.settle: Callable[[], None] | None = None
        self.heap: list[HeapEntry] = self._queue  # type: ignore[assignment]  # see HeapEntry
        self._keys: dict[int, Iterator[int]] = {}
        self._interrupt_keys = self.keys(-1)  # made here, not in the watching thread
        self.far: list[HeapEntry] = []
        self._far_keys = self.keys(_FAR)
        # The one entry in the heap, at far's first entry's time, that moves it in: None
        # while far is empty.
        self._far_entry: HeapEntry | None = None

    def keys(self, priority: int) -> Iterator[int]:
        """The keys of heap entries at ``priority``, in push order (``HeapEntry``): one
        counter per priority, the same object for every caller."""
        counter = self._keys.get(priority)
        if counter is None:
            counter = self._keys[priority] = count(priority << SEQ_BITS)
        return counter

    def call(self, delay: float, priority: int, fn: Callable[[Any], Any], arg: Any = None) -> None:
        """Call ``fn(arg)`` ``delay`` seconds from now, at ``priority``."""
        entry = (self.now + delay, next(self.keys(priority)), fn, arg)
        if delay > FAR_S:
            self._push_far(entry)
        else:
            heappush(self.heap, entry)

    def _push_far(self, entry: HeapEntry) -> None:
        far = self.far
        heappush(far, entry)
        if far[0] is entry:  # far's new first: the entry that moves far in comes earlier
            if self._far_entry is not None:  # rare (each calibration due, say): O(heap)
                self.heap.remove(self._far_entry)
                heapify(self.heap)
            self._far_entry = (entry[0], next(self._far_keys), self._moved_in, None)
            heappush(self.heap, self._far_entry)

    def _moved_in(self, _arg: None) -> None:
        """Move the far entries due now into the heap (this entry's key ranks it before all
        else at its time: nothing due now has run yet)."""
        far, heap, now = self.far, self.heap, self.now
        while far and far[0][0] <= now:
            heappush(heap, heappop(far))
        self._far_entry = None
        if far:
            self._far_entry = (far[0][0], next(self._far_keys), self._moved_in, None)
            heappush(heap, self._far_entry)

    def interrupt(self, fn: Callable[[Any], Any]) -> None:
        """Call ``fn(None)`` now, before anything else at this instant: for another thread
        (``qsim.model.watch``) to stop the run, ``fn`` raising. One push onto the heap, a
        single C call that holds the GIL, so the loop sees the heap whole and pops it next."""
        heappush(self.heap, (self.now, next(self._interrupt_keys), fn, None))

    def withdraw(self, hook: Callable[[], None]) -> None:
        """Take back ``hook``'s request to settle this instant (an outage holds it)."""
        if self.settle is hook:
            self.settle = None

    def idle(self) -> bool:
        """Nothing scheduled and no settle asked for: nothing will ever happen again."""
        return not self.heap and self.settle is None

    def scheduled(self, fn: Callable[[Any], Any]) -> bool:
        """Whether a call of ``fn`` (the very object given to ``call`` or pushed) is pending.
        It walks the heap: for rare questions, not for the hot path."""
        return any(entry[2] is fn for entry in self.entries())

    def pending(self, fn: Callable[[Any], Any]) -> HeapEntry | None:
        """The pending call of ``fn`` due first, if any (walks the heap: rare questions only)."""
        entries = [entry for entry in self.entries() if entry[2] is fn]
        return min(entries, key=lambda entry: entry[:2]) if entries else None

    def revoke(self, entry: HeapEntry) -> None:
        """Make a pending call do nothing: its place in the heap (and so the order of all
        else) is kept, its function replaced. Walks the heap: rare events only."""
        heap = self.far if entry in self.far else self.heap
        heap[heap.index(entry)] = (*entry[:2], _nothing, None)

    def entries(self) -> Iterator[HeapEntry]:
        """Every pending call (in no order; ``far``'s included): for rare questions."""
        yield from self.heap
        yield from self.far

    def events_scheduled(self) -> int:
        """How many heap entries the run has made so far (a measure of its work): what each
        priority's counter has handed out. ``repr`` reads a counter without moving it
        (``count(n)``)."""
        return sum(int(repr(keys)[len("count("):-1]) - (priority << SEQ_BITS)
                   for priority, keys in self._keys.items() if priority != _FAR)

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0) -> None:
        """SimPy's ``schedule``, as a ``call`` of SimPy's event processing: every heap entry
        then has one shape, and ``step`` one path."""
        self.call(delay, priority, self._process, event)

    def run(self, until: float | Event | None = None) -> Any:
        """SimPy's ``run``, with its loop of ``step()`` calls written out as one loop
        (``_steps``): a Python call less for every heap entry of a run."""
        if until is not None:
            if not isinstance(until, Event):
                time = until if isinstance(until, int) else float(until)
                if time <= self.now:
                    raise ValueError(
                        f"until ({time}) must be greater than the current simulation time")
                until = at(self, time - self.now, URGENT)  # before all else at that time
            elif until.callbacks is None:
                return until.value  # already processed
            until.callbacks.append(StopSimulation.callback)
        try:
            self._steps()
        except StopSimulation as stop:
            return stop.args[0]  # the until event's value
        except EmptySchedule:
            if until is not None:
                raise RuntimeError(f'No scheduled events left but "until" event was not '
                                   f"triggered: {until}") from None
        return None

    def step(self) -> None:
        """Process the next heap entry, then ``settle`` if this instant is done with."""
        self._steps(until_stopped=False)

    def _steps(self, until_stopped: bool = True) -> None:
        """``step``; with ``until_stopped``, over and over until it raises (``StopSimulation``,
        ``EmptySchedule`` or an event's error), without a Python call per heap entry."""
        queue = self.heap
        while True:
            try:
                now, _, fn, arg = heappop(queue)
            except IndexError:
                raise EmptySchedule from None
            self.now = now
            fn(arg)
            while self.settle is not None and (
                    not queue or queue[0][0] > now or queue[0][1] >= DISPATCH_KEY):
                settle, self.settle = self.settle, None
                settle()
            if not until_stopped:
                return

    def _process(self, event: Event) -> None:
        # SimPy 4's Environment.step after the pop (simpy is pinned in pyproject.toml).
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]  # processed
        for index, callback in enumerate(callbacks):
            try:
                callback(event)
            except StopSimulation:
                event.callbacks = callbacks[index + 1:]
                self.schedule(event, -1)
                raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


class SharedClock(Clock):
    """A ``Clock`` whose settle slot several hooks write (SPEC §18: each backend of a fleet
    its own ``_settle``), and which settles each that asked at an instant, once, in ``rank``
    order (the backends' file order). Only the backends that asked are settled: nothing
    looks at the others, however many there are.

    A hook left in the slot when the instant goes on (something else is due at it before
    ``DISPATCH``) is also kept in ``gathered``, where the next one written over it cannot
    lose it; the slot is never empty while ``gathered`` is not. So the loop does per heap
    entry what ``Clock``'s does, and gathers only in an instant with several entries.
    """

    def __init__(self, rank: Callable[[Callable[[], None]], int]) -> None:
        super().__init__()
        self.rank = rank
        self.gathered: list[Callable[[], None]] = []

    def withdraw(self, hook: Callable[[], None]) -> None:
        gathered = self.gathered
        if hook in gathered:
            gathered.remove(hook)
        if self.settle is hook:
            self.settle = gathered[-1] if gathered else None

    def _steps(self, until_stopped: bool = True) -> None:
        """``Clock._steps``, keeping every hook that asks at an instant until its end."""
        queue, gathered = self.heap, self.gathered
        while True:
            try:
                now, _, fn, arg = heappop(queue)
            except IndexError:
                raise EmptySchedule from None
            self.now = now
            fn(arg)
            while self.settle is not None:
                if queue and queue[0][0] <= now and queue[0][1] < DISPATCH_KEY:
                    if self.settle not in gathered:  # the instant goes on: keep it
                        gathered.append(self.settle)
                    break
                hook, self.settle = self.settle, None
                if gathered:
                    self._settle_gathered(hook)
                else:
                    hook()  # it may ask again (a job with no compile): the loop goes on
            if not until_stopped:
                return

    def _settle_gathered(self, last: Callable[[], None]) -> None:
        """Settle every hook of the instant, in rank order; gather any that asks again."""
        gathered = self.gathered
        if last not in gathered:
            gathered.append(last)
        ordered = sorted(gathered, key=self.rank)
        gathered.clear()
        for hook in ordered:
            hook()
            if self.settle is not None and self.settle not in gathered:
                gathered.append(self.settle)


def _nothing(_arg: object) -> None:
    pass


def at(env: Clock, delay: float, priority: int) -> Event:
    """An event that fires ``delay`` seconds from now at ``priority``, for a process to yield
    (a ``simpy.Timeout`` with a rank)."""
    event = Event(env)
    event._ok = True
    event._value = None
    env.schedule(event, priority, delay)
    return event


def fire(event: Event, priority: int, value: Any = None) -> None:
    """Trigger ``event`` now, at ``priority`` instead of SimPy's default NORMAL."""
    event._ok = True
    event._value = value
    event.env.schedule(event, priority)  # type: ignore[arg-type]  # a Clock takes any int
