"""``qsim sweep``: a scenario over a grid of field values, on this machine or a Dask cluster.

Registered on :data:`qsim.present.cli.app` when the CLI is imported. The order of work is
the CLI's: read the scenario, build and validate every point, check the destinations, and
only then start a cluster and run; any user error is one ``qsim: error:`` line (exit 2) and
nothing is written.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.present.files import check_out_dir, check_plot_path, write_file, write_out_dir
from qsim.present.options import (
    FileArg,
    MaxJobsOpt,
    PlotOpt,
    ReplicationsOpt,
    SeedOpt,
    command,
    examples,
)
from qsim.present.shared import (
    csv_text,
    error,
    inputs_of,
    load_scenario,
    png_bytes,
    stopped,
    warn,
)

if TYPE_CHECKING:  # concurrent.futures too: it imports logging, in every start of qsim
    from concurrent.futures import Executor

    import pandas as pd
    from rich.table import Table
    from rich.text import Text

    from qsim.experiments.sweep import Point

__all__ = ["FIGURES", "incomplete_points", "refused_note", "sweep", "sweep_table"]

INTERRUPTED: Final = 130  # the shell's code for a command stopped by Ctrl-C
# (table column, heading, cell kind) of the terminal's table, in reading order
FIGURES: Final = (("usage_s", "usage", "time"), ("cost_usd", "cost", "usd"),
                  ("wall_time_s", "wall time", "time"), ("idle_s", "idle", "time"),
                  ("backend.utilization", "QPU busy", "share"))



def _formats() -> dict[str, Callable[[Any], str]]:
    from qsim.present import report  # rich tables: only when there is something to show

    return {"time": report.duration, "usd": report.money, "share": report.percent}


VaryOpt = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="PATH=V1,V2,...", show_default=False,
    help="A scenario field and its values, written as in the file: workloads by name "
         "(workloads.others.arrivals.mean=50s,25s; a repeated workload by the name in the "
         "file: all its copies), durations with units. Repeat it for a full grid.")]
TogetherOpt = Annotated[list[str] | None, typer.Option(
    "--vary-together", metavar="PATH=V1,V2,...", show_default=False,
    help="Fields varied together, zipped, not crossed: --vary-together "
         "workloads.s.jobs=2000,200,20 workloads.s.quantum.circuits=1,10,100 (or the option "
         "once for each PATH); all lists as long as each other. Crossed with any --vary.")]
# The words after --vary-together's first PATH=... (the form the issue writes): the command
# line's extra arguments, taken as more PATHs of the group.
MoreArg = Annotated[list[str] | None, typer.Argument(hidden=True, show_default=False)]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", show_default=False,
    help="Also write sweep.parquet and sweep.csv (one row per point, replication and "
         "workload) and sweep.png into this folder (replaced as a whole, never half written).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", show_default=False,
    help="Run on a Dask cluster: tcp://HOST:PORT, or 'local' for one on this machine "
         "(needs pip install 'qsim-execution-modes[dask]'). Results are the same as without it.")]


@command("sweep", epilog=examples(
    "qsim sweep scenarios/vqe.yaml --vary workloads.others.arrivals.mean=100s,50s,25s "
    "--vary workloads.vqe.mode=job,session -r 10",
    "qsim sweep scenarios/vqe.yaml --vary backend.lanes=1,2,5 --out results/lanes",
    "qsim sweep scenarios/vqe.yaml --vary workloads.vqe.mode.interactive_ttl=5s,60s,5m "
    "-r 30 --scheduler tcp://scheduler:8786",
    "qsim sweep scenarios/circuit-sweep.yaml --vary-together "
    "workloads.sweep.jobs=2000,200,20 workloads.sweep.quantum.circuits=1,10,100"))
def _sweep_command(
    file: FileArg,
    more: MoreArg = None,
    vary: VaryOpt = None,
    together: TogetherOpt = None,
    replications: ReplicationsOpt = 1,
    seed: SeedOpt = None,
    out: OutOpt = None,
    plot: PlotOpt = None,
    scheduler: SchedulerOpt = None,
    max_jobs: MaxJobsOpt = DEFAULT_MAX_JOBS,
) -> int:
    """Run a scenario at every point of a grid of field values, each point replicated, and show each figure's mean (and 95% interval) per point and workload."""  # noqa: E501
    if more and not together:
        return error(f"unexpected argument {more[0]!r}: one FILE; PATH=V1,V2,... follows "
                     "--vary or --vary-together")
    return sweep(file, vary=vary or [], replications=replications, seed=seed, out=out,
                 plot=plot, scheduler=scheduler, max_jobs=max_jobs,
                 together=[*(together or []), *(more or [])])


