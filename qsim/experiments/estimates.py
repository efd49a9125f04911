"""Figures over replications: a mean with a 95% t-interval, and a whole summary so averaged."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Final
from collections.abc import Mapping, Sequence

__all__ = ["CONFIDENCE", "Estimate", "Summary", "aggregate", "aggregate_value"]

Summary = Mapping[str, Any]  # a summary dict (SPEC §7), or an aggregate of several

CONFIDENCE: Final = 0.95
# Summary keys that name a run rather than measure it: carried over, never averaged.
_LABEL_KEYS: Final = frozenset({"scenario", "seed", "qsim_version", "name", "kind", "mode",
                                "instance", "share"})  # share is a setting, not a measurement


@dataclass(frozen=True)
class Estimate:
    """The mean of one figure over replications, with a 95% t-interval (None below 2 runs)."""

    mean: float
    low: float | None
    high: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        n = len(values)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(mean, None, None, n)
        half = _t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n)

    @property
    def half_width(self) -> float | None:
        return None if self.high is None else (self.high - self.low) / 2  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        ci = None if self.low is None else [self.low, self.high]
        return {"mean": self.mean, "ci95": ci}


def _t_quantile(dof: int) -> float:
    # scipy is imported here, not at module level: it costs ~0.3 s and single runs never need it.
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, dof))


def aggregate(summaries: Sequence[Summary]) -> Summary:
    """Summaries of the same scenario -> one of the same shape, each figure an Estimate dict.

    Labels (names, modes, the seed) are carried over; numbers become ``{"mean", "ci95"}``.
    A ``replications`` count is added at the top.
    """
    out = aggregate_value(list(summaries), key=None)
    return {**out, "replications": len(summaries)} if isinstance(out, dict) else out


def aggregate_value(values: list[Any], key: str | None) -> Any:
    first = values[0]
    if isinstance(first, dict):
        return {k: aggregate_value([v[k] for v in values], k) for k in first}
    if isinstance(first, list):
        return [aggregate_value(list(items), key) for items in zip(*values)]
    if key in _LABEL_KEYS or isinstance(first, (bool, str)) or first is None:
        return first
    return Estimate.of([float(v) for v in values]).to_dict()


