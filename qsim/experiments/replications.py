"""Independent replications: replication r is ``simulate(scenario, seed, replication=r)`` for
r in 0..R-1. Each replication's streams are spawned from the one seed, so they are
independent and replication 0 is the plain run; each figure is reported as a mean with a 95%
t-interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qsim.experiments.estimates import Estimate, Summary, aggregate
from qsim.experiments.runner import Progress, run_many
from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS, MAX_REPLICATIONS
from qsim.input.scenario import Scenario
from qsim.input.work import check_work

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Replications", "replicate", "check_count", "entry"]


@dataclass(frozen=True)
class Replications:
    """R independent replications of one scenario: every run's summary, and their aggregate."""

    scenario: str
    seed: int
    summaries: tuple[Summary, ...]

    @property
    def replications(self) -> int:
        return len(self.summaries)

    def to_dict(self) -> Summary:
        """The SPEC §7 summary shape, each figure ``{"mean": m, "ci95": [low, high]}``
        (``ci95`` is null for a single replication), plus ``replications``."""
        return aggregate(self.summaries)

    def table(self) -> pd.DataFrame:
        """One row per replication and workload, with every figure of its summary entry
        (``replications.csv``)."""
        from qsim.analysis.tables import summaries_frame

        return summaries_frame(self.summaries)

    def estimate(self, workload: str, figure: str) -> Estimate:
        """One workload figure over the replications, e.g. ``estimate("vqe", "usage_s")``."""
        values = [entry(s, workload)[figure] for s in self.summaries]
        return Estimate.of([float(v) for v in values])


def entry(summary: Summary, workload: str) -> Summary:
    return next(w for w in summary["workloads"] if w["name"] == workload)


def check_count(replications: int) -> None:
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise QsimError(f"replications must be a whole number of at least 1 (got {replications!r})")
    if replications > MAX_REPLICATIONS:
        raise QsimError(f"replications must be at most {MAX_REPLICATIONS:,} (got "
                        f"{replications:,}): past that the interval no longer narrows in any "
                        "way that matters, and the runs take hours")


def check_workers(workers: int | None) -> None:
    """QsimError unless ``workers`` is None (all the cores) or a whole number of at least 1:
    0 ran on every core and -1 on one, without a word."""
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QsimError("workers must be a whole number of at least 1, or None for all the "
                        f"cores (got {workers!r})")


def replicate(scenario: Scenario, replications: int, seed: int | None = None,
              workers: int | None = None, progress: Progress | None = None, *,
              max_jobs: int | None = DEFAULT_MAX_JOBS) -> Replications:
    """Run ``scenario`` ``replications`` times with independent streams from one seed.

    ``seed`` defaults to the scenario's; ``workers`` to the available cores; ``progress`` is
    called as ``progress(done, total)``. ``max_jobs`` (None: no limit) bounds the jobs of all
    the replications together, estimated before they start (``qsim.input.work``).
    """
    check_count(replications)
    check_workers(workers)
    check_work([scenario], replications, max_jobs)
    seed = scenario.seed if seed is None else seed
    tasks = [(scenario, seed, r) for r in range(replications)]
    return Replications(scenario.name, seed,
                        tuple(run_many(tasks, workers, progress, max_jobs=max_jobs)))


