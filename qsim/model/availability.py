"""When a backend is out of service (SPEC §16): fixed periods and random up/down processes.

``Availability`` turns a backend's ``outages`` into one sequence of outages (overlapping ones
merge: one ``outage.start``, one ``outage.end``), and tells the backend when to hold its
dispatch and QPU (``Backend.pause`` / ``resume``). What an outage does to the job on the QPU
is its kind's: a small object per kind, chosen once from the scenario.

A scenario without outages builds none of this: the backend's hot path never looks at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from qsim.input.outages import FixedOutage, RandomOutage
from qsim.model.clock import TIMER
from qsim.records.log import OUTAGE, Kind

if TYPE_CHECKING:
    from qsim.input.outages import Outage
    from qsim.model.backend import Backend
    from qsim.model.rng import Streams


class Pause:
    """Maintenance, a ``dedicated`` or ``internal`` period: what runs finishes its phase."""

    name = "pause"

    def begin(self, backend: Backend) -> None:
        pass


class Down:
    """A fault: the job in its quantum phase fails (reason ``outage``, charged 0)."""

    name = "down"

    def begin(self, backend: Backend) -> None:
        backend.fail_on_qpu(OUTAGE)


OUTAGE_KINDS: dict[str, type[Pause] | type[Down]] = {"pause": Pause, "down": Down}


class Availability:
    """The outages of one backend, merged, and the backend told of each."""

    def __init__(self, backend: Backend, outages: tuple[Outage, ...], streams: Streams,
                 backend_index: int = 0) -> None:
        self.backend = backend
        self.env = backend.env
        self.under_way = 0  # outages in progress (overlapping ones merge)
        for index, spec in enumerate(outages):
            kind = OUTAGE_KINDS[spec.kind]()
            if isinstance(spec, FixedOutage):
                self.env.call(spec.start, TIMER, self._fixed, (kind, spec.end_s))
            else:
                names = ("backend", str(backend_index), "outages", str(index))
                _RandomOutages(self, spec, kind, streams.draws(spec.every, *names, "every"),
                               streams.draws(spec.duration, *names, "duration"))

    def idle_world(self) -> bool:
        """Nothing else will ever happen: an outage now would only lengthen a stuck run."""
        return self.env.idle()

    def begin(self, kind: Pause | Down) -> None:
        first = self.under_way == 0
        self.under_way += 1
        if first:
            self.backend.log(Kind.OUTAGE_START, kind.name)
        kind.begin(self.backend)
        if first:
            self.backend.pause()

    def end(self, _arg: object = None) -> None:
        self.under_way -= 1
        if self.under_way == 0:
            self.backend.log(Kind.OUTAGE_END)
            self.backend.resume()

    def _fixed(self, arg: tuple[Pause | Down, float]) -> None:
        kind, end = arg
        if self.idle_world():
            return
        self.begin(kind)
        self.env.call(end - self.env.now, TIMER, self.end)


class _RandomOutages:
    """Up for a draw of ``every``, down for a draw of ``duration``, over and over (SPEC §16),
    each from its own named stream: the same outages in every mode of a comparison."""

    def __init__(self, availability: Availability, spec: RandomOutage, kind: Pause | Down,
                 up: Iterator[float], down: Iterator[float]) -> None:
        self.availability = availability
        self.env = availability.env
        self.kind = kind
        self.up = up
        self.down = down
        self.env.call(next(up), TIMER, self._begin)

    def _begin(self, _arg: object) -> None:
        if self.availability.idle_world():
            return  # the process ends with the run's last event
        self.availability.begin(self.kind)
        self.env.call(next(self.down), TIMER, self._end)

    def _end(self, _arg: object) -> None:
        self.availability.end()
        self.env.call(next(self.up), TIMER, self._begin)
