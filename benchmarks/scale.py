"""How fast is qsim, and how does it grow? Run by hand: ``python benchmarks/scale.py``.

For 10 000, 100 000 and 1 000 000 jobs (a background stream at about 0.8 QPU utilisation on
5 lanes with classical phases, plus a session VQE and a batch sweep in the foreground) it
prints jobs per second (simulate plus summary) and events per second, the wall seconds of
``simulate``, of the summary, of the jobs DataFrame and of the whole ``qsim run``, and the peak
memory per job. It also runs, in the same process and on the same drawn inputs, a minimal
hand-written heapq event loop of the background-only model (the practical floor for Python)
and prints qsim's time on that model as a ratio to it.

Each size runs in a fresh subprocess so that peak memory (ru_maxrss) belongs to it alone, in
rounds over all the sizes; each time printed is the best round's. After the table it prints
how the time grows from one size to the next.
Options: ``--sizes 10000,100000`` to choose sizes, ``--no-cli`` to skip the ``qsim run`` timing,
``--repeats N`` rounds (the best counts; default 3),
``--worst-case`` for a queue of ~50 000 jobs behind a long session against a baseline,
``--instructions`` for CPU instructions per job under valgrind (see ``instructions``; with
``--worst-case``, of the worst case's two scenarios).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial

import yaml

MEAN_INTERARRIVAL_S = 5.0  # with a mean quantum phase of 4 s: utilisation ~0.8


def background(name: str = "others") -> dict:
    return {"name": name, "kind": "background",
            "arrivals": {"dist": "exponential", "mean": MEAN_INTERARRIVAL_S},
            "compile": {"dist": "exponential", "mean": "3s"},
            "quantum": {"dist": "lognormal", "mean": "4s", "cv": 1.0},
            "post": {"dist": "exponential", "mean": "1s"}}


def scenario_dict(jobs: int, foreground: bool = True) -> dict:
    horizon = jobs * MEAN_INTERARRIVAL_S
    workloads = [background()]
    if foreground:
        # Background stops arriving once the foreground has ended (SPEC §5), so the foreground
        # spans the run: a session VQE half-way, a batch sweep near the end.
        workloads += [
            {"name": "vqe", "kind": "iterative", "mode": "session", "iterations": 50,
             "start": horizon * 0.5, "compile": "3s",
             "quantum": {"circuits": 4, "shots": 4000}, "post": "1s",
             "classical": {"dist": "exponential", "mean": "10s"}},
            {"name": "sweep", "kind": "independent", "mode": "batch", "jobs": 50,
             "start": horizon * 0.97, "compile": "20s", "quantum": "5s", "post": "2s"},
        ]
    return {"name": f"scale-{jobs}", "horizon": horizon, "workloads": workloads}


def floor_seconds(jobs: int) -> tuple[float, int, int]:
    """A hand-written heapq loop of the background-only model (FIFO, 5 lanes, one QPU) on the
    same durations qsim draws: the practical floor for an event loop in Python. Returns its
    seconds, the jobs it completed and the jobs that arrived."""
    from qsim.rng import Streams
    from qsim.scenario import parse_scenario

    spec = parse_scenario(scenario_dict(jobs, foreground=False), "floor").workloads[0]
    streams = Streams(0)
    draws = {k: streams.draws(getattr(spec, k), spec.name, k)
             for k in ("arrivals", "compile", "quantum", "post")}
    horizon = jobs * MEAN_INTERARRIVAL_S
    start = time.perf_counter()
    done, arrived = _heapq_model(draws, horizon, lanes=5)
    return time.perf_counter() - start, done, arrived


def _heapq_model(draws: dict, horizon: float, lanes: int) -> tuple[int, int]:
    arrive, compiled, quantum_end, post_end = 0, 1, 2, 3
    heap: list = [(next(draws["arrivals"]), 0, arrive, None)]
    seq, queue, waiting, qpu_free, done = 1, [], [], True, 0
    queue_head = 0
    while heap:
        t, _, what, job = heapq.heappop(heap)
        if t > horizon:
            break
        if what == arrive:
            queue.append((next(draws["compile"]), next(draws["quantum"]), next(draws["post"])))
            heapq.heappush(heap, (t + next(draws["arrivals"]), seq, arrive, None))
            seq += 1
        elif what == compiled:
            waiting.append(job)
        elif what == quantum_end:
            qpu_free = True
            heapq.heappush(heap, (t + job[2], seq, post_end, job))
            seq += 1
        else:
            lanes += 1
            done += 1
        while lanes and queue_head < len(queue):
            job = queue[queue_head]
            queue_head += 1
            lanes -= 1
            heapq.heappush(heap, (t + job[0], seq, compiled, job))
            seq += 1
        if qpu_free and waiting:
            job = waiting.pop(0)
            qpu_free = False
            heapq.heappush(heap, (t + job[1], seq, quantum_end, job))
            seq += 1
    return done, len(queue)


def measure(jobs: int, with_cli: bool) -> dict:
    """One round of one size, in this process: run from a fresh subprocess (see main), so
    that peak memory is this run's alone."""
    import qsim

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scenario = qsim.parse_scenario(scenario_dict(jobs), "scale")
    t0 = time.perf_counter()
    result = qsim.simulate(scenario)
    t1 = time.perf_counter()
    summary = result.summary()
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    len(result.jobs)  # the jobs DataFrame, as `qsim run --out` writes it
    t3 = time.perf_counter()
    events = result.info.events
    del result
    submitted = sum(w["jobs"]["submitted"] for w in summary["workloads"])
    floor_s, floor_done, _ = floor_seconds(jobs)
    bg = qsim.parse_scenario(scenario_dict(jobs, foreground=False), "bg")
    t4 = time.perf_counter()
    bg_summary = qsim.simulate(bg).summary()
    bg_s = time.perf_counter() - t4
    # The floor is only a fair yardstick if it computes the same thing: same jobs done.
    bg_done = bg_summary["workloads"][0]["jobs"]["done"]
    if bg_done != floor_done:
        raise SystemExit(f"floor model disagrees with qsim: {floor_done} != {bg_done} done")
    row = {"jobs": submitted, "events": events, "simulate_s": t1 - t0, "summary_s": t2 - t1,
           "simulate_summary_s": t2 - t0, "jobs_table_s": t3 - t2,
           "peak_bytes_per_job": peak_kib * 1024 / submitted,
           "floor_s": floor_s, "background_only_s": bg_s, "floor_done": floor_done}
    if with_cli:
        row["qsim_run_s"] = _time_cli(scenario_dict(jobs))
    return row


