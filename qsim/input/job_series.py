"""Reading a user's own past jobs for ``qsim fit --jobs``: a CSV with ``created``, ``running``,
``finished`` (ISO 8601) and optionally ``quantum_seconds``, what ``job.metrics()`` returns
(``metrics["timestamps"]`` and ``metrics["usage"]["quantum_seconds"]``), one job a row.

A job's **wait** is ``running - created`` (queued, not yet running: what ``pending_jobs``
counts); its **run time** is ``quantum_seconds`` where given, else ``finished - running`` (an
upper bound on the quantum time: it also holds the job's compilation and post-processing).

Read through the bounded reader every scenario goes through (``reader.read_bounded_text``: a
regular file, at most ``MAX_FILE_BYTES``, UTF-8); every problem is one :class:`JobsError`
naming the file, the line, the column and the value. Rows need not be sorted. A time without
a zone is UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

import numpy as np

from qsim.input.errors import ScenarioError
from qsim.input.queue_series import CsvRows, csv_with_columns, data_rows, iso_seconds
from qsim.input.reader import read_bounded_text

__all__ = ["COLUMNS", "MIN_JOBS", "JobSeries", "JobsError", "read_jobs"]

COLUMNS: Final = ("created", "running", "finished")
#: Fewer jobs than this give no p90 worth comparing (and the fit nothing to match).
MIN_JOBS: Final = 20
MAX_QUANTUM_S: Final = 1e7  # more than any job's quantum time (115 days): a corrupt column


class JobsError(ScenarioError):
    """A jobs file that cannot be read or is invalid: ``file:line: column: message``."""


@dataclass(frozen=True)
class JobSeries:
    """A user's jobs, sorted by creation: ``created`` seconds after ``start`` (UTC, the first
    job's creation), ``wait_s``, ``run_s`` (quantum seconds where the file has them, else
    finished - running), ``quantum_given``: whether the file had ``quantum_seconds``."""

    file: str
    start: datetime
    created: np.ndarray
    wait_s: np.ndarray
    run_s: np.ndarray
    quantum_given: bool

    @property
    def span_s(self) -> float:
        return float(self.created[-1] - self.created[0]) if len(self.created) else 0.0


def read_jobs(file: str | Path) -> JobSeries:
    """The jobs in ``file`` (see the module docstring); a :class:`JobsError` otherwise."""
    name = str(file)
    text = read_bounded_text(name, "jobs file", "CSV", JobsError)
    reader, columns = csv_with_columns(text.removeprefix("\ufeff"), name, COLUMNS, JobsError)
    rows = _rows(reader, columns, name)
    if len(rows) < MIN_JOBS:
        raise JobsError(f"{len(rows)} jobs: qsim fit needs at least {MIN_JOBS} to compare "
                        "waits", file=name)
    table = np.asarray(sorted(rows), dtype=np.float64)  # by creation (ties: as they come)
    created, running, finished, quantum = table.T
    given = "quantum_seconds" in columns
    start = datetime.fromtimestamp(created[0], tz=timezone.utc)
    return JobSeries(name, start, created - created[0], running - created,
                     quantum if given else finished - running, given)


def _rows(reader: CsvRows, columns: list[str], name: str
          ) -> list[tuple[float, float, float, float]]:
    """(created, running, finished, quantum or nan) per row, each checked."""
    where = [columns.index(c) for c in COLUMNS]
    i_quantum = columns.index("quantum_seconds") if "quantum_seconds" in columns else None
    rows: list[tuple[float, float, float, float]] = []
    for line, row in data_rows(reader, len(columns), name, JobsError):
        created, running, finished = (_time(row[i], c, name, line)
                                      for i, c in zip(where, COLUMNS))
        _in_order(created, running, finished, row, where, name, line)
        quantum = (_quantum(row[i_quantum], name, line) if i_quantum is not None
                   else math.nan)
        rows.append((created, running, finished, quantum))
    return rows


def _in_order(created: float, running: float, finished: float, row: list[str],
              where: list[int], name: str, line: int) -> None:
    if running < created:
        raise JobsError("running before created (a job runs after it is created)", file=name,
                        line=line, field="running", value=row[where[1]])
    if finished < running:
        raise JobsError("finished before running (a job finishes after it starts running)",
                        file=name, line=line, field="finished", value=row[where[2]])


def _time(text: str, column: str, name: str, line: int) -> float:
    return iso_seconds(text, name, line, column, JobsError)


def _quantum(text: str, name: str, line: int) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise JobsError("not a number of seconds", file=name, line=line,
                        field="quantum_seconds", value=text) from None
    if not 0 <= value <= MAX_QUANTUM_S:  # (nan fails both)
        raise JobsError(f"must be between 0 and {MAX_QUANTUM_S:g} seconds", file=name,
                        line=line, field="quantum_seconds", value=text)
    return value
