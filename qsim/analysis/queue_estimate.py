"""Moment matching: a first model of a backend from its queue-length series alone.

The data hold the level of the queue every 10 s, never an arrival or a departure, so every
rate here is read from the level's movement, with what it assumes said beside it:

- **Pauses**: each run of paused grid points (``status_msg`` other than ``active``) is one fixed
  ``pause`` outage, from its first paused point to the first point after it.
- **Service** (the QPU's time per job): in a 10-min block where the queue never emptied and
  nothing was paused, the QPU worked the whole block, so the block's departures (the sum of its
  negative 10-s increments) are 600 s / the mean quantum time, less the departures hidden by an
  arrival in the same 10 s (a lower bound on the rate, so the quantum is an upper bound). The
  mean over such blocks gives the mean quantum; their variance / mean gives its squared cv (a
  renewal process counted over a window much longer than one job). With fewer than
  ``MIN_BUSY_BLOCKS`` busy blocks, the fastest block's departures bound it instead.
- **Arrivals**: the positive increments per second observed (a lower bound: see queue_stats).
  The queue's growth over the long pauses, against what that rate would bring, tells whether
  the stream stops during a pause (``during_outages: stop``; the shared data: at most 0.05)
  or keeps on (a queue that fills: about 1).
- **Burst** (jobs per arrival, geometric): a compound Poisson count of geometric bursts of mean
  m has variance / mean 2m - 1, so m = (dispersion + 1) / 2. The rest of the dispersion comes
  from the profile and the regimes: the simulation search scales this first guess.
- **Profile** (daily): the arrival rate in each hour since the first sample (mod 24 h: slice 0
  starts at the first sample's time of day), relative to the mean, smoothed over 3 hours.
- **Regimes** (the level's plateaus, days apart): the arrival rate over 6-h windows, split at
  its median into a low and a high regime; their levels are each class's mean rate relative to
  the mean; the dwell is the mean run of consecutive windows in one class.

numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from qsim.analysis.queue_stats import BLOCK_S, Grid

__all__ = ["Estimate", "estimate", "paused_intervals"]

MIN_BUSY_BLOCKS: Final = 10
REGIME_WINDOW_S: Final = 6 * 3600.0
PROFILE_SLICES: Final = 24
MIN_LEVEL: Final = 0.05
STOPPED_FILL: Final = 0.5
LONG_PAUSE_S: Final = 1800.0  # a slice or a regime with no arrival observed keeps a trickle


@dataclass(frozen=True)
class Estimate:
    """What the moments give (see the module docstring). Times in seconds from the first
    sample."""

    span_s: float
    pending0: int  # the level at the first sample: what is queued at t = 0
    pauses: list[tuple[float, float]]
    service_s: float  # mean quantum time
    service_cv: float
    busy_blocks: int  # the 10-min blocks the service was read from
    arrival_rate: float  # jobs per second
    dispersion: float
    burst_mean: float
    profile: list[float] = field(default_factory=list)  # empty: none
    regimes: list[float] = field(default_factory=list)  # empty: none
    regime_dwell_s: float = 0.0
    paused_share: float = 0.0  # of the valid grid points
    #: the queue's growth over long pauses against the arrivals expected in them
    #: (``_paused_fill``): below ``STOPPED_FILL``, the stream stops in a pause
    paused_fill: float = float("nan")
    active_rate: float = 0.0  # jobs per second over the active 10-s steps only

    @property
    def stops_in_pauses(self) -> bool:
        return bool(self.pauses) and self.paused_fill < STOPPED_FILL

    @property
    def load(self) -> float:
        return self.arrival_rate * self.service_s


def paused_intervals(grid: Grid) -> list[tuple[float, float]]:
    """Runs of valid paused grid points as ``[start, end)`` intervals (end: the next point)."""
    paused = (grid.paused & grid.valid).astype(np.int8)
    edges = np.diff(np.concatenate([[0], paused, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    step = grid.step
    return [(float(grid.t[a] - grid.t[0]), float(grid.t[b - 1] - grid.t[0] + step))
            for a, b in zip(starts, ends)]


def _busy_departures(grid: Grid) -> np.ndarray:
    """Departures of every 10-min block the queue never emptied, fully observed and active."""
    per_block = int(round(BLOCK_S / grid.step))
    blocks = (len(grid.level) - 1) // per_block
    out = []
    for b in range(blocks):
        lo, hi = b * per_block, (b + 1) * per_block + 1
        level = grid.level[lo:hi]
        if grid.valid[lo:hi].all() and not grid.paused[lo:hi].any() and level.min() >= 1:
            out.append(-np.clip(np.diff(level), None, 0).sum())
    return np.asarray(out, dtype=np.float64)


def _service(grid: Grid) -> tuple[float, float, int]:
    departures = _busy_departures(grid)
    if len(departures) >= MIN_BUSY_BLOCKS and departures.mean() > 0:
        mean = float(departures.mean())
        cv2 = float(np.clip(departures.var() / mean, 0.05, 4.0))
        return BLOCK_S / mean, float(np.sqrt(cv2)), len(departures)
    per_block = int(round(BLOCK_S / grid.step))
    steps = -np.clip(np.diff(grid.level), None, 0)
    steps[~(grid.valid[1:] & grid.valid[:-1])] = 0
    n = len(steps) // per_block * per_block
    fastest = float(steps[:n].reshape(-1, per_block).sum(axis=1).max()) if n else 0.0
    return BLOCK_S / max(fastest, 1.0), 1.0, len(departures)


def _arrivals_by_time(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Arrivals (positive increments) and observed seconds per increment, in grid order."""
    observed = grid.valid[1:] & grid.valid[:-1]
    up = np.where(observed, np.clip(np.diff(grid.level), 0, None), 0.0)
    return up, observed * grid.step