def _time_cli(data: dict) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scale.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(data, f)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qsim", "run", path, "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def worst_case_dict(session: bool) -> dict:
    """Fast background traffic (10 jobs/s) behind a ~1.4 h session: ~50 000 jobs queue up,
    then drain. Without the session, the same loop runs in job mode (no queue builds)."""
    loop = {"name": "vqe", "kind": "iterative", "iterations": 250, "start": "100s",
            "quantum": "10s", "classical": "10s",
            "mode": {"kind": "session", "max_time": "8h"} if session else "job"}
    others = {"name": "others", "kind": "background", "arrivals": {"dist": "exponential",
              "mean": 0.1}, "quantum": {"dist": "exponential", "mean": 0.05}}
    return {"name": "worst-case", "horizon": "4h", "workloads": [others, loop]}


def worst_case(repeats: int = 3) -> None:
    """Each case: the best of ``repeats`` runs, and the best of ``repeats`` more with dispatch
    timed (the Backend's dispatch loop wrapped in a timer: both cases carry its overhead)."""
    import numpy as np

    import qsim

    print("| case | jobs | peak queue | simulate s | µs per job | dispatch µs per job |")
    print("|---|---:|---:|---:|---:|---:|")
    for session in (False, True):
        scenario = qsim.parse_scenario(worst_case_dict(session), "worst-case")
        seconds = min(_timed(qsim.simulate, scenario)[0] for _ in range(repeats))
        timed = [_with_dispatch_timed(partial(qsim.simulate, scenario)) for _ in range(repeats)]
        dispatch_s, result = min(timed, key=lambda pair: pair[0])
        jobs = result.jobs
        dispatched = jobs["dispatch_at"].dropna()
        events = np.concatenate([np.ones(len(jobs)), -np.ones(len(dispatched))])
        order = np.lexsort((-events, np.concatenate([jobs["submit_at"], dispatched])))
        peak = int(np.cumsum(events[order]).max())  # at one instant, submissions count first
        label = "session blocks the backend" if session else "no session (baseline)"
        print(f"| {label} | {len(jobs):,} | {peak:,} | {seconds:.2f} | "
              f"{seconds / len(jobs) * 1e6:.1f} | {dispatch_s / len(dispatched) * 1e6:.2f} |",
              flush=True)


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _with_dispatch_timed(run):  # type: ignore[no-untyped-def]
    from qsim.model.backend import Backend

    spent = [0.0]
    original = Backend._dispatch

    def timed(self: Backend) -> None:
        start = time.perf_counter()
        original(self)
        spent[0] += time.perf_counter() - start

    Backend._dispatch = timed  # type: ignore[method-assign]
    try:
        result = run()
    finally:
        Backend._dispatch = original  # type: ignore[method-assign]
    return spent[0], result


INSTRUCTION_SIZES = (10_000, 40_000)


def instructions() -> None:
    """CPU instructions per job, counted by valgrind's callgrind: unlike seconds, the same on
    every run of the same code and inputs, however loaded the machine is, so a change of a few
    percent shows. Each model runs at two sizes in a fresh process (hash seed, address layout
    and BLAS threads fixed); the difference over the difference in jobs leaves out start-up.
    Instructions are not time (cache misses and branches differ), but they move together."""
    print("| model | instructions per job |")
    print("|---|---:|")
    for model, label in (("full", "qsim, the benchmark scenario (simulate)"),
                         ("background", "qsim, background only (simulate)"),
                         ("floor", "heapq floor, background only")):
        counts = [_count_instructions(model, jobs) for jobs in INSTRUCTION_SIZES]
        (small_jobs, small), (large_jobs, large) = counts
        print(f"| {label} | {(large - small) / (large_jobs - small_jobs):,.0f} |", flush=True)


