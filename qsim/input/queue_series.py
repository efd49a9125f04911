"""Reading a backend's queue-length series: a CSV (optionally gzipped) with ``timestamp`` (ISO
8601) and ``pending_jobs``, optionally ``status_msg`` (anything but ``active`` is a pause), what
``backend.status()`` returns sampled over time (the shared data in ``../shared/data/queues/``).

Bounded: at most ``MAX_SERIES_BYTES`` of text (after decompression) are read, whatever the file
is (a 2 GB file, a gzip bomb, a FIFO). Every problem is one :class:`SeriesError` naming the
file, the line, the column and the value. Times: a timestamp without a zone is taken as UTC;
one with a zone is converted to UTC.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Final, Protocol

import numpy as np

from qsim.input.errors import ScenarioError
from qsim.input.reader import open_regular

__all__ = ["MAX_SERIES_BYTES", "MIN_SPAN_S", "Series", "SeriesError", "read_series"]

#: Text read at most (after decompression): 10 days of samples every second is about 40 MB.
MAX_SERIES_BYTES: Final = 100_000_000
#: A series shorter than this says nothing about a queue's level or its movement.
MIN_SPAN_S: Final = 3600.0
MAX_PENDING: Final = 10_000_000  # more jobs than any backend has queued: a corrupt column


class SeriesError(ScenarioError):
    """A series file that cannot be read or is invalid: ``file:line: column: message``."""


@dataclass(frozen=True)
class Series:
    """A queue's samples: ``t`` seconds after ``start`` (UTC), ``pending``, ``paused``."""

    file: str
    start: datetime
    t: np.ndarray
    pending: np.ndarray
    paused: np.ndarray

    @property
    def span_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0


def read_series(file: str | Path) -> Series:
    """The series in ``file`` (see the module docstring); a :class:`SeriesError` otherwise."""
    name = str(file)
    text = _read_text(Path(file), name)
    reader, columns = csv_with_columns(text, name, ("timestamp", "pending_jobs"))
    i_time, i_pending = columns.index("timestamp"), columns.index("pending_jobs")
    i_status = columns.index("status_msg") if "status_msg" in columns else None
    times: list[float] = []
    pending: list[int] = []
    paused: list[bool] = []
    for line, row in data_rows(reader, len(columns), name):
        times.append(iso_seconds(row[i_time], name, line))
        pending.append(_count(row[i_pending], name, line))
        paused.append(i_status is not None and row[i_status].strip() != "active")
        if len(times) > 1 and times[-1] < times[-2]:
            raise SeriesError("timestamps must not go back in time (sort the file by time)",
                              file=name, line=line, field="timestamp", value=row[i_time])
    if not times:
        raise SeriesError("no samples after the header", file=name)
    t = np.asarray(times)
    if t[-1] - t[0] < MIN_SPAN_S:
        raise SeriesError(f"the samples span {t[-1] - t[0]:g} s: qsim fit needs at least an "
                          "hour of them", file=name, field="timestamp")
    start = datetime.fromtimestamp(t[0], tz=timezone.utc)
    return Series(name, start, t - t[0], np.asarray(pending, dtype=np.float64),
                  np.asarray(paused, dtype=bool))


def _read_text(path: Path, name: str) -> str:
    try:
        with open_regular(path, "series file", SeriesError, name) as fh:
            head = fh.read(2)
            fh.seek(0)
            # (one byte past the limit: a file larger than it says so)
            data = (_read_gzip(fh, name) if head == b"\x1f\x8b"
                    else fh.read(MAX_SERIES_BYTES + 1))
    except OSError as exc:
        raise SeriesError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_SERIES_BYTES:
        raise SeriesError(f"larger than {MAX_SERIES_BYTES / 1e6:g} MB of text: qsim fit reads "
                          "at most that much (resample the series to 10 s first)", file=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SeriesError("not a text file (expected UTF-8 CSV)", file=name) from None


def _read_gzip(fh: BinaryIO, name: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=fh) as gz:
            return gz.read(MAX_SERIES_BYTES + 1)  # a gzip bomb stops here
    except (OSError, EOFError, zlib.error) as exc:
        raise SeriesError(f"not a readable gzip file: {exc}", file=name) from None


class CsvRows(Protocol):
    """What ``csv.reader`` returns, as far as the series and jobs readers use it."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...


def csv_with_columns(text: str, name: str, needed: tuple[str, ...],
                     error: type[ScenarioError] = SeriesError
                     ) -> tuple[CsvRows, list[str]]:
    """The rows after the header of the CSV ``text``, and the header's column names; ``error``
    naming the file where it is empty, not a CSV, or lacks a ``needed`` column. The jobs
    file's reader (``job_series``) opens its CSV with it too."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise error(f"empty file: expected a CSV with columns {', '.join(needed)}",
                    file=name) from None
    except csv.Error as exc:
        raise error(f"not a CSV file: {exc}", file=name, line=1) from None
    columns = [c.strip() for c in header]
    for column in needed:
        if column not in columns:
            raise error(f"no {column!r} column (the header has {', '.join(columns)})",
                        file=name, line=1)
    return reader, columns


def data_rows(reader: CsvRows, width: int, name: str,
              error: type[ScenarioError] = SeriesError) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty row after the header with its line number; ``error`` naming the file
    and line where a row has other than ``width`` fields or the text is not a CSV. The jobs
    file's reader reads its rows with it too."""
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                raise error(f"{len(row)} fields where the header has {width}", file=name,
                            line=reader.line_num)
            yield reader.line_num, row
    except csv.Error as exc:
        raise error(f"not a CSV file: {exc}", file=name, line=reader.line_num) from None


def iso_seconds(text: str, name: str, line: int, column: str = "timestamp",
                error: type[ScenarioError] = SeriesError) -> float:
    """``text``, an ISO 8601 time, in seconds since the epoch (no zone: UTC); ``error``
    naming the file, line, column and value where it is not one. The jobs file's reader
    (``job_series``) reads its times with it too."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise error("not an ISO 8601 time (e.g. 2023-11-16T13:59:48Z)", file=name,
                    line=line, field=column, value=text) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # no zone: UTC (stated in the docstring)
    return when.timestamp()


def _count(text: str, name: str, line: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise SeriesError("not a whole number of jobs", file=name, line=line,
                          field="pending_jobs", value=text) from None
    if value < 0 or value > MAX_PENDING:
        raise SeriesError(f"must be between 0 and {MAX_PENDING:,}", file=name, line=line,
                          field="pending_jobs", value=text)
    return value
