"""``qsim trace SCRIPT [ARGS...] --out DIR``: record a Qiskit program, ready to replay.

Registered on :data:`qsim.present.cli.app` when the CLI is imported. The script runs
unmodified under :class:`qsim.qiskit.Recorder` (which needs ``pip install 'qsim[qiskit]'``);
``DIR`` then gets ``trace.json`` (the recording, docs/TRACE.md) and ``scenario.yaml`` (a
scenario replaying it). A script that cannot be found, raises, exits with an error or runs no
primitive job ends with one ``qsim: error:`` line (exit 2), and nothing is written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from qsim.errors import QsimError
from qsim.present.cli import app, error, examples
from qsim.present.files import check_out_dir, write_out_dir

if TYPE_CHECKING:
    from qsim.recording import Recording

__all__ = ["trace"]

INTERRUPTED: Final = 130
TRACE_FILE: Final = "trace.json"
SCENARIO_FILE: Final = "scenario.yaml"


@app.command(
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
    """The command; returns its exit code."""
    try:
        check_out_dir(out)
        try:
            from qsim.qiskit import trace_script
        except ImportError as exc:
            raise QsimError(f"qsim trace needs qiskit, qiskit-ibm-runtime and qiskit-aer "
                            f"(pip install 'qsim[qiskit]'): {exc}") from None
        started = time.perf_counter()
        recording, warnings = trace_script(script, args)
        wall = time.perf_counter() - started
        from qsim.recording import dump_trace, scenario_text

        name = Path(script).stem or "program"
        command = " ".join(["qsim trace", script, *args])
        write_out_dir(out, {
            TRACE_FILE: dump_trace(recording),
            SCENARIO_FILE: scenario_text(recording, name=name, trace_file=TRACE_FILE,
                                         command=command),
        })
    except QsimError as exc:
        return error(f"{exc}; nothing was written")
    except KeyboardInterrupt:
        print("qsim: interrupted: nothing was written", file=sys.stderr)
        return INTERRUPTED
    for warning in warnings:
        print(f"qsim: warning: {warning}", file=sys.stderr)
    print(summary(recording, script, out, wall))
    return 0


def summary(recording: Recording, script: str, out: Path, wall_s: float) -> str:
    """What was recorded, in a few lines, and the commands that replay it."""
    from qsim.units import format_duration as d

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
        *([f"  it mixes modes: qsim run replays each job in the mode it ran in "
           f"({recording.mixed_modes()}); a mode: of another kind puts them all in that one"]
          if recording.mixed_modes() else []),
        f"Wrote {out / TRACE_FILE} and {scenario}. See what each mode would cost:",
        f"  qsim compare {scenario}",
        f"  qsim run {scenario}            # as recorded ({recording.mode} mode)",
    ]
    return "\n".join(lines)


def _classical(recording: Recording) -> str:
    """The program's classical time, its set-up before the first job (imports, transpiling)
    told from the time between jobs, which is what a session's idle time is made of."""
    from qsim.units import format_duration as d

    before, between, after = recording.think_parts()
    text = f"{d(before)} before the first job (set-up), {d(between)} between jobs"
    return text + (f", {d(after)} after the last" if after else "")