def sweep(file: str, *, vary: Sequence[str], replications: int, seed: int | None,
          out: Path | None = None, plot: Path | None = None,
          scheduler: str | None = None, max_jobs: int | None = DEFAULT_MAX_JOBS,
          together: Sequence[str] = ()) -> int:
    """The command; returns its exit code. ``together``: the ``--vary-together`` options,
    one group (SPEC §20)."""
    from qsim.experiments import sweep as sweeps  # SimPy: only once there is a scenario
    from qsim.experiments.replications import check_count

    try:
        scenario = load_scenario(file)
        warn(scenario)  # the file's own; each point's are its values' (their table says)
        check_count(replications)  # all before a cluster starts; the grid's size and work
        group = [_vary(together, "--vary-together")] if together else []
        grid_points = sweeps.points(scenario, _vary(vary), replications=replications,
                                    max_jobs=max_jobs, together=group)  # as built
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        if plot is not None:
            check_plot_path(plot)
        seed = scenario.seed if seed is None else seed
        table = _run(grid_points, replications, seed, scenario.name, scheduler, max_jobs)
        _write(table, out, plot)
    except QsimError as exc:
        return error(str(exc))
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (shared.Terminated)
        word, code = stopped(exc)
        print(f"qsim: {word}: the runs not yet done were cancelled; nothing was written",
              file=sys.stderr)
        return code
    _show(table, out)
    return 0


def _vary(options: Sequence[str], name: str = "--vary") -> dict[str, list[Any]]:
    """The ``--vary`` (or ``--vary-together``) options as {PATH: values}; QsimError for a
    PATH given twice."""
    from qsim.experiments.sweep import parse_vary

    out: dict[str, list[Any]] = {}
    for option in options:
        path, values = parse_vary(option, name)
        if path in out:
            raise QsimError(f"{name} {path}: given twice; list all its values in one {name}")
        out[path] = values
    return out


def _run(grid_points: Sequence[Point], replications: int, seed: int, name: str,
         scheduler: str | None, max_jobs: int | None = DEFAULT_MAX_JOBS) -> pd.DataFrame:
    from qsim.experiments.sweep import run_points
    from qsim.present import report

    with _executor(scheduler) as executor, report.DelayedProgress(
            "runs", report.console(stderr=True)) as bar:
        return run_points(grid_points, replications, seed, name, executor=executor,
                          progress=bar.update, max_jobs=max_jobs)


@contextlib.contextmanager
def _executor(scheduler: str | None) -> Iterator[Executor | None]:
    """None (this machine's process pool) or an executor on the Dask scheduler."""
    if scheduler is None:
        yield None
        return
    from qsim.experiments.executors import dask_executor

    with dask_executor(scheduler) as executor:
        yield executor


def _write(table: pd.DataFrame, out: Path | None, plot: Path | None) -> None:
    if out is None and plot is None:
        return
    from qsim.present import sweep_plots  # matplotlib: only when drawing

    picture = png_bytes(lambda f: sweep_plots.save_sweep(table, f))
    if out is not None:
        write_out_dir(out, {"sweep.parquet": _parquet(table), "sweep.csv": csv_text(table),
                            "sweep.png": picture})
    if plot is not None:
        write_file(plot, picture)


