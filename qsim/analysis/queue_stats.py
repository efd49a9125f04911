"""Statistics of a backend's queue length over time: what ``backend.status().pending_jobs``
shows, sampled every few seconds, and the same figures for a simulated run's own queue.

The data (the shared series in ``../shared/data/queues/``) and a run are measured the same way:

1. **Resample on a 10-s grid** (``resample``). Grid points run from the first sample's instant
   every ``GRID_S`` seconds to the last. Each takes the value of the latest sample at or before
   it (the queue holds its level until the next observation: zero-order hold). A grid point
   whose latest sample is more than ``max_gap_s`` (default 60 s: six missed samples) older is
   *missing*: a gap in the data is neither a level nor a movement, and every figure skips it.
   Duplicate instants keep the last sample.
2. **Levels are time-weighted**: on a regular grid one grid point is one 10-s slice of time, so
   the quantiles and the mean over valid grid points are the time-weighted ones (however
   irregular the raw samples were).
3. **Paused share**: the share of valid grid points that are paused (a ``status_msg`` other than
   ``active`` in the data; an outage in a run).
4. **Arrivals per 10 min**: the data hold levels, not arrivals; the sum of the *positive* 10-s
   increments in a 10-min block is a lower bound on the jobs that arrived in it (an arrival and
   a departure in the same 10 s cancel out). Only blocks whose 60 increments are all observed
   count. Their **dispersion** is variance / mean of those block counts (Poisson: 1).
   The sum of the negative increments bounds the departures the same way.
5. **Autocorrelation of the level** at 1 h and 24 h: the Pearson correlation of the level with
   itself that lag later, over the pairs of valid grid points (mean and variance of the whole
   valid series; divided by the number of pairs, so a lag of a tenth of the span is not biased
   towards 0 by the missing pairs).

numpy only; nothing here imports the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np

__all__ = [
    "GRID_S", "Grid", "QueueStats", "TARGETS", "compare", "queue_level_of_jobs",
    "queue_level_of_run", "queue_stats", "resample",
]

GRID_S: Final = 10.0  # seconds between grid points (the shared data's own period)
BLOCK_S: Final = 600.0  # arrivals are counted per 10 min
MAX_GAP_S: Final = 60.0  # a grid point whose latest sample is older than this is missing


@dataclass(frozen=True)
class Grid:
    """A queue on the regular grid: ``t`` (seconds), ``level`` (jobs pending), ``paused``,
    ``valid`` (False: no sample recent enough; its level and paused flag mean nothing)."""

    t: np.ndarray
    level: np.ndarray
    paused: np.ndarray
    valid: np.ndarray

    @property
    def step(self) -> float:
        return float(self.t[1] - self.t[0]) if len(self.t) > 1 else GRID_S


@dataclass(frozen=True)
class QueueStats:
    """The figures of issue 26 / SPEC §21 for one queue (see the module docstring)."""

    hours: float  # span of the valid grid points, in hours
    coverage: float  # valid grid points / all grid points
    p10: float
    p50: float
    p90: float
    p99: float
    mean: float
    paused_share: float
    arrivals_per_10min: float  # lower bound from the positive 10-s increments (mean per block)
    dispersion: float  # variance / mean of those block counts (nan: no arrivals or no block)
    departures_per_10min: float  # lower bound from the negative 10-s increments
    acf_1h: float
    acf_24h: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def resample(t: np.ndarray, pending: np.ndarray, paused: np.ndarray | None = None, *,
             step: float = GRID_S, max_gap_s: float = MAX_GAP_S) -> Grid:
    """Samples at instants ``t`` (seconds, non-decreasing) on the regular grid (see the module
    docstring). ``paused`` defaults to never."""
    t = np.asarray(t, dtype=np.float64)
    pending = np.asarray(pending, dtype=np.float64)
    paused_in = np.zeros(len(t), bool) if paused is None else np.asarray(paused, dtype=bool)
    if not len(t) == len(pending) == len(paused_in):
        raise ValueError("t, pending and paused must have the same length")
    if len(t) == 0:
        empty = np.empty(0)
        return Grid(empty, empty, empty.astype(bool), empty.astype(bool))
    if np.any(np.diff(t) < 0):
        raise ValueError("sample times must not decrease")
    n = int(np.floor((t[-1] - t[0]) / step)) + 1
    grid_t = t[0] + step * np.arange(n)
    latest = np.searchsorted(t, grid_t, side="right") - 1  # last sample at or before (ties: last)
    valid = grid_t - t[latest] <= max_gap_s
    return Grid(grid_t, pending[latest], paused_in[latest], valid)


def queue_stats(grid: Grid) -> QueueStats:
    """The figures of one queue on its grid (time-weighted: see the module docstring)."""
    level = grid.level[grid.valid]
    if len(level) == 0:
        raise ValueError("no valid sample")
    p10, p50, p90, p99 = np.percentile(level, [10, 50, 90, 99])
    arrivals, departures = _block_counts(grid)
    mean_arrivals = float(arrivals.mean()) if len(arrivals) else float("nan")
    dispersion = (float(arrivals.var() / mean_arrivals) if len(arrivals) > 1 and mean_arrivals > 0
                  else float("nan"))
    step = grid.step
    return QueueStats(
        hours=len(level) * step / 3600.0,
        coverage=float(grid.valid.mean()),
        p10=float(p10), p50=float(p50), p90=float(p90), p99=float(p99),
        mean=float(level.mean()),
        paused_share=float(grid.paused[grid.valid].mean()),
        arrivals_per_10min=mean_arrivals,
        dispersion=dispersion,
        departures_per_10min=float(departures.mean()) if len(departures) else float("nan"),
        acf_1h=autocorrelation(grid, 3600.0),
        acf_24h=autocorrelation(grid, 86400.0),
    )


def _block_counts(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Per complete 10-min block: the sums of the positive and of the negative increments."""
    per_block = int(round(BLOCK_S / grid.step))
    steps = np.diff(grid.level)
    observed = grid.valid[1:] & grid.valid[:-1]
    blocks = len(steps) // per_block
    if blocks == 0:
        return np.empty(0), np.empty(0)
    steps = steps[:blocks * per_block].reshape(blocks, per_block)
    complete = observed[:blocks * per_block].reshape(blocks, per_block).all(axis=1)
    up = np.clip(steps, 0, None).sum(axis=1)
    down = -np.clip(steps, None, 0).sum(axis=1)
    return up[complete], down[complete]


