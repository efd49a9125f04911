"""One workload replayed in each mode. Every other workload draws from the same named streams
in every mode (common random numbers), so the differences are the mode's, not noise."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from qsim.experiments.decision import Decision, Goal, check_goal, decide
from qsim.experiments.estimates import Estimate, Summary, aggregate_value, over_allocation
from qsim.experiments.replications import check_count, check_workers, entry
from qsim.experiments.runner import Progress, run_many
from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.scenario import OPEN_SESSIONS_REFUSED, Mode, Scenario
from qsim.input.units import parse_duration
from qsim.input.work import check_work

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MODES", "Comparison", "Verdict", "allowed_modes", "check_backends", "check_modes",
           "compare", "resolve_workload", "variant_name"]

MODES: Final = ("job", "batch", "session")


@dataclass(frozen=True)
class Verdict:
    """Which mode is cheapest and fastest among those that did all the work, and what each
    costs and takes relative to the best.

    A mode whose workload is not ``complete`` (in any replication) is ``incomplete``: it is
    never called cheapest or fastest, and the ratios are against the best complete mode.
    Ratios are of means; a mode ties for best when its ratio is 1. Without any complete mode,
    ``cheapest`` and ``fastest`` are empty and the ratios are against the best of all.
    """

    cheapest: tuple[str, ...]
    fastest: tuple[str, ...]
    cost_ratio: dict[str, float]
    time_ratio: dict[str, float]
    incomplete: tuple[str, ...] = ()
    # Modes not run, and why (SPEC §19: session mode on the open plan); empty, and then
    # absent from the JSON, otherwise.
    left_out: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"cheapest": MODE|null, "fastest": MODE|null, "incomplete": [MODE, ...]}``
        (the first of tied modes, in the order compared; ``*_ties`` lists them all). A ratio
        against a best of 0 (nothing charged) is infinite, and null in JSON, which has no
        infinity."""
        out: dict[str, Any] = {
            "cheapest": self.cheapest[0] if self.cheapest else None,
            "fastest": self.fastest[0] if self.fastest else None,
            "incomplete": list(self.incomplete),
            "cheapest_ties": list(self.cheapest), "fastest_ties": list(self.fastest),
            "cost_ratio": _finite(self.cost_ratio), "time_ratio": _finite(self.time_ratio)}
        if self.left_out:
            out["left_out"] = dict(self.left_out)
        return out


def _finite(ratios: dict[str, float]) -> dict[str, float | None]:
    return {m: r if math.isfinite(r) else None for m, r in ratios.items()}


@dataclass(frozen=True)
class Comparison:
    """One workload's summary entry in each mode (aggregated when ``replications`` > 1), and
    with replications each mode's per-replication entries (``runs``)."""

    workload: str
    modes: dict[str, Summary]
    replications: int = 1
    scenario: str = ""
    seed: int = 0
    runs: dict[str, tuple[Summary, ...]] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    goal: Goal | None = None
    verdict: Verdict = field(init=False)
    decision: Decision | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", _verdict(self.modes, self.left_out))
        # SPEC §20: only with a deadline or a budget, so that without them nothing changes
        object.__setattr__(self, "decision", None if self.goal is None else decide(
            self.runs, {m: self.figure(m, "cost_usd") for m in self.modes}, self.goal))

    def figure(self, mode: str, key: str) -> float:
        """The mean of one figure (``usage_s``, ``cost_usd``, ...) in one mode."""
        return _mean(self.modes[mode][key])

    def paired_differences(self) -> dict[str, dict[str, Estimate]]:
        """With replications: each mode's cost and wall time minus the cheapest complete
        mode's, replication by replication (common random numbers make the pairs alike but
        for the mode), as an Estimate. Empty without replications or a complete mode."""
        if self.replications < 2 or not self.verdict.cheapest:
            return {}
        best = self.runs[self.verdict.cheapest[0]]
        return {mode: {key: Estimate.of([float(r[key]) - float(b[key])
                                         for r, b in zip(runs, best)])
                       for key in ("cost_usd", "wall_time_s")}
                for mode, runs in self.runs.items()}

    def table(self) -> pd.DataFrame:
        """One row per mode and replication with every figure of the workload's entry
        (``compare.csv``)."""
        from qsim.analysis.tables import entries_frame

        return entries_frame([({"replication": r}, e)
                              for runs in self.runs.values() for r, e in enumerate(runs)])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario, "seed": self.seed,
                               "workload": self.workload, "replications": self.replications,
                               "modes": self.modes, "verdict": self.verdict.to_dict()}
        if self.decision is not None:
            out["verdict"].update(self.decision.to_dict())
        differences = self.paired_differences()
        if differences:
            out["paired_difference"] = {
                "against": self.verdict.cheapest[0],
                "modes": {m: {k: e.to_dict() for k, e in d.items()}
                          for m, d in differences.items()}}
        return out


