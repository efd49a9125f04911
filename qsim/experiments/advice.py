"""What ``qsim advise`` found (SPEC §20): each candidate with its figures over its
replications, ranked, and the recommendation.

Ranked: first the candidates that meet the goal (complete, not put out, a share meeting it
of at least the confidence), cheapest first; then the other complete ones, likeliest to meet
it first; then those that left work unfinished. The recommended candidate is the first of
the ranking when it meets the goal: never one below the confidence, never an incomplete one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from qsim.experiments.choices import Choice
from qsim.experiments.decision import Chance, Goal, decide
from qsim.experiments.estimates import Estimate, Summary
from qsim.experiments.standing import Standing, hits
from qsim.input.units import format_duration

__all__ = ["Advice", "Candidate"]

_EPS: Final = 1e-9


@dataclass(frozen=True)
class Candidate:
    """One choice (``index``: its place in the search's order) and its replications."""

    index: int
    choice: Choice
    label: str
    runs: tuple[Summary, ...]
    standing: Standing
    goal: Goal

    @property
    def replications(self) -> int:
        return len(self.runs)

    @property
    def complete(self) -> bool:
        """Did the workload do all its work in every replication?"""
        return all(bool(e.get("complete", True)) for e in self.runs)

    @cached_property
    def cost(self) -> Estimate:
        return Estimate.of([float(e["cost_usd"]) for e in self.runs])

    @cached_property
    def wall(self) -> Estimate:
        return Estimate.of([float(e["wall_time_s"]) for e in self.runs])

    @cached_property
    def chances(self) -> dict[str, Chance | None]:
        """``p_deadline``, ``p_budget`` (None without that limit) and ``p_both``: shares of
        the replications, unfinished work never meeting any."""
        done = [bool(e.get("complete", True)) for e in self.runs]
        g = self.goal
        on_time = [d and float(e["wall_time_s"]) <= g.deadline_s if g.deadline_s is not None
                   else d for d, e in zip(done, self.runs)]
        in_budget = [d and float(e["cost_usd"]) <= g.budget_usd if g.budget_usd is not None
                     else d for d, e in zip(done, self.runs)]
        return {"p_deadline": None if g.deadline_s is None else Chance.of(on_time),
                "p_budget": None if g.budget_usd is None else Chance.of(in_budget),
                "p_both": Chance.of(hits(self.runs, g))}

    @property
    def p_both(self) -> float:
        both = self.chances["p_both"]
        assert both is not None  # always measured
        return both.p

    @property
    def meets(self) -> bool:
        """Meets the goal: complete, not put out, and a share of at least the confidence."""
        return (self.complete and not self.standing.out
                and self.p_both >= self.goal.confidence - _EPS)

    def settings(self) -> dict[str, Any]:
        c = self.choice
        out: dict[str, Any] = {"mode": c.mode, "interactive_ttl_s": c.interactive_ttl,
                               "close": c.close}
        if c.circuits is not None:
            out.update({"circuits": c.circuits, "jobs": c.jobs})
        if c.backend is not None:
            out["backend"] = c.backend
        return out


@dataclass(frozen=True)
class Advice:
    """The search's result: the candidates ranked, the recommended one (or None) and the
    sentence that says it (or what would change it)."""

    scenario: str
    seed: int
    workload: str
    goal: Goal
    jobs_field: str
    searched: list[Candidate]  # in the search's order
    left_out: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    stopped_by: str | None = None  # "work limit": rounds were left unrun
    max_replications: int = 0  # the cap on one candidate's replications

    @cached_property
    def candidates(self) -> list[Candidate]:
        """Ranked (see the module docstring); ties keep the search's order."""
        def key(c: Candidate) -> tuple[int, float, float, int]:
            if c.meets:
                return (0, c.cost.mean, 0.0, c.index)
            return (1 if c.complete else 2, -c.p_both, c.cost.mean, c.index)

        return sorted(self.searched, key=key)

    @property
    def recommended(self) -> Candidate | None:
        best = self.candidates[0] if self.candidates else None
        return best if best is not None and best.meets else None

    @cached_property
    def pareto(self) -> frozenset[int]:
        """Indices of the complete candidates no other complete one beats on both cost and
        90th-percentile wall time."""
        done = [c for c in self.searched if c.complete]
        return frozenset(c.index for c in done if not any(
            o.cost.mean <= c.cost.mean and o.wall.p90 <= c.wall.p90
            and (o.cost.mean < c.cost.mean or o.wall.p90 < c.wall.p90) for o in done))

    @property
    def runs(self) -> int:
        return sum(c.replications for c in self.searched)

    @property
    def open(self) -> int:
        """Candidates the search left undecided (at the replication cap or the work limit)."""
        return sum(c.standing.open for c in self.searched)

    @cached_property
    def sentence(self) -> str:
        best = self.recommended
        if best is None:
            # what would change it, among choices that did all their work
            done = [c for c in self.searched if c.complete]
            runs = {c.label: c.runs for c in done}
            costs = {c.label: c.cost.mean for c in done}
            return decide(runs, costs, self.goal, noun="choice").sentence
        cost = f"${best.cost.mean:,.2f}"
        return (f"Recommended: {best.label}: the cheapest choice that meets "
                f"{self.goal.words()} in {best.p_both:.0%} of {best.replications} "
                f"replications (at least {self.goal.confidence * 100:g}% wanted), {cost} on "
                f"average, done within {format_duration(best.wall.p90)} in 90% of them.")

    def status(self, c: Candidate) -> str:
        if c is self.recommended:
            return "recommended"
        if c.meets:
            return "meets the goal"
        if c.standing.out:
            return "out"
        return "undecided" if c.standing.open else "below the confidence"

    def why(self, c: Candidate) -> str:
        s = c.standing
        if not s.out:
            return ""
        return s.why if s.other is None else f"{s.why} ({self.searched[s.other].label})"

    def candidate_dict(self, c: Candidate, rank: int) -> dict[str, Any]:
        row: dict[str, Any] = {"rank": rank, "label": c.label, **c.settings(),
                               "cost_usd": c.cost.mean,
                               "cost_usd_ci95": None if c.cost.low is None else
                               [c.cost.low, c.cost.high],
                               "wall_time_p90_s": c.wall.p90, "wall_time_mean_s": c.wall.mean}
        for key, chance in c.chances.items():
            row[key] = None if chance is None else chance.p
            row[f"{key}_ci95"] = None if chance is None else [chance.low, chance.high]
        row.update({"replications": c.replications, "complete": c.complete,
                    "meets_goal": c.meets, "pareto": c.index in self.pareto,
                    "status": self.status(c), "why": self.why(c)})
        return row

    def to_dict(self) -> dict[str, Any]:
        rows = [self.candidate_dict(c, r) for r, c in enumerate(self.candidates, 1)]
        best = self.recommended
        out: dict[str, Any] = {
            "scenario": self.scenario, "seed": self.seed, "workload": self.workload,
            "goal": self.goal.to_dict(), "jobs_field": self.jobs_field,
            "runs": self.runs, "max_replications": self.max_replications,
            "undecided": self.open, "stopped_by": self.stopped_by,
            "candidates": rows, "recommended": None if best is None else rows[0],
            "recommendation": self.sentence, "notes": list(self.notes)}
        if self.left_out:
            out["left_out"] = dict(self.left_out)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per candidate, ranked, intervals as ``*_low``/``*_high``: the rows
        of ``advise.csv`` (``pandas.DataFrame(advice.rows())`` for a table)."""
        rows = []
        for r, c in enumerate(self.candidates, 1):
            row = self.candidate_dict(c, r)
            for key in [k for k in row if k.endswith("_ci95")]:
                pair = row.pop(key) or [None, None]
                base = key.removesuffix("_ci95")
                row[f"{base}_low"], row[f"{base}_high"] = pair
            rows.append(row)
        return rows
