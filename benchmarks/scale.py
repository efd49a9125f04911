"""How fast is qsim, and how does it grow? Run by hand: ``python benchmarks/scale.py``.

For 10 000, 100 000 and 1 000 000 jobs (a background stream at about 0.8 QPU utilisation on
5 lanes with classical phases, plus a session VQE and a batch sweep in the foreground) it
prints jobs per second (simulate plus summary) and events per second, the wall seconds of
``simulate``, of the summary, of the jobs DataFrame and of the whole ``qsim run``, and the peak
memory per job. It also runs, in the same process and on the same drawn inputs, a minimal
hand-written heapq event loop of the background-only model (the practical floor for Python)
and prints qsim's time on that model as a ratio to it.

Each size runs in a fresh subprocess so that peak memory (ru_maxrss) belongs to it alone, in
rounds over all the sizes; each time printed is the best round's, and each ratio is paired:
computed within a round (qsim and its yardstick a few seconds apart), then shown as the median
and range over the rounds. After the table it prints how the time grows from one size to the
next.

Then the full-feature scenario (``full_feature_dict``: fair share over three instances, hourly
calibrations, a session with retries, a QAOA with two optimisers in batch mode, a sweep in
batch mode, two background streams) under fair share and under fifo, each size and queue in
its own process: µs per job, peak memory per job (a run that keeps every job alive shows
here), ``qsim run --json`` per job over the heapq floor per job (the floor run just before and
just after it), and ``qsim run --out`` over ``--json``; then the goals of issue 18 met or not,
and ``qsim run -r 8`` on scenarios/vqe.yaml against one run plus the pool's start-up.
Options: ``--sizes 10000,100000`` to choose sizes, ``--no-cli`` to skip the ``qsim run`` timing,
``--no-full`` to skip the full-feature scenario,
``--repeats N`` rounds (the best counts; default 3),
``--worst-case`` for a queue of ~50 000 jobs behind a long session against a baseline,
``--instructions`` for CPU instructions per job under valgrind (see ``instructions``; with
``--worst-case``, of the worst case's two scenarios). Before timing ``qsim run`` it compiles
qsim's bytecode, as an installed qsim has it (see ``compile_bytecode``).
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
from collections import deque
from functools import partial
from typing import Any

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


FLEET = ("ibm_brisbane", "ibm_kyiv", "ibm_sherbrooke", "ibm_torino", "ibm_fez", "ibm_marrakesh")


def fleet_dict(jobs: int, backends: int = len(FLEET)) -> dict:
    """SPEC §18: ``backends`` backends, each with the benchmark's background stream (about
    0.8 utilisation), run long enough for ``jobs`` jobs in all: the per-job cost of a fleet
    against ``scenario_dict(jobs, foreground=False)``, one backend of the same total size."""
    names = FLEET[:backends] if backends <= len(FLEET) else [f"b{i}" for i in range(backends)]
    return {"name": f"fleet-{jobs}", "horizon": jobs * MEAN_INTERARRIVAL_S / backends,
            "backends": [{"name": n} for n in names],
            "workloads": [{**background(f"others-{n}"), "backend": n} for n in names]}


WEEK_S = 7 * 86400.0


def week_dicts() -> tuple[dict, dict]:
    """A week of six busy backends (one job every 24 s on each, ~0.8 utilisation: about
    150,000 jobs), and one backend as busy as each of them for six weeks (the same jobs, the
    same queueing): the fleet's cost per job against one backend's."""
    def stream(name: str) -> dict:
        return {**background(name), "arrivals": {"dist": "exponential", "mean": 24.0},
                "quantum": {"dist": "lognormal", "mean": 19.2, "cv": 1.0}}

    fleet = {"name": "week-fleet", "horizon": WEEK_S, "backends": [{"name": n} for n in FLEET],
             "workloads": [{**stream(f"users-{n}"), "backend": n} for n in FLEET]}
    one = {"name": "six-weeks-one", "horizon": 6 * WEEK_S, "workloads": [stream("users")]}
    return fleet, one


def fleet_week(repeats: int) -> None:
    """CPU seconds of simulate plus summary for ``week_dicts``, paired within each round."""
    import qsim

    scenarios = [qsim.parse_scenario(d, "week") for d in week_dicts()]
    rounds: list[list[tuple[float, int]]] = []
    for _ in range(repeats):
        row = []
        for scenario in scenarios:
            start = time.process_time()
            result = qsim.simulate(scenario)
            result.summary()
            row.append((time.process_time() - start, int(result.job_arrays["status"].size)))
        rounds.append(row)
    print("| case | jobs | CPU s (best) | µs per job |")
    print("|---|---:|---:|---:|")
    for k, label in enumerate(("six backends, one week", "one backend, six weeks")):
        seconds, jobs = min(r[k] for r in rounds)
        print(f"| {label} | {jobs:,} | {seconds:.2f} | {1e6 * seconds / jobs:.2f} |")
    ratios = [(f[0] / f[1]) / (o[0] / o[1]) for f, o in rounds]
    print(f"\nper job, six backends over one (paired): {_spread(ratios, 'x', 2)}")


def full_feature_dict(jobs: int, queue: str = "fair_share") -> dict:
    """The full-feature scenario (issue 18): fair share over three instances, hourly
    calibrations, a session with retries, a QAOA with two optimisers in batch mode, a sweep in
    batch mode and two background streams (together at about the same load as
    ``scenario_dict``'s one), under ``queue`` (fair_share or fifo)."""
    horizon = jobs * MEAN_INTERARRIVAL_S
    public = {**background("public"), "instance": "open", "share": 1,
              "arrivals": {"dist": "exponential", "mean": MEAN_INTERARRIVAL_S * 2.2}}
    materials = {**background("materials-background"), "instance": "materials", "share": 2,
                 "arrivals": {"dist": "exponential", "mean": MEAN_INTERARRIVAL_S * 2.2}}
    workloads = [
        public, materials,
        {"name": "chemistry-vqe", "kind": "iterative", "instance": "chemistry", "share": 2,
         "mode": {"kind": "session", "max_time": "8h"}, "iterations": 60,
         "start": horizon * 0.3, "classical": {"dist": "exponential", "mean": "15s"},
         "compile": "4s", "quantum": {"circuits": 8, "shots": 4000}, "post": "1s",
         "failure": {"probability": 0.05, "kind": "system", "stage": "quantum"},
         "on_failure": "retry", "max_retries": 3},
        {"name": "qaoa", "kind": "iterative", "instance": "chemistry", "share": 2,
         "mode": "batch", "iterations": 40, "parallel": 2, "jobs_per_iteration": 2,
         "start": horizon * 0.6, "classical": {"dist": "uniform", "low": "2s", "high": "12s"},
         "compile": {"dist": "lognormal", "mean": "4s", "cv": 0.4},
         "quantum": {"circuits": 4, "shots": 2000}, "post": "1.5s"},
        {"name": "materials-sweep", "kind": "independent", "instance": "materials",
         "share": 2, "mode": "batch", "jobs": 50, "start": horizon * 0.97,
         "compile": {"dist": "uniform", "low": "5s", "high": "15s"},
         "quantum": {"circuits": 2, "shots": 8000}, "post": "2s"},
    ]
    return {"name": f"full-{queue}-{jobs}", "horizon": horizon,
            "backend": {"lanes": 5, "queue": queue,
                        "calibration": {"every": "1h", "duration": "5m"}},
            "workloads": workloads}


def floor_seconds(jobs: int) -> tuple[float, int, int]:
    """A hand-written heapq loop of the background-only model (FIFO, 5 lanes, one QPU) on the
    same durations qsim draws: the practical floor for an event loop in Python. Returns its
    seconds, the jobs it completed and the jobs that arrived."""
    from qsim.input.scenario import parse_scenario
    from qsim.model.rng import Streams

    spec = parse_scenario(scenario_dict(jobs, foreground=False), "floor").workloads[0]
    streams = Streams(0)
    draws = {k: streams.draws(getattr(spec, k), spec.name, k)
             for k in ("arrivals", "compile", "quantum", "post")}
    horizon = jobs * MEAN_INTERARRIVAL_S
    start = time.perf_counter()
    done, arrived = _heapq_model(draws, horizon, lanes=5)
    return time.perf_counter() - start, done, arrived


def _heapq_model(draws: dict, horizon: float, lanes: int) -> tuple[int, int]:
    # Queues are deques popped as jobs leave them, so a finished job is garbage (as in qsim):
    # the floor does not keep every job alive, which would make it slower the longer it runs.
    arrive, compiled, quantum_end, post_end = 0, 1, 2, 3
    heap: list = [(next(draws["arrivals"]), 0, arrive, None)]
    queue: deque[tuple[float, float, float]] = deque()
    waiting: deque[tuple[float, float, float]] = deque()
    seq, qpu_free, done = 1, True, 0
    arrived = 0
    while heap:
        t, _, what, job = heapq.heappop(heap)
        if t > horizon:
            break
        if what == arrive:
            queue.append((next(draws["compile"]), next(draws["quantum"]), next(draws["post"])))
            arrived += 1
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
        while lanes and queue:
            job = queue.popleft()
            lanes -= 1
            heapq.heappush(heap, (t + job[0], seq, compiled, job))
            seq += 1
        if qpu_free and waiting:
            job = waiting.popleft()
            qpu_free = False
            heapq.heappush(heap, (t + job[1], seq, quantum_end, job))
            seq += 1
    return done, arrived


def work_limit(jobs: int) -> int:
    """A work limit that admits ``jobs`` (the default refuses 10M jobs)."""
    return max(5_000_000, 2 * jobs)


def simulated(scenario: Any, limit: int) -> tuple[Any, dict, tuple[float, float, float], int]:
    """Run ``scenario`` once in this process: the result, its summary, the times before the
    run, after it and after the summary, and the peak memory (KiB) it added."""
    import qsim

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    result = qsim.simulate(scenario, max_jobs=limit)
    t1 = time.perf_counter()
    summary = result.summary()
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    return result, summary, (t0, t1, t2), peak_kib


def measure(jobs: int, with_cli: bool) -> dict:
    """One round of one size, in this process: run from a fresh subprocess (see main), so
    that peak memory is this run's alone."""
    import pandas  # noqa: F401  (the summary needs none: the jobs table's time is its own)

    import qsim

    limit = work_limit(jobs)
    result, summary, (t0, t1, t2), peak_kib = simulated(
        qsim.parse_scenario(scenario_dict(jobs), "scale"), limit)
    len(result.jobs)  # the jobs DataFrame, as `qsim run --out` writes it
    t3 = time.perf_counter()
    events = result.info.events
    del result
    submitted = sum(w["jobs"]["submitted"] for w in summary["workloads"])
    floor_s, floor_done, _ = floor_seconds(jobs)
    bg = qsim.parse_scenario(scenario_dict(jobs, foreground=False), "bg")
    t4 = time.perf_counter()
    bg_summary = qsim.simulate(bg, max_jobs=limit).summary()
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
        row["qsim_run_s"] = _time_cli(scenario_dict(jobs), "--json", "--max-jobs", str(limit))
    return row


def _time_cli(data: dict, *options: str) -> float:
    """Wall seconds of ``qsim run FILE`` with ``options`` (default ``--json``) on ``data``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scale.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(data, f)
        options = options or ("--json",)
        options = tuple(os.path.join(tmp, o[1:]) if o.startswith("@") else o for o in options)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qsim", "run", path, *options], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


FULL_QUEUES = ("fair_share", "fifo")


def measure_full(jobs: int, queue: str, with_cli: bool) -> dict:
    """One round of the full-feature scenario under ``queue``, in a fresh process (see main):
    simulate and summary in this process (for the peak memory), then, interleaved, the heapq
    floor, ``qsim run --json``, the floor again and ``qsim run --out``, so that each ratio is
    of two figures of the same moment of the machine."""
    import qsim

    # Peak memory above a process that has imported everything and run the scenario small:
    # what the jobs cost, not the libraries (~100 MB, a third of the figure at a million).
    qsim.simulate(qsim.parse_scenario(full_feature_dict(1_000, queue), "warm")).summary()
    data = full_feature_dict(jobs, queue)
    limit = work_limit(jobs)
    result, summary, (t0, t1, t2), peak_kib = simulated(qsim.parse_scenario(data, "full"),
                                                        limit)
    del result
    submitted = sum(w["jobs"]["submitted"] for w in summary["workloads"])
    row = {"queue": queue, "jobs": submitted, "simulate_s": t1 - t0, "summary_s": t2 - t1,
           "simulate_summary_s": t2 - t0, "peak_bytes_per_job": peak_kib * 1024 / submitted}
    floor_s, _, floor_jobs = floor_seconds(submitted)
    row["floor_us_per_job"] = floor_s / floor_jobs * 1e6
    if with_cli:
        row["qsim_run_s"] = _time_cli(data, "--json", "--max-jobs", str(limit))
        floor_after, _, _ = floor_seconds(submitted)
        row["floor_after_us_per_job"] = floor_after / floor_jobs * 1e6
        row["qsim_out_s"] = _time_cli(data, "--out", "@out", "--max-jobs", str(limit))
    return row


GROWTH_SIZES = "100000,10000000"
GROWTH_PARTS = ("simulate", "summary")


def measure_growth(jobs: int, window_s: float | None = None) -> dict:
    """Issue 32, goal 2, in a fresh process (see growth): CPU seconds of ``simulate`` and of
    the summary of the full-feature scenario under fair share at ``jobs``, after the same
    scenario run small (imports and first calls are not the jobs' cost). ``window_s``: the
    backend's ``fair_share_window`` (None: the default, 28 days)."""
    import qsim

    qsim.simulate(qsim.parse_scenario(full_feature_dict(1_000), "warm")).summary()
    data = full_feature_dict(jobs)
    if window_s is not None:
        data["backend"]["fair_share_window"] = window_s
    scenario = qsim.parse_scenario(data, "growth")
    t0 = time.process_time()
    result = qsim.simulate(scenario, max_jobs=work_limit(jobs))
    t1 = time.process_time()
    result.summary()
    t2 = time.process_time()
    return {"jobs": int(result.job_arrays["status"].size), "simulate": t1 - t0,
            "summary": t2 - t1}


def growth(sizes: list[int], repeats: int, window_s: float | None = None) -> None:
    """Issue 32, goal 2: the per-job CPU of simulate plus summary at the larger size over the
    smaller (full feature, fair share). The sizes alternate, small, large, small, ..., small,
    each run a fresh process; each large run is paired with the small runs either side of it
    (three processes each, the median taken: a small run is a second, and easily disturbed).
    The children run with the environment the ``qsim`` command gives its own process
    (numpy's huge-page advice off, unless NUMPY_MADVISE_HUGEPAGE is set: set it to 1 to
    measure numpy's default, as a Python process that imports qsim has it). ``window_s``: the
    fair-share window of both sizes (None: the default, 28 days, which the small run, 5.8
    days long, never fills: only the large one pays the window's expiry, the rule's work)."""
    from qsim.present.cli import NUMPY_HUGE_PAGES

    small, large = sizes
    name, value = NUMPY_HUGE_PAGES
    env = {name: value, **os.environ}
    print(f"{name}={env[name]} in each run; {repeats} rounds of {small:,}, {large:,}, "
          f"then {small:,} again", file=sys.stderr, flush=True)
    window = [] if window_s is None else ["--fair-share-window", str(window_s)]
    slots = [_small_slot(small, env, window)]
    larges = []
    for round_no in range(1, repeats + 1):
        print(f"round {round_no}/{repeats}: {large:,} jobs", file=sys.stderr, flush=True)
        larges.append(_child(["--one-growth", str(large), *window], env))
        slots.append(_small_slot(small, env, window))
    print("| run | jobs | simulate µs/job | summary µs/job | both µs/job |")
    print("|---|---:|---:|---:|---:|")
    in_order = [("small", slots[0])] + [
        run for pair in zip([("large", r) for r in larges], [("small", r) for r in slots[1:]])
        for run in pair]
    for label, row in in_order:  # in the order they ran
        cells = [f"{_per_job(row, part):.3f}" for part in (*GROWTH_PARTS, None)]
        print(f"| {label} | {row['jobs']:,} | " + " | ".join(cells) + " |")
    print(f"\nper job, {larges[0]['jobs']:,} jobs over {slots[0]['jobs']:,} (each large run "
          "over the mean of the small runs either side), median (range):")
    for part, label in ((None, "simulate plus summary"), ("simulate", "simulate"),
                        ("summary", "summary")):
        ratios = [_per_job(row, part) / ((_per_job(before, part) + _per_job(after, part)) / 2)
                  for row, before, after in zip(larges, slots, slots[1:])]
        if part is None:
            _goal(f"{label} within 5% (issue 32, goal 2)", ratios, 1.05, "x", 3)
        else:
            print(f"- {label}: {_spread(ratios, 'x', 3)}")


def _small_slot(jobs: int, env: dict[str, str], window: list[str]) -> dict:
    """Three runs of the small size in a row, as one: each part's median."""
    runs = [_child(["--one-growth", str(jobs), *window], env) for _ in range(3)]
    return {"jobs": runs[0]["jobs"],
            **{part: sorted(r[part] for r in runs)[1] for part in GROWTH_PARTS}}


def _per_job(row: dict, part: str | None) -> float:
    """µs of CPU per job of one part (None: both)."""
    seconds = sum(row[p] for p in GROWTH_PARTS) if part is None else row[part]
    return float(seconds) / row["jobs"] * 1e6


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
    per_job = {}
    for model, label in (("full", "qsim, the benchmark scenario (simulate)"),
                         ("background", "qsim, background only (simulate)"),
                         ("full-fair_share", "qsim, full feature, fair share (simulate)"),
                         ("full-fifo", "qsim, full feature, fifo (simulate)"),
                         ("fleet", "qsim, six backends' background (simulate, SPEC §18)"),
                         ("floor", "heapq floor, background only")):
        counts = [_count_instructions(model, jobs) for jobs in INSTRUCTION_SIZES]
        (small_jobs, small), (large_jobs, large) = counts
        per_job[model] = (large - small) / (large_jobs - small_jobs)
        print(f"| {label} | {per_job[model]:,.0f} |", flush=True)
    # Issue 28: a fleet's per-job cost within 10% of one backend's at the same total size
    # (fleet_dict against the background-only model: the same streams, on one backend).
    ratio = per_job["fleet"] / per_job["background"]
    print(f"\nsix backends over one, per job: {ratio:.3f}x "
          f"({'met' if ratio <= 1.10 else 'NOT met'}: issue 28's goal is 1.10x)")


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


def _run_one_model(model: str, jobs: int, window_s: float | None = None) -> int:
    """Run one model (what ``_count_instructions`` counts); return the jobs it submitted.
    For the worst cases, ``jobs`` is 1 to simulate and 0 to only parse the scenario; for
    ``week-fleet`` and ``week-one``, the percent of the week's horizon to run. ``window_s``:
    the full-feature models' ``fair_share_window`` (None: the default, 28 days; one short
    enough that entries expire throughout both sizes counts the 10M run's regime)."""
    if model == "floor":
        return floor_seconds(jobs)[2]
    import qsim

    if model.startswith("worst-"):
        scenario = qsim.parse_scenario(worst_case_dict(model == "worst-session"), "count")
        if not jobs:
            return 0
    elif model.startswith("full-"):
        data = full_feature_dict(jobs, model[len("full-"):])
        if window_s is not None:
            data["backend"]["fair_share_window"] = window_s
        scenario = qsim.parse_scenario(data, "count")
    elif model == "fleet":
        scenario = qsim.parse_scenario(fleet_dict(jobs), "count")
    elif model in ("week-fleet", "week-one"):
        # ``week_dicts`` cut to ``jobs`` percent of its horizon, simulate and summary: the
        # fleet's summary costs per job as one backend's (issue 28)
        chosen = week_dicts()[model == "week-one"]
        cut = {**chosen, "horizon": chosen["horizon"] * jobs / 100}
        result = qsim.simulate(qsim.parse_scenario(cut, "count"))
        result.summary()
        return int(result.job_arrays["status"].size)
    else:
        scenario = qsim.parse_scenario(scenario_dict(jobs, foreground=model == "full"), "count")
    result = qsim.simulate(scenario)
    return int(result.job_arrays["status"].size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes",
                        help="comma-separated job counts (default 10000,100000,1000000; "
                             f"with --growth, two: default {GROWTH_SIZES})")
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
    parser.add_argument("--one-full", nargs=2, help=argparse.SUPPRESS)  # internal: SIZE QUEUE
    parser.add_argument("--no-full", action="store_true",
                        help="skip the full-feature scenario (fair share and fifo)")
    parser.add_argument("--fleet-week", action="store_true",
                        help="a week of six busy backends (SPEC §18) against one backend")
    parser.add_argument("--growth", action="store_true",
                        help="issue 32, goal 2: CPU per job of simulate and summary (full "
                             "feature, fair share) at 10,000,000 jobs over 100,000, paired")
    parser.add_argument("--one-growth", type=int, help=argparse.SUPPRESS)  # internal: SIZE
    parser.add_argument("--fair-share-window", type=float,
                        help="with --growth (or --count-one): the fair-share window in "
                             "seconds at both sizes "
                             "(default 28 days; 1e12: no usage ever expires)")
    args = parser.parse_args()
    if args.one_growth:
        print(json.dumps(measure_growth(args.one_growth, args.fair_share_window)))
        return
    if args.growth:
        pair = [int(size) for size in (args.sizes or GROWTH_SIZES).split(",")]
        if len(pair) != 2:
            raise SystemExit("--growth compares two sizes: --sizes SMALL,LARGE")
        growth(pair, args.repeats, args.fair_share_window)
        return
    if args.fleet_week:
        fleet_week(args.repeats)
        return
    if args.count_one:
        print(_run_one_model(args.count_one[0], int(args.count_one[1]),
                             args.fair_share_window))
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
    if args.one_full:
        size, queue = args.one_full
        print(json.dumps(measure_full(int(size), queue, not args.no_cli)))
        return
    if not args.no_cli:
        compile_bytecode()
    sizes = [int(size) for size in (args.sizes or "10000,100000,1000000").split(",")]
    rounds: dict[int, list[dict]] = {size: [] for size in sizes}
    full: dict[tuple[int, str], list[dict]] = {
        (size, queue): [] for size in sizes for queue in FULL_QUEUES}
    cli = ["--no-cli"] if args.no_cli else []
    # Rounds over all sizes, rather than all of one size's runs in a row: the machine's speed
    # drifts for minutes at a time, and this way a slow spell costs every size alike.
    for round_no in range(1, args.repeats + 1):
        for size in sizes:
            print(f"round {round_no}/{args.repeats}: {size:,} jobs", file=sys.stderr, flush=True)
            rounds[size].append(_child(["--one", str(size), *cli]))
            for queue in FULL_QUEUES if not args.no_full else ():
                print(f"round {round_no}/{args.repeats}: {size:,} jobs, full feature, {queue}",
                      file=sys.stderr, flush=True)
                full[size, queue].append(_child(["--one-full", str(size), queue, *cli]))
    print("| jobs | jobs/s | events/s | simulate s | summary s | jobs table s | qsim run s "
          "| peak B/job | floor s | bg-only / floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [_best_of(rounds[size]) for size in sizes]
    for size, row in zip(sizes, rows):
        total = row["simulate_summary_s"]
        # The ratio is paired: each round's qsim over the same round's floor.
        ratio = _spread([r["background_only_s"] / r["floor_s"] for r in rounds[size]], "x")
        print(f"| {row['jobs']:,} | {row['jobs'] / total:,.0f} | "
              f"{row['events'] / row['simulate_s']:,.0f} | {row['simulate_s']:.2f} | "
              f"{row['summary_s']:.2f} | {row['jobs_table_s']:.2f} | "
              f"{row.get('qsim_run_s', float('nan')):.2f} | "
              f"{row['peak_bytes_per_job']:.0f} | {row['floor_s']:.2f} | {ratio} |", flush=True)
    print()
    for smaller, larger in zip(rows, rows[1:]):
        print(f"simulate plus summary, {larger['jobs']:,} jobs against {smaller['jobs']:,}: "
              f"{larger['simulate_summary_s'] / smaller['simulate_summary_s']:.1f}x the time "
              f"for {larger['jobs'] / smaller['jobs']:.1f}x the jobs")
    if not args.no_full:
        print()
        _print_full(sizes, full, with_cli=not args.no_cli)
    if not args.no_cli:
        print()
        _print_replications(args.repeats)


def compile_bytecode() -> None:
    """Compile qsim's modules to bytecode, as ``pip install`` does: the whole ``qsim run``
    timed here then starts as an installed qsim does. An editable install under
    PYTHONDONTWRITEBYTECODE=1 (this machine sets it) would otherwise compile all of qsim's
    source on every run: 60 ms of a run's start-up."""
    import compileall

    import qsim

    compileall.compile_dir(os.path.dirname(os.path.abspath(qsim.__file__)), quiet=1)


def _child(args: list[str], env: dict[str, str] | None = None) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env)
    if done.returncode:
        raise SystemExit(f"scale.py {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    """The median of ``values`` and, with more than one, their range: ``2.1x (1.9-2.4x)``."""
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2] if len(ordered) % 2 else (
        ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
    text = f"{middle:.{digits}f}{unit}"
    if len(ordered) > 1:
        text += f" ({ordered[0]:.{digits}f}-{ordered[-1]:.{digits}f}{unit})"
    return text


def _run_over_floor(row: dict) -> float:
    """``qsim run --json`` per job over the floor per job of the same round (the floor's
    mean of its two runs, one before and one after the command)."""
    floor = (row["floor_us_per_job"] + row["floor_after_us_per_job"]) / 2
    return row["qsim_run_s"] / row["jobs"] * 1e6 / floor


def _print_full(sizes: list[int], full: dict[tuple[int, str], list[dict]],
                with_cli: bool) -> None:
    """The full-feature table, then the goals of issue 18 measured on it. Each ratio is
    computed within a round and shown as the median and range over the rounds."""
    print("| full feature | jobs | simulate s | µs per job | peak B/job | qsim run s "
          "| run / floor | --out s | --out / --json |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        for queue in FULL_QUEUES:
            runs = full[size, queue]
            first = runs[0]
            us = _spread([r["simulate_summary_s"] / r["jobs"] * 1e6 for r in runs], digits=2)
            cells = ["", "", "", ""]
            if with_cli:
                cells = [f"{min(r['qsim_run_s'] for r in runs):.2f}",
                         _spread([_run_over_floor(r) for r in runs], "x"),
                         f"{min(r['qsim_out_s'] for r in runs):.2f}",
                         _spread([r["qsim_out_s"] / r["qsim_run_s"] for r in runs], "x", 2)]
            print(f"| {queue} | {first['jobs']:,} | "
                  f"{min(r['simulate_s'] for r in runs):.2f} | {us} | "
                  f"{max(r['peak_bytes_per_job'] for r in runs):.0f} | "
                  + " | ".join(cells) + " |", flush=True)
    largest = max(sizes)
    runs = full[largest, "fair_share"]
    print()
    print(f"Goals (issue 18), full feature under fair share at {runs[0]['jobs']:,} jobs, "
          f"median (range) over {len(runs)} rounds:")
    if with_cli:
        _goal("qsim run --json within 3x the heapq floor per job",
              [_run_over_floor(r) for r in runs], 3.0, "x")
        _goal("qsim run --out within 1.6x of --json",
              [r["qsim_out_s"] / r["qsim_run_s"] for r in runs], 1.6, "x")
        _goal("qsim run --out within 1.4x of --json (issue 32)",
              [r["qsim_out_s"] / r["qsim_run_s"] for r in runs], 1.4, "x")
    _goal("peak memory <= 400 B per job", [r["peak_bytes_per_job"] for r in runs], 400, " B")
    if 100_000 in sizes and largest > 100_000:
        small = full[100_000, "fair_share"]
        _goal(f"per-job cost at {largest:,} within 10% of 100,000 (simulate and summary)",
              [(r["simulate_summary_s"] / r["jobs"]) / (s["simulate_summary_s"] / s["jobs"])
               for r, s in zip(runs, small)], 1.10, "x", 2)


def _goal(label: str, values: list[float], limit: float, unit: str, digits: int = 1) -> None:
    met = "met" if sorted(values)[len(values) // 2] <= limit else "NOT met"
    every = "" if max(values) <= limit or met != "met" else " (not in every round)"
    print(f"- {label}: {_spread(values, unit, digits)}: {met}{every}")


VQE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "vqe.yaml")


def _print_replications(repeats: int) -> None:
    """``qsim run -r 8`` on scenarios/vqe.yaml (a few ms a run) against one run plus the
    pool's start-up (a pool of this machine's cores running one empty task each), each round
    paired."""
    ratios, lines = [], []
    for _ in range(repeats):
        one = _time_command(["run", VQE, "--json"])
        eight = _time_command(["run", VQE, "-r", "8", "--json"])
        pool = _pool_start_up()
        ratios.append(eight / (one + pool))
        lines.append(f"one run {one:.2f} s, -r 8 {eight:.2f} s, pool start-up {pool:.2f} s")
    print("qsim run -r 8 on scenarios/vqe.yaml: " + "; ".join(lines))
    _goal("qsim run -r 8 within 2x of one run plus the pool's start-up", ratios, 2.0, "x", 2)


def _time_command(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qsim", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _pool_start_up() -> float:
    """Seconds to start the pool ``qsim run -r`` uses, run one empty task on each of its
    workers and shut it down, measured in a fresh process that has imported what qsim run
    -r imports before it starts its pool."""
    code = ("import time\n"
            "from concurrent.futures import ProcessPoolExecutor\n"
            "import qsim.experiments, qsim.present.cli\n"
            "from qsim.experiments import runner\n"
            "start = time.perf_counter()\n"
            "n = runner.available_cores()\n"
            "with ProcessPoolExecutor(n, initializer=runner._ignore_sigint) as pool:\n"
            "    list(pool.map(abs, range(n)))\n"
            "print(time.perf_counter() - start)\n")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True)
    return float(done.stdout.split()[-1])


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