def _mean(value: Any) -> float:
    return float(value["mean"] if isinstance(value, dict) else value)


def _verdict(modes: dict[str, Summary], left_out: dict[str, str]) -> Verdict:
    incomplete = tuple(m for m, e in modes.items() if not e.get("complete", True))
    ranked = [m for m in modes if m not in incomplete] or list(modes)
    cost = {m: _mean(e["cost_usd"]) for m, e in modes.items()}
    wall = {m: _mean(e["wall_time_s"]) for m, e in modes.items()}
    cost_ratio, time_ratio = _ratios(cost, ranked), _ratios(wall, ranked)
    return Verdict(
        cheapest=tuple(m for m in ranked if m not in incomplete and _is_best(cost_ratio[m])),
        fastest=tuple(m for m in ranked if m not in incomplete and _is_best(time_ratio[m])),
        cost_ratio=cost_ratio, time_ratio=time_ratio, incomplete=incomplete,
        left_out=dict(left_out),
    )


def _ratios(values: dict[str, float], ranked: list[str]) -> dict[str, float]:
    """Each value over the least of the ``ranked`` ones."""
    best = min(values[m] for m in ranked)
    if best <= 0:  # nothing charged (e.g. every job failed with a system error)
        return {m: 1.0 if v <= 0 else math.inf for m, v in values.items()}
    return {m: v / best for m, v in values.items()}


def _is_best(ratio: float) -> bool:
    # Job and batch often charge the very same quantum time; float noise must not split them.
    return ratio <= 1 + 1e-9


def resolve_workload(scenario: Scenario, name: str | None) -> str:
    """The workload to compare: ``name``, or the first non-background one."""
    if name is None:
        foreground = [w.name for w in scenario.workloads if w.kind != "background"]
        if not foreground:
            raise QsimError(f"scenario {scenario.name!r} has only background workloads; "
                            "there is nothing to compare")
        return foreground[0]
    spec = scenario.workload(name)
    if spec.kind == "background":
        raise QsimError(f"workload {name!r} is a background stream, which always runs in job "
                        "mode; choose a foreground workload")
    return name


def check_modes(modes: Iterable[str]) -> tuple[str, ...]:
    """``modes`` as a tuple, or QsimError naming the first unknown or repeated one."""
    return _chosen(modes, MODES, "mode", "unknown mode", f"expected some of {', '.join(MODES)}")


def _chosen(given: Iterable[str], known: Sequence[str], what: str, unknown: str,
            choices: str) -> tuple[str, ...]:
    """``given`` as a tuple of distinct members of ``known``, or QsimError naming the first
    unknown or repeated one (or saying none was given), with ``choices``."""
    out: list[str] = []
    for name in given:
        if name not in known:
            raise QsimError(f"{unknown} {name!r}; {choices}")
        if name in out:
            raise QsimError(f"{what} {name!r} is listed twice")
        out.append(name)
    if not out:
        raise QsimError(f"no {what}s to compare; {choices}")
    return tuple(out)


OPEN_SESSIONS_LEFT_OUT: Final = (
    f"{OPEN_SESSIONS_REFUSED}; open_sessions: as_jobs runs them in job mode as a what-if")


