"""The ``qsim`` command line: parse arguments, call the API, render. No simulation logic.

Each command is a small function returning an exit code; :func:`main` only dispatches and
turns every user error (a bad scenario, a bad option, an unwritable ``--out``, standard output
that cannot be written) into one line ``qsim: error: <message>`` on stderr with exit code 2,
and no traceback; Ctrl-C into one line ``qsim: interrupted`` and exit code 130. Every message
is escaped (``qsim.text``): nothing a file names reaches the terminal as a control character.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn
from collections.abc import Iterator, Mapping, Sequence

import typer
import yaml

try:  # typer 0.2x vendors click as typer._click; earlier versions use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException  # type: ignore[no-redef,assignment,unused-ignore]

from qsim.errors import QsimError
from qsim.limits import DEFAULT_MAX_JOBS, MAX_SEED
from qsim.present.files import (OutFolder, check_out_dir, check_plot_path, out_folder,
                                release_out_locks, write_file, write_out_dir)
from qsim.present.window import parse_window
from qsim.scenario import RecordedWorkload, Scenario, dump_resolved, load_scenario
from qsim.text import escape, shown
from qsim.units import format_duration
from qsim.version import __version__

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult

MODES: Final = ("job", "batch", "session")  # as in qsim.experiments (not imported: it is heavy)

USER_ERROR: Final = 2
INTERRUPTED: Final = 130  # the shell's code for a command stopped by Ctrl-C


class _App(typer.Typer):
    """The typer app, entered through :func:`main` so that usage errors read like all others.

    The console script calls ``app()``; typer's own entry would print usage errors in a
    panel and exit with ``sys.exit`` from deep inside click.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        sys.exit(main())


