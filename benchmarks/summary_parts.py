"""Where the summary's CPU per job goes (issue 32, goal 2): the full-feature scenario under
fair share simulated once at JOBS, then ``RunResult.summary()`` and each of its parts timed
REPEATS times on fresh results of the same run (nothing cached from the last repeat), with
``getrusage``: CPU (user plus system) and page faults (fresh memory: one a 4 kB page) per
job, median and range over the repeats.

    python benchmarks/summary_parts.py JOBS [REPEATS]

Run it at 100000 and at 10000000 (a few GB of memory, about a minute) and compare per job.
The parts are called directly, in the order the summary needs them; "summarize, tables
given" is the summary once the numpy columns (jobs, windows, QPU intervals, idle gaps) are
there: its own sums, overlaps and per-backend figures. numpy's huge-page advice is off, as
the ``qsim`` command and ``scale.py --growth`` have it (qsim.present.cli.NUMPY_HUGE_PAGES),
unless NUMPY_MADVISE_HUGEPAGE is set: set it to 1 for numpy's default.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # before numpy is imported: read then

import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import scale  # noqa: E402

import qsim  # noqa: E402
from qsim.analysis import columns, metrics  # noqa: E402
from qsim.analysis.result import RunResult  # noqa: E402
from qsim.records.log import Columns  # noqa: E402


def _usage() -> tuple[float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def _parts(result: Any) -> list[tuple[str, Callable[[], Any]]]:
    """Each part as a call that leaves its output where the next parts (and the summary)
    read it, on a fresh RunResult over fresh columns of the same log."""
    trace, info = result.trace, result.info
    cols = trace._columns
    trace._columns = Columns(cols.t, cols.code)  # the kinds decoded again
    fresh = RunResult(trace, info)
    done = fresh.__dict__  # where the cached properties keep their values

    def keep(name: str, make: Callable[[], Any]) -> Callable[[], Any]:
        return lambda: done.__setitem__(name, make())

    log = trace.columns()
    return [
        ("kinds decoded", lambda: log.kind),
        ("not_job_rows", lambda: log.not_job_rows),
        ("job_arrays", keep("job_arrays", lambda: columns.job_arrays(trace, fresh.meta))),
        ("window_arrays", keep("window_arrays", lambda: columns.window_arrays(trace))),
        ("calibration_arrays", keep("calibration_arrays",
                                    lambda: columns.calibration_arrays(trace, info.end_s))),
        ("qpu_order + qpu_intervals", lambda: fresh.busy),
        ("gap_arrays", lambda: fresh.gap_arrays),
        ("outage_arrays", lambda: fresh.outage_arrays),
        ("summarize, tables given", lambda: metrics.summarize(fresh)),
    ]


def main() -> None:
    jobs = int(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    qsim.simulate(qsim.parse_scenario(scale.full_feature_dict(1_000), "warm")).summary()
    result = qsim.simulate(qsim.parse_scenario(scale.full_feature_dict(jobs), "parts"),
                           max_jobs=scale.work_limit(jobs))
    n = len(result.job_arrays["status"])
    figures: dict[str, list[tuple[float, float]]] = {}

    def timed(name: str, call: Callable[[], Any]) -> None:
        cpu, faults = _usage()
        call()
        cpu_after, faults_after = _usage()
        figures.setdefault(name, []).append(((cpu_after - cpu) / n * 1e6,
                                             (faults_after - faults) / n))

    for _ in range(repeats):
        result.trace._columns = None  # the whole summary, too, decodes the kinds afresh
        timed("whole summary", RunResult(result.trace, result.info).summary)
        for name, call in _parts(result):
            timed(name, call)
        del call  # the last part holds the fresh result: free it before the next repeat
    print(f"{n:,} jobs, {repeats} repeats; per job, median (range)\n")
    print("| part | CPU µs | page faults |")
    print("|---|---:|---:|")
    for name, values in figures.items():
        cpu_values, fault_values = zip(*values)
        print(f"| {name} | {_spread(cpu_values, 3)} | {_spread(fault_values, 4)} |")


def _spread(values: tuple[float, ...], digits: int) -> str:
    ordered = sorted(values)
    return (f"{ordered[len(ordered) // 2]:.{digits}f} "
            f"({ordered[0]:.{digits}f}-{ordered[-1]:.{digits}f})")


if __name__ == "__main__":
    main()
