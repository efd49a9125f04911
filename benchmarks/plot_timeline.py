"""Measure how long the timeline picture takes for a large run (not a test: it prints).

    /work/venv/bin/python benchmarks/plot_timeline.py [--jobs 100000] [--out DIR]

Simulates a background stream of about ``--jobs`` job-mode jobs (exponential arrivals, mean
1 s, over a horizon of jobs seconds), plus the same with a batch sweep submitting one job every
30 s (thousands of active windows), then times ``timeline()`` and the PNG write separately.
The figures are written to ``--out`` (default: a temporary directory) so they can be looked at.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import qsim
from qsim import plots


def scenario(jobs: int, sweep: bool) -> qsim.Scenario:
    workloads = [{"name": "others", "kind": "background",
                  "arrivals": {"dist": "exponential", "mean": 1},
                  "compile": 1, "quantum": {"dist": "lognormal", "mean": 0.6, "cv": 0.5},
                  "post": 0.5}]
    if sweep:  # keeps arriving as long as the background does; one window per job or so
        workloads.append({"name": "sweep", "kind": "independent", "mode": "batch",
                          "jobs": jobs // 30, "submit_interval": 30, "quantum": 2,
                          "compile": 1, "post": 0.5})
    return qsim.parse_scenario({"name": f"bench-{jobs}", "horizon": jobs, "workloads": workloads},
                               "bench.yaml")


def measure(name: str, sc: qsim.Scenario, out: Path) -> None:
    t0 = time.perf_counter()
    result = qsim.simulate(sc)
    _ = result.jobs, result.windows, result.intervals, result.contexts, result.calibrations
    t1 = time.perf_counter()
    ax = plots.timeline(result)
    t2 = time.perf_counter()
    path = out / f"{name}.png"
    plots._save(ax.figure, path)
    t3 = time.perf_counter()
    print(f"{name:>16}: {len(result.jobs):>7,} jobs, {len(result.windows):>5,} windows | "
          f"simulate+tables {t1 - t0:5.2f} s | timeline() {t2 - t1:5.2f} s | "
          f"PNG {t3 - t2:5.2f} s | picture {t3 - t1:5.2f} s -> {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="qsim-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    measure("background", scenario(args.jobs, sweep=False), out)
    measure("background+batch", scenario(args.jobs, sweep=True), out)


if __name__ == "__main__":
    main()
