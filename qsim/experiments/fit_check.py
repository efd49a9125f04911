"""A fitted scenario checked the honest way: qsim itself runs the written file, and its own
queue (the background's jobs submitted and not yet dispatched) is sampled every 10 s as the
data were (SPEC §21). Nothing of the fit's search is reused: qsim's random streams are not the
replay's, so these runs are replications the search never saw."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from qsim.analysis.queue_stats import Grid, QueueStats, queue_level_of_run, queue_stats
from qsim.experiments.run import simulate
from qsim.input.scenario import Scenario

__all__ = ["ScenarioQueue", "scenario_queue"]


@dataclass(frozen=True)
class ScenarioQueue:
    """Each figure's mean over the runs, the first run's queue, and the CPU seconds taken."""

    stats: QueueStats
    first: Grid
    runs: int
    cpu_s: float


def _one(scenario: Scenario, replication: int) -> Grid:
    result = simulate(scenario, replication=replication)
    outages = result.outage_arrays
    paused = list(zip(outages["start_at"].tolist(), outages["end_at"].tolist()))
    background = [i for i, w in enumerate(scenario.workloads) if w.kind == "background"]
    return queue_level_of_run(result.job_arrays, result.info.end_s, workloads=background,
                              paused=paused)


def scenario_queue(scenario: Scenario, runs: int) -> ScenarioQueue:
    """``runs`` replications of ``scenario`` (its seed; replications 0, 1, ...), each sampled
    every 10 s from t = 0."""
    start = time.process_time()
    grids = [_one(scenario, r) for r in range(runs)]
    values = [queue_stats(g).as_dict() for g in grids]
    stats = QueueStats(**{k: float(np.mean([v[k] for v in values])) for k in values[0]})
    return ScenarioQueue(stats, grids[0], runs, time.process_time() - start)
