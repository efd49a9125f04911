"""The ``qsim`` command line: the Typer app and its entry. No simulation logic.

Each command lives in its own module (``run_command``, ``validate_command``, ...), takes the
shared options of ``options`` and the helpers of ``shared``, and records itself with
``options.command``; this module imports them by name (:data:`ORDER`) and registers them on
the app, and no module imports it back. Each command is a small function returning an exit
code; :func:`main` only dispatches and turns every user error (a bad scenario, a bad option,
an unwritable ``--out``, standard output that cannot be written) into one line
``qsim: error: <message>`` on stderr with exit code 2, and no traceback; Ctrl-C into one line
``qsim: interrupted`` and exit code 130. Every message is escaped (``qsim.input.text``):
nothing a file names reaches the terminal as a control character.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Final, NoReturn

import typer

try:  # typer 0.2x vendors click as typer._click; earlier versions use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException  # type: ignore[no-redef,assignment,unused-ignore]

from qsim.input.errors import QsimError
from qsim.present.files import release_out_locks
from qsim.present.options import COMMANDS
from qsim.present.shared import (
    USER_ERROR,
    Guarded,
    OutputError,
    Terminated,
    error,
    say,
    silence,
    stopped,
)
from qsim.present.typer_params import defer_parsers
from qsim.version import __version__

#: The ``qsim`` command's process (the console script, ``python -m qsim``) asks numpy not to
#: advise huge pages for its large arrays, unless the user set the variable: the summary's
#: columns are memory fresh from the system, and a kernel that honours the advice
#: (transparent huge pages ``defrag: madvise``) clears and compacts 2 MB pages at their first
#: touch: at 10M jobs the summary's system time per job nearly halved without it, and runs
#: of 100,000 and a million jobs cost the same (docs/performance.md, issue 32). The Python
#: API leaves the process as the user set it: only the command owns its process.
NUMPY_HUGE_PAGES: Final = ("NUMPY_MADVISE_HUGEPAGE", "0")


class _App(typer.Typer):
    """The typer app, entered through :func:`main` so that usage errors read like all others.

    The console script calls ``app()``; typer's own entry would print usage errors in a
    panel and exit with ``sys.exit`` from deep inside click.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        os.environ.setdefault(*NUMPY_HUGE_PAGES)  # before numpy is imported: it reads it then
        code = main()
        # The process ends here. What the command leaves behind (pandas, matplotlib, a run's
        # tables) would be traced by the collector as the interpreter shuts down, in vain:
        # 0.3 s after a million-job --out. Frozen, it is not traced; memory goes back anyway.
        gc.freeze()
        sys.exit(code)


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
    args = sys.argv[1:] if argv is None else list(argv)
    command = _click_command(args)
    stdout = sys.stdout
    sys.stdout = Guarded(stdout)  # a stream in all it does
    try:
        with _sigterm_as_interrupt():
            code = _invoke(command, args)
            sys.stdout.flush()
    except KeyboardInterrupt as exc:
        word, code = stopped(exc)
        say(f"qsim: {word}")
        return code
    except OutputError as exc:
        silence(stdout)
        return error(str(exc))
    finally:
        sys.stdout = stdout
        release_out_locks()  # a command that stopped before writing its --out
    return code


def _click_command(args: Sequence[str]) -> Any:
    """The app as a click command, with only the command ``args`` name first when they do.

    typer converts every parameter of every command it is given, at every start: the eight
    commands' cost 60-70 M instructions of each (``qsim run --help`` 367 M with all of them,
    306 M alone; docs/performance.md). A line that names its command (``qsim run FILE``)
    runs that one alone, and reads the same with or without the others beside it: its help,
    its usage errors and what it does. Any other line (``qsim --help``, ``qsim --version``, a
    mistyped command) meets the whole app.
    """
    if args and args[0] in ORDER:
        named = copy.copy(app)  # the module's app stays whole (``qsim --help`` lists all)
        named.registered_commands = [c for c in app.registered_commands if c.name == args[0]]
        return typer.main.get_command(named)
    return typer.main.get_command(app)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while a command runs. Its default would end this
    process at once and leave pool workers running (holding the caller's stdout open). A
    second SIGTERM ends the process at once, as the default does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler (and gets the signal)
        return

    def terminate(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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

    \b
    Start in any folder (the examples come with qsim):
      qsim examples --copy scenarios    # the example scenarios and notebooks
      qsim run scenarios/vqe.yaml       # a VQE in a session: its bill and its time
      qsim compare scenarios/vqe.yaml   # the same VQE in job, batch and session mode

    Every command has --help; its examples use scenarios/ as copied above.
    """  # noqa: E501 (rich help keeps line breaks, so each paragraph is one line)


# ---- the commands ---------------------------------------------------------------------------
# One module each, ``qsim.present.NAME_command``, listed here in the order `qsim --help` shows
# them: adding a command is adding its name. Each module records its command with
# ``options.command`` (no command module imports the app) and keeps its top light: typer needs
# every command's options to build the app, even for `qsim --help`, so pydantic, numpy, pandas,
# matplotlib and rich are imported inside the command that uses them (tests/test_startup.py
# checks which libraries each start loads; benchmarks/startup.py times it).
ORDER: Final = ("run", "validate", "compare", "advise", "sweep", "trace", "examples", "fit")


def _register(names: Sequence[str]) -> None:
    for name in names:
        importlib.import_module(f"qsim.present.{name}_command")
    recorded = {name: (settings, function) for name, settings, function in COMMANDS}
    for name in names:
        settings, function = recorded[name]
        app.command(name, **settings)(function)


_register(ORDER)
defer_parsers()  # a value left out costs no pydantic parser (``qsim examples`` none at all)

__all__ = ["ORDER", "app", "main"]
