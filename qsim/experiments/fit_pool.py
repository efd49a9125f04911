"""Where ``qsim fit``'s simulations run: in this process, or in a pool of worker processes.

Every replication of every candidate is independent of the others, so the search hands them
out (``Runs.stats``): the scan's candidates all at once, Nelder-Mead's one candidate's
replications at a time, the finalists' and the check's together. The workers send back only
each replication's ``QueueStats`` (and, where asked, its grid), and they come back in the
order they were asked for: the losses are then summed in this process in the very order of a
serial fit, so the fit is the same byte for byte on any number of workers, and its progress
lines come out in that order too.

A worker makes each replication's ``Draws`` from its key (seed, replication, span) and keeps
the last few: the numbers are drawn in the same chunks wherever they are made, so they are the
same numbers, and sending the growing arrays with every task would cost more than drawing them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from types import TracebackType
from typing import Final

from qsim.analysis.queue_stats import Grid, QueueStats, queue_level_of_jobs, queue_stats
from qsim.experiments.fit_replay import Draws, Model, simulate_queue
from qsim.experiments.runner import _ignore_sigint, _stop, available_cores

__all__ = ["MIN_POOL_JOBS", "Runs", "auto_workers", "model_grid"]

#: Simulated jobs per candidate (all its replications) below which the default is one worker:
#: a candidate then takes a few milliseconds, and the pool's start-up and messages would cost
#: more than the second core gives.
MIN_POOL_JOBS: Final = 20_000
_CHUNKS_PER_WORKER: Final = 4  # tasks a worker at least, to even out their loads
_KEPT_DRAWS: Final = 16  # the search's replications (at most 8) and the finalists' fresh ones

DrawsKey = tuple[int, int, float]  # seed, replication, span_s
Task = tuple[Model, DrawsKey, bool]  # the model, its replication's draws, whether to keep the grid


def model_grid(model: Model, draws: Draws) -> Grid:
    """One replication of ``model``, sampled every 10 s as the data were."""
    submit, dispatch = simulate_queue(model, draws)
    return queue_level_of_jobs(submit, dispatch, draws.span_s + 1e-9, paused=model.pauses)


def auto_workers(jobs_per_candidate: float) -> int:
    """The default: every core, but one for a small series (see ``MIN_POOL_JOBS``)."""
    return available_cores() if jobs_per_candidate >= MIN_POOL_JOBS else 1


@lru_cache(maxsize=_KEPT_DRAWS)
def _draws(key: DrawsKey) -> Draws:
    seed, replication, span_s = key
    return Draws(seed, replication, span_s)


def _run(task: Task) -> tuple[QueueStats, Grid | None]:
    """What a worker does: one replication of one candidate."""
    model, key, keep = task
    grid = model_grid(model, _draws(key))
    return queue_stats(grid), grid if keep else None


class Runs:
    """Replications of candidate models, on ``workers`` processes (1: in this process, on the
    caller's own ``Draws``). A context manager: on leaving, the pool is shut down, and on an
    error or Ctrl-C its workers are stopped at once rather than left to finish their tasks."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            try:
                self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                 initializer=_ignore_sigint)
            except (OSError, NotImplementedError):  # no process support: run here
                self.workers = 1

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is None:
            return
        if kind is None:
            self._pool.shutdown()
        else:
            _stop(self._pool)

    def stats(self, models: Sequence[Model], draws: Sequence[Draws]) -> Iterator[list[QueueStats]]:
        """Each model's statistics on each of ``draws`` (in that order), model by model in the
        order given, each as soon as it and the models before it are done."""
        for runs in self.runs(models, draws):
            yield [stats for stats, _ in runs]

    def runs(self, models: Sequence[Model], draws: Sequence[Draws], keep_grids: bool = False
             ) -> Iterator[list[tuple[QueueStats, Grid | None]]]:
        """As ``stats``, each with its grid where ``keep_grids``."""
        if self._pool is None:
            for model in models:
                out = []
                for d in draws:
                    grid = model_grid(model, d)
                    out.append((queue_stats(grid), grid if keep_grids else None))
                yield out
            return
        keys = [d.key for d in draws]
        tasks = [(model, key, keep_grids) for model in models for key in keys]
        # Many candidates (the scan's): one task a candidate, its replications together (an
        # eighth of the messages); few (Nelder-Mead's one): one task a replication.
        chunk = len(keys) if len(models) >= _CHUNKS_PER_WORKER * self.workers else 1
        done = self._pool.map(_run, tasks, chunksize=chunk)  # in order, whoever finishes first
        for _ in models:
            yield [next(done) for _ in keys]
