"""The record log: the single source of truth of a run.

One row per event, ``(t, seq, kind, job, context, workload)`` plus an optional ``info`` (a
reason or a due time). Rows are kept in typed arrays (16 bytes a row) rather than tuples, so
a million-job run stays small; ``seq`` is the row's position, and ``(t, seq)`` is a total
order.
"""

from __future__ import annotations

from array import array
from enum import IntEnum
from typing import Iterator, NamedTuple

import numpy as np


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


class Trace:
    """Append-only log. ``-1`` stands for "none" in the job, context and workload columns.

    Rows are stored as a time array and a packed-code array (16 bytes a row); the columns
    ``kind``, ``job``, ``context`` and ``workload`` are unpacked on demand as numpy arrays.
    """

    MAX_WORKLOADS = _FIELD_MASK  # workloads and contexts each fit in 12 bits
    JOB_UNIT = 1 << _JOB_SHIFT  # job_code(j + 1, ...) - job_code(j, ...)

    def __init__(self) -> None:
        self.t = array("d")
        self.code = array("q")
        self.info: dict[int, object] = {}  # sparse: seq -> reason or due time
        self._columns: dict[str, np.ndarray] = {}
        self._columns_len = -1

    def __len__(self) -> int:
        return len(self.t)

    @staticmethod
    def job_code(job: int, context: int, workload: int) -> int:
        """A record's fields but its kind, packed: ``add_code(t, job_code | kind)`` logs it."""
        return (workload + 1) << _WORKLOAD_SHIFT | (context + 1) << _CONTEXT_SHIFT \
            | (job + 1) << _JOB_SHIFT

    def add(
        self, t: float, kind: Kind, job: int = -1, context: int = -1, workload: int = -1,
        info: object = None,
    ) -> None:
        if info is not None:
            self.info[len(self.t)] = info
        self.t.append(t)
        self.code.append(kind | self.job_code(job, context, workload))

    def add_incomplete(self, t: float) -> None:
        """Record ``job.incomplete`` at ``t`` for every job submitted and not ended, in job
        order: what was still queued or running when the run ended."""
        still_open = self._unended_submissions()
        self.t.extend([t] * len(still_open))
        self.code.extend((still_open - Kind.JOB_SUBMIT + Kind.JOB_INCOMPLETE).tolist())

    def _unended_submissions(self) -> np.ndarray:
        # A copy, not a view: an array exporting its buffer cannot grow.
        code = np.array(self.code, dtype=np.int64)
        kind = code & 63
        submitted = code[kind == Kind.JOB_SUBMIT]  # in job order: ids are submission order
        ended = np.zeros(len(submitted) + 1, dtype=bool)  # indexed by job + 1
        end_kinds = (Kind.JOB_DONE, Kind.JOB_FAILED, Kind.JOB_CANCELLED)
        ended[code[np.isin(kind, end_kinds)] >> _JOB_SHIFT] = True
        return submitted[~ended[1:]]

    def columns(self) -> dict[str, np.ndarray]:
        """The log as read-only numpy columns: ``t, kind, job, context, workload``.

        Built once per length of the log (every table asks for them), as copies, so the log
        can still grow."""
        if self._columns_len != len(self):
            code = np.array(self.code, dtype=np.int64)
            self._columns = {
                "t": np.array(self.t, dtype=np.float64),
                "kind": (code & 63).astype(np.int8),
                "job": (code >> _JOB_SHIFT) - 1,
                "context": ((code >> _CONTEXT_SHIFT) & _FIELD_MASK) - 1,
                "workload": ((code >> _WORKLOAD_SHIFT) & _FIELD_MASK) - 1,
            }
            for column in self._columns.values():
                column.flags.writeable = False
            self._columns_len = len(self)
        return self._columns

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
