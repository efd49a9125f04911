"""Background traffic that varies (SPEC §17): the scenario models of ``profile``, ``regimes``
and ``arrivals: {trace: FILE}``, and the reader of arrival traces.

The processes that run them are in :mod:`qsim.model.arrivals`; ``burst`` and ``pending`` are
plain fields of :class:`qsim.input.scenario.BackgroundWorkload`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, Strict, ValidationInfo, model_validator

from qsim.input.dists import Distribution, Duration, StrictModel, as_number
from qsim.input.errors import FieldError, ScenarioError
from qsim.input.limits import MAX_BURST, MAX_DURATION_S, MAX_LEVELS, MAX_TRACE_ROWS
from qsim.input.reader import read_bounded_text

__all__ = ["ArrivalTrace", "Profile", "Regimes", "TraceData", "read_arrival_trace"]

Level = Annotated[float, BeforeValidator(as_number), Strict(),
                  Field(ge=0, le=1e6, allow_inf_nan=False)]
Levels = Annotated[tuple[Level, ...], Field(max_length=MAX_LEVELS)]


def _scaled(levels: tuple[float, ...]) -> tuple[float, ...]:
    """Levels as rate multipliers: scaled to a mean of 1 (SPEC §17)."""
    mean = math.fsum(levels) / len(levels)
    return tuple(level / mean for level in levels)


def _some_level_above_zero(levels: tuple[float, ...]) -> None:
    if len(levels) < 2:
        raise FieldError("needs at least two levels (one is a constant rate: set the arrivals "
                         "or the load instead)", ("levels",), list(levels))
    if not any(level > 0 for level in levels):
        raise FieldError("must not all be 0: the stream would never arrive", ("levels",),
                         show_value=False)


class Profile(StrictModel):
    """``profile: {period, levels}``: the arrival rate is multiplied by ``levels[i]`` (scaled
    to a mean of 1) during the i-th equal slice of every period, counted from the run's
    start (its warm-up included)."""

    period: Annotated[Duration, Field(gt=0)]
    levels: Levels

    @model_validator(mode="after")
    def _check(self) -> Profile:
        _some_level_above_zero(self.levels)
        return self

    @property
    def multipliers(self) -> tuple[float, ...]:
        return _scaled(self.levels)

    @property
    def slice_s(self) -> float:
        return self.period / len(self.levels)


class Regimes(StrictModel):
    """``regimes: {levels, dwell}``: a rate multiplier that switches between levels (scaled
    to a mean of 1): the first drawn uniformly at t = 0, each held for a draw of ``dwell``,
    the next drawn uniformly among the others."""

    levels: Levels
    dwell: Distribution

    @model_validator(mode="after")
    def _check(self) -> Regimes:
        _some_level_above_zero(self.levels)
        if not self.dwell.mean > 0:
            raise FieldError("must have a mean greater than 0: the levels would switch for "
                             "ever without time moving on", ("dwell",), show_value=False)
        return self

    @property
    def multipliers(self) -> tuple[float, ...]:
        return _scaled(self.levels)


@dataclass(frozen=True)
class TraceData:
    """An arrival trace as read: each row's instant (seconds from the first row, or from 0
    for numbers), its count of jobs and, when the file gives them, their quantum seconds."""

    at: tuple[float, ...]
    count: tuple[int, ...]
    quantum: tuple[float, ...] | None

    @property
    def jobs(self) -> int:
        return sum(self.count)

    def jobs_until(self, span: float) -> int:
        """Jobs of the rows at most ``span`` seconds after the stream's start."""
        return sum(c for t, c in zip(self.at, self.count) if t <= span)

    @property
    def mean_quantum(self) -> float | None:
        if self.quantum is None:
            return None
        jobs = self.jobs
        total = math.fsum(q * c for q, c in zip(self.quantum, self.count))
        return total / jobs if jobs else math.fsum(self.quantum) / len(self.quantum)


class ArrivalTrace(StrictModel):
    """``arrivals: {trace: FILE}``: measured arrival instants, replayed from the workload's
    ``start``; the file is relative to the scenario's folder and read when it is loaded."""

    trace: str  # resolved: an absolute path

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("trace"), str):
            return data
        base = (info.context or {}).get("base", "")
        shown = os.path.normpath(os.path.join(base, data["trace"]))
        _read_shown(shown)
        return {**data, "trace": os.path.abspath(shown)}

    @property
    def data(self) -> TraceData:
        return read_arrival_trace(self.trace)

    @property
    def mean(self) -> float:
        """Mean time between the trace's rows (0 for a single row)."""
        at = self.data.at
        return (at[-1] - at[0]) / (len(at) - 1) if len(at) > 1 else 0.0


