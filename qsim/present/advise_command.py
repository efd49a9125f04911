"""``qsim advise FILE --workload NAME --deadline D --budget USD``: the choices a user has for
one workload (mode, TTL, ``close``, circuits per job, backend), searched with common random
numbers, ranked, and the cheapest that meets the deadline and the budget often enough."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS, MAX_REPLICATIONS
from qsim.present.compare_command import choice_options, goal_options
from qsim.present.files import check_out_dir, write_out_dir
from qsim.present.options import MODES, FileArg, MaxJobsOpt, SeedOpt, command, examples
from qsim.present.shared import (
    csv_text,
    error,
    inputs_of,
    json_text,
    png_bytes,
)

_DEFAULT_CAP = 256  # qsim.experiments.advise.DEFAULT_MAX_REPLICATIONS (not imported: heavy)


@command("advise", epilog=examples(
    "qsim advise scenarios/vqe.yaml --workload vqe --deadline 1h30m --budget 6000",
    "qsim advise scenarios/vqe.yaml -w vqe --deadline 2h --budget 5000 --confidence 0.95",
    "qsim advise scenarios/circuit-sweep.yaml -w sweep --deadline 4h --budget 2000 --json",
    "qsim advise scenarios/vqe.yaml -w vqe --deadline 1h30m --budget 6000 --out advice",
    "qsim advise scenarios/fleet.yaml -w vqe --deadline 2h --budget 2000 --modes job,session "
    "--backends ibm_hanoi,ibm_cairo"))
def _advise_command(
    file: FileArg,
    workload: Annotated[str | None, typer.Option(
        "--workload", "-w", metavar="NAME",
        help="Workload to advise on [default: the first non-background one].",
        show_default=False)] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", metavar="DURATION",
        help="The workload must be done this long after its start (e.g. 12h).",
        show_default=False)] = None,
    budget: Annotated[str | None, typer.Option(
        "--budget", metavar="USD", help="The workload must cost at most this many US dollars.",
        show_default=False)] = None,
    confidence: Annotated[str | None, typer.Option(
        "--confidence", metavar="C",
        help="The share of replications a recommended choice must meet both in "
             "[default: 0.9].", show_default=False)] = None,
    modes: Annotated[str, typer.Option(
        "--modes", metavar="MODES", help="Comma-separated modes to search.")] = ",".join(MODES),
    backends: Annotated[str | None, typer.Option(
        "--backends", metavar="NAMES",
        help="Comma-separated backends (of the file's backends:) to search [default: all of "
             "them, when it has several].", show_default=False)] = None,
    seed: SeedOpt = None,
    max_replications: Annotated[int, typer.Option(
        "--max-replications", min=1, max=MAX_REPLICATIONS, metavar="N",
        help="The most replications of one choice: the search adds them where choices are "
             "close to each other or to the confidence, up to N.")] = _DEFAULT_CAP,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print only the advice as JSON on stdout (docs/SPEC.md §20).")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Also write advise.json, advise.csv (one row per choice) "
                      "and advise.png into this folder (replaced as a whole, never half "
                      "written).", show_default=False)] = None,
    max_jobs: MaxJobsOpt = DEFAULT_MAX_JOBS,
) -> int:
    """Search the choices you have for one workload (mode, interactive TTL and close, circuits per job, backend) for the cheapest that meets a deadline and a budget with the confidence wanted."""  # noqa: E501
    from qsim.experiments.advise import advise
    from qsim.present import report
    from qsim.present.advise_report import print_advice

    try:
        scenario, name, wanted, places = choice_options(file, workload, modes, backends)
        goal = goal_options(deadline, budget, confidence, needed=True)
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        with report.DelayedProgress("runs", report.console(stderr=True)) as bar:
            advice = advise(scenario, name, deadline=goal[0], budget=goal[1],
                            confidence=goal[2], seed=seed, max_replications=max_replications,
                            progress=bar.update, max_jobs=max_jobs, modes=wanted,
                            backends=places)
        data = advice.to_dict()
        if out is not None:
            import pandas as pd

            from qsim.present.advise_plot import save_advise  # matplotlib: only when drawing

            write_out_dir(out, {"advise.json": json_text(data),
                                "advise.csv": csv_text(pd.DataFrame(advice.rows())),
                                "advise.png": png_bytes(lambda f: save_advise(data, f))})
    except QsimError as exc:
        return error(str(exc))
    if as_json:
        print(json_text(data), end="")
    else:
        print_advice(report.console(), data)
    return 0
