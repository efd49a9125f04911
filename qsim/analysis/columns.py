"""The record log as numpy columns: jobs, active windows, calibrations, what held the QPU.

The summary works on these alone (no pandas: ``qsim run --json`` never imports it); the
DataFrames of ``tables`` are built from them. Pure functions of a ``Trace`` and a little
metadata (no SimPy), each one linear in the number of records: every column is filled by one
vectorised pass per record kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np

from qsim.records.log import (
    CHUNK,
    COST_LIMIT,
    UNCHARGED_REASONS,
    USER_ERROR,
    Columns,
    Kind,
    Trace,
)

STATUSES = ("done", "failed", "cancelled", "incomplete")


@dataclass(frozen=True)
class TraceMeta:
    """What the tables need to know beyond the records."""

    workloads: tuple[str, ...]  # names, by workload index
    modes: tuple[str, ...]  # job | batch | session, by workload index
    legacy_lock: bool  # job_lock: all — the QPU is held from dispatch to the job's end
    end_s: float
    # SPEC §18: the backends' names when there are several (a job's backend is in the log);
    # empty with one, whose tables have no backend column.
    backends: tuple[str, ...] = ()
    # SPEC §19: per workload, the least a user failure in the quantum phase is charged
    # (Scenario.failure_charges); empty: none.
    failure_charge: tuple[float, ...] = ()


def _columns(trace: Trace) -> Columns:
    return trace.columns()


def _chunks(cols: Columns) -> Iterator[Columns]:
    kind = cols.kind  # decoded once for the whole log (every table reads it), then sliced
    for lo in range(0, len(cols.t), CHUNK):
        yield Columns(cols.t[lo:lo + CHUNK], cols.code[lo:lo + CHUNK], kind[lo:lo + CHUNK])


# The job records' times scattered in one pass: each kind's place among the time columns of
# ``job_arrays`` (the four end kinds share the last); other kinds (a hold, a context's or the
# backend's records) go to one cell past them all.
_TIME_COLUMNS: Final = ("submit_at", "dispatch_at", "ready_at", "quantum_start_at",
                        "quantum_end_at", "end_at")
_TIME_COLUMN_OF: Final = np.array(
    [0, 1, 2, 3, 4, 5, 5, 5, 5] + [len(_TIME_COLUMNS)] * (len(Kind) - Kind.JOB_INCOMPLETE - 1),
    np.int64)
_OF_A_JOB: Final = np.arange(len(Kind)) <= Kind.JOB_INCOMPLETE  # by kind: has a time column


def job_arrays(trace: Trace, meta: TraceMeta) -> dict[str, np.ndarray]:
    """The jobs table as numpy columns, in job order: ``workload`` as its index and
    ``status`` as its place in ``STATUSES`` (the summary works on these, not on strings).

    Written for a log of millions of records: one pass over the log, a chunk at a time,
    scattering every record's time into its job's cell of its kind's column at once (the six
    time columns are one block of memory: a cell's place is its column's start plus its job),
    and the submissions' and ends' fields by index."""
    cols = _columns(trace)
    n = sum(int(np.count_nonzero(chunk.kind == Kind.JOB_SUBMIT)) for chunk in _chunks(cols))
    # n cells a column, then the one that the records of other kinds all write
    block = np.full(len(_TIME_COLUMNS) * n + 1, np.nan)
    # A kind's record of job j goes to first[kind] + j; a record of another kind, or of no
    # job (j = -1), to the last cell or past it (then to the last).
    first = np.where(_OF_A_JOB, _TIME_COLUMN_OF * n, len(_TIME_COLUMNS) * n + 1)
    status = np.full(n, -1, dtype=np.int8)  # -1: no end record (not in a finished run)
    workload, context = np.empty(n, np.int64), np.empty(n, np.int64)
    for chunk in _chunks(cols):
        kind = chunk.kind
        cell = chunk.field("job", slice(None))
        cell += first[kind]
        np.minimum(cell, len(block) - 1, out=cell)
        block[cell] = chunk.t
        rows = np.flatnonzero(kind == Kind.JOB_SUBMIT)
        job = chunk.field("job", rows)
        workload[job] = chunk.field("workload", rows)
        context[job] = chunk.field("context", rows)
        rows = np.flatnonzero((kind >= Kind.JOB_DONE) & (kind <= Kind.JOB_INCOMPLETE))
        status[chunk.field("job", rows)] = kind[rows] - Kind.JOB_DONE  # in STATUSES' order
    submit_at, dispatch, ready, qpu_start, qpu_end, end_at = (
        block[i * n:(i + 1) * n] for i in range(len(_TIME_COLUMNS)))
    quantum_s, queue_wait, qpu_wait = _durations(submit_at, dispatch, ready, qpu_start, qpu_end,
                                                 end_at, meta.end_s)
    charged = np.nan_to_num(end_at - dispatch) if meta.legacy_lock else quantum_s.copy()
    jobs, reasons = reasons_given(trace, cols)
    # system failures and jobs an outage failed are not charged (SPEC §6, §16)
    charged[jobs[np.isin(reasons, list(UNCHARGED_REASONS))]] = 0.0
    if any(meta.failure_charge):
        # a user failure, or a job a cost limit stopped there (SPEC §19)
        _charge_at_least(charged, jobs[(reasons == USER_ERROR) | (reasons == COST_LIMIT)],
                         qpu_start, workload,
                         meta.failure_charge)
    return {
        "workload": workload, "context": context,
        "submit_at": submit_at, "dispatch_at": dispatch, "ready_at": ready,
        "quantum_start_at": qpu_start, "quantum_end_at": qpu_end, "end_at": end_at,
        "status": status, "queue_wait_s": queue_wait, "qpu_wait_s": qpu_wait,
        "quantum_s": quantum_s,
        "charged_s": charged,
    }


def _durations(submit_at: np.ndarray, dispatch: np.ndarray, ready: np.ndarray,
               qpu_start: np.ndarray, qpu_end: np.ndarray, end_at: np.ndarray, end_s: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each job's ``quantum_s``, ``queue_wait_s`` and ``qpu_wait_s`` from its times, a chunk
    of jobs at a time: the masks they need are then temporaries the allocator reuses, where
    whole-run ones were fresh memory at 10M jobs (a page fault every 4 kB; about 20 bytes a
    job here). Each cell is its own job's arithmetic, the same in any chunking."""
    n = len(submit_at)
    quantum_s, queue_wait, qpu_wait = np.empty(n), np.empty(n), np.empty(n)
    for lo in range(0, n, CHUNK):
        at = slice(lo, lo + CHUNK)
        end, started = end_at[at], qpu_start[at]
        # On the QPU until its quantum phase ended, or the job did (failed there, cut off).
        quantum = quantum_s[at]
        np.copyto(quantum, qpu_end[at])
        np.copyto(quantum, end, where=np.isnan(quantum))
        quantum -= started
        np.nan_to_num(quantum, copy=False)  # never on the QPU: no quantum time
        # Queued until dispatched, or ended without (cancelled, cut off).
        queued = queue_wait[at]
        np.copyto(queued, dispatch[at])
        np.copyto(queued, end, where=np.isnan(queued))
        queued -= submit_at[at]
        # Ready for the QPU until it started there, or ended without (failed, cancelled, cut
        # off; unended: the run's end).
        waited = qpu_wait[at]
        np.copyto(waited, end)
        waited[np.isnan(end)] = end_s
        np.copyto(waited, started, where=~np.isnan(started))
        waited -= ready[at]
        np.nan_to_num(waited, copy=False)  # never ready: no wait for the QPU
    return quantum_s, queue_wait, qpu_wait


