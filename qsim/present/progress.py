"""A command's progress bar on stderr, with rich (``report.DelayedProgress``) imported only
when the bar could show: piped or redirected, as ``qsim run FILE --json > out.json`` and
scripts usually run, a command shows none, and rich (about 0.03 s of CPU to import) would be
loaded for nothing."""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Final, TextIO

if TYPE_CHECKING:
    from qsim.present.report import DelayedProgress

# What makes rich take a stream for an interactive terminal besides the stream's own
# ``isatty()`` (rich.console.Console: ``TTY_INTERACTIVE``, ``TTY_COMPATIBLE``,
# ``FORCE_COLOR``). With any of them set, rich decides, as before.
RICH_TERMINAL_VARIABLES: Final = ("TTY_INTERACTIVE", "TTY_COMPATIBLE", "FORCE_COLOR")


def could_show(stream: TextIO) -> bool:
    """Whether a progress bar could show on ``stream``: False only where rich would show none
    either (not a terminal, and no variable that tells rich to take it for one)."""
    if any(name in os.environ for name in RICH_TERMINAL_VARIABLES):
        return True
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


class NoProgress:
    """The bar that never shows: what ``progress_bar`` gives where rich's would not show."""

    shown: Final = False

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def update(self, done: int, total: int) -> None:
        """Nothing to show."""


def progress_bar(description: str, percent: bool = False) -> DelayedProgress | NoProgress:
    """``report.DelayedProgress`` on stderr, or ``NoProgress`` where it could not show."""
    if not could_show(sys.stderr):
        return NoProgress()
    from qsim.present import report

    return report.DelayedProgress(description, report.console(stderr=True), percent=percent)
