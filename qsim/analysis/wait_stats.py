"""Statistics of jobs' waits (``running - created`` in the service's words; ``dispatch -
submit`` in qsim's): the figures ``qsim fit --jobs`` puts side by side, the user's jobs and the
same jobs on the fitted backend.

Waits are per-job tallies (each job counts once), not time-weighted levels. The targets are
issue 27's for the queue's level, applied to the waits: p50 within 35 %, p90 and the mean
within 25 %. numpy only; nothing here imports the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np

__all__ = ["WAIT_FIGURES", "WAIT_TARGETS", "WaitStats", "compare_waits", "wait_stats"]

#: figure -> relative bound: |model / data - 1| <= bound.
WAIT_TARGETS: Final[dict[str, float]] = {"wait_p50": 0.35, "wait_p90": 0.25, "wait_mean": 0.25}
WAIT_FIGURES: Final = ("jobs", "wait_p50", "wait_p90", "wait_p99", "wait_mean", "run_p50",
                       "run_mean")


@dataclass(frozen=True)
class WaitStats:
    """Quantiles and mean of the waits (seconds), and of the run times that came with them."""

    jobs: float  # how many waits (a float so that every figure averages alike)
    wait_p50: float
    wait_p90: float
    wait_p99: float
    wait_mean: float
    run_p50: float
    run_mean: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def wait_stats(wait_s: np.ndarray, run_s: np.ndarray) -> WaitStats:
    """The figures of ``wait_s`` and ``run_s`` (seconds, one per job; nan: unknown, skipped)."""
    wait = np.asarray(wait_s, dtype=np.float64)
    wait = wait[~np.isnan(wait)]
    run = np.asarray(run_s, dtype=np.float64)
    run = run[~np.isnan(run)]
    if len(wait) == 0:
        raise ValueError("no wait")
    p50, p90, p99 = np.percentile(wait, [50, 90, 99])
    nan = float("nan")
    return WaitStats(
        jobs=float(len(wait)), wait_p50=float(p50), wait_p90=float(p90), wait_p99=float(p99),
        wait_mean=float(wait.mean()),
        run_p50=float(np.median(run)) if len(run) else nan,
        run_mean=float(run.mean()) if len(run) else nan)


def compare_waits(data: WaitStats, model: WaitStats,
                  figures: Sequence[str] = tuple(WAIT_TARGETS)) -> dict[str, bool]:
    """Whether ``model`` meets each target against ``data`` (nan: not met). A wait of 0 in the
    data is met only by 0; waits are compared in seconds, and one second of slack keeps a
    0.4-s against 0.6-s median (an idle backend) from failing on its ratio."""
    out = {}
    for name in figures:
        want, got = getattr(data, name), getattr(model, name)
        bound = WAIT_TARGETS[name]
        out[name] = bool(np.isfinite(want) and np.isfinite(got)
                         and abs(got - want) <= bound * want + 1.0)
    return out