def _charge_at_least(charged: np.ndarray, failed: np.ndarray, qpu_start: np.ndarray,
                     workload: np.ndarray, least: tuple[float, ...]) -> None:
    """A user failure that reached the QPU (a quantum-stage one: a compile-stage one never
    starts there) is charged at least its workload's overhead (SPEC §19), in place."""
    failed = failed[~np.isnan(qpu_start[failed])]
    minimum = np.asarray(least)[workload[failed]]
    charged[failed] = np.maximum(charged[failed], minimum)


def reasons_given(trace: Trace, cols: Columns) -> tuple[np.ndarray, np.ndarray]:
    """The failed, cancelled or incomplete jobs and their reasons (only their records carry
    one; an incomplete job only when a usage limit held it, SPEC §19)."""
    given = np.fromiter(trace.info, np.int64, len(trace.info))
    kind = Columns(cols.t[given], cols.code[given]).kind
    rows = given[(kind >= Kind.JOB_FAILED) & (kind <= Kind.JOB_INCOMPLETE)]
    reasons = np.array([trace.info[seq] for seq in rows.tolist()], dtype=object)
    return cols.field("job", rows), reasons


def close_reasons(trace: Trace, cols: Columns) -> tuple[np.ndarray, np.ndarray]:
    """The workloads whose batch or session a timer closed (max_time, cancel_at), and
    why: jobs they submit later are cancelled as submitted to a closed context."""
    given = np.fromiter(trace.info, np.int64, len(trace.info))
    rows = given[Columns(cols.t[given], cols.code[given]).kind == Kind.CONTEXT_CLOSE]
    reasons = np.array([trace.info[seq] for seq in rows.tolist()], dtype=object)
    return cols.field("workload", rows), reasons