def allowed_modes(scenario: Scenario,
                  modes: Sequence[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The modes the scenario's plan lets a user run, and those left out with why (SPEC §19:
    the open plan refuses sessions unless ``open_sessions: as_jobs``); QsimError when none
    is left."""
    if scenario.plan != "open" or scenario.open_sessions == "as_jobs" or "session" not in modes:
        return tuple(modes), {}
    kept = tuple(m for m in modes if m != "session")
    if not kept:
        raise QsimError(f"nothing left to compare: {OPEN_SESSIONS_LEFT_OUT} "
                        f"(got {','.join(modes)!r})")
    return kept, {"session": OPEN_SESSIONS_LEFT_OUT}


def _in_mode(scenario: Scenario, workload: str, mode: str) -> Scenario:
    # The workload's own mode, with its own TTLs, when it already runs in that kind, so the
    # column matches what `qsim run` reports for the file as written; any other mode with
    # that mode's defaults (a batch's max_time is no session's).
    if scenario.workload(workload).mode.kind == mode:
        return scenario
    return scenario.with_mode(workload, Mode.model_validate(mode))


def check_backends(scenario: Scenario, backends: Iterable[str]) -> tuple[str, ...]:
    """``backends`` (names of the scenario's, SPEC §18) as a tuple, or QsimError naming the
    first unknown or repeated one."""
    names = [b.name for b in scenario.backends]
    if not names:
        raise QsimError(f"scenario {scenario.name!r} has one backend (backend:); comparing "
                        "backends needs a backends: list")
    return _chosen(backends, names, "backend", "no backend named",
                   f"backends: {', '.join(names)}")


def variant_name(mode: str, backend: str | None) -> str:
    """A column of a comparison: the mode, or with ``--backends`` ``MODE on BACKEND``."""
    return mode if backend is None else f"{mode} on {backend}"


def compare(scenario: Scenario, workload: str | None = None,
            modes: Sequence[str] = MODES, replications: int = 1, seed: int | None = None,
            workers: int | None = None, progress: Progress | None = None, *,
            max_jobs: int | None = DEFAULT_MAX_JOBS,
            backends: Sequence[str] | None = None, deadline: float | str | None = None,
            budget: float | None = None, confidence: float | None = None) -> Comparison:
    """Replay ``workload`` (default: the first non-background one) in each of ``modes``.

    Everything else keeps its random streams in every mode (common random numbers). With
    ``replications`` > 1 each mode gets the same R replications and each figure is a mean
    with a 95% interval. ``max_jobs`` (None: no limit) bounds the jobs of all the runs
    together, estimated before they start (``qsim.input.work``).

    ``backends`` (SPEC §18): the workload in each mode on each of these backends, every run
    with the same random streams (the background of every backend included); the columns
    are then ``MODE on BACKEND``, and the verdict says where and how to run it.

    ``deadline`` (seconds, or a duration such as ``"12h"``) and/or ``budget`` (US dollars),
    with ``confidence`` (default 0.9), SPEC §20: each mode's share of replications that meet
    them (``p_deadline``, ``p_budget``, ``p_both``, with 95 % Wilson intervals) and
    ``verdict.recommended``, the cheapest mode whose ``p_both`` is at least ``confidence``.
    """
    goal = None if deadline is None and budget is None and confidence is None else \
        check_goal(_seconds(deadline), _usd(budget), confidence)
    check_count(replications)
    check_workers(workers)
    name = resolve_workload(scenario, workload)
    modes, left_out = allowed_modes(scenario, check_modes(modes))
    seed = scenario.seed if seed is None else seed
    places: tuple[str | None, ...] = (None,) if backends is None else check_backends(
        scenario, backends)
    variants = {variant_name(m, b): _in_mode(scenario if b is None else
                                             scenario.with_backend(name, b), name, m)
                for b in places for m in modes}
    check_work(variants.values(), replications, max_jobs)
    tasks = [(v, seed, r) for v in variants.values() for r in range(replications)]
    summaries = run_many(tasks, workers, progress, max_jobs=max_jobs)
    entries: dict[str, Summary] = {}
    runs: dict[str, tuple[Summary, ...]] = {}
    for i, mode in enumerate(variants):
        mine = summaries[i * replications:(i + 1) * replications]
        runs[mode] = tuple(entry(s, name) for s in mine)
        entries[mode] = runs[mode][0] if replications == 1 else {
            **aggregate_value(list(runs[mode]), key=None),
            **_instance_over(mine, runs[mode][0]["instance"])}
    return Comparison(name, entries, replications, scenario.name, seed, runs, left_out,
                      goal)


def _instance_over(summaries: Sequence[Summary], instance: str) -> dict[str, Any]:
    """SPEC §20: with an allocation on the workload's instance, the share of replications
    whose instance (all its workloads) went over it, with its Wilson interval."""
    flags = [next((i["over_allocation"] for i in s.get("instances", ())
                   if i["name"] == instance), None) for s in summaries]
    return over_allocation(flags)


def _seconds(deadline: float | str | None) -> float | None:
    if deadline is None:
        return None
    try:
        return parse_duration(deadline)
    except ValueError as exc:
        raise QsimError(f"deadline {deadline!r}: {exc}") from None


def _usd(budget: object) -> float | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise QsimError(f"budget {budget!r}: expected a number of US dollars")
    return float(budget)
