"""``qsim fit SERIES --out DIR``: a backend's background and pauses from its ``pending_jobs``
series (SPEC §21).

Registered on :data:`qsim.present.cli.app` when the CLI is imported. ``DIR`` gets
``scenario.yaml``, ``fit.json`` and ``fit.png``, whole or not at all; progress goes to stderr,
the side-by-side table to stdout. Bad input: one ``qsim: error:`` line, exit 2, nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Final

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import MAX_SEED
from qsim.present.files import check_out_dir, write_out_dir
from qsim.present.options import command, examples
from qsim.present.shared import error

__all__ = ["fit_command"]

INTERRUPTED: Final = 130


@command("fit", epilog=examples(
    "qsim fit ibm_cusco.csv.gz --out fitted/cusco",
    "qsim fit pending.csv --out fitted/mine --seed 3",
    "qsim fit pending.csv --jobs my_jobs.csv --out fitted/mine",
    "qsim fit --jobs my_jobs.csv --out fitted/waits"))
def _fit_command(
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Write scenario.yaml, fit.json and fit.png into this "
        "folder (replaced as a whole, never half written).", show_default=False)],
    seed: Annotated[int, typer.Option(
        "--seed", min=0, max=MAX_SEED, metavar="N",
        help="Seed of the search's simulations and of the scenario.")] = 0,
    replications: Annotated[int | None, typer.Option(
        "--replications", "-r", min=1, max=20, metavar="R",
        help="Simulated replications per candidate of the search [default: as many as 600,000 "
             "simulated jobs allow, 2 to 8].", show_default=False)] = None,
    jobs: Annotated[str | None, typer.Option(
        "--jobs", metavar="JOBS.csv", help="Your past jobs on that backend: a CSV with created, "
        "running, finished (ISO 8601) and optionally quantum_seconds, what job.metrics() "
        "returns. Their waits (running - created) go beside the model's; alone, a background "
        "is fitted to them.", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=1024, metavar="N",
        help="Processes to run the search's simulations in [default: all cores, 1 for a small "
             "series]. The fit is the same byte for byte on any number.",
        show_default=False)] = None,
    series: Annotated[str | None, typer.Argument(
        metavar="SERIES", help="CSV (or .csv.gz) with timestamp (ISO 8601) and pending_jobs, "
        "optionally status_msg (anything but `active` is a pause): backend.status() sampled "
        "over time.", show_default=False)] = None,
) -> int:
    """Fit a backend's background (rate, bursts, daily profile, regimes, service time) and pauses to its pending_jobs series, or to your own jobs' waits (--jobs), and write a runnable scenario of it."""  # noqa: E501
    return fit_command(series, out=out, seed=seed, replications=replications, jobs=jobs,
                       workers=workers)


def fit_command(series: str | None, *, out: Path, seed: int = 0,
                replications: int | None = None, jobs: str | None = None,
                workers: int | None = None) -> int:
    """The command; returns its exit code."""
    try:
        if series is None and jobs is None:
            raise QsimError("qsim fit: give a SERIES, --jobs JOBS.csv, or both")
        check_out_dir(out, [f for f in (series, jobs) if f is not None])
        from qsim.experiments.fitting import FitResult, JobsFitResult, fit, stderr_progress
        from qsim.present.fit_files import fit_json, picture, scenario_text, table

        result: FitResult | JobsFitResult
        if series is not None:
            result = fit(series, jobs=jobs, seed=seed, replications=replications,
                         progress=stderr_progress, workers=workers)
        else:
            assert jobs is not None  # (refused above)
            result = fit(jobs=jobs, seed=seed, replications=replications,
                         progress=stderr_progress)
        command = " ".join(["qsim fit", *([series] if series else []),
                            *(["--jobs", jobs] if jobs else []), f"--out {out} --seed {seed}"])
        files: dict[str, str | bytes]
        if isinstance(result, FitResult):
            files = {"scenario.yaml": scenario_text(result, command),
                     "fit.json": fit_json(result), "fit.png": picture(result)}
            shown = table(result)
        else:  # ---- --jobs alone (fit_jobs_files.py) ----
            from qsim.present.fit_jobs_files import (
                jobs_fit_json,
                jobs_picture,
                jobs_scenario_text,
                jobs_table,
            )
            files = {"scenario.yaml": jobs_scenario_text(result, command),
                     "fit.json": jobs_fit_json(result), "fit.png": jobs_picture(result)}
            shown = jobs_table(result)
        write_out_dir(out, files)
    except QsimError as exc:
        return error(f"{exc}; nothing was written")
    except KeyboardInterrupt:
        print("qsim: interrupted: nothing was written", file=sys.stderr)
        return INTERRUPTED
    print(shown)
    print(f"Wrote {out / 'scenario.yaml'}, {out / 'fit.json'} and {out / 'fit.png'}.")
    return 0