def window_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """Active windows: ``context, workload`` (its index), ``start_at, end_at``, in start
    order (then context)."""
    cols = _columns(trace)
    opened: dict[int, float] = {}
    out = []
    rows = cols.rows_of(Kind.CONTEXT_ACTIVATE, Kind.CONTEXT_RELEASE)
    for kind, ctx, wl, t in zip(cols.kind[rows].tolist(), cols.field("context", rows).tolist(),
                                cols.field("workload", rows).tolist(), cols.t[rows].tolist()):
        if kind == Kind.CONTEXT_ACTIVATE:
            opened[ctx] = t
            continue
        out.append((ctx, wl, opened.pop(ctx), t))
    table = np.array(out, dtype=float).reshape(-1, 4)
    context, workload = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    order = np.lexsort((context, table[:, 2]))  # stable: by start, then context
    return {"context": context[order], "workload": workload[order],
            "start_at": table[order, 2], "end_at": table[order, 3]}


def calibration_arrays(trace: Trace, end_s: float) -> dict[str, np.ndarray]:
    """Calibrations: ``due_at, start_at, end_at`` (one still running at the end ends
    there); with several backends (SPEC §18), also ``backend`` (its index)."""
    cols = _columns(trace)
    starts = cols.rows_of(Kind.CALIBRATION_START)
    due = np.array([trace.info[int(s)] for s in starts], dtype=np.float64)
    if trace.job_backend is not None:
        start, end, backend = paired_by_backend(trace, Kind.CALIBRATION_START,
                                                Kind.CALIBRATION_END, end_s)
        return {"due_at": due, "start_at": start, "end_at": end, "backend": backend}
    start, end = calibration_times(cols, end_s)
    return {"due_at": due, "start_at": start, "end_at": end}


def record_backends(trace: Trace, rows: np.ndarray) -> np.ndarray:
    """The backend of each of these records of a backend itself (calibrations, outages):
    the log names it for backends after the first only."""
    of = trace.backend_of
    return np.array([of.get(row, 0) for row in rows.tolist()], dtype=np.int64)


