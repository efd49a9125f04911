"""The record log: the single source of truth of a run.

One row per event, ``(t, seq, kind, job, context, workload)`` plus an optional ``info`` (a
reason or a due time). Rows are kept in typed arrays (16 bytes a row) rather than tuples, so
a million-job run stays small (the newest, up to a thousand jobs' worth, wait in two lists
that are packed into the arrays in bulk: ``Trace``); ``seq`` is the row's position, and
``(t, seq)`` is a total order.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from qsim.input.scenario import Scenario

# Reasons recorded with job.failed / job.cancelled (the `reason` column of the jobs table).
SYSTEM_ERROR = "system_error"
USER_ERROR = "user_error"
RAN_TOO_LONG = "ran_too_long"
CONTEXT_CLOSED = "context_closed"  # submitted to a closed batch or session
MAX_TIME = "max_time"  # queued when the context's max TTL expired
CANCELLED = "cancelled"  # queued when the context was cancelled (cancel_at)
OUTAGE = "outage"  # on the QPU when a `down` outage began (SPEC §16): charged 0
LIMIT = "limit"  # held by its instance's usage limit when the run ended (SPEC §19)
COST_LIMIT = "cost_limit"  # cancelled when its instance's cost limit was reached (SPEC §19)
#: Reasons whose jobs are charged nothing (SPEC §6, §16): the service's fault, not the user's.
UNCHARGED_REASONS = frozenset((SYSTEM_ERROR, OUTAGE))


class Kind(IntEnum):
    """Record kinds, as dotted ``noun.verb`` names (see ``Kind.label``)."""

    JOB_SUBMIT = 0
    JOB_DISPATCH = 1  # a lane is taken; compile starts
    JOB_READY = 2  # compile ended; the job waits for the QPU
    QPU_START = 3
    QPU_END = 4  # quantum phase ended (post-processing starts, unless the job failed)
    JOB_DONE = 5
    JOB_FAILED = 6
    JOB_CANCELLED = 7
    JOB_INCOMPLETE = 8  # still queued or running when the run ended
    CONTEXT_OPEN = 9
    CONTEXT_ACTIVATE = 10  # state active; an active window starts
    CONTEXT_DEACTIVATE = 11  # state inactive (ITTL expired)
    CONTEXT_DRAIN = 12  # close requested: accepting_jobs false, queued and running jobs go on
    CONTEXT_CLOSE = 13  # state closed
    CONTEXT_RELEASE = 14  # the active window ends
    CALIBRATION_START = 15  # info: the (earliest) due time it served
    CALIBRATION_END = 16
    RUN_END = 17
    OUTAGE_START = 18  # the backend stops dispatching and starting (SPEC §16); info: its kind
    OUTAGE_END = 19
    # SPEC §19 (after CONTEXT_OPEN: rare, so they are among ``Columns.not_job_rows``)
    JOB_HOLD = 20  # held, not eligible for dispatch: its instance's usage limit (it leaves the
    # queue), or its stream's hold from its submission (SPEC §17)
    JOB_RELEASE = 21  # back in the queue, in its order
    LIMIT_REACHED = 22  # an instance's usage in its window reached its limit; info: instance
    LIMIT_CLEARED = 23  # enough of it has left the window; info: the instance
    COSTLIMIT_REACHED = 24  # an instance's cost reached its cost limit; info: the instance

    @property
    def label(self) -> str:
        noun, verb = self.name.lower().split("_", 1)
        return f"{noun}.{verb}"


class Record(NamedTuple):
    t: float
    seq: int
    kind: str
    job: int
    context: int
    workload: int
    info: object


# A record's integer fields packed into one 64-bit code, so a record costs two appends:
# kind (6 bits) | workload+1 (12 bits) | context+1 (12 bits) | job+1 (the rest).
_WORKLOAD_SHIFT, _CONTEXT_SHIFT, _JOB_SHIFT = 6, 18, 30
_FIELD_MASK = (1 << 12) - 1
# Codes are never negative, and appending to an unsigned 8-byte array skips the argument
# parsing that a signed one ("q") goes through: this append is the log's hottest call.
# ("L" is 8 bytes on 64-bit Linux and macOS, 4 on Windows.)
_CODE_TYPECODE = "L" if array("L").itemsize == 8 else "Q"


# Records a pass over a long log takes at once: its temporaries (masks, rows, gathered
# fields) stay a few MB, memory the allocator hands back and forth, where whole-log
# temporaries were fresh memory each time (the summary's cost per job grew by half from
# 100,000 jobs to 10M).
CHUNK: Final = 1 << 20

# The newest records wait in two lists (``Trace.t_tail``, ``Trace.code_tail``) and are packed
# into the arrays in bulk: a list's append is a specialised opcode in CPython 3.11, where an
# array("d")'s parses its float twice with PyArg_Parse (6.5 % of a fair-share run's
# instructions, docs/performance.md). The model packs the tails every TAIL_JOBS jobs (at a
# submission and at a job's end), so they stay a few hundred kB while the log holds 16
# bytes a record.
TAIL_JOBS: Final = 1 << 10


class Trace:
    """Append-only log. ``-1`` stands for "none" in the job, context and workload columns.

    Rows are stored as a time array and a packed-code array (16 bytes a row); the columns
    ``kind``, ``job``, ``context`` and ``workload`` are unpacked on demand as numpy arrays.

    The one write path: a record is its time appended to ``t_tail`` and its code
    (``job_code(job, context, workload) | kind``) appended to ``code_tail``, together, while
    the log is not frozen. :meth:`add` does exactly that (plus an optional ``info``); the
    backend does it inline for the records every job makes, with each job's code computed
    once at submission, because a Python call per record costs more than the two appends (as
    ``Clock.call`` did per phase; see docs/ARCHITECTURE.md). :meth:`pack` moves the tails to
    the end of the arrays (the model calls it every ``TAIL_JOBS`` jobs); reading ``t`` or
    ``code`` packs first, so readers see every record in the arrays.
    """

    MAX_WORKLOADS = _FIELD_MASK  # workloads and contexts each fit in 12 bits
    JOB_UNIT = 1 << _JOB_SHIFT  # job_code(j + 1, ...) - job_code(j, ...)

    def __init__(self) -> None:
        self._t = array("d")
        self._code = array(_CODE_TYPECODE)
        # The newest records, not yet packed: cleared in place by ``pack``, so that the
        # backends may hold them (the lists, and their bound ``append``) for the whole run.
        self.t_tail: list[float] = []
        self.code_tail: list[int] = []
        self.info: dict[int, object] = {}  # sparse: seq -> reason or due time
        self.frozen = False  # a finished run's log: read-only, its columns are views
        self._columns: Columns | None = None
        # Jobs submitted so far, the next one's id: the model counts them here, where every
        # backend of a run writes, so that ids run in submission order across backends.
        self.jobs = 0
        # Several backends (SPEC §18) only: each job's backend (by job id), the backend of
        # each record of a backend after the first (calibrations, outages: seq -> index),
        # and each workload's backend (-1: a stream that chooses per job).
        self.job_backend: array[int] | None = None
        self.backend_of: dict[int, int] = {}
        self.workload_backend: list[int] = []

    @property
    def t(self) -> array[float]:
        """Every record's time (packed first)."""
        self.pack()
        return self._t

    @property
    def code(self) -> array[int]:
        """Every record's packed code (packed first)."""
        self.pack()
        return self._code

    def pack(self) -> None:
        """Move the tails' records to the end of the arrays, in one pass each: struct packs
        floats without the argument parser, and ``fromlist`` stores each code once."""
        t_tail = self.t_tail
        if t_tail:
            self._t.frombytes(struct.pack(f"{len(t_tail)}d", *t_tail))
            self._code.fromlist(self.code_tail)
            t_tail.clear()
            self.code_tail.clear()

    def __len__(self) -> int:
        return len(self._t) + len(self.t_tail)

    @staticmethod
    def job_code(job: int, context: int, workload: int) -> int:
        """A record's fields but its kind, packed: ``add_code(t, job_code | kind)`` logs it."""
        return (workload + 1) << _WORKLOAD_SHIFT | (context + 1) << _CONTEXT_SHIFT \
            | (job + 1) << _JOB_SHIFT

    def add(
        self, t: float, kind: Kind, job: int = -1, context: int = -1, workload: int = -1,
        info: object = None,
    ) -> None:
        if self.frozen:
            raise RuntimeError("the run is over: its record log is read-only")
        if info is not None:
            self.info[len(self)] = info
        self.t_tail.append(t)
        self.code_tail.append(kind | self.job_code(job, context, workload))

    @staticmethod
    def without_context(code: int) -> int:
        """A record's (or a job's) code naming no context."""
        return code & ~(_FIELD_MASK << _CONTEXT_SHIFT)

    def add_incomplete(self, t: float, reasons: dict[int, str] | None = None) -> None:
        """Record ``job.incomplete`` at ``t`` for every job submitted and not ended, in job
        order: what was still queued or running when the run ended. ``reasons``: by job id,
        why some of them were not run (SPEC §19: held by a usage limit)."""
        self.pack()
        still_open = self._unended_submissions()
        first = len(self._t)
        self._t.extend([t] * len(still_open))
        self._code.extend((still_open - Kind.JOB_SUBMIT + Kind.JOB_INCOMPLETE).tolist())
        if reasons:
            jobs = ((still_open >> _JOB_SHIFT) - 1).tolist()
            for row, job in enumerate(jobs, first):
                if job in reasons:
                    self.info[row] = reasons[job]

    def _unended_submissions(self) -> np.ndarray:
        # A view of the live array, dropped before returning: the log still grows, and an
        # array.array cannot while a view exports its buffer. Returning is not enough: a
        # profiler or debugger that holds this frame (Dask's worker profiler samples the
        # stack every 10 ms) keeps its locals, and the next extend fails with BufferError.
        # Nor is the view passed to a function (_kinds), whose frame would hold it the same.
        # A chunk at a time, as the tables read the log: a chunk's temporaries are memory the
        # allocator hands back for the next, where whole-log ones were fresh pages (a third of
        # this pass's time at a million jobs).
        # Two passes: the jobs that ended, then the submissions of the others (few), rather
        # than every submission kept.
        code = part = _view(self.code, np.int64)
        try:
            ended = np.zeros(len(code) + 1, dtype=bool)  # by job + 1 (fewer jobs than records)
            for lo in range(0, len(code), CHUNK):
                part = code[lo:lo + CHUNK]
                kind = part.view(np.uint8)[_LOW_BYTE::8] & 63  # the low 6 bits, as in _kinds
                ended[part[(kind >= Kind.JOB_DONE) & (kind <= Kind.JOB_CANCELLED)]
                      >> _JOB_SHIFT] = True
            still_open = [np.empty(0, np.int64)]  # in job order, as ids are
            for lo in range(0, len(code), CHUNK):
                part = code[lo:lo + CHUNK]
                submitted = part[(part.view(np.uint8)[_LOW_BYTE::8] & 63) == Kind.JOB_SUBMIT]
                still_open.append(submitted[~ended[submitted >> _JOB_SHIFT]])
            return np.concatenate(still_open)
        finally:
            del code, part

    def freeze(self) -> None:
        """The run is over: no more records. Columns then view the log without copying it."""
        self.pack()
        self.frozen = True
        self._columns = None

    def columns(self) -> Columns:
        """The log as read-only numpy columns: ``t, kind, job, context, workload``.

        Built once (every table asks for them). Until the log is frozen they are copies,
        rebuilt when it has grown, because an array viewed by numpy cannot grow."""
        cached = self._columns
        if cached is None or (not self.frozen and len(cached.t) != len(self)):
            if self.frozen:
                t, code = _view(self.t, np.float64), _view(self.code, np.int64)
            else:
                t, code = np.array(self.t, np.float64), np.array(self.code, np.int64)
            t.flags.writeable = code.flags.writeable = False
            self._columns = cached = Columns(t, code)
        return cached

    def __iter__(self) -> Iterator[Record]:
        cols = self.columns()
        info = self.info
        for seq, (t, k, j, c, w) in enumerate(zip(
                self.t, cols["kind"].tolist(), cols["job"].tolist(),
                cols["context"].tolist(), cols["workload"].tolist())):
            yield Record(t, seq, Kind(k).label, j, c, w, info.get(seq))

    def rows(self) -> list[tuple[float, str, int]]:
        """``(t, kind, job)`` for every record: the shape timeline tests compare."""
        return [(r.t, r.kind, r.job) for r in self]


