"""How long does ``qsim`` take to start? Run by hand: ``python benchmarks/startup.py``.

Each command (``qsim --help``, ``qsim validate scenarios/vqe.yaml``, ``qsim examples``, ...,
and a short ``qsim run``, the work most commands are made of)
runs ``--repeats`` times in a fresh interpreter, as a user types it; for each it prints the
CPU seconds the process used (user + system, from ``os.wait4``: CPU, not wall, so that other
work on a shared machine does not count) as the median and the range over the repeats, the
median wall seconds, and the heavy libraries the command imported. The first line is the bare
interpreter (``python -c pass``), the floor every command pays. The goal (issue 32) is under
0.15 s of CPU for ``--help``, ``validate`` and ``examples``.

Before timing, qsim's modules are compiled to bytecode, as ``pip install`` leaves them (an
editable install under PYTHONDONTWRITEBYTECODE=1, as on this machine, would otherwise compile
all of qsim's source on every start). Where the time goes: ``python -X importtime -m qsim
--help 2> imports.txt``.

``--instructions`` counts instead the CPU instructions of one run of each command under
valgrind's callgrind (hash seed and address layout fixed): the same on every run of the same
code, however busy the machine, so a change of a few percent shows where seconds are noise.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
GOAL_S: Final = 0.15
HEAVY: Final = ("numpy", "pandas", "matplotlib", "pydantic", "yaml", "rich", "simpy", "scipy")
#: (label, arguments of ``qsim``); None: the bare interpreter.
COMMANDS: Final[tuple[tuple[str, list[str] | None], ...]] = (
    ("python -c pass", None),
    ("qsim --version", ["--version"]),
    ("qsim --help", ["--help"]),
    ("qsim run --help", ["run", "--help"]),
    ("qsim validate scenarios/vqe.yaml", ["validate", "scenarios/vqe.yaml"]),
    ("qsim validate scenarios/vqe.yaml --show", ["validate", "scenarios/vqe.yaml", "--show"]),
    ("qsim examples", ["examples"]),
    ("qsim run scenarios/vqe.yaml --json", ["run", "scenarios/vqe.yaml", "--json"]),
)
GOALS: Final = ("qsim --help", "qsim validate scenarios/vqe.yaml", "qsim examples")

# Runs the command line as the ``qsim`` console script and ``python -m qsim`` do
# (``qsim.present.cli``'s ``app``, which gives the command's process its own settings), then
# lists the heavy libraries it imported on stderr's last line (stdout stays the command's).
_WRAPPER: Final = """
import atexit, sys
atexit.register(lambda: print(" ".join(m for m in {heavy!r} if m in sys.modules),
                              file=sys.stderr))
from qsim.present.cli import app
app()
"""


def cpu_of(args: list[str] | None) -> tuple[float, float, str]:
    """One run: CPU seconds (user + system) from ``os.wait4``, wall seconds, the heavy
    libraries it loaded."""
    code = "pass" if args is None else _WRAPPER.format(heavy=HEAVY)
    read, write = os.pipe()
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *(args or [])], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=write)
    os.close(write)
    with os.fdopen(read) as pipe:
        err = pipe.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if child.returncode:
        raise SystemExit(f"qsim {' '.join(args or [])} failed ({child.returncode}):\n{err}")
    lines = err.strip().splitlines()
    loaded = lines[-1] if lines and args is not None else ""
    return usage.ru_utime + usage.ru_stime, wall, loaded


def instructions_of(args: list[str] | None) -> int:
    """CPU instructions of one run, counted by callgrind."""
    code = "pass" if args is None else _WRAPPER.format(heavy=HEAVY)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-c", code, *(args or [])]
    if shutil.which("setarch"):
        cmd = ["setarch", "-R", *cmd]  # the same address layout every run
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"},
                          capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"qsim {' '.join(args or [])} failed under valgrind:\n{done.stderr}")
    return int(found.group(1))


def print_instructions() -> None:
    print(f"CPU instructions per start (callgrind, one run each); Python "
          f"{sys.version.split()[0]}\n")
    print("| command | instructions (millions) |")
    print("|---|---:|")
    for label, command in COMMANDS:
        print(f"| {label} | {instructions_of(command) / 1e6:.0f} |", flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=11, help="runs of each command")
    parser.add_argument("--instructions", action="store_true",
                        help="count CPU instructions under valgrind instead of timing")
    args = parser.parse_args()

    import qsim

    compileall.compile_dir(os.path.dirname(os.path.abspath(qsim.__file__)), quiet=1)
    if args.instructions:
        print_instructions()
        return
    for _label, command in COMMANDS:  # a first run of each warms the file cache
        cpu_of(command)
    results: dict[str, tuple[list[float], list[float], str]] = {
        label: ([], [], "") for label, _ in COMMANDS}
    for _ in range(args.repeats):  # in rounds: a busy spell spreads over every command
        for label, command in COMMANDS:
            cpu, wall, loaded = cpu_of(command)
            results[label][0].append(cpu)
            results[label][1].append(wall)
            results[label] = (results[label][0], results[label][1], loaded)

    print(f"CPU seconds (user + system) per start, median and range of {args.repeats} runs; "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| command | CPU s | range | wall s | heavy libraries imported |")
    print("|---|---:|---:|---:|---|")
    for label, (cpus, walls, loaded) in results.items():
        print(f"| {label} | {median(cpus):.3f} | {min(cpus):.3f}-{max(cpus):.3f} | "
              f"{median(walls):.3f} | {loaded or '-'} |")
    print()
    for label in GOALS:
        cpu = median(results[label][0])
        verdict = "meets" if cpu < GOAL_S else "misses"
        print(f"{label}: {cpu:.3f} s of CPU ({verdict} the goal of < {GOAL_S} s)")


if __name__ == "__main__":
    main()