app = _App(
    name="qsim",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: what is written is what shows
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit code.

    It parses and invokes the command itself (click's own ``main`` would turn Ctrl-C into a
    silent exit, and print a blank line first), and writes standard output through a guard
    that turns a failed write (a full disk, a closed pipe) into one error line.
    """
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else list(argv)
    stdout = sys.stdout
    sys.stdout = _Guarded(stdout)  # a stream in all it does
    try:
        code = _invoke(command, args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        _say("qsim: interrupted")
        return INTERRUPTED
    except OutputError as exc:
        _silence(stdout)
        return error(str(exc))
    finally:
        sys.stdout = stdout
        release_out_locks()  # a command that stopped before writing its --out
    return code


def _invoke(command: Any, args: list[str]) -> int:
    try:
        with command.make_context("qsim", args) as ctx:
            code = command.invoke(ctx)
    except typer.Exit as exc:  # --help, --version
        return int(exc.exit_code or 0)
    except ClickException as exc:  # usage errors: unknown option, bad --seed, ...
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `qsim`: show the help
            print(exc.format_message(), end="")
            return USER_ERROR
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        return error(exc.format_message() + hint)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except QsimError as exc:  # a command that let one through (they return error(...))
        return error(str(exc))
    return code if isinstance(code, int) else 0


def warn(scenario: Scenario) -> None:
    """The scenario's warnings (SPEC §12), one ``qsim: warning:`` line each on stderr."""
    for line in scenario.warnings:
        _say(f"qsim: warning: {escape(line)}")


def check_window_in_run(bounds: tuple[float | None, float | None], window: str | None,
                        end_s: float) -> None:
    """QsimError unless ``--window`` shows some of the run (which ends at ``end_s``): a view
    past the end would be an empty picture that says nothing."""
    start, end = bounds
    if start is not None and start >= end_s:
        raise QsimError(f"--window {window}: starts after the run, which ended at "
                        f"{format_duration(end_s)}")
    if end is not None and end <= 0 and start is None:
        raise QsimError(f"--window {window}: ends before the run starts")


def inputs_of(file: str, scenario: Scenario) -> list[str]:
    """What a command on ``file`` reads: the file and the traces its recorded workloads
    replay (an ``--out`` folder must hold none of them)."""
    traces = [w.trace for w in scenario.workloads if isinstance(w, RecordedWorkload)]
    return [file, *traces]


def error(message: str) -> int:
    """Report a user error, the same way for every command; returns the exit code. The
    message is escaped: a name with a newline or an ANSI escape stays on the one line."""
    _say(f"qsim: error: {escape(message)}")
    return USER_ERROR


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone: the exit code says it all
        pass


class OutputError(QsimError):
    """Standard output could not be written (a full disk, a pipe closed by its reader)."""


class _Guarded:
    """``sys.stdout`` while a command runs: every write and flush that fails becomes an
    OutputError; everything else is the stream's own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise OutputError(_cannot_write(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(_cannot_write(exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _cannot_write(exc: OSError) -> str:
    return f"cannot write to standard output: {exc.strerror or exc}"


def _silence(stream: Any) -> None:
    """Point a failed standard output at /dev/null, so that the interpreter's last flush of
    what is still buffered does not fail again (with a traceback) at exit."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _version(value: bool) -> None:
    if value:
        print(f"qsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Simulate IBM Qiskit Runtime execution modes (job, batch, session) and what they cost, before spending QPU time.

    Start with: qsim run scenarios/vqe.yaml; every command has --help.
    """  # noqa: E501 (rich help keeps line breaks, so each paragraph is one line)


# ---------------------------------------------------------------------------------------------
# Options shared by commands


def examples(*commands: str) -> str:
    """A command's epilog: its examples, one a line (click keeps a paragraph after \\b as
    written)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {c}" for c in commands)

FileArg = Annotated[str, typer.Argument(
    metavar="FILE", help="Scenario file (YAML). See scenarios/ for commented examples.",
    show_default=False)]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", min=0, max=MAX_SEED, metavar="N",
    help="Seed for the random streams [default: the file's `seed`].",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print only the summary as JSON on stdout (the contract in the README).")]
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


# ---------------------------------------------------------------------------------------------
# qsim run

@app.command("run", epilog=examples(
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
        summary, result, files = _run_and_tables(scenario, seed, replications, bool(out), drawn,
                                                 max_jobs)
        if drawn and result is not None:  # to draw, and with --out to keep
            check_window_in_run(bounds, window, result.info.end_s)
            if out is None:
                picture = _picture_and_tables(result, bounds)
            else:
                files = {"summary.json": _json_text(summary), **files}
                with out_folder(out) as folder:
                    picture = _picture_and_tables(result, bounds, folder, parquet)
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
                    ) -> tuple[Mapping[str, Any], RunResult | None, dict[str, str | bytes]]:
    """The summary to show, the run to draw (when ``want_run``) and the files for --out."""
    from qsim import experiments  # SimPy and pandas: only once there is something to run
    from qsim.present import report

    if replications == 1:
        with report.DelayedProgress("simulating", report.console(stderr=True),
                                    percent=True) as bar:
            result = experiments.simulate(scenario, seed, max_jobs=max_jobs,
                                          progress=bar.update)
        return result.summary(), result, {}
    with report.DelayedProgress("replications", report.console(stderr=True)) as bar:
        reps = experiments.replicate(scenario, replications, seed=seed, progress=bar.update,
                                     max_jobs=max_jobs)
    # The per-job tables are those of replication 0, the run `qsim run` shows without
    # --replications; every replication's figures go to replications.csv. Workers send back
    # summaries only, so replication 0 is run again here, and only when it is drawn or kept.
    if not (want_files or want_run):
        return reps.to_dict(), None, {}
    result = experiments.simulate(scenario, reps.seed, replication=0, max_jobs=max_jobs)
    files: dict[str, str | bytes] = {}
    if want_files:
        files = {"replications.csv": _csv(reps.table())}
    return reps.to_dict(), result, files


def _show(summary: Mapping[str, Any], as_json: bool, percentiles: bool) -> None:
    if as_json:
        print(_json_text(summary), end="")
        return
    from qsim.present import report

    report.print_summary(report.console(), summary, percentiles)


# ---------------------------------------------------------------------------------------------
# qsim validate

@app.command("validate", epilog=examples(
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
    from qsim.work import check_work

    try:
        scenario = load_scenario(file)
        warn(scenario)
        check_work([scenario], 1, max_jobs)  # run's check, so that ok means run would start
    except QsimError as exc:
        return error(str(exc))
    if show:
        from qsim import plans

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


# ---------------------------------------------------------------------------------------------
# qsim compare

@app.command("compare", epilog=examples(
    "qsim compare scenarios/vqe.yaml",
    "qsim compare scenarios/sampling-sweep.yaml --modes job,batch",
    "qsim compare scenarios/vqe.yaml --replications 20 --json",
    "qsim compare scenarios/vqe.yaml --plot compare.png"))
def _compare_command(
    file: FileArg,
    workload: Annotated[str | None, typer.Option(
        "--workload", "-w", metavar="NAME",
        help="Workload to replay [default: the first non-background one].",
        show_default=False)] = None,
    modes: Annotated[str, typer.Option(
        "--modes", metavar="MODES", help="Comma-separated modes to compare.")] = ",".join(MODES),
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
                         percentiles=percentiles, max_jobs=max_jobs)


def compare_modes(file: str, *, workload: str | None, modes: str, as_json: bool,
                  replications: int, seed: int | None, plot: Path | None = None,
                  out: Path | None = None, percentiles: bool = False,
                  max_jobs: int | None = DEFAULT_MAX_JOBS) -> int:
    from qsim import experiments
    from qsim.present import report

    try:
        scenario = load_scenario(file)
        warn(scenario)
        with _option("--workload", workload):
            name = experiments.resolve_workload(scenario, workload)
        with _option("--modes", modes):
            wanted = list(experiments.check_modes(m.strip() for m in modes.split(",")))
        if plot is not None:
            check_plot_path(plot)
        if out is not None:
            check_out_dir(out, inputs_of(file, scenario))
        with report.DelayedProgress("runs", report.console(stderr=True)) as bar:
            result = experiments.compare(scenario, name, wanted, replications=replications,
                                         seed=seed, progress=bar.update, max_jobs=max_jobs)
        if plot is not None or out is not None:
            from qsim.present import plots  # matplotlib: only when drawing (see run)

            picture = _png(lambda f: plots.save_compare(result, f, spread=percentiles))
        if out is not None:
            write_out_dir(out, {"compare.json": _json_text(result.to_dict()),
                                "compare.csv": _csv(result.table()), "compare.png": picture})
        if plot is not None:
            write_file(plot, picture)
    except QsimError as exc:
        return error(str(exc))
    if as_json:
        print(_json_text(result.to_dict()), end="")
    else:
        report.print_comparison(report.console(), result, percentiles)
    return 0


@contextlib.contextmanager
def _option(option: str, value: str | None) -> Iterator[None]:
    """Errors raised in the block name the option they come from (``--modes job,foo: ...``)."""
    try:
        yield
    except QsimError as exc:
        if value is None:  # not given: the error is the scenario's
            raise
        raise QsimError(f"{option}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Result files

def _json_text(data: object) -> str:
    """Strict JSON (no NaN or Infinity, which JSON does not have): a figure that is not a
    finite number is an error, never a file other programs cannot read."""
    try:
        return json.dumps(data, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise QsimError("a figure of the results is not a finite number (inf or NaN), which "
                        "JSON cannot hold; nothing was written") from None


def _csv(frame: Any) -> str:
    # pandas writes floats with repr precision (they read back exactly); NaN as an empty cell.
    return frame.to_csv(index=False, lineterminator="\n")


def _picture_and_tables(result: RunResult, bounds: tuple[float | None, float | None],
                        folder: OutFolder | None = None, parquet: bool = False) -> bytes:
    """The timeline as PNG bytes; with a ``folder``, the per-run tables are written into it
    meanwhile, on a thread of their own: Arrow writes them without holding the GIL while this
    thread draws (at a million jobs each takes about a second)."""
    from concurrent.futures import ThreadPoolExecutor

    from qsim.present import plots  # matplotlib: half a second to import, only when drawing
    from qsim.present.out_tables import run_files

    def picture() -> bytes:
        # Replications draw replication 0: the run `qsim run` shows without them.
        return _png(lambda f: plots.save_timeline(result, f, *bounds))

    if folder is None:
        return picture()
    write = run_files(result.jobs, result.contexts, parquet)
    with ThreadPoolExecutor(1, thread_name_prefix="qsim-tables") as pool:
        written = pool.submit(write, folder)
        drawn = picture()
        written.result()  # its error, if any, is raised here
    return drawn


def _png(draw: Any) -> bytes:
    """Render a picture into PNG bytes, so it is written like every other file. matplotlib's
    warnings (a glyph a name uses that no font has) are not the user's concern on stderr."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draw(buffer)
    return buffer.getvalue()


# `qsim sweep` and `qsim trace` live in their own modules, which register themselves on the
# app (imported last: they take the options and helpers above).
from qsim.present import sweep_command  # noqa: E402,F401
from qsim.present import trace_command  # noqa: E402,F401
