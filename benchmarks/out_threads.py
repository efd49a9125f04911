"""Where ``qsim run FILE --out DIR`` spends its time, thread by thread (issue 32, goal 3):
the steps of the run, of the tables' thread and of the timeline, each with its start and
end (wall seconds from the process's start) and the CPU seconds of the thread that ran it.

The functions are wrapped as their modules are imported, so imports stay where the command
makes them and are timed too. A step whose wall time is well above its CPU time waited: for
the GIL, or, on a loaded machine, for a core. Usage:
``PYTHONPATH=TREE python benchmarks/out_threads.py FILE [DIR]`` (DIR is replaced; default a
temporary folder), e.g. on ``scale.full_feature_dict(1000000)`` written to a YAML file.
The last line sums up what came after the simulation: wall seconds, CPU seconds of all threads
and of the main thread (this script, run with another tree first on the path, times that
tree: a function it does not have is not wrapped). ``--as-command`` (then DIR is needed)
runs the console script's way instead, text report and exit included, and prints only that
line, at the exit.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
STEPS: list[tuple[str, str, float, float, float]] = []
RUN_DONE: list[tuple[float, float, float]] = []  # when simulate returned: wall, process, thread

WRAPPED: dict[str, list[str]] = {  # module: functions ("Class.method" for a method)
    "qsim.experiments": ["simulate"],
    "qsim.analysis.result": ["RunResult.summary"],
    "qsim.present.shared": ["picture_and_tables", "timeline_png", "png_bytes"],
    "qsim.present.out_tables": ["job_arrow", "_arrow", "_write_csv"],
    "qsim.present.files": ["_sha256", "OutFolder.add", "_move_into_place"],
    "qsim.analysis.tables": ["jobs_frame", "contexts_frame", "intervals_frame"],
    "qsim.present.plots": ["save_timeline", "timeline_from_tables", "_save", "_queue_panel"],
    "qsim.present.plot_timeline": ["assign_lanes", "draw_occupancy", "draw_windows"],
}
IMPORTS = {"pandas", "pyarrow", "matplotlib", "qsim.present.plots", "qsim.experiments"}


def record(step: str, wall0: float, cpu0: float) -> None:
    STEPS.append((threading.current_thread().name, step, wall0 - T0,
                  time.perf_counter() - wall0, time.thread_time() - cpu0))
    if step == "simulate":
        RUN_DONE.append((time.perf_counter(), time.process_time(), time.thread_time()))


def wrap(owner: Any, name: str) -> None:
    function = getattr(owner, name, None)
    if function is None:  # not in this tree
        return

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            record(name, wall0, cpu0)

    setattr(owner, name, timed)


class Hook(importlib.abc.MetaPathFinder):
    """Times the modules of IMPORTS and wraps the functions of WRAPPED once loaded."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in WRAPPED and name not in IMPORTS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            wall0, cpu0 = time.perf_counter(), time.thread_time()
            load(module)
            record(f"import {name}", wall0, cpu0)
            for item in WRAPPED.get(name, []):
                owner, _, function = item.rpartition(".")
                wrap(getattr(module, owner) if owner else module, function)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> None:
    sys.meta_path.insert(0, Hook())
    if "--as-command" in sys.argv:
        sys.argv.remove("--as-command")
        return as_command()
    from qsim.present import run_command

    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "out"
    wall0, cpu0 = time.perf_counter(), time.process_time()
    run_command.run(sys.argv[1], seed=None, as_json=True, out=out, replications=1)
    STEPS.append(("process", "run (all threads' CPU)", wall0 - T0,
                  time.perf_counter() - wall0, time.process_time() - cpu0))
    for thread, step, start, wall, cpu in sorted(STEPS, key=lambda s: s[2]):
        print(f"{thread[:14]:14s} {step:30s} {start:6.2f} -> {start + wall:6.2f} s: "
              f"wall {wall:5.2f} s, CPU {cpu:5.2f} s", file=sys.stderr)
    after_the_simulation("")


def after_the_simulation(where: str) -> None:
    """What --out adds to the run, in the command's own order (the summary included: --json
    computes it too, about 0.3-0.4 s of it): all of it, and the main thread's share."""
    wall1, cpu1, main1 = RUN_DONE[-1]
    print(f"after the simulation{where}: wall {time.perf_counter() - wall1:.2f} s, CPU "
          f"{time.process_time() - cpu1:.2f} s (all threads), {time.thread_time() - main1:.2f} s "
          "(main thread)", file=sys.stderr)


def as_command() -> None:
    """``qsim run FILE --out DIR`` as the console script runs it (its process settings, the
    text report, the collector frozen at the end), summed up when the interpreter exits."""
    import atexit

    from qsim.present.cli import app

    atexit.register(after_the_simulation, " (to the exit)")
    sys.argv = ["qsim", "run", sys.argv[1], "--out", sys.argv[2]]
    app()


if __name__ == "__main__":
    main()
