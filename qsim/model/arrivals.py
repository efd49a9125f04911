"""The arrival processes of background traffic that varies (SPEC §17), as small objects a
background stream is given at construction when a §17 key is set (without one, the stream
keeps its plain inter-arrival loop: see ``WorkloadRun``).

- :class:`RateClock` maps the stream's own time (operational time: its inter-arrival draws)
  to the run's time through the piecewise-constant multiplier profile x regimes;
- :class:`Drawn` gives the next arrival instant and its count of jobs from the stream's
  draws (``arrivals``, ``burst``) and the clock;
- :class:`Replayed` gives them from an arrival trace.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from qsim.input.errors import QsimError
from qsim.input.traffic import Profile, Regimes, TraceData
from qsim.model.rng import Streams

__all__ = ["Drawn", "RateClock", "Replayed"]

#: Changes of the multiplier in a row at 0 before a stream is taken to have stopped for ever
#: (profile 0s that regimes' 0s always meet: a fixed dwell of the profile's slice).
MAX_STILL_CHANGES = 100_000


class _Regimes:
    """The regimes' multiplier as time goes on: the level held and until when."""

    def __init__(self, spec: Regimes, streams: Streams, name: str) -> None:
        self.levels = spec.multipliers
        self._pick = streams.generator(name, "regimes")
        self._dwell = streams.draws(spec.dwell, name, "regimes", "dwell")
        self.index = int(self._pick.integers(len(self.levels)))  # uniform at t = 0
        self.until = next(self._dwell)

    def at(self, t: float) -> tuple[float, float]:
        """(multiplier, end of its regime) at ``t``, switching as many times as due."""
        while t >= self.until:
            other = int(self._pick.integers(len(self.levels) - 1))
            self.index = other + 1 if other >= self.index else other  # uniform among others
            self.until += next(self._dwell)
        return self.levels[self.index], self.until


class RateClock:
    """Operational time to the run's time under the multiplier profile x regimes. Both
    change only at known instants (slice ends, regime ends), so an inter-arrival of ``d``
    of the stream's time is spent slice by slice: at multiplier m, ``d`` takes d / m."""

    def __init__(self, profile: Profile | None, regimes: Regimes | None, streams: Streams,
                 name: str) -> None:
        self._levels = profile.multipliers if profile is not None else (1.0,)
        self._slice = profile.slice_s if profile is not None else math.inf
        self._regimes = _Regimes(regimes, streams, name) if regimes is not None else None
        self._name = name

    def _rate(self, t: float) -> tuple[float, float]:
        """(multiplier, until when it holds) at ``t``."""
        if math.isinf(self._slice):
            rate, end = 1.0, math.inf
        else:
            k = math.floor(t / self._slice)
            rate, end = self._levels[k % len(self._levels)], (k + 1) * self._slice
            if end <= t:  # t on a slice's end, rounded below it
                rate, end = self._levels[(k + 1) % len(self._levels)], (k + 2) * self._slice
        if self._regimes is not None:
            level, until = self._regimes.at(t)
            rate, end = rate * level, min(end, until)
        return rate, end

    def advance(self, t: float, d: float) -> float:
        """The instant ``d`` of the stream's own time after ``t``."""
        still = 0  # changes in a row at a multiplier of 0
        while True:
            rate, end = self._rate(t)
            room = (end - t) * rate  # the stream's time until the multiplier changes
            if d <= room:
                return t + d / rate if d > 0 else t
            d -= room
            t = end
            still = still + 1 if rate == 0 else 0
            if still > MAX_STILL_CHANGES:  # a profile's 0s lined up with regimes' for ever
                raise QsimError(f"workload {self._name!r}: its profile x regimes multiplier "
                                f"stayed 0 over {MAX_STILL_CHANGES:,} changes in a row from "
                                f"t = {t:g} s: the stream would never arrive again")


class Drawn:
    """Arrivals drawn from the stream: each inter-arrival from ``arrivals`` (through the
    clock when a profile or regimes are set), each arrival's count from ``burst``."""

    def __init__(self, gaps: Iterator[float], bursts: Iterator[float] | None,
                 clock: RateClock | None) -> None:
        self._gaps = gaps
        self._bursts = bursts
        self._clock = clock

    def next_after(self, t: float) -> float:
        gap = next(self._gaps)
        return t + gap if self._clock is None else self._clock.advance(t, gap)

    def count(self) -> int:
        return 1 if self._bursts is None else int(next(self._bursts))


class Replayed:
    """Arrivals from a trace: row i at ``start + at[i]`` with ``count[i]`` jobs; none after
    the last row."""

    def __init__(self, data: TraceData, start: float) -> None:
        self._at = [start + t for t in data.at]
        self._count = data.count
        self._row = 0

    def first(self) -> float:
        return self._at[0]

    def next_after(self, _t: float) -> float:
        self._row += 1
        return self._at[self._row] if self._row < len(self._at) else math.inf

    def count(self) -> int:
        return self._count[self._row]


def trace_quanta(data: TraceData) -> np.ndarray | None:
    """Each job's quantum seconds, in the order the trace submits them (None: no column)."""
    if data.quantum is None:
        return None
    return np.repeat(np.asarray(data.quantum, np.float64), np.asarray(data.count, np.int64))
