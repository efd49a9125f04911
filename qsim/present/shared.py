"""What every command shares: one way to report an error or a warning, the exit codes, the
guard on standard output, and the result files' encodings (strict JSON, CSV, PNG)."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from qsim.input.errors import QsimError
from qsim.input.text import escape
from qsim.input.units import format_duration

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.input.scenario import Scenario
    from qsim.present.files import OutFolder

USER_ERROR: Final = 2
INTERRUPTED: Final = 130  # the shell's code for a command stopped by Ctrl-C
TERMINATED: Final = 143  # and by SIGTERM (128 + 15)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it stops a command the same clean way
    (pool workers terminated, nothing half-written); the exit code is then 143."""


def stopped(exc: KeyboardInterrupt) -> tuple[str, int]:
    """What stopped a command (``interrupted`` or ``terminated``) and its exit code."""
    return ("terminated", TERMINATED) if isinstance(exc, Terminated) else (
        "interrupted", INTERRUPTED)


def load_scenario(file: str) -> Scenario:
    """The scenario in ``file`` (:func:`qsim.input.scenario.load_scenario`). The scenario
    models (pydantic) are imported here, by the command that reads one, not when the command
    line starts: they cost more than the rest of a start (``qsim --help`` never needs them)."""
    from qsim.input.scenario import load_scenario as load

    return load(file)


def warn(scenario: Scenario) -> None:
    """The scenario's warnings (SPEC §12), one ``qsim: warning:`` line each on stderr."""
    for line in scenario.warnings:
        say(f"qsim: warning: {escape(line)}")


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
    from qsim.input.scenario import RecordedWorkload

    traces = [w.trace for w in scenario.workloads if isinstance(w, RecordedWorkload)]
    return [file, *traces]


def error(message: str) -> int:
    """Report a user error, the same way for every command; returns the exit code. The
    message is escaped: a name with a newline or an ANSI escape stays on the one line."""
    say(f"qsim: error: {escape(message)}")
    return USER_ERROR


def say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone: the exit code says it all
        pass


class OutputError(QsimError):
    """Standard output could not be written (a full disk, a pipe closed by its reader)."""


class Guarded:
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


def silence(stream: Any) -> None:
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


@contextlib.contextmanager
def option_value(option: str, value: str | None) -> Iterator[None]:
    """Errors raised in the block name the option they come from (``--modes job,foo: ...``)."""
    try:
        yield
    except QsimError as exc:
        if value is None:  # not given: the error is the scenario's
            raise
        raise QsimError(f"{option}: {exc}") from None


def json_text(data: object) -> str:
    """Strict JSON (no NaN or Infinity, which JSON does not have): a figure that is not a
    finite number is an error, never a file other programs cannot read."""
    try:
        return json.dumps(data, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise QsimError("a figure of the results is not a finite number (inf or NaN), which "
                        "JSON cannot hold; nothing was written") from None


def csv_text(frame: Any) -> str:
    # pandas writes floats with repr precision (they read back exactly); NaN as an empty cell.
    return str(frame.to_csv(index=False, lineterminator="\n"))


def timeline_png(result: RunResult, bounds: tuple[float | None, float | None]) -> bytes:
    """The run's timeline as PNG bytes (replications draw replication 0: the run `qsim run`
    shows without them)."""
    with _existing_objects_left_alone():
        from qsim.present import plots  # matplotlib: a third of a second to import, to draw

        return png_bytes(lambda f: plots.save_timeline(result, f, *bounds))


@contextlib.contextmanager
def _existing_objects_left_alone() -> Iterator[None]:
    """While the block runs, the garbage collector's full passes skip the objects that were
    there before it (``gc.freeze``, undone after by ``gc.unfreeze``, which hands them back to
    it: nothing is kept that would have been freed). matplotlib's import and the picture make
    so many objects that the collector ran full passes over everything, the run's and the
    libraries' too: 0.06-0.11 s at a million jobs, 0.02-0.05 s this way. Left as it is if
    something else has frozen objects (it would be undone)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def tables_written(result: RunResult, folder: OutFolder, parquet: bool = False
                   ) -> Iterator[None]:
    """Write the per-run tables (``out_tables.run_files``) into ``folder`` on a thread of
    their own while the block runs, and wait for them when it ends: Arrow formats and writes
    them without holding the GIL, so the block (the summary, the picture) runs beside them.
    At a million jobs jobs.csv takes a second and a quarter of CPU, about what the summary and
    the picture take together."""
    from concurrent.futures import ThreadPoolExecutor

    from qsim.present.out_tables import run_files

    with ThreadPoolExecutor(1, thread_name_prefix="qsim-tables") as pool:
        # Each writer's table is made here, once the one before is writing: made on the
        # tables' thread, its many short numpy and Arrow steps would each wait for this
        # thread to let go of the GIL (up to 5 ms each), and the CSV would start later.
        written = [pool.submit(write, folder) for write in run_files(result, parquet)]
        yield
        for done in written:
            done.result()  # its error, if any, is raised here


def png_bytes(draw: Any) -> bytes:
    """Render a picture into PNG bytes, so it is written like every other file. matplotlib's
    warnings (a glyph a name uses that no font has) are not the user's concern on stderr."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draw(buffer)
    return buffer.getvalue()


def figure_png(fig: Any) -> bytes:
    """A drawn matplotlib figure as PNG bytes (90 dpi, no software stamp), then closed: the
    fit's pictures."""
    import matplotlib.pyplot as plt

    try:
        return png_bytes(lambda f: fig.savefig(f, format="png", dpi=90,
                                               metadata={"Software": None}))
    finally:
        plt.close(fig)