def _view(values: array[Any], dtype: type) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype)


class Columns:
    """A log's columns, each decoded from the packed codes on first use: a million-job log
    has six million records, and a column a table does not need is memory it need not fill.
    ``columns["kind"]`` and ``columns.kind`` are the same array."""

    def __init__(self, t: np.ndarray, code: np.ndarray, kind: np.ndarray | None = None) -> None:
        self.t = t
        self.code = code
        if kind is not None:  # already decoded (a slice of a whole log's ``kind``)
            self.__dict__["kind"] = kind

    def __getitem__(self, name: str) -> np.ndarray:
        column: np.ndarray = getattr(self, name)
        return column

    @cached_property
    def kind(self) -> np.ndarray:
        return _read_only(_kinds(self.code))

    @cached_property
    def job(self) -> np.ndarray:
        return _read_only(self.field("job", slice(None)))

    @cached_property
    def context(self) -> np.ndarray:
        return _read_only(self.field("context", slice(None)))

    @cached_property
    def workload(self) -> np.ndarray:
        return _read_only(self.field("workload", slice(None)))

    @cached_property
    def not_job_rows(self) -> np.ndarray:
        """Indices of the records of no job (contexts, calibrations, the run's end): few, so
        tables of them need not scan millions of records more than once."""
        kind = self.kind  # a chunk at a time: a whole-log mask is a byte a record, fresh
        return _read_only(np.concatenate([np.empty(0, np.int64), *(
            np.flatnonzero(kind[lo:lo + CHUNK] >= Kind.CONTEXT_OPEN) + lo
            for lo in range(0, len(kind), CHUNK))]))

    def rows_of(self, *kinds: Kind) -> np.ndarray:
        """Indices of the records of the given kinds (all of them after CONTEXT_OPEN)."""
        assert min(kinds) >= Kind.CONTEXT_OPEN, "job kinds: scan self.kind instead"
        rows = self.not_job_rows
        return rows[np.isin(self.kind[rows], kinds)]

    def field(self, name: str, rows: np.ndarray | slice) -> np.ndarray:
        """``job``, ``context`` or ``workload`` of some rows only (a mask, indices or slice)."""
        code = self.code[rows]
        if name == "job":
            out = code >> _JOB_SHIFT
        else:
            out = code >> (_CONTEXT_SHIFT if name == "context" else _WORKLOAD_SHIFT)
            out &= _FIELD_MASK
        out -= 1
        return out


_LOW_BYTE: Final = 0 if sys.byteorder == "little" else 7  # of each 8-byte code


def _kinds(code: np.ndarray) -> np.ndarray:
    # The kind is the low 6 bits: read the low byte of each code rather than mask 8 bytes.
    low_byte = code.view(np.uint8)[::8] if sys.byteorder == "little" else code.view(np.uint8)[7::8]
    return (low_byte & 63).view(np.int8)


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class RunInfo:
    """What produced a record log: the resolved scenario, the seed, the version, the end."""

    scenario: Scenario
    seed: int
    replication: int
    qsim_version: str
    end_s: float
    events: int = 0  # events the clock scheduled during the run (a measure of its work)