def _count_instructions(model: str, jobs: int) -> tuple[int, int]:
    """(jobs run, instructions) of one model in a fresh process under callgrind."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, __file__, "--count-one", model, str(jobs)]
    if shutil.which("setarch"):
        cmd = ["setarch", "-R", *cmd]  # the same address layout every run
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]), parse_collected(done.stderr)


def parse_collected(valgrind_stderr: str) -> int:
    """The instruction total callgrind prints at exit (``Collected : N``)."""
    found = re.search(r"Collected : (\d+)", valgrind_stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{valgrind_stderr}")
    return int(found.group(1))


def worst_case_instructions() -> None:
    """Instructions per job of the two worst-case scenarios: each run less a run that only
    starts up and parses it, over its jobs (both cases run the same jobs)."""
    print("| case | instructions per job |")
    print("|---|---:|")
    for model, label in (("worst-job", "no session (baseline)"),
                         ("worst-session", "session blocks the backend")):
        jobs, total = _count_instructions(model, 1)
        _, start_up = _count_instructions(model, 0)
        print(f"| {label} | {(total - start_up) / jobs:,.0f} |", flush=True)


def _run_one_model(model: str, jobs: int) -> int:
    """Run one model (what ``_count_instructions`` counts); return the jobs it submitted.
    For the worst cases, ``jobs`` is 1 to simulate and 0 to only parse the scenario."""
    if model == "floor":
        return floor_seconds(jobs)[2]
    import qsim

    if model.startswith("worst-"):
        scenario = qsim.parse_scenario(worst_case_dict(model == "worst-session"), "count")
        if not jobs:
            return 0
    else:
        scenario = qsim.parse_scenario(scenario_dict(jobs, foreground=model == "full"), "count")
    result = qsim.simulate(scenario)
    return int(result.job_arrays["status"].size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated job counts (default 10000,100000,1000000)")
    parser.add_argument("--no-cli", action="store_true",
                        help="skip timing the whole `qsim run` command")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size
    parser.add_argument("--worst-case", action="store_true",
                        help="a queue of ~50 000 jobs behind a long session, against a baseline")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds over the sizes (or runs of each worst case): the best "
                             "counts (default 3)")
    parser.add_argument("--instructions", action="store_true",
                        help="CPU instructions per job under valgrind: steady where seconds drift")
    parser.add_argument("--count-one", nargs=2, help=argparse.SUPPRESS)  # internal: one model
    args = parser.parse_args()
    if args.count_one:
        print(_run_one_model(args.count_one[0], int(args.count_one[1])))
        return
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (Debian: apt install valgrind)")
        worst_case_instructions() if args.worst_case else instructions()
        return
    if args.worst_case:
        worst_case(args.repeats)
        return
    if args.one:
        print(json.dumps(measure(args.one, not args.no_cli)))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    rounds: dict[int, list[dict]] = {size: [] for size in sizes}
    # Rounds over all sizes, rather than all of one size's runs in a row: the machine's speed
    # drifts for minutes at a time, and this way a slow spell costs every size alike.
    for round_no in range(1, args.repeats + 1):
        for size in sizes:
            print(f"round {round_no}/{args.repeats}: {size:,} jobs", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--one", str(size)] + (
                ["--no-cli"] if args.no_cli else [])
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rounds[size].append(json.loads(done.stdout))
    print("| jobs | jobs/s | events/s | simulate s | summary s | jobs table s | qsim run s "
          "| peak B/job | floor s | bg-only / floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [_best_of(rounds[size]) for size in sizes]
    for row in rows:
        total = row["simulate_summary_s"]
        print(f"| {row['jobs']:,} | {row['jobs'] / total:,.0f} | "
              f"{row['events'] / row['simulate_s']:,.0f} | {row['simulate_s']:.2f} | "
              f"{row['summary_s']:.2f} | {row['jobs_table_s']:.2f} | "
              f"{row.get('qsim_run_s', float('nan')):.2f} | "
              f"{row['peak_bytes_per_job']:.0f} | {row['floor_s']:.2f} | "
              f"{row['background_only_s'] / row['floor_s']:.1f}x |", flush=True)
    print()
    for smaller, larger in zip(rows, rows[1:]):
        print(f"simulate plus summary, {larger['jobs']:,} jobs against {smaller['jobs']:,}: "
              f"{larger['simulate_summary_s'] / smaller['simulate_summary_s']:.1f}x the time "
              f"for {larger['jobs'] / smaller['jobs']:.1f}x the jobs")


_SECONDS = ("simulate_s", "summary_s", "simulate_summary_s", "jobs_table_s", "floor_s",
            "background_only_s", "qsim_run_s")


def _best_of(rounds: list[dict]) -> dict:
    """One size's rounds as one row: each time the best round's (the least disturbed), counts
    and peak memory the first round's (the same in every round)."""
    best = dict(rounds[0])
    for key in _SECONDS:
        if key in best:
            best[key] = min(row[key] for row in rounds)
    return best


if __name__ == "__main__":
    main()
