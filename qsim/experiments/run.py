"""A run: the model's record log, wrapped in the analysis that reads it."""

from __future__ import annotations

from collections.abc import Callable

from qsim.analysis.result import RunResult
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.scenario import Scenario
from qsim.input.work import check_work
from qsim.model import engine

__all__ = ["simulate"]

#: ``progress(done, total)``, as experiments call it; a single run reports per mille.
RunProgress = Callable[[int, int], None]


def simulate(scenario: Scenario, seed: int | None = None, replication: int = 0, *,
             max_jobs: int | None = DEFAULT_MAX_JOBS,
             progress: RunProgress | None = None) -> RunResult:
    """Run ``scenario`` once. ``seed`` defaults to the scenario's; ``replication`` picks
    an independent set of random streams from the same seed.

    ``max_jobs`` (None: no limit) refuses, before it starts, a run expected to simulate
    more jobs than that (``qsim.input.work``), and stops one that passes it while it runs, both
    with a WorkLimitError. ``progress(done, total)`` is called a few times a second (from
    another thread) with the run's progress in thousandths: simulated time out of the
    horizon, or else jobs out of the estimate.
    """
    work = check_work([scenario], 1, max_jobs)
    watch = None if progress is None else _per_mille(scenario, work, progress)
    trace, info = engine.run(scenario, seed, replication, max_jobs=max_jobs, progress=watch)
    return RunResult(trace, info)


def _per_mille(scenario: Scenario, jobs: float, progress: RunProgress
               ) -> Callable[[float, int], None]:
    horizon = scenario.warmed_up().horizon  # the engine's clock runs through the warm-up
    if horizon is not None:
        return lambda now, _jobs: progress(min(999, int(1000 * now / horizon)), 1000)
    expected = max(jobs, 1.0)
    return lambda _now, done: progress(min(999, int(1000 * done / expected)), 1000)
