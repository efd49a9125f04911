"""Same-instant ordering for the simulation, expressed as SimPy event priorities.

SimPy orders its event heap by ``(time, priority, insertion order)`` and accepts any integer
priority, so SPEC §10's rule for events at one instant — job ends, then timers, then
submissions (by the workload's place in the file), then dispatch, and the QPU choosing last
(§11) — is one integer per kind of event. Nothing else in the model needs to know about it.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any, Callable

import simpy
from simpy.events import Event

END = 1  # job phase ends, and the lanes and QPU they free
TIMER = 2  # ITTL, max TTL, cancel_at, auto-close, calibration due
STOP = 3  # end of the run: after that instant's ends and timers, before any submission
SUBMIT_BASE = 10  # + the workload's place in the file
DISPATCH = 1_000_000_000  # after every submission of the instant
QPU = DISPATCH + 1  # the QPU chooses last


def submit_priority(workload_index: int) -> int:
    """Priority of a submission by the workload at ``workload_index`` in the scenario file."""
    return SUBMIT_BASE + workload_index


class At(Event):
    """An event that fires ``delay`` seconds from now at ``priority`` (a Timeout with a rank)."""

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        priority: int,
        callback: Callable[[Event], Any] | None = None,
    ) -> None:
        # Inlined like simpy.Timeout.__init__, and env.schedule with it: this runs for every
        # job phase. It relies on SimPy 4's heap entry (time, priority, eid, event), pinned in
        # pyproject.toml and checked by the timeline tests.
        self.env = env
        self.callbacks = [callback] if callback is not None else []
        self._value = None
        self._ok = True
        heappush(env._queue, (env._now + delay, priority, next(env._eid), self))


def fire(event: Event, priority: int, value: Any = None) -> None:
    """Trigger ``event`` now, at ``priority`` instead of SimPy's default NORMAL."""
    event._ok = True
    event._value = value
    event.env.schedule(event, priority)
