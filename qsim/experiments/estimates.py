"""Figures over replications: a mean with a 95% t-interval, and a whole summary so averaged."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np

from qsim.analysis.student_t import t_quantile
from qsim.analysis.wilson import wilson_interval

__all__ = ["CONFIDENCE", "Estimate", "Summary", "aggregate", "aggregate_value",
           "over_allocation"]

Summary = Mapping[str, Any]  # a summary dict (SPEC §7), or an aggregate of several

CONFIDENCE: Final = 0.95
PERCENTILES: Final = (10, 50, 90)  # numpy's default (linear) interpolation between runs
# Summary keys that name a run rather than measure it: carried over, never averaged.
_LABEL_KEYS: Final = frozenset({"scenario", "seed", "qsim_version", "name", "kind", "mode",
                                "instance", "share",  # share is a setting, not a measurement
                                "planned_jobs", "stopped_by"})


@dataclass(frozen=True)
class Estimate:
    """The mean of one figure over replications, with a 95% t-interval (None below 2 runs)
    and the spread of the runs themselves: the 10th, 50th and 90th percentiles."""

    mean: float
    low: float | None
    high: float | None
    n: int
    p10: float = math.nan
    p50: float = math.nan
    p90: float = math.nan

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        n = len(values)
        mean = math.fsum(values) / n
        p10, p50, p90 = (float(p) for p in np.percentile(values, PERCENTILES))
        if n < 2:
            return cls(mean, None, None, n, p10, p50, p90)
        half = _t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n, p10, p50, p90)

    @property
    def half_width(self) -> float | None:
        return None if self.high is None else (self.high - self.low) / 2  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        ci = None if self.low is None else [self.low, self.high]
        return {"mean": self.mean, "ci95": ci, "p10": self.p10, "p50": self.p50,
                "p90": self.p90}


def _t_quantile(dof: int) -> float:
    return t_quantile(0.5 + CONFIDENCE / 2, dof)


def aggregate(summaries: Sequence[Summary]) -> Summary:
    """Summaries of the same scenario -> one of the same shape, each figure an Estimate dict.

    Labels (names, modes, the seed) are carried over; numbers become ``{"mean", "ci95",
    "p10", "p50", "p90"}``; a flag (``complete``) holds only if it holds in every run. A
    figure that some runs lack (``first_qpu_start_s`` of a run where no job reached the QPU)
    is estimated over the runs that have it, with ``missing``: how many did not.
    A ``replications`` count is added at the top.
    """
    out = aggregate_value(list(summaries), key=None)
    if not isinstance(out, dict):
        return cast(Summary, out)
    if out.get("instances"):
        out["instances"] = [_over_allocation(i, [s["instances"][k] for s in summaries])
                            for k, i in enumerate(out["instances"])]
    return {**out, "replications": len(summaries)}


def _over_allocation(instance: dict[str, Any], runs: Sequence[Summary]) -> dict[str, Any]:
    """An instance with an allocation (SPEC §20): ``p_over_allocation``, the share of the
    replications whose usage went over it, and ``p_over_allocation_ci95``, its 95 % Wilson
    interval (named as compare names ``p_deadline``'s)."""
    return {**instance, **over_allocation([r["over_allocation"] for r in runs])}


def over_allocation(flags: Sequence[float | None]) -> dict[str, Any]:
    """``{"p_over_allocation": p, "p_over_allocation_ci95": [low, high]}`` from each
    replication's ``over_allocation`` (1.0 or 0.0); empty without an allocation (None)."""
    if not flags or any(f is None for f in flags):
        return {}
    over = sum(1 for f in flags if f)
    low, high = wilson_interval(over, len(flags))
    return {"p_over_allocation": over / len(flags), "p_over_allocation_ci95": [low, high]}


def aggregate_value(values: list[Any], key: str | None) -> Any:
    first = values[0]
    if isinstance(first, dict):
        return {k: aggregate_value([v[k] for v in values], k) for k in first}
    if isinstance(first, list):
        return [aggregate_value(list(items), key) for items in zip(*values)]
    if isinstance(first, bool):
        return all(values)
    if key == "planned_jobs" and any(v != first for v in values):
        # SPEC §20: a count each run draws plans a different number of jobs in each
        return aggregate_value(values, key="planned")
    if key in _LABEL_KEYS or isinstance(first, str):
        # the first run's label; one that only some runs have (stopped_by), from the first
        return next((v for v in values if v is not None), None)
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    estimate = Estimate.of(present).to_dict()
    return estimate if len(present) == len(values) else {
        **estimate, "missing": len(values) - len(present)}