def paired_by_backend(trace: Trace, start_kind: Kind, end_kind: Kind, end_s: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end of every span of a backend (a calibration, an outage) with several
    backends, in the log's order of starts: each backend's k-th end ends its k-th start (two
    backends' spans overlap, so the log's k-th end need not); one still under way at the
    end ends there. Also each one's backend."""
    cols = _columns(trace)
    starts, ends = cols.rows_of(start_kind), cols.rows_of(end_kind)
    start_backend, end_backend = record_backends(trace, starts), record_backends(trace, ends)
    end = np.full(len(starts), end_s)
    for backend in np.unique(start_backend).tolist():
        mine = np.flatnonzero(start_backend == backend)
        ended = ends[end_backend == backend]
        end[mine[:len(ended)]] = cols.t[ended]
    return cols.t[starts], end, start_backend


def calibration_times(cols: Columns, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every calibration; one still running at the end ends there."""
    start = cols.t[cols.rows_of(Kind.CALIBRATION_START)]
    end = cols.t[cols.rows_of(Kind.CALIBRATION_END)]
    return start, np.concatenate([end, np.full(len(start) - len(end), end_s)])


def outage_arrays(trace: Trace, end_s: float) -> dict[str, np.ndarray]:
    """Outages (SPEC §16), merged as the model ran them: ``start_at, end_at`` (one still under
    way at the end ends there)."""
    cols = _columns(trace)
    if trace.job_backend is not None:
        start, end, backend = paired_by_backend(trace, Kind.OUTAGE_START, Kind.OUTAGE_END,
                                                end_s)
        return {"start_at": start, "end_at": end, "backend": backend}
    start = cols.t[cols.rows_of(Kind.OUTAGE_START)]
    end = cols.t[cols.rows_of(Kind.OUTAGE_END)]
    return {"start_at": start,
            "end_at": np.concatenate([end, np.full(len(start) - len(end), end_s)])}


def job_backends(trace: Trace) -> np.ndarray:
    """Each job's backend (its index), by job id; with one backend, all 0."""
    if trace.job_backend is None:
        count = int(np.count_nonzero(_columns(trace).kind == Kind.JOB_SUBMIT))
        return np.zeros(count, np.int64)
    return np.frombuffer(trace.job_backend, np.uint8).astype(np.int64)


def interval_backends(intervals: dict[str, np.ndarray], job_backend: np.ndarray,
                      cal_backend: np.ndarray) -> np.ndarray:
    """The backend of each row of ``qpu_intervals``: its job's, or (a calibration, job -1,
    in the calibrations' order) the calibration's."""
    job = intervals["job"]
    if not len(job_backend):
        return cal_backend.astype(np.int64)  # no jobs: every row a calibration, in order
    # one gather for all rows (a calibration's job -1 reads the last job's, written over)
    out: np.ndarray = job_backend[job]
    out[job < 0] = cal_backend
    return out


def qpu_order(trace: Trace, meta: TraceMeta) -> np.ndarray:
    """The jobs that took the QPU, in the order they took it: the log's order of their
    QPU-start records (dispatch records under the legacy lock), which is time order."""
    took = Kind.JOB_DISPATCH if meta.legacy_lock else Kind.QPU_START
    # Counted first, then filled: the chunks' parts and their concatenation were twice the
    # result's memory, fresh at 10M jobs; a count over the kinds costs less than those pages.
    cols = _columns(trace)
    order = np.empty(sum(int(np.count_nonzero(chunk.kind == took)) for chunk in _chunks(cols)),
                     np.int64)
    at = 0
    for chunk in _chunks(cols):
        part = chunk.field("job", np.flatnonzero(chunk.kind == took))
        order[at:at + len(part)] = part
        at += len(part)
    return order


def qpu_intervals(arrays: dict[str, np.ndarray], cal_start: np.ndarray, cal_end: np.ndarray,
                  meta: TraceMeta, order: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What held the QPU, when, sorted by start (ties by job, then calibrations): ``start_at,
    end_at, job, workload, context`` (job -1 for a calibration). Under the legacy lock a job
    holds it from dispatch to its end; anything still holding it at the end of the run holds
    it until then. ``order``: ``qpu_order`` of the same trace, if known: with no two jobs
    taking the QPU at one instant, it is the sorted order, and no sort is needed (sorting
    millions of starts cost more per job the larger the run)."""
    first, last = (arrays["dispatch_at"], arrays["end_at"]) if meta.legacy_lock else (
        arrays["quantum_start_at"], arrays["quantum_end_at"])
    held = order if order is not None else np.flatnonzero(~np.isnan(first))
    start = first[held]
    if order is None or np.any(start[1:] <= start[:-1]):  # ties go by job: sort
        by_start = np.argsort(start, kind="stable") if order is None else np.lexsort(
            (held, start))
        held, start = held[by_start], start[by_start]
    if not len(held):  # nothing to gather from: the calibrations alone
        no = np.full(len(cal_start), -1, np.int64)
        return {"start_at": cal_start.copy(), "end_at": cal_end.copy(), "job": no,
                "workload": no.copy(), "context": no.copy()}
    # The calibrations' rows: each goes after the jobs that start when it does. Every column
    # is then one gather by row (a calibration's row reads job 0's cells), calibrations' cells
    # written over (one fresh array each).
    cal_rows = np.searchsorted(start, cal_start, side="right") + np.arange(len(cal_start))
    job = np.zeros(len(held) + len(cal_rows), np.int64)
    on_job = np.ones(len(job), bool)
    on_job[cal_rows] = False
    job[on_job] = held
    end = last[job]
    unended = on_job & np.isnan(end)
    end[unended] = arrays["end_at"][job[unended]]
    end[np.isnan(end)] = meta.end_s
    table = {"start_at": first[job], "end_at": end, "job": job,
             "workload": arrays["workload"][job], "context": arrays["context"][job]}
    for name, values in (("start_at", cal_start), ("end_at", cal_end), ("job", -1),
                         ("workload", -1), ("context", -1)):
        table[name][cal_rows] = values
    return table


