"""``qsim trace SCRIPT [ARGS...] --out DIR``: record a Qiskit program, ready to replay.

Registered on :data:`qsim.present.cli.app` when the CLI is imported. The script runs
unmodified under :class:`qsim.qiskit.Recorder` (which needs
``pip install 'qsim-execution-modes[qiskit]'``);
``DIR`` then gets ``trace.json`` (the recording, docs/TRACE.md) and ``scenario.yaml`` (a
scenario replaying it). A script that cannot be found, raises, exits with an error or runs no
primitive job ends with one ``qsim: error:`` line (exit 2), and nothing is written.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from qsim.input.errors import QsimError
from qsim.input.text import escape
from qsim.present.files import check_out_dir, write_out_dir
from qsim.present.options import command, examples
from qsim.present.shared import error

if TYPE_CHECKING:
    from qsim.records.trace_file import Recording

__all__ = ["trace"]

INTERRUPTED: Final = 130
TRACE_FILE: Final = "trace.json"
SCENARIO_FILE: Final = "scenario.yaml"


@command(
    "trace",
    context_settings={"ignore_unknown_options": True},
    epilog=examples(
        "qsim trace examples/vqe_local.py --out my-vqe",
        "qsim trace my_program.py --shots 2000 --out runs/p1   # the script's own options",
        "qsim trace --out my-vqe my_program.py -- --out x      # after --: the script's"),
)
def _trace_command(
    script: Annotated[str, typer.Argument(
        metavar="SCRIPT", help="A Python script using qiskit-ibm-runtime primitives (local "
        "testing mode: a fake backend or Aer), run as `python SCRIPT ARGS...` would.",
        show_default=False)],
    args: Annotated[list[str] | None, typer.Argument(
        metavar="ARGS", help="The script's own arguments (after --, even those that look "
        "like qsim's options).", show_default=False)] = None,
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Write trace.json and scenario.yaml into this folder "
        "(replaced as a whole, never half written).", show_default=False)] = Path("trace"),
) -> int:
    """Record a Qiskit program (its jobs, batches, sessions and think times, and each job's quantum time by the published estimate) and write a scenario that replays it in qsim."""  # noqa: E501
    return trace(script, list(args or ()), out=out)


def trace(script: str, args: list[str], *, out: Path) -> int:
    """The command; returns its exit code (or ends the process, when the script left
    threads running that would keep it alive: see :func:`_leave_lingering_threads`)."""
    before = set(threading.enumerate())
    code = _trace(script, args, out=out)
    _leave_lingering_threads(script, before, code)
    return code


def _trace(script: str, args: list[str], *, out: Path) -> int:
    from qsim.present.shared import stopped

    try:
        check_out_dir(out)
        try:
            from qsim.qiskit import import_runtime, trace_script
            import_runtime()  # trace_script's own import, here inside the guard
        except ImportError as exc:
            raise QsimError(f"qsim trace needs qiskit, qiskit-ibm-runtime and qiskit-aer "
                            f"(pip install 'qsim-execution-modes[qiskit]'): {exc}") from None
        started = time.perf_counter()
        try:
            recording, warnings = trace_script(script, args)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: what was recorded, if anything
            return _partial(exc, script, args, out, stopped)
        wall = time.perf_counter() - started
        _write(recording, script, args, out)
    except QsimError as exc:
        return error(f"{exc}; nothing was written")
    except KeyboardInterrupt as exc:
        word, code = stopped(exc)
        print(f"qsim: {word}: nothing was written", file=sys.stderr)
        return code
    for warning in warnings:
        print(f"qsim: warning: {warning}", file=sys.stderr)
    print(summary(recording, script, out, wall))
    return 0


def _write(recording: Recording, script: str, args: list[str], out: Path) -> None:
    from qsim.records.trace_file import dump_trace, scenario_text

    name = Path(script).stem or "program"
    command = " ".join(["qsim trace", script, *args])
    write_out_dir(out, {
        TRACE_FILE: dump_trace(recording),
        SCENARIO_FILE: scenario_text(recording, name=name, trace_file=TRACE_FILE,
                                     command=command),
    })


def _partial(exc: KeyboardInterrupt, script: str, args: list[str], out: Path,
             stopped: Callable[[KeyboardInterrupt], tuple[str, int]]) -> int:
    """A script stopped by Ctrl-C or SIGTERM: its jobs so far are written, marked partial
    (a long program can be recorded in part); with none, nothing is."""
    from qsim.qiskit import PartialRecording

    if not isinstance(exc, PartialRecording):
        raise exc
    word, code = stopped(exc.cause)
    _write(exc.recording, script, args, out)
    jobs = len(exc.recording.jobs)
    print(f"qsim: {word}: wrote the {jobs} job{'s' if jobs != 1 else ''} recorded so far to "
          f"{out}, marked partial", file=sys.stderr)
    return code


def _leave_lingering_threads(script: str, before: set[threading.Thread], code: int) -> None:
    """End the process now, with ``code``, if the script left threads running that Python
    would wait for at exit (qsim would hang after its last line); say so first. A thread
    pool's idle workers are not among them: Python stops those at exit."""
    from concurrent.futures import thread as pool_threads

    pooled = set(getattr(pool_threads, "_threads_queues", {}))
    lingering = [t for t in threading.enumerate() if t not in before and t.is_alive()
                 and not t.daemon and t not in pooled]
    if not lingering:
        return
    names = ", ".join(escape(t.name) for t in lingering[:3])
    count = f"{len(lingering)} thread{'s' if len(lingering) != 1 else ''}"
    print(f"qsim: warning: {escape(script)} left {count} running ({names}); qsim does not "
          "wait for them", file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def summary(recording: Recording, script: str, out: Path, wall_s: float) -> str:
    """What was recorded, in a few lines, and the commands that replay it."""
    from qsim.input.units import format_duration as d

    jobs = recording.jobs
    primitives = ", ".join(sorted({j.primitive for j in jobs}))
    contexts = recording.contexts
    held = ", ".join(f"{sum(c.kind == k for c in contexts)} {k}"
                     f"{'es' if k == 'batch' else 's'}" if sum(c.kind == k for c in contexts) > 1
                     else f"1 {k}" for k in ("batch", "session")
                     if any(c.kind == k for c in contexts))
    modes = " and ".join(recording.modes or ())
    quantum = recording.quantum_s()
    scenario = out / SCENARIO_FILE
    lines = [
        f"Recorded {script}: {len(jobs)} job{'s' if len(jobs) != 1 else ''} ({primitives}) in "
        f"{modes} mode" + (f" ({held})" if held else "") + ".",
        f"  estimated quantum time {d(quantum)} ({d(quantum / len(jobs))} a job on average, "
        f"on {recording.backend.name or 'the backend'})",
        f"  classical time {_classical(recording)}",
        f"  the script ran {d(wall_s)} here",
        _circuits(recording),
        *([f"  it mixes modes: qsim run replays each job in the mode it ran in "
           f"({recording.mixed_modes()}); a mode: of another kind puts them all in that one"]
          if recording.mixed_modes() else []),
        f"Wrote {out / TRACE_FILE} and {scenario}. See what each mode would cost:",
        f"  qsim compare {scenario}",
        f"  qsim run {scenario}            # as recorded ({recording.mode} mode)",
    ]
    return "\n".join(lines)


def _circuits(recording: Recording) -> str:
    """The circuits a job ran and their shots (each job's in trace.json): what a charge per
    circuit (``per_circuit_overhead``, SPEC §19) would count."""
    fewest, most, total = recording.circuit_counts()
    low, high = recording.shots_range()
    count = f"{fewest:,}" if fewest == most else f"{fewest:,} to {most:,}"
    shots = f"{low:,}" if low == high else f"{low:,} to {high:,}"
    return (f"  circuits a job: {count} ({total:,} in all), of {shots} shots each: set "
            "per_circuit_overhead: D on the workload to charge D a circuit")


def _classical(recording: Recording) -> str:
    """The program's classical time, its set-up before the first job (imports, transpiling)
    told from the time between jobs, which is what a session's idle time is made of."""
    from qsim.input.units import format_duration as d

    before, between, after = recording.think_parts()
    text = f"{d(before)} before the first job (set-up), {d(between)} between jobs"
    return text + (f", {d(after)} after the last" if after else "")
