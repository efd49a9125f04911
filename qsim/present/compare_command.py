"""``qsim compare FILE``: one workload replayed in each mode (common random numbers), and the
verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.scenario import load_scenario
from qsim.present.files import check_out_dir, check_plot_path, write_file, write_out_dir
from qsim.present.options import (
    MODES,
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
from qsim.present.shared import csv_text, error, inputs_of, json_text, option_value, png_bytes, warn


@command("compare", epilog=examples(
    "qsim compare scenarios/vqe.yaml",
    "qsim compare scenarios/sampling-sweep.yaml --modes job,batch",
    "qsim compare scenarios/vqe.yaml --replications 20 --json",
    "qsim compare scenarios/vqe.yaml --plot compare.png",
    "qsim compare scenarios/fleet.yaml --backends ibm_hanoi,ibm_cusco --modes job,session"))
def _compare_command(
    file: FileArg,
    workload: Annotated[str | None, typer.Option(
        "--workload", "-w", metavar="NAME",
        help="Workload to replay [default: the first non-background one].",
        show_default=False)] = None,
    modes: Annotated[str, typer.Option(
        "--modes", metavar="MODES", help="Comma-separated modes to compare.")] = ",".join(MODES),
    backends: Annotated[str | None, typer.Option(
        "--backends", metavar="NAMES",
        help="Comma-separated backends (of the file's backends:) to run it on, in each mode: "
             "where and how to run it.", show_default=False)] = None,
    as_json: JsonOpt = False,
    replications: ReplicationsOpt = 1,
    seed: SeedOpt = None,
    plot: PlotOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Also write compare.json, compare.csv (one row per mode and "
                      "replication) and compare.png into this folder (replaced as a whole, "
                      "never half written).", show_default=False)] = None,
    percentiles: PercentilesOpt = False,
    max_jobs: MaxJobsOpt = DEFAULT_MAX_JOBS,
) -> int:
    """Replay one workload in job, batch and session mode (same random streams for everything else) and say which is cheapest and fastest among the modes that finish the work."""  # noqa: E501
    return compare_modes(file, workload=workload, modes=modes, as_json=as_json,
                         replications=replications, seed=seed, plot=plot, out=out,
                         percentiles=percentiles, max_jobs=max_jobs, backends=backends)


def compare_modes(file: str, *, workload: str | None, modes: str, as_json: bool,
                  replications: int, seed: int | None, plot: Path | None = None,
                  out: Path | None = None, percentiles: bool = False,
                  max_jobs: int | None = DEFAULT_MAX_JOBS, backends: str | None = None) -> int:
    from qsim import experiments
    from qsim.present import report

    try:
        scenario = load_scenario(file)
        warn(scenario)
        with option_value("--workload", workload):
            name = experiments.resolve_workload(scenario, workload)
        with option_value("--modes", modes):
            wanted = list(experiments.check_modes(m.strip() for m in modes.split(",")))
            experiments.allowed_modes(scenario, wanted)  # none left: an error naming --modes
        places = None
        if backends is not None:
            with option_value("--backends", backends):
                places = experiments.check_backends(
                    scenario, (b.strip() for b in backends.split(",")))
        if plot is not None:
            check_plot_path(plot)
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        with report.DelayedProgress("runs", report.console(stderr=True)) as bar:
            result = experiments.compare(scenario, name, wanted, replications=replications,
                                         seed=seed, progress=bar.update, max_jobs=max_jobs,
                                         backends=places)
        if plot is not None or out is not None:
            from qsim.present import plots  # matplotlib: only when drawing (see run)

            picture = png_bytes(lambda f: plots.save_compare(result, f, spread=percentiles))
        if out is not None:
            write_out_dir(out, {"compare.json": json_text(result.to_dict()),
                                "compare.csv": csv_text(result.table()), "compare.png": picture})
        if plot is not None:
            write_file(plot, picture)
    except QsimError as exc:
        return error(str(exc))
    if as_json:
        print(json_text(result.to_dict()), end="")
    else:
        report.print_comparison(report.console(), result, percentiles)
    return 0
