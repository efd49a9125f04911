"""A deadline and a budget over a comparison's replications (SPEC §20): per mode the share
of replications that meet each (with a 95 % Wilson interval), and the cheapest mode that
meets both with at least the wanted confidence, or what would make one do.

Each replication counts once: its workload meets the deadline when it did all its work
(``complete``) within ``deadline_s`` of its first submission (``wall_time_s``); unfinished
work never meets a deadline. It meets the budget when its ``cost_usd`` is at most the budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from qsim.analysis.wilson import wilson_interval
from qsim.experiments.estimates import Summary
from qsim.input.errors import QsimError
from qsim.input.units import format_duration

__all__ = ["DEFAULT_CONFIDENCE", "Chance", "Decision", "Goal", "check_goal", "decide"]

DEFAULT_CONFIDENCE: Final = 0.9
_EPS: Final = 1e-9  # 0.9 * 10 is 9.000000000000002: shares are compared with this slack


@dataclass(frozen=True)
class Goal:
    """What the user wants: done by ``deadline_s`` and/or within ``budget_usd``, in at least
    ``confidence`` of the replications. ``None``: no such limit."""

    deadline_s: float | None
    budget_usd: float | None
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, float | None]:
        return {"deadline_s": self.deadline_s, "budget_usd": self.budget_usd,
                "confidence": self.confidence}

    def words(self) -> str:
        """"the deadline of 2h and the budget of $500.00": the limits set, as a sentence says
        them."""
        parts = []
        if self.deadline_s is not None:
            parts.append(f"the deadline of {format_duration(self.deadline_s)}")
        if self.budget_usd is not None:
            parts.append(f"the budget of {_usd(self.budget_usd)}")
        return " and ".join(parts)


def check_goal(deadline_s: float | None, budget_usd: float | None,
               confidence: float | None = None, prefix: str = "") -> Goal:
    """The goal, or QsimError naming the bad value (a deadline must be above 0, a budget a
    finite number >= 0, the confidence strictly between 0 and 1); ``prefix`` ("--" for the
    command line) goes before the name, so that the message names what the user wrote."""
    if deadline_s is None and budget_usd is None:
        raise QsimError("a decision needs a deadline, a budget or both")
    if deadline_s is not None and not (math.isfinite(deadline_s) and deadline_s > 0):
        raise QsimError(f"{prefix}deadline {deadline_s!r}: expected a duration above 0")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd >= 0):
        raise QsimError(f"{prefix}budget {budget_usd!r}: expected a number of US dollars >= 0")
    c = DEFAULT_CONFIDENCE if confidence is None else confidence
    if not (math.isfinite(c) and 0 < c < 1):
        raise QsimError(f"{prefix}confidence {c!r}: expected a number strictly between 0 "
                        "and 1")
    return Goal(deadline_s, budget_usd, c)


@dataclass(frozen=True)
class Chance:
    """A share of replications (``p``) and its 95 % Wilson interval."""

    p: float
    low: float
    high: float

    @classmethod
    def of(cls, hits: Sequence[bool]) -> Chance:
        low, high = wilson_interval(sum(hits), len(hits))
        return cls(sum(hits) / len(hits), low, high)


@dataclass(frozen=True)
class Decision:
    """Per mode ``p_deadline``, ``p_budget`` (None without that limit) and ``p_both``; the
    recommended mode (None: none meets the goal) and a sentence saying why or what would."""

    goal: Goal
    chances: dict[str, dict[str, Chance | None]]
    recommended: str | None
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        """Each chance as ``p_*`` (a number in [0, 1], or null without that limit) and
        ``p_*_ci95`` ([low, high])."""
        modes: dict[str, dict[str, Any]] = {}
        for mode, chances in self.chances.items():
            row: dict[str, Any] = {}
            for key, chance in chances.items():
                row[key] = None if chance is None else chance.p
                row[f"{key}_ci95"] = None if chance is None else [chance.low, chance.high]
            modes[mode] = row
        return {"goal": self.goal.to_dict(), "chances": modes,
                "recommended": self.recommended, "recommendation": self.sentence}


def decide(runs: Mapping[str, Sequence[Summary]], costs: Mapping[str, float],
           goal: Goal, noun: str = "mode") -> Decision:
    """The decision over each mode's replications (``runs``); ``costs``: each mode's mean
    cost, which ranks the modes that meet the goal (the first of equals, in order).
    ``noun``: what the sentence calls the keys of ``runs`` (``qsim advise``: "choice")."""
    chances: dict[str, dict[str, Chance | None]] = {}
    for mode, entries in runs.items():
        on_time = [_on_time(e, goal.deadline_s) for e in entries]
        in_budget = [_in_budget(e, goal.budget_usd) for e in entries]
        chances[mode] = {
            "p_deadline": None if goal.deadline_s is None else Chance.of(on_time),
            "p_budget": None if goal.budget_usd is None else Chance.of(in_budget),
            "p_both": Chance.of([a and b for a, b in zip(on_time, in_budget)])}
    good = [m for m in runs if _share(chances[m]) >= goal.confidence - _EPS]
    if good:
        best = min(good, key=lambda m: costs[m])
        sentence = (f"Recommended: {best}, the cheapest {noun} that meets "
                    f"{goal.words()} in {_share(chances[best]):.0%} of the replications "
                    f"(at least {_pct(goal.confidence)} wanted).")
        return Decision(goal, chances, best, sentence)
    return Decision(goal, chances, None, _what_would(runs, goal, noun))


def _share(chances: Mapping[str, Chance | None]) -> float:
    both = chances["p_both"]
    assert both is not None  # always measured
    return both.p


def _on_time(e: Summary, deadline_s: float | None) -> bool:
    if deadline_s is None:
        return True
    return bool(e.get("complete", True)) and float(e["wall_time_s"]) <= deadline_s


def _in_budget(e: Summary, budget_usd: float | None) -> bool:
    return budget_usd is None or float(e["cost_usd"]) <= budget_usd


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def _usd(x: float) -> str:
    return f"${x:,.2f}"


def _needed(n: int, confidence: float) -> int:
    """The fewest of ``n`` replications whose share is at least ``confidence``."""
    return max(1, math.ceil(confidence * n - _EPS))


def _kth(values: list[float], k: int) -> float | None:
    """The k-th smallest of ``values`` (the least limit that k of them meet), or None."""
    return sorted(values)[k - 1] if len(values) >= k else None


def _what_would(runs: Mapping[str, Sequence[Summary]], goal: Goal, noun: str = "mode") -> str:
    """Why no mode qualifies, and the least change of one limit (or of both) that would make
    some mode do, measured on these replications."""
    lead = (f"No {noun} meets {goal.words()} in at least {_pct(goal.confidence)} of the "
            f"replications.")
    options: list[str] = []
    if goal.deadline_s is not None:  # the budget kept: the least deadline that would do
        found = _least(runs, goal, lambda e: float(e["wall_time_s"]),
                       lambda e: bool(e.get("complete", True)) and _in_budget(e, goal.budget_usd))
        if found is not None:
            options.append(f"a deadline of {format_duration(found[0])} ({found[1]})")
    if goal.budget_usd is not None:  # the deadline kept: the least budget that would do
        found = _least(runs, goal, lambda e: float(e["cost_usd"]),
                       lambda e: _on_time(e, goal.deadline_s))
        if found is not None:
            options.append(f"a budget of {_usd(found[0])} ({found[1]})")
    if options:
        return f"{lead} {_capital(' or '.join(options))} would do."
    if goal.deadline_s is not None and goal.budget_usd is not None:
        both = _least_both(runs, goal)
        if both is not None:
            budget, deadline, mode = both
            return (f"{lead} Neither limit alone would do; a budget of {_usd(budget)} with a "
                    f"deadline of {format_duration(deadline)} would ({mode}).")
    return (f"{lead} No limit would: no {noun} did all the work in {_pct(goal.confidence)} of "
            f"the replications.")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _least(runs: Mapping[str, Sequence[Summary]], goal: Goal, value: Any, kept: Any
           ) -> tuple[float, str] | None:
    """The least limit on ``value`` for which some mode's replications that meet the ``kept``
    limit reach the confidence, and that mode (the first, in order, of equals)."""
    best: tuple[float, str] | None = None
    for mode, entries in runs.items():
        limit = _kth([value(e) for e in entries if kept(e)], _needed(len(entries),
                                                                       goal.confidence))
        if limit is not None and (best is None or limit < best[0]):
            best = (limit, mode)
    return best


def _least_both(runs: Mapping[str, Sequence[Summary]], goal: Goal
                ) -> tuple[float, float, str] | None:
    """With neither limit alone enough: the least budget with no deadline but completion,
    then the least deadline within that budget, for the mode whose budget is least."""
    best: tuple[float, float, str] | None = None
    for mode, entries in runs.items():
        k = _needed(len(entries), goal.confidence)
        done = [e for e in entries if e.get("complete", True)]
        budget = _kth([float(e["cost_usd"]) for e in done], k)
        if budget is None:
            continue
        deadline = _kth([float(e["wall_time_s"]) for e in done
                         if float(e["cost_usd"]) <= budget], k)
        assert deadline is not None  # the k cheapest are within it
        if best is None or budget < best[0]:
            best = (budget, deadline, mode)
    return best