def _read_shown(shown: str) -> TraceData:
    try:
        return read_arrival_trace(shown)
    except ScenarioError as err:
        raise FieldError(str(err), ("trace",), show_value=False) from None


_CACHE: dict[str, tuple[tuple[int, int], TraceData]] = {}
_COLUMNS: Final = ("at", "count", "quantum")


def read_arrival_trace(path: str) -> TraceData:
    """Read and check an arrival trace (CSV), once per file version; every problem is one
    ScenarioError naming the file (and the line)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError("no such file", file=path) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", file=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError("is a directory, not a CSV file of arrivals", file=path)
    if not stat.S_ISREG(info.st_mode):  # a FIFO would wait for a writer for ever
        raise ScenarioError("not a regular file: a CSV file of arrivals", file=path)
    key = (info.st_mtime_ns, info.st_size)
    cached = _CACHE.get(os.path.abspath(path))
    if cached is not None and cached[0] == key:
        return cached[1]
    text = read_bounded_text(path, "CSV file of arrivals", "CSV", ScenarioError)
    data = _parse(text, path)
    _CACHE[os.path.abspath(path)] = (key, data)
    return data


def _parse(text: str, path: str) -> TraceData:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if "at" not in header:
        raise ScenarioError("needs a header row with a column at (and optionally count, "
                            "quantum)", file=path, line=1)
    for name in header:
        if name not in _COLUMNS:
            raise ScenarioError(f"unknown column {name!r}; columns: at, count, quantum",
                                file=path, line=1)
    at: list[float] = []
    count: list[int] = []
    quantum: list[float] = []
    first: datetime | None = None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        line = reader.line_num
        if len(at) >= MAX_TRACE_ROWS:
            raise ScenarioError(f"more than {MAX_TRACE_ROWS:,} rows: qsim reads at most that "
                                "many", file=path, line=line)
        if len(row) != len(header):
            raise ScenarioError(f"has {len(row)} fields; the header has {len(header)}",
                                file=path, line=line)
        cells = dict(zip(header, (cell.strip() for cell in row)))
        t, first = _instant(cells["at"], first, path, line)
        if at and t < at[-1]:
            raise ScenarioError(f"at {cells['at']!r} is before the previous row's: the rows "
                                "must be in order of time", file=path, line=line)
        at.append(t)
        count.append(_count(cells.get("count", "1"), path, line))
        if "quantum" in cells:
            quantum.append(_seconds(cells["quantum"], "quantum", path, line))
    if not at:
        raise ScenarioError("has no rows of arrivals", file=path)
    return TraceData(tuple(at), tuple(count), tuple(quantum) if "quantum" in header else None)


def _instant(cell: str, first: datetime | None, path: str,
             line: int) -> tuple[float, datetime | None]:
    """A row's ``at`` in seconds: a number as it is, an ISO 8601 time from the first row's."""
    number = as_number(cell)
    if isinstance(number, (int, float)):
        if first is not None:
            raise ScenarioError(f"at {cell!r}: a number after ISO 8601 times; give one kind",
                                file=path, line=line)
        return _seconds(cell, "at", path, line), None
    try:
        when = datetime.fromisoformat(cell)
    except ValueError:
        raise ScenarioError(f"at {cell!r}: not seconds or an ISO 8601 time", file=path,
                            line=line) from None
    if first is None and line > 2:
        raise ScenarioError(f"at {cell!r}: an ISO 8601 time after numbers; give one kind",
                            file=path, line=line)
    first = when if first is None else first
    try:
        seconds = (when - first).total_seconds()
    except TypeError:  # one with a time zone, one without
        raise ScenarioError(f"at {cell!r}: give every time with a time zone, or none",
                            file=path, line=line) from None
    if seconds < 0:
        raise ScenarioError(f"at {cell!r} is before the first row's: the rows must be in "
                            "order of time", file=path, line=line)
    return seconds, first


def _seconds(cell: str, column: str, path: str, line: int) -> float:
    value = as_number(cell)
    if not isinstance(value, (int, float)) or not 0 <= value <= MAX_DURATION_S:
        raise ScenarioError(f"{column} {cell!r}: must be a number of seconds from 0 to "
                            f"{MAX_DURATION_S:g}", file=path, line=line)
    return float(value)


def _count(cell: str, path: str, line: int) -> int:
    value = as_number(cell)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_BURST:
        raise ScenarioError(f"count {cell!r}: must be a whole number from 0 to {MAX_BURST:,}",
                            file=path, line=line)
    return value
