"""The options several commands take, typed once (Typer reads them from the annotations), and
``command``, which records a command for the app (``qsim.present.cli``) to register: no
command module imports the app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import typer

from qsim.input.limits import DEFAULT_MAX_JOBS, MAX_SEED

MODES: Final = ("job", "batch", "session")  # as in qsim.experiments (not imported: it is heavy)

F = TypeVar("F", bound=Callable[..., Any])
#: (name, settings, function) of every command, in the order their modules were imported.
COMMANDS: list[tuple[str, dict[str, Any], Callable[..., Any]]] = []


def command(name: str, **settings: Any) -> Callable[[F], F]:
    """``@command("run", epilog=...)``: the command ``qsim NAME`` (``typer.Typer.command``'s
    settings), registered on the app when ``qsim.present.cli`` is imported."""
    def record(function: F) -> F:
        COMMANDS.append((name, settings, function))
        return function

    return record


def examples(*commands: str) -> str:
    """A command's epilog: its examples, one a line (click keeps a paragraph after \\b as
    written)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {c}" for c in commands)

FileArg = Annotated[str, typer.Argument(
    metavar="FILE", help="Scenario file (YAML). See qsim examples for commented ones.",
    show_default=False)]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", min=0, max=MAX_SEED, metavar="N",
    help="Seed for the random streams [default: the file's `seed`].",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print only the summary as JSON on stdout (the contract in docs/results.md).")]
PlotOpt = Annotated[Path | None, typer.Option(
    "--plot", metavar="FILE.png", help="Also draw the picture into this PNG file.",
    show_default=False)]
PercentilesOpt = Annotated[bool, typer.Option(
    "--percentiles", help="With --replications, also show each figure's spread over the "
                          "runs: the 10th to 90th percentile (compare's picture draws it "
                          "as its whiskers).")]
ReplicationsOpt = Annotated[int, typer.Option(
    "--replications", "-r", min=1,
    metavar="R",
    help="Independent replications (streams spawned from the seed), run on all cores; each "
         "figure becomes a mean with a 95% confidence interval.")]
MaxJobsOpt = Annotated[int, typer.Option(
    "--max-jobs", min=1, metavar="N", show_default=False,
    help="Refuse to start when all the runs together are expected to simulate more than N "
         "jobs (estimated from the scenario's means), and stop a run that passes N "
         f"[default: {DEFAULT_MAX_JOBS:,}].")]
