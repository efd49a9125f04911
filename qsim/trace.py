"""The record log: the single source of truth of a run.

One row per event, ``(t, seq, kind, job, context, workload)`` plus an optional ``info`` (a
reason or a due time). Rows are kept in typed arrays (about 21 bytes a row) rather than
tuples, so a million-job run stays small; ``seq`` is the row's position, and ``(t, seq)`` is
a total order.
"""

from __future__ import annotations

from array import array
from enum import IntEnum
from typing import Iterator, NamedTuple


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


JOB_END_KINDS = (Kind.JOB_DONE, Kind.JOB_FAILED, Kind.JOB_CANCELLED, Kind.JOB_INCOMPLETE)


class Record(NamedTuple):
    t: float
    seq: int
    kind: str
    job: int
    context: int
    workload: int
    info: object


class Trace:
    """Append-only log. ``-1`` stands for "none" in the job, context and workload columns."""

    def __init__(self) -> None:
        self.t = array("d")
        self.kind = array("b")
        self.job = array("l")
        self.context = array("i")
        self.workload = array("i")
        self.info: dict[int, object] = {}  # sparse: seq -> reason or due time

    def __len__(self) -> int:
        return len(self.t)

    def add(
        self, t: float, kind: Kind, job: int = -1, context: int = -1, workload: int = -1,
        info: object = None,
    ) -> None:
        if info is not None:
            self.info[len(self.t)] = info
        self.t.append(t)
        self.kind.append(kind)
        self.job.append(job)
        self.context.append(context)
        self.workload.append(workload)

    def __iter__(self) -> Iterator[Record]:
        info = self.info
        for seq, (t, k, j, c, w) in enumerate(
            zip(self.t, self.kind, self.job, self.context, self.workload)
        ):
            yield Record(t, seq, Kind(k).label, j, c, w, info.get(seq))

    def rows(self) -> list[tuple[float, str, int]]:
        """``(t, kind, job)`` for every record: the shape timeline tests compare."""
        return [(r.t, r.kind, r.job) for r in self]
