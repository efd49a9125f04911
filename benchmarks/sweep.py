"""How fast does a sweep run, and what does a second worker buy? Run by hand:
``python benchmarks/sweep.py``.

A load sweep of a backend shared by a VQE and other users (``--points`` values of the others'
mean inter-arrival time, ``--replications`` each), sized so that one run takes about
``--run-ms`` milliseconds. It prints simulations per second with 1 worker (in this process,
as ``qsim sweep`` runs on one core) and with 2 (the local process pool; ``--dask`` adds a
Dask LocalCluster of 2 worker processes on the loopback; ``--scheduler tcp://HOST:PORT`` a
running cluster), the speed-up against 1 worker, the CPU seconds per run of every process
involved, and checks that every executor gave the same table. Each time is the best of
``--repeats`` rounds, pool start-up included (a user pays it too). The goal on a 2-core
machine is a speed-up of at least 1.8x for runs of 50 ms or more.

CPU per run (issue 32: a Dask sweep within 10 % of the local pool's) is user + system
seconds over the round, divided by the runs: this process's own and its reaped children's
(``getrusage``: the pool's workers, joined at the end of each sweep), plus, for Dask, each
worker process's and the scheduler's own, read on them before and after the round
(``client.run``, ``client.run_on_scheduler``; a process counted once). The Dask cluster is
started before the rounds (a warm cluster, as a user's is); the pool starts in each round.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor

import pandas as pd

import qsim
from qsim.experiments import executors

GOAL = 1.8


def scenario(iterations: int) -> qsim.Scenario:
    """A VQE of ``iterations`` rounds in job mode (a batch or session would stop at its 8 h
    max_time) on a backend the others keep busy."""
    return qsim.parse_scenario({
        "name": "sweep-benchmark",
        "workloads": [
            {"name": "vqe", "kind": "iterative", "mode": "job", "iterations": iterations,
             "classical": {"dist": "exponential", "mean": "10s"}, "compile": "3s",
             "quantum": {"circuits": 10, "shots": 4000}, "post": "1s"},
            {"name": "others", "kind": "background",
             "arrivals": {"dist": "exponential", "mean": "25s"},
             "compile": {"dist": "lognormal", "mean": "5s", "cv": 0.5},
             "quantum": {"dist": "lognormal", "mean": "20s", "cv": 1.5}, "post": "1s"}]},
        "sweep-benchmark")


def run_seconds(sc: qsim.Scenario) -> float:
    """The best of three single runs, in seconds."""
    best = float("inf")
    for r in range(3):
        start = time.perf_counter()
        qsim.simulate(sc, replication=r).summary()
        best = min(best, time.perf_counter() - start)
    return best


def sized(target_ms: float) -> qsim.Scenario:
    """A scenario whose single run (at the heaviest load swept) takes about ``target_ms``;
    the run time grows in proportion to the iterations."""
    run_seconds(scenario(10))  # the first run pays for imports and caches: not a run's cost
    iterations = 1000
    seconds = run_seconds(scenario(iterations))
    return scenario(max(10, round(iterations * target_ms / 1000 / seconds)))


def own_cpu() -> tuple[int, float]:
    """(pid, CPU seconds) of the calling process and its reaped children. Defined in the
    script, so that Dask sends it to workers by value (they need not import this file)."""
    import os
    import resource

    mine, reaped = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                   resource.RUSAGE_CHILDREN))
    return os.getpid(), mine.ru_utime + mine.ru_stime + reaped.ru_utime + reaped.ru_stime


def cluster_cpu(client: object | None) -> dict[int, float]:
    """CPU seconds so far of this process (and its reaped children) and, with a Dask client,
    of each of its workers and its scheduler, by process id."""
    seen = dict([own_cpu()])
    if client is not None:
        answers = [*client.run(own_cpu).values(),  # type: ignore[attr-defined]
                   client.run_on_scheduler(own_cpu)]  # type: ignore[attr-defined]
        seen.update((pid, cpu) for pid, cpu in answers if pid != os.getpid())
    return seen


def timed(run: Callable[[], pd.DataFrame], repeats: int, client: object | None = None
          ) -> tuple[float, float, pd.DataFrame]:
    """The best wall seconds and the least CPU seconds (all processes) of ``repeats``
    rounds, and the table."""
    best, cpu, table = float("inf"), float("inf"), None
    for _ in range(repeats):
        before = cluster_cpu(client)
        start = time.perf_counter()
        table = run()
        best = min(best, time.perf_counter() - start)
        after = cluster_cpu(client)
        cpu = min(cpu, sum(after[p] - before.get(p, 0.0) for p in after))
    assert table is not None
    return best, cpu, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=5, help="load values swept")
    parser.add_argument("--replications", type=int, default=12, help="runs per point")
    parser.add_argument("--run-ms", type=float, default=100.0, help="target length of a run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the best counts")
    parser.add_argument("--dask", action="store_true", help="also a Dask LocalCluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="also the Dask cluster at ADDRESS (tcp://HOST:PORT)")
    args = parser.parse_args()

    sc = sized(args.run_ms)
    vary = {"workloads.others.arrivals.mean": [f"{25 + 10 * i}s" for i in range(args.points)]}
    runs = args.points * args.replications

    def sweep(workers: int | None = None, executor: Executor | None = None) -> pd.DataFrame:
        return qsim.sweep(sc, vary, replications=args.replications, workers=workers,
                          executor=executor)

    rows: list[tuple[str, float, float]] = []
    t1, c1, reference = timed(lambda: sweep(workers=1), args.repeats)
    rows.append(("1 worker (this process)", t1, c1))
    t2, c2, pooled = timed(lambda: sweep(workers=2), args.repeats)
    rows.append(("2 workers (local process pool)", t2, c2))
    assert pooled.equals(reference), "the pool's table differs from the serial one"
    clusters = ([("2 workers (Dask LocalCluster)", "local")] if args.dask else []) + (
        [(f"Dask cluster at {args.scheduler}", args.scheduler)] if args.scheduler else [])
    for label, address in clusters:
        with executors.dask_executor(address, workers=2) as executor:
            client = executors.dask_client_of(executor)
            t3, c3, dasked = timed(lambda: sweep(executor=executor), args.repeats, client)
        rows.append((label, t3, c3))
        assert dasked.equals(reference), f"{label}: the table differs from the serial one"

    print(f"{runs} runs ({args.points} points x {args.replications} replications), "
          f"{1000 * t1 / runs:.0f} ms per run on average, best of {args.repeats} rounds\n")
    print("| executor | wall s | simulations/s | speed-up vs 1 worker | CPU ms per run "
          "| CPU vs pool |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seconds, cpu in rows:
        print(f"| {name} | {seconds:.2f} | {runs / seconds:.1f} | {t1 / seconds:.2f}x | "
              f"{1000 * cpu / runs:.1f} | {cpu / c2:.2f}x |")
    verdict = "meets" if t1 / t2 >= GOAL else "misses"
    print(f"\n2 workers against 1: {t1 / t2:.2f}x ({verdict} the {GOAL}x goal); "
          "every executor gave the same table")


if __name__ == "__main__":
    main()
