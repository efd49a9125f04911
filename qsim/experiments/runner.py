"""Running many simulations: in worker processes when there is more than one run and more
than one core. Workers send back only summary dicts (small, and plain data), and results are
put back in task order, so the output does not depend on which worker finished first.

Ctrl-C: the terminal sends SIGINT to the whole process group. Pool workers ignore it (each
would otherwise die with a traceback, or finish its chunk first); the calling process gets
the KeyboardInterrupt, cancels what has not started and terminates the workers, so that it
does not wait for the runs in flight.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from typing import TYPE_CHECKING, Final

from qsim.experiments.estimates import Summary
from qsim.experiments.run import simulate
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.scenario import Scenario

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: ``progress(done, total)``: called in the calling process as runs finish.
Progress = Callable[[int, int], None]
Task = tuple[Scenario, int, int]  # scenario, seed, replication

# Chunks per worker: enough for a smooth progress bar and load balance, few enough that
# pickling and scheduling stay negligible next to the runs themselves.
_CHUNKS_PER_WORKER: Final = 4


def _summarize(task: Task, max_jobs: int | None = DEFAULT_MAX_JOBS) -> Summary:
    scenario, seed, replication = task
    return simulate(scenario, seed, replication=replication, max_jobs=max_jobs).summary()


def _run_chunk(tasks: list[Task], max_jobs: int | None = DEFAULT_MAX_JOBS) -> list[Summary]:
    """What a worker process does: whole chunks, so each submission carries several runs.
    ``max_jobs`` holds each run to the command's whole budget while it runs."""
    return [_summarize(t, max_jobs) for t in tasks]


def _ignore_sigint() -> None:
    """A pool worker's initializer: Ctrl-C is the calling process's to handle; SIGTERM, with
    which the caller stops it, ends it at once (a forked worker inherits the command line's
    handler, which would turn it into an exception the worker survives)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def available_cores() -> int:
    """Cores this process may use (the affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def run_many(tasks: Sequence[Task], workers: int | None = None,
             progress: Progress | None = None, executor: Executor | None = None,
             max_jobs: int | None = DEFAULT_MAX_JOBS) -> list[Summary]:
    """Summaries of ``tasks``, in order; across processes when that can help.

    ``executor`` (any ``concurrent.futures.Executor``: a process pool, a Dask client's) runs
    the chunks instead of a pool of this machine's cores; ``workers`` then only sizes the
    chunks (default: the executor's own ``_max_workers``, else this machine's cores). On an
    error or Ctrl-C the runs not yet started are cancelled, and this machine's pool is
    stopped at once. ``max_jobs``: no run may pass it while it runs (the command checks its
    estimate of all the runs against it first).
    """
    total = len(tasks)
    if executor is not None:
        hint = workers or getattr(executor, "_max_workers", None) or available_cores()
        return _run_pool(executor, tasks, max(1, min(hint, total)), progress, max_jobs)
    workers = min(workers or available_cores(), total)
    if workers <= 1:
        return _run_serial(tasks, progress, max_jobs)
    # The pool's machinery (multiprocessing, logging: about 0.02 s to import) only for a
    # pool: a single run, as `qsim run` makes, needs none of it.
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)
    except (OSError, NotImplementedError):  # no process support (e.g. no /dev/shm): run here
        return _run_serial(tasks, progress, max_jobs)
    try:
        out = _run_pool(pool, tasks, workers, progress, max_jobs, cancel_on_error=False)
    except BaseException:
        # Ctrl-C or a failed run: drop what has not started, and stop the runs in flight
        # rather than wait for them (a chunk can take minutes).
        _stop(pool)
        raise
    pool.shutdown()
    return out


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the pool's pending work and terminate its workers now (shutdown alone lets
    each finish the chunk it has)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # The workers, taken before shutdown forgets them (CPython keeps them in _processes).
    # Its futures are not cancelled here: once the workers are gone the pool's own thread
    # fails each one as broken, and on CPython 3.11 it raises InvalidStateError (a traceback
    # on stderr after "qsim: interrupted") for any future that was cancelled first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=False)
    for process in processes:
        try:
            process.terminate()
        except (OSError, AttributeError):  # already gone
            pass


def _run_serial(tasks: Sequence[Task], progress: Progress | None,
                max_jobs: int | None = DEFAULT_MAX_JOBS) -> list[Summary]:
    out = []
    for task in tasks:
        out.append(_summarize(task, max_jobs))
        if progress:
            progress(len(out), len(tasks))
    return out


def _run_pool(pool: Executor, tasks: Sequence[Task], workers: int,
              progress: Progress | None, max_jobs: int | None = DEFAULT_MAX_JOBS,
              cancel_on_error: bool = True) -> list[Summary]:
    """``cancel_on_error``: cancel the futures not yet done on an error or Ctrl-C (what stops
    queued work on a cluster or a caller's executor); run_many's own pool is stopped by
    ``_stop`` instead."""
    count = min(len(tasks), workers * _CHUNKS_PER_WORKER)
    # Chunk k holds tasks k, k + count, k + 2 count, ...: neighbouring tasks are alike (one
    # point's replications, one mode's), so dealing them out gives chunks of about the same
    # length, and no worker is left with all the heavy runs at the end.
    chunks = [range(k, len(tasks), count) for k in range(count)]
    futures = [pool.submit(_run_chunk, [tasks[i] for i in chunk], max_jobs) for chunk in chunks]
    done = 0
    try:
        for future in as_completed(futures):
            done += len(future.result())  # re-raises a worker's error here
            if progress:
                progress(done, len(tasks))
    except BaseException:
        if cancel_on_error:
            for future in futures:
                future.cancel()
        raise
    # Back in task order: the result never depends on which worker was faster.
    out: list[Summary] = [{}] * len(tasks)
    for chunk, future in zip(chunks, futures):
        for i, summary in zip(chunk, future.result()):
            out[i] = summary
    return out
