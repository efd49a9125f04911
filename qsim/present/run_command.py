"""``qsim run FILE``: simulate a scenario, print its report (or JSON), write its files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.present.files import check_out_dir, check_plot_path, out_folder, write_file
from qsim.present.options import (
    FileArg,
    JsonOpt,
    MaxJobsOpt,
    PercentilesOpt,
    PlotOpt,
    ReplicationsOpt,
    SeedOpt,
    command,
    examples,
)
from qsim.present.progress import progress_bar
from qsim.present.shared import (
    check_window_in_run,
    csv_text,
    error,
    inputs_of,
    json_text,
    load_scenario,
    tables_written,
    timeline_png,
    warn,
)
from qsim.present.window import parse_window

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.input.scenario import Scenario

@command("run", epilog=examples(
    "qsim run scenarios/vqe.yaml",
    "qsim run scenarios/vqe.yaml --seed 3 --json > summary.json",
    "qsim run scenarios/vqe.yaml --replications 50 --out results/vqe",
    "qsim run scenarios/vqe.yaml --plot timeline.png --window 12m:22m"))
def _run_command(
    file: FileArg,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR",
        help="Also write summary.json, jobs.csv, contexts.csv and timeline.png into "
                      "this folder (replaced as a whole, never half written).",
        show_default=False)] = None,
    replications: ReplicationsOpt = 1,
    plot: PlotOpt = None,
    window: Annotated[str | None, typer.Option(
        "--window", metavar="START:END", help="Draw only this part of the run in the "
        "timeline, e.g. 12m:22m (either side may be left empty).", show_default=False)] = None,
    percentiles: PercentilesOpt = False,
    max_jobs: MaxJobsOpt = DEFAULT_MAX_JOBS,
    parquet: Annotated[bool, typer.Option(
        "--parquet", help="With --out, also write jobs.parquet and contexts.parquet beside "
                          "the CSVs.")] = False,
) -> int:
    """Simulate a scenario: usage, cost, wall time, queue wait and idle time per workload, and the QPU's utilisation."""  # noqa: E501
    return run(file, seed=seed, as_json=as_json, out=out, replications=replications,
               plot=plot, window=window, percentiles=percentiles, max_jobs=max_jobs,
               parquet=parquet)


def run(file: str, *, seed: int | None, as_json: bool, out: Path | None,
        replications: int, plot: Path | None = None, window: str | None = None,
        percentiles: bool = False, max_jobs: int | None = DEFAULT_MAX_JOBS,
        parquet: bool = False) -> int:
    try:
        scenario = load_scenario(file)
        warn(scenario)
        bounds = parse_window(window)
        if window is not None and plot is None and out is None:
            raise QsimError("--window: it applies to the timeline; add --plot FILE or --out DIR")
        if parquet and out is None:
            raise QsimError("--parquet: it applies to the files of --out; add --out DIR")
        # Check every destination before the run: a bad path should not cost a simulation.
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        if plot is not None:
            check_plot_path(plot)
        drawn = plot is not None or out is not None
        summarize, result, files = _run_and_tables(scenario, seed, replications, bool(out),
                                                   drawn, max_jobs)
        if not drawn or result is None:
            summary = summarize()
        else:  # to draw, and with --out to keep
            check_window_in_run(bounds, window, result.info.end_s)
            if out is None:
                summary = summarize()
                picture = timeline_png(result, bounds)
            else:
                with out_folder(out) as folder:
                    # The tables start first: the summary, then the picture, run beside them.
                    with tables_written(result, folder, parquet):
                        summary = summarize()
                        files = {"summary.json": json_text(summary), **files}
                        picture = timeline_png(result, bounds)
                    for name, data in {**files, "timeline.png": picture}.items():
                        folder.add(name, data)
            if plot is not None:
                write_file(plot, picture)
    except QsimError as exc:
        return error(str(exc))
    _show(summary, as_json, percentiles)
    return 0


def _run_and_tables(scenario: Scenario, seed: int | None, replications: int, want_files: bool,
                    want_run: bool, max_jobs: int | None = DEFAULT_MAX_JOBS
                    ) -> tuple[Callable[[], Mapping[str, Any]], RunResult | None,
                               dict[str, str | bytes]]:
    """What makes the summary to show (called once --out's tables are being written, which
    need only the run), the run to draw (when ``want_run``) and the files for --out."""
    from qsim import experiments  # SimPy and pandas: only once there is something to run

    if replications == 1:
        with progress_bar("simulating", percent=True) as bar:
            result = experiments.simulate(scenario, seed, max_jobs=max_jobs,
                                          progress=bar.update)
        return result.summary, result, {}
    with progress_bar("replications") as bar:
        reps = experiments.replicate(scenario, replications, seed=seed, progress=bar.update,
                                     max_jobs=max_jobs)
    # The per-job tables are those of replication 0, the run `qsim run` shows without
    # --replications; every replication's figures go to replications.csv. Workers send back
    # summaries only, so replication 0 is run again here, and only when it is drawn or kept.
    if not (want_files or want_run):
        return reps.to_dict, None, {}
    result = experiments.simulate(scenario, reps.seed, replication=0, max_jobs=max_jobs)
    files: dict[str, str | bytes] = {}
    if want_files:
        files = {"replications.csv": csv_text(reps.table())}
    return reps.to_dict, result, files


def _show(summary: Mapping[str, Any], as_json: bool, percentiles: bool) -> None:
    if as_json:
        print(json_text(summary), end="")
        return
    from qsim.present import report

    report.print_summary(report.console(), summary, percentiles)
