"""``qsim advise`` (SPEC §20): search the choices a user has for one workload (mode, TTL,
``close``, circuits per job, backend: ``qsim.experiments.choices``) for the cheapest that
meets a deadline and a budget with a wanted confidence.

Every candidate runs replication r with the same random streams (common random numbers), so
candidates differ by their settings, not by noise. The search spends replications where they
decide something: every candidate starts with a few (``FIRST_REPLICATIONS``); each round,
the candidates still open (``qsim.experiments.standing``: close to the confidence, or close
in cost to another in the running) get twice as many, up to ``max_replications``; a
candidate clearly out (it cannot reach the confidence, did not finish, is dominated or
dearer than one that qualifies) gets no more. All the runs together are held to the work
limit (``max_jobs``): the first round is refused up front like any command's runs; a later
round that would pass it is not run, and the advice says the search was cut short.

Nothing depends on the number of cores: the rounds and their runs are fixed by the seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from qsim.experiments.advice import Advice, Candidate
from qsim.experiments.choices import Space, choices
from qsim.experiments.comparison import MODES, _seconds, _usd, resolve_workload
from qsim.experiments.decision import Goal, check_goal
from qsim.experiments.estimates import Summary
from qsim.experiments.replications import check_count, check_workers, entry
from qsim.experiments.runner import Progress, run_many
from qsim.experiments.standing import stand
from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.scenario import Scenario
from qsim.input.work import WorkLimitError, check_work, estimate

__all__ = ["DEFAULT_MAX_REPLICATIONS", "FIRST_REPLICATIONS", "advise"]

#: Replications every candidate gets first: enough for a paired interval and to put out a
#: candidate that meets the goal in at most half of them (at 4 of 8 the Wilson interval's top
#: is 78 %), few enough that 40 candidates cost little.
FIRST_REPLICATIONS: Final = 8
#: The most replications of one candidate (``--max-replications``): at 256 of 256 the
#: interval's lower end is 98.5 %.
DEFAULT_MAX_REPLICATIONS: Final = 256


def advise(scenario: Scenario, workload: str | None = None, *,
           deadline: float | str | None = None, budget: float | None = None,
           confidence: float | None = None, seed: int | None = None,
           max_replications: int = DEFAULT_MAX_REPLICATIONS, workers: int | None = None,
           progress: Progress | None = None, max_jobs: int | None = DEFAULT_MAX_JOBS,
           modes: Sequence[str] = MODES, backends: Sequence[str] | None = None) -> Advice:
    """The candidates for ``workload`` (default: the first non-background one), ranked, and
    the cheapest that meets ``deadline`` (seconds or a duration such as ``"12h"``) and
    ``budget`` (US dollars) in at least ``confidence`` (default 0.9) of its replications,
    or None with a sentence saying what would.

    ``seed`` defaults to the scenario's; ``workers`` to all the cores; ``progress`` is called
    as ``progress(done, total)`` with the runs of all rounds so far; ``max_jobs`` (None: no
    limit) bounds the jobs of all the runs together. ``modes`` and ``backends`` (names of
    the scenario's; default: all of them when it has several) narrow the search.
    """
    goal = check_goal(_seconds(deadline), _usd(budget), confidence)
    _check_cap(max_replications)
    check_workers(workers)
    name = resolve_workload(scenario, workload)
    seed = scenario.seed if seed is None else seed
    space = choices(scenario, name, modes, backends)
    runs, stopped = _search(space, goal, seed, max_replications, workers, progress, max_jobs)
    standings = stand(runs, goal)
    candidates = [Candidate(i, c, c.label(space.jobs_field), tuple(runs[i]), standings[i], goal)
                  for i, c in enumerate(space.choices)]
    return Advice(scenario.name, seed, name, goal, space.jobs_field, candidates,
                  space.left_out, space.notes, stopped, max_replications)


def _check_cap(max_replications: int) -> None:
    try:
        check_count(max_replications)
    except QsimError as exc:
        raise QsimError(f"max_replications: {exc}") from None


def _search(space: Space, goal: Goal, seed: int, cap: int, workers: int | None,
            progress: Progress | None, max_jobs: int | None
            ) -> tuple[list[list[Summary]], str | None]:
    """Rounds of replications until no candidate is open (or the cap or the work limit is
    reached); each candidate's workload entries, and what stopped the search early."""
    first = min(FIRST_REPLICATIONS, cap)
    try:
        spent = check_work(space.scenarios, first, max_jobs)  # refused up front: nothing ran
    except WorkLimitError as exc:
        raise WorkLimitError(f"{exc}; or search fewer choices ({len(space.choices)} here, "
                             f"{first} replications each to start): --modes, --backends"
                             ) from None
    units = [estimate(s).units for s in space.scenarios]
    runs: list[list[Summary]] = [[] for _ in space.scenarios]
    wanted = {i: first for i in range(len(runs))}
    counter = _Counter(progress)
    while wanted:
        if any(runs):  # a later round: within what is left of the limit
            cost = math.fsum(units[i] * (n - len(runs[i])) for i, n in wanted.items())
            if max_jobs is not None and spent + cost > max_jobs:
                return runs, "work limit"
            spent += cost
        tasks = [(space.scenarios[i], seed, r) for i, n in wanted.items()
                 for r in range(len(runs[i]), n)]
        summaries = iter(run_many(tasks, workers, counter.round(len(tasks)),
                                  max_jobs=max_jobs))
        for i, n in wanted.items():
            runs[i].extend(entry(next(summaries), space.workload)
                           for _ in range(len(runs[i]), n))
        wanted = {i: min(2 * len(runs[i]), cap) for i, s in enumerate(stand(runs, goal))
                  if s.open and len(runs[i]) < cap}
    return runs, None


class _Counter:
    """Progress over all rounds: runs done so far of all those started so far."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._done = 0
        self._total = 0

    def round(self, tasks: int) -> Progress | None:
        if self._progress is None:
            return None
        base = self._done
        self._total += tasks
        total, report = self._total, self._progress

        def update(done: int, _round_total: int) -> None:
            self._done = base + done
            report(self._done, total)

        return update
