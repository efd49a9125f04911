"""``qsim compare FILE``: one workload replayed in each mode (common random numbers), and the
verdict."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.units import parse_duration
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
from qsim.present.shared import (
    csv_text,
    error,
    inputs_of,
    json_text,
    load_scenario,
    option_value,
    png_bytes,
    warn,
)

if TYPE_CHECKING:
    from qsim.input.scenario import Scenario


@command("compare", epilog=examples(
    "qsim compare scenarios/vqe.yaml",
    "qsim compare scenarios/sampling-sweep.yaml --modes job,batch",
    "qsim compare scenarios/vqe.yaml --replications 20 --json",
    "qsim compare scenarios/vqe.yaml --plot compare.png",
    "qsim compare scenarios/vqe.yaml --replications 20 --deadline 2h --budget 500",
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
    deadline: Annotated[str | None, typer.Option(
        "--deadline", metavar="DURATION",
        help="The workload must be done this long after its start (e.g. 12h): each mode's "
             "chance of it, and the recommended mode.", show_default=False)] = None,
    budget: Annotated[str | None, typer.Option(
        "--budget", metavar="USD",
        help="The workload must cost at most this many US dollars: each mode's chance of it, "
             "and the recommended mode.", show_default=False)] = None,
    confidence: Annotated[str | None, typer.Option(
        "--confidence", metavar="C",
        help="With --deadline/--budget: the share of replications a recommended mode must "
             "meet them in [default: 0.9].", show_default=False)] = None,
) -> int:
    """Replay one workload in job, batch and session mode (same random streams for everything else) and say which is cheapest and fastest among the modes that finish the work."""  # noqa: E501
    return compare_modes(file, workload=workload, modes=modes, as_json=as_json,
                         replications=replications, seed=seed, plot=plot, out=out,
                         percentiles=percentiles, max_jobs=max_jobs, backends=backends,
                         deadline=deadline, budget=budget, confidence=confidence)


def compare_modes(file: str, *, workload: str | None, modes: str, as_json: bool,
                  replications: int, seed: int | None, plot: Path | None = None,
                  out: Path | None = None, percentiles: bool = False,
                  max_jobs: int | None = DEFAULT_MAX_JOBS, backends: str | None = None,
                  deadline: str | None = None, budget: str | None = None,
                  confidence: str | None = None) -> int:
    from qsim import experiments
    from qsim.present import report

    try:
        scenario, name, wanted, places = choice_options(file, workload, modes, backends)
        goal = goal_options(deadline, budget, confidence)
        if plot is not None:
            check_plot_path(plot)
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        with report.DelayedProgress("runs", report.console(stderr=True)) as bar:
            result = experiments.compare(scenario, name, wanted, replications=replications,
                                         seed=seed, progress=bar.update, max_jobs=max_jobs,
                                         backends=places, deadline=goal[0],
                                         budget=goal[1], confidence=goal[2])
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


def choice_options(file: str, workload: str | None, modes: str, backends: str | None
                   ) -> tuple[Scenario, str, list[str], tuple[str, ...] | None]:
    """The scenario in ``file`` (its warnings printed), the workload ``--workload`` names,
    the modes ``--modes`` lists that its plan allows, and the backends ``--backends`` lists
    (None: the command's default); QsimError naming the option and its value. Shared by
    ``compare`` and ``advise``."""
    from qsim import experiments

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
    return scenario, name, wanted, places


def goal_options(deadline: str | None, budget: str | None, confidence: str | None,
                 needed: bool = False) -> tuple[float | None, float | None, float | None]:
    """``--deadline``, ``--budget`` and ``--confidence`` checked before any run (all None when
    none is given and the command can do without: no decision); QsimError naming the option
    and its value. ``needed`` (``qsim advise``): a deadline or a budget must be given."""
    from qsim.experiments.decision import check_goal

    if deadline is None and budget is None and confidence is None and not needed:
        return None, None, None
    if deadline is None and budget is None and needed:
        raise QsimError("give --deadline, --budget or both: the choice must meet them")
    seconds = None
    if deadline is not None:
        try:
            seconds = parse_duration(deadline)
        except ValueError as exc:
            raise QsimError(f"--deadline {deadline!r}: {exc}") from None
    usd = None if budget is None else _number("--budget", budget, "a number of US dollars")
    c = None if confidence is None else _number("--confidence", confidence,
                                                "a number strictly between 0 and 1")
    goal = check_goal(seconds, usd, c, prefix="--")
    return goal.deadline_s, goal.budget_usd, goal.confidence


def _number(option: str, text: str, expected: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise QsimError(f"{option} {text!r}: expected {expected}") from None
