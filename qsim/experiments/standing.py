"""Where each candidate of ``qsim advise`` stands after its replications (SPEC §20): out of
the running (and why), clearly meeting the goal, or not yet known. The search runs more
replications of a candidate only while it is not known.

Candidate i's replication r ran with the same random streams as every other candidate's
replication r (common random numbers), so two candidates are compared replication by
replication over the replications both have.

A replication *meets the goal* when its workload did all its work (``complete``), within the
deadline (``wall_time_s``) and within the budget (``cost_usd``). A candidate is **out** when

- it left work unfinished in some replication (cheaper because it did less: never advised);
- the upper end of the 95 % Wilson interval of its share meeting the goal is below the
  confidence: it cannot reach it;
- a candidate that clearly meets the goal (the lower end of its interval at least the
  confidence) is clearly cheaper: the 95 % interval of the paired cost difference is above 0;
- another complete candidate dominates it: in every shared replication at most its cost and
  its wall time, and less of one of them in some (it then meets the goal wherever this one
  does, for less).

A candidate that is not out is **open** (more replications, up to the cap) while its share's
interval straddles the confidence, or while it clearly meets the goal but its cost is not
yet told apart from another candidate still in the running: the paired difference's interval
holds 0 and is wider than ``COST_TOLERANCE`` of the cost (closer than that, they cost the
same for any purpose, and the first in order wins).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from qsim.analysis.student_t import t_quantile
from qsim.experiments.decision import Chance, Goal
from qsim.experiments.estimates import Summary

__all__ = ["COST_TOLERANCE", "Standing", "stand"]

#: Two costs whose paired difference is known to within this share of the cost are the same
#: for a decision: no more replications are spent telling them apart.
COST_TOLERANCE: Final = 0.01
_EPS: Final = 1e-9  # shares are compared with this slack (0.9 * 10 is 9.000000000000002)


@dataclass(frozen=True)
class Standing:
    """One candidate's standing: ``out`` with the ``why`` (naming the other candidate by its
    index in ``other``, when another put it out), or ``open`` (more replications wanted)."""

    out: bool
    open: bool
    why: str = ""
    other: int | None = None


def hits(entries: Sequence[Summary], goal: Goal) -> list[bool]:
    """Per replication: did the workload finish, by the deadline and within the budget?"""
    return [bool(e.get("complete", True))
            and (goal.deadline_s is None or float(e["wall_time_s"]) <= goal.deadline_s)
            and (goal.budget_usd is None or float(e["cost_usd"]) <= goal.budget_usd)
            for e in entries]


def stand(runs: Sequence[Sequence[Summary]], goal: Goal) -> list[Standing]:
    """Each candidate's standing from its replications so far (``runs[i]``: candidate i's
    workload entries, replication 0 first)."""
    n = len(runs)
    complete = [all(e.get("complete", True) for e in entries) for entries in runs]
    chance = [Chance.of(hits(entries, goal)) for entries in runs]
    cost = [[float(e["cost_usd"]) for e in entries] for entries in runs]
    wall = [[float(e["wall_time_s"]) for e in entries] for entries in runs]
    sure = [complete[i] and chance[i].low >= goal.confidence - _EPS for i in range(n)]
    first: list[Standing | None] = [None] * n
    for i in range(n):
        if not complete[i]:
            first[i] = Standing(True, False, "did not finish the work in some replication")
        elif chance[i].high < goal.confidence - _EPS:
            first[i] = Standing(True, False, "cannot reach the confidence (the upper end "
                                f"of its interval is {chance[i].high:.0%})")
    for i in range(n):
        if first[i] is not None:
            continue
        for j in range(n):
            if j == i or not complete[j]:
                continue
            if sure[j] and _clearly_below(cost[j], cost[i]):
                first[i] = Standing(True, False, "dearer than a choice that meets the goal", j)
                break
            if _dominates(cost[j], wall[j], cost[i], wall[i]):
                first[i] = Standing(True, False, "dominated: dearer or slower in every "
                                    "replication, never better", j)
                break
    live = [i for i in range(n) if first[i] is None]
    out: list[Standing] = []
    for i in range(n):
        standing = first[i]
        if standing is None:
            undecided = not sure[i] or any(not _told_apart(cost[i], cost[j])
                                           for j in live if j != i)
            standing = Standing(False, undecided)
        out.append(standing)
    return out


@functools.cache
def _t95(dof: int) -> float:
    """The t quantile of a two-sided 95 % interval (cached: each round asks it for every pair
    of candidates, and it is found by Newton's method)."""
    return t_quantile(0.975, dof)


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float] | None:
    """The 95 % t-interval (low, high) of the mean paired difference a - b over the
    replications both have (None below two), as ``Estimate`` computes it."""
    k = min(len(a), len(b))
    if k < 2:
        return None
    d = [x - y for x, y in zip(a[:k], b[:k])]
    mean = math.fsum(d) / k
    half = _t95(k - 1) * statistics.stdev(d) / math.sqrt(k)
    return mean - half, mean + half


def _clearly_below(a: Sequence[float], b: Sequence[float]) -> bool:
    """Is cost ``a`` below cost ``b``, beyond doubt (the difference's interval below 0)?"""
    d = _paired(a, b)
    return d is not None and d[1] < 0


def _told_apart(a: Sequence[float], b: Sequence[float]) -> bool:
    """Are the two costs known apart, or known to be the same within COST_TOLERANCE?"""
    d = _paired(a, b)
    if d is None:
        return False
    low, high = d
    if low > 0 or high < 0:
        return True
    scale = max(abs(math.fsum(a) / len(a)), abs(math.fsum(b) / len(b)))
    return (high - low) / 2 <= COST_TOLERANCE * scale


def _dominates(cost_j: Sequence[float], wall_j: Sequence[float], cost_i: Sequence[float],
               wall_i: Sequence[float]) -> bool:
    """Is j at most i's cost and wall time in every shared replication, and less somewhere?"""
    k = min(len(cost_i), len(cost_j))
    if k < 2:
        return False
    pairs = list(zip(cost_j[:k], wall_j[:k], cost_i[:k], wall_i[:k]))
    return (all(cj <= ci and wj <= wi for cj, wj, ci, wi in pairs)
            and any(_less(cj, ci) or _less(wj, wi) for cj, wj, ci, wi in pairs))


def _less(x: float, y: float) -> bool:
    """x below y by more than float noise (job and batch often charge the very same time,
    summed in another order)."""
    return x < y - _EPS * max(1.0, abs(y))
