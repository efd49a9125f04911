"""Watching a run from outside its event loop: progress, and the work limit while it runs.

The event loop (``Clock._steps``) is the hot path of every run and does nothing for either.
One daemon thread per process wakes every :data:`PERIOD_S`, reads each watched run's clock
and counts (plain attribute reads, safe under the GIL), reports progress, and stops a run
that has passed its limit by pushing a call at the current instant onto its heap
(``Clock.interrupt``): the loop pops it next and the call raises. A run that ends before the
thread next looks costs one set insertion and removal.

The thread runs only while there are runs to watch: it starts with the first and ends within
a period of the last (a process that forks pool workers between runs then has no thread to
fork), and a forked child starts afresh.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from qsim.input.errors import QsimError

if TYPE_CHECKING:
    from qsim.model.clock import Clock

__all__ = ["PERIOD_S", "Progress", "watched"]

#: How often the thread looks at the runs it watches (seconds of wall time).
PERIOD_S: Final = 0.2

#: ``progress(simulated_now_s, jobs_submitted)``, called from the watching thread.
Progress = Callable[[float, int], None]


class _Watched:
    """One run as the thread sees it."""

    def __init__(self, clock: Clock, jobs: Callable[[], int], records: Callable[[], int],
                 over_limit: Callable[[int, int], QsimError | None],
                 progress: Progress | None) -> None:
        self.clock = clock
        self.jobs = jobs
        self.records = records
        self.over_limit = over_limit
        self.progress = progress
        self.stopping = False

    def look(self) -> None:
        now, jobs = self.clock.now, self.jobs()
        if self.progress is not None:
            self.progress(now, jobs)
        if self.stopping:
            return
        error = self.over_limit(jobs, self.records())
        if error is not None:
            self.stopping = True
            self.clock.interrupt(_raiser(error))


def _raiser(error: QsimError) -> Callable[[object], None]:
    def stop(_arg: object) -> None:
        raise error
    return stop


class _Watcher:
    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a child must not inherit a lock held here
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.runs: set[_Watched] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, run: _Watched) -> None:
        with self.lock:
            self.runs.add(run)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="qsim-watch",
                                               daemon=True)
                self.thread.start()

    def remove(self, run: _Watched) -> None:
        with self.lock:
            self.runs.discard(run)

    def _loop(self) -> None:
        me = threading.current_thread()
        pause = threading.Event()
        while True:
            pause.wait(PERIOD_S)
            with self.lock:
                if self.thread is not me:  # a fork reset the watcher
                    return
                if not self.runs:
                    self.thread = None
                    return
                runs = list(self.runs)
            for run in runs:
                try:
                    run.look()
                except Exception:  # noqa: BLE001 - a failing progress bar must not kill this
                    run.progress = None


_WATCHER: Final = _Watcher()


@contextmanager
def watched(clock: Clock, jobs: Callable[[], int], records: Callable[[], int],
            over_limit: Callable[[int, int], QsimError | None],
            progress: Progress | None = None) -> Iterator[None]:
    """While the block runs, report ``progress`` and raise ``over_limit(jobs, records)``'s
    error in the run's own loop once it returns one."""
    run = _Watched(clock, jobs, records, over_limit, progress)
    _WATCHER.add(run)
    try:
        yield
    finally:
        _WATCHER.remove(run)