def _relative_rates(up: np.ndarray, seconds: np.ndarray, slot: np.ndarray, n: int) -> np.ndarray:
    arrivals = np.bincount(slot, up, minlength=n)[:n]
    time = np.bincount(slot, seconds, minlength=n)[:n]
    rate = np.divide(arrivals, time, out=np.zeros(n), where=time > 0)
    mean = rate[time > 0].mean() if (time > 0).any() else 0.0
    return rate / mean if mean > 0 else np.ones(n)


def _profile(grid: Grid, up: np.ndarray, seconds: np.ndarray) -> list[float]:
    hour = (((grid.t[:-1] - grid.t[0]) // 3600) % PROFILE_SLICES).astype(np.int64)
    levels = _relative_rates(up, seconds, hour, PROFILE_SLICES)
    smooth = (np.roll(levels, 1) + levels + np.roll(levels, -1)) / 3  # a circular 3-h mean
    smooth = np.maximum(smooth, MIN_LEVEL)
    return [round(float(x), 3) for x in smooth / smooth.mean()]


def _regimes(grid: Grid, up: np.ndarray, seconds: np.ndarray) -> tuple[list[float], float]:
    window = ((grid.t[:-1] - grid.t[0]) // REGIME_WINDOW_S).astype(np.int64)
    n = int(window.max()) + 1
    if n < 4:  # under a day: no plateaus to tell apart
        return [], 0.0
    rates = _relative_rates(up, seconds, window, n)
    high = rates > np.median(rates)
    if high.all() or not high.any():
        return [], 0.0
    levels = np.maximum([rates[~high].mean(), rates[high].mean()], MIN_LEVEL)
    runs = 1 + int(np.count_nonzero(np.diff(high.astype(np.int8))))
    dwell = n * REGIME_WINDOW_S / runs
    return [round(float(x), 3) for x in levels / levels.mean()], dwell


def estimate(grid: Grid, dispersion: float) -> Estimate:
    """The first model of the queue on ``grid`` (``dispersion``: its queue_stats')."""
    service_s, cv, busy = _service(grid)
    up, seconds = _arrivals_by_time(grid)
    rate = float(up.sum() / seconds.sum()) if seconds.sum() > 0 else 0.0
    burst = max(1.0, (dispersion + 1) / 2) if np.isfinite(dispersion) else 1.0
    regimes, dwell = _regimes(grid, up, seconds)
    return Estimate(
        span_s=float(grid.t[-1] - grid.t[0]),
        pending0=int(grid.level[0]),
        pauses=paused_intervals(grid),
        service_s=service_s, service_cv=cv, busy_blocks=busy,
        arrival_rate=rate, dispersion=float(dispersion), burst_mean=burst,
        profile=_profile(grid, up, seconds) if rate > 0 else [],
        regimes=regimes, regime_dwell_s=dwell,
        paused_share=float(grid.paused[grid.valid].mean()) if grid.valid.any() else 0.0,
        paused_fill=_paused_fill(grid, rate),
        active_rate=_active_rate(grid, up, seconds),
    )


def _active_rate(grid: Grid, up: np.ndarray, seconds: np.ndarray) -> float:
    """The arrival rate over the steps between two active points (the stream's rate while
    the backend is up: what a stream that stops in pauses is given)."""
    active = ~grid.paused[:-1] & ~grid.paused[1:]
    time = float(seconds[active].sum())
    return float(up[active].sum()) / time if time > 0 else 0.0


def _paused_fill(grid: Grid, rate: float) -> float:
    """How much the queue grew over the long pauses (``LONG_PAUSE_S``: the data's status also
    flickers for a sample or two while the queue moves as ever), over what the active rate
    would have brought in that time (nan: no long pause, or no arrivals). Nothing leaves the
    queue in a real pause; in the shared data's `dedicated` periods jobs do come and go, but
    the level stays flat: as if the public stream stopped."""
    grown = seconds = 0.0
    for a, b in paused_intervals(grid):
        if b - a < LONG_PAUSE_S:
            continue
        inside = np.flatnonzero((grid.t - grid.t[0] >= a) & (grid.t - grid.t[0] < b)
                                & grid.valid)
        grown += max(float(grid.level[inside[-1]] - grid.level[inside[0]]), 0.0)
        seconds += b - a
    return grown / (rate * seconds) if seconds > 0 and rate > 0 else float("nan")