def _parquet(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The terminal


def _show(table: pd.DataFrame, out: Path | None) -> None:
    from qsim.present import report

    console = report.console()
    console.print(sweep_table(table))
    for note in (refused_note(table), incomplete_points(table)):
        if note:
            console.print(note, soft_wrap=True, markup=False)
    if out is not None:
        console.print(f"{len(table)} rows (point × replication × workload) in {out}: "
                      "sweep.parquet, sweep.csv, sweep.png", soft_wrap=True, markup=False)


def sweep_table(table: pd.DataFrame) -> Table:
    """Per point and workload: each figure's mean, and under it ± its 95% interval's
    half-width (two short lines keep nine columns within 100 characters)."""
    from rich import box
    from rich.table import Table

    from qsim.analysis.sweeps import point_estimates
    from qsim.present import report

    vary = list(table.attrs["vary"])
    estimates = point_estimates(table, [*vary, "workload", "mode"],
                                [*(k for k, _, _ in FIGURES), "windows"])
    out = Table(title=report.shown(_title(table, len(estimates)), 200), title_justify="left",
                title_style="bold", box=box.SIMPLE_HEAD,
                caption=_caption(vary, table.attrs.get("together", [])),
                caption_justify="left")
    for heading in _headings(vary):
        out.add_column(report.shown(heading, 30), no_wrap=True)
    out.add_column("workload", no_wrap=True)
    for _, heading, _ in FIGURES:
        out.add_column(heading, justify="right", no_wrap=True)
    out.add_column("complete", justify="right", no_wrap=True)
    from qsim.analysis.sweeps import complete_shares, refused_points

    shares = complete_shares(table, [*vary, "workload", "mode"])
    refused = refused_points(table, [*vary, "workload", "mode"])
    previous: tuple[Any, ...] | None = None
    for row, share, why in zip(estimates.to_dict("records"), shares, refused):
        point = tuple(row[p] for p in vary)
        if previous is not None and point != previous:
            out.add_section()  # a rule between points
        out.add_row(*_cells(row, vary, same_point=point == previous),
                    _complete_cell(share, refused=bool(why)))
        previous = point
    return out


def _complete_cell(share: float, refused: bool = False) -> Text | str:
    """``yes``; ``no`` or the share of runs, in bold: its figures are of less work (a cheaper,
    shorter run because it stopped), not comparable with a complete point's; ``refused``, in
    bold, for a point the service would not run (its figures are "-")."""
    from rich.text import Text

    if refused:
        return Text("refused", style="bold")
    if share >= 1.0:
        return "yes"
    return Text("no" if share <= 0.0 else f"{share:.0%} of runs", style="bold")


def _ran(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the points that ran (all of them when none was refused)."""
    from qsim.analysis.sweeps import REFUSED

    return table if REFUSED not in table else table[table[REFUSED] == ""]


def incomplete_points(table: pd.DataFrame) -> str:
    """One sentence: how many points had a workload that did not finish in some run, or ""
    when every workload finished everywhere (refused points are counted by
    :func:`refused_note`, not here)."""
    vary = list(table.attrs["vary"])
    table = _ran(table)
    fore = table[table["kind"] != "background"]
    by_point = (fore if len(fore) else table).groupby(vary, sort=False, dropna=False)
    done = by_point["complete"].all()
    bad = int((~done).sum())
    if not bad:
        return ""
    return (f"{bad} of {len(done)} point{'s' if len(done) != 1 else ''}: a workload did not "
            f"finish its work (complete: no), in at least one run; their figures are of less "
            f"work and not comparable with the others'.")


def refused_note(table: pd.DataFrame) -> str:
    """One sentence per reason: the points the service would refuse (SPEC §19), which
    ran nothing and have no figure; "" when there are none."""
    from qsim.analysis.sweeps import REFUSED

    if REFUSED not in table:
        return ""
    vary = list(table.attrs["vary"])
    reasons = table.groupby(vary, sort=False, dropna=False)[REFUSED].first()
    total = len(reasons)
    lines = []
    for why in dict.fromkeys(r for r in reasons if r):
        labels = [", ".join(f"{p}={_label(v)}" for p, v in zip(vary, key if isinstance(
            key, tuple) else (key,))) for key, r in reasons.items() if r == why]
        lines.append(f"{len(labels)} of {total} point{'s' if total != 1 else ''} refused, "
                     f"not run ({'; '.join(labels)}): {why}; no figures for "
                     f"{'them' if len(labels) > 1 else 'it'}.")
    return "\n".join(lines)


def _headings(vary: list[str]) -> list[str]:
    """Each PATH without ``workloads.NAME.`` (the caption has it whole), unless two PATHs
    would then read the same."""
    short = [".".join(p.split(".")[2:]) if p.startswith("workloads.") else p for p in vary]
    return short if len(set(short)) == len(short) else vary


def _caption(vary: list[str], together: list[list[str]]) -> str:
    """``varied: A × B``; a group varied together (SPEC §20) as ``(A, B together)``."""
    grouped = {p for group in together for p in group}
    parts = [f"({', '.join(group)} together)" for group in together]
    return "varied: " + " × ".join([*parts, *(p for p in vary if p not in grouped)])


def _title(table: pd.DataFrame, rows: int) -> str:
    n = int(table.attrs.get("replications", 1))
    points = rows // max(1, table["workload"].nunique())
    return (f"{table.attrs.get('scenario', '')}  seed {table.attrs.get('seed')} · "
            f"{points} point{'s' if points != 1 else ''} × {n} "
            f"replication{'s' if n != 1 else ''}" + (" (mean, ± 95% CI)" if n > 1 else ""))


def _cells(row: dict[str, Any], vary: list[str], same_point: bool) -> list[Text | str]:
    """A row of the table; a point's settings only on its first row."""
    from rich.text import Text

    from qsim.present import report

    labels: list[Text | str] = ["" if same_point else report.shown(_label(row[p]))
                                for p in vary]
    workload = Text(report.shown(str(row["workload"]), 24))
    workload.append(f"\n{row['mode']}", style="dim")
    cells: list[Text | str] = [workload]
    for key, _, kind in FIGURES:
        if key == "idle_s" and not row["windows"] > 0:
            cells.append("-")  # no window (job mode): idle time means nothing there
            continue
        cells.append(_cell(row[key], row[f"{key}.low"], row[f"{key}.high"], _formats()[kind]))
    return labels + cells


def _cell(mean: float, low: float, high: float, fmt: Callable[[Any], str]) -> Text:
    """The mean; under it, dim, ± the interval's half-width when it is more than float
    noise. A figure no run had (no job reached the QPU) is "-"."""
    from rich.text import Text

    if math.isnan(mean):
        return Text("-")
    text = Text(fmt(mean))
    half = (high - low) / 2
    if not math.isnan(half) and half > 1e-9 * max(1.0, abs(mean)):
        text.append(f"\n± {fmt(half)}", style="dim")
    return text


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
