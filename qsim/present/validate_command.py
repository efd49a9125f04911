"""``qsim validate FILE``: check a scenario without running it; ``--show`` prints it resolved."""

from __future__ import annotations

from typing import Annotated

import typer

from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.text import escape, shown
from qsim.present.options import FileArg, MaxJobsOpt, command, examples
from qsim.present.shared import error, load_scenario, warn
from qsim.version import __version__


@command("validate", epilog=examples(
    "qsim validate scenarios/vqe.yaml",
    "qsim validate scenarios/vqe.yaml --show"))
def _validate_command(
    file: FileArg,
    show: Annotated[bool, typer.Option(
        "--show", help="Print the resolved scenario: every default filled in, durations in "
                       "seconds.")] = False,
    max_jobs: MaxJobsOpt = DEFAULT_MAX_JOBS,
) -> int:
    """Check a scenario file without running it: what `qsim run` checks before it starts."""
    return validate(file, show=show, max_jobs=max_jobs)


def validate(file: str, *, show: bool, max_jobs: int | None = DEFAULT_MAX_JOBS) -> int:
    from qsim.input.work import check_work

    try:
        scenario = load_scenario(file)
        warn(scenario)
        check_work([scenario], 1, max_jobs)  # run's check, so that ok means run would start
    except QsimError as exc:
        return error(str(exc))
    if show:
        import yaml

        from qsim.input import plans
        from qsim.input.scenario import dump_resolved

        print(f"# {escape(file)} resolved by qsim {__version__}: every default filled in, "
              "durations in seconds")
        for note in plans.notes(scenario):  # what qsim derived (SPEC §12)
            print(f"# {escape(note)}")
        print(yaml.safe_dump(dump_resolved(scenario), sort_keys=False,
                             default_flow_style=None, width=100), end="")
    else:
        parts = ", ".join(f"{shown(w.name)} ({w.kind}, {w.mode.kind})"
                          for w in scenario.workloads)
        print(f"{escape(file)}: ok: scenario {shown(repr(scenario.name), 80)} with "
              f"{len(scenario.workloads)} workload{'s' if len(scenario.workloads) != 1 else ''}"
              f": {parts}")
    return 0