def autocorrelation(grid: Grid, lag_s: float) -> float:
    """Correlation of the level with itself ``lag_s`` later, over pairs of valid points (nan:
    no pair, or a constant level)."""
    lag = int(round(lag_s / grid.step))
    valid = grid.valid
    if lag >= len(grid.level) or lag <= 0:
        return float("nan")
    level = grid.level[valid]
    mean, var = level.mean(), level.var()
    pairs = valid[:-lag] & valid[lag:]
    if var == 0 or not pairs.any():
        return float("nan")
    x = grid.level[:-lag][pairs] - mean
    y = grid.level[lag:][pairs] - mean
    return float((x * y).mean() / var)


# ---- a run's own queue ----------------------------------------------------------------------

def queue_level_of_jobs(submit_at: np.ndarray, left_queue_at: np.ndarray, end_s: float, *,
                        start_s: float = 0.0, step: float = GRID_S,
                        paused: Sequence[tuple[float, float]] = ()) -> Grid:
    """A simulated queue sampled as the data were: every ``step`` seconds from ``start_s``
    while before ``end_s``, the jobs with ``submit_at <= t < left_queue_at`` (``left_queue_at``:
    the dispatch, or the end of a job that left the queue without one; nan: never left, counted
    until the end). ``paused``: the intervals ``[start, end)`` the backend was paused
    (outages), if any."""
    submit = np.sort(np.asarray(submit_at, dtype=np.float64))
    left = np.asarray(left_queue_at, dtype=np.float64)
    left = np.sort(left[~np.isnan(left)])
    n = max(int(np.ceil((end_s - start_s) / step)), 0)
    t = start_s + step * np.arange(n)
    t = t[t < end_s]
    level = (np.searchsorted(submit, t, side="right")
             - np.searchsorted(left, t, side="right")).astype(np.float64)
    is_paused = np.zeros(len(t), bool)
    for lo, hi in paused:
        is_paused[(t >= lo) & (t < hi)] = True
    return Grid(t, level, is_paused, np.ones(len(t), bool))


def queue_level_of_run(job_arrays: Mapping[str, np.ndarray], end_s: float, *,
                       start_s: float = 0.0, step: float = GRID_S,
                       workloads: Sequence[int] | None = None,
                       paused: Sequence[tuple[float, float]] = ()) -> Grid:
    """:func:`queue_level_of_jobs` of a run's jobs columns (``RunResult.job_arrays``):
    submitted and not yet dispatched; a job that ended in the queue (cancelled) leaves it at
    its end. ``workloads``: only these workload indices (default: every job)."""
    submit, dispatch, end = (job_arrays["submit_at"], job_arrays["dispatch_at"],
                             job_arrays["end_at"])
    if workloads is not None:
        keep = np.isin(job_arrays["workload"], list(workloads))
        submit, dispatch, end = submit[keep], dispatch[keep], end[keep]
    left = np.where(np.isnan(dispatch), end, dispatch)
    # An incomplete job's end is the run's end: it was still queued, so it never left.
    left = np.where(left >= end_s, np.nan, left)
    return queue_level_of_jobs(submit, left, end_s, start_s=start_s, step=step, paused=paused)


# ---- the targets of issue 26 ----------------------------------------------------------------

#: figure -> (kind, bound): "rel": |model/data - 1| <= bound; "abs": |model - data| <= bound;
#: "factor": max(model/data, data/model) <= bound.
TARGETS: Final[dict[str, tuple[str, float]]] = {
    "p50": ("rel", 0.35),
    "p90": ("rel", 0.25),
    "mean": ("rel", 0.25),
    "paused_share": ("abs", 0.03),
    "dispersion": ("factor", 2.0),
    "acf_24h": ("abs", 0.2),
}


def compare(data: QueueStats, model: QueueStats,
            figures: Sequence[str] = tuple(TARGETS)) -> dict[str, bool]:
    """Whether ``model`` meets each target of issue 26 against ``data`` (the model's nan: not
    met). A figure the data cannot give (nan: the 24-h autocorrelation of a series shorter
    than a day) is no target: it is left out."""
    out = {}
    for name in figures:
        kind, bound = TARGETS[name]
        want, got = getattr(data, name), getattr(model, name)
        if np.isnan(want):
            continue
        out[name] = _within(kind, bound, want, got)
    return out


def _within(kind: str, bound: float, want: float, got: float) -> bool:
    if np.isnan(want) or np.isnan(got):
        return False
    if kind == "abs":
        return abs(got - want) <= bound + 1e-12
    if want == 0:
        return got == 0
    if kind == "rel":
        return abs(got / want - 1) <= bound + 1e-12
    if got <= 0 or want <= 0:
        return False
    return max(got / want, want / got) <= bound
