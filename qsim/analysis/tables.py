"""The record log as tidy DataFrames: records, jobs, contexts, windows, QPU intervals.

Pure functions of a ``Trace`` and a little metadata (no SimPy), each one linear in the number
of records: every column is filled by one vectorised pass per record kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from qsim.trace import SYSTEM_ERROR, Columns, Kind, Trace

STATUSES = ("done", "failed", "cancelled", "incomplete")
_END_KINDS = (Kind.JOB_DONE, Kind.JOB_FAILED, Kind.JOB_CANCELLED, Kind.JOB_INCOMPLETE)
_CONTEXT_CHANGES = (Kind.CONTEXT_OPEN, Kind.CONTEXT_ACTIVATE, Kind.CONTEXT_DEACTIVATE,
                    Kind.CONTEXT_DRAIN, Kind.CONTEXT_CLOSE)  # context.release ends a window
_STATE_AFTER = {
    Kind.CONTEXT_OPEN: "open", Kind.CONTEXT_ACTIVATE: "active",
    Kind.CONTEXT_DEACTIVATE: "inactive", Kind.CONTEXT_CLOSE: "closed",
}


@dataclass(frozen=True)
class TraceMeta:
    """What the tables need to know beyond the records."""

    workloads: tuple[str, ...]  # names, by workload index
    modes: tuple[str, ...]  # job | batch | session, by workload index
    legacy_lock: bool  # job_lock: all — the QPU is held from dispatch to the job's end
    end_s: float


def _columns(trace: Trace) -> Columns:
    return trace.columns()


def records_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Every record, in order: ``t, seq, kind, job, context, workload, info``."""
    cols = _columns(trace)
    labels = np.array([k.label for k in Kind], dtype=object)
    info = np.full(len(trace), None, dtype=object)
    for seq, value in trace.info.items():
        info[seq] = value
    return pd.DataFrame({
        "t": cols["t"], "seq": np.arange(len(trace)), "kind": labels[cols["kind"]],
        "job": cols["job"], "context": cols["context"],
        "workload": _names(cols["workload"], meta.workloads), "info": info,
    })


def _names(index: np.ndarray,
           names: tuple[str, ...] | list[str]) -> pd.api.extensions.ExtensionArray:
    """The text column of ``names[index]`` (-1: missing), built by Arrow: pandas' own
    conversion of a million Python strings took a tenth of a second per column."""
    taken = pa.array(list(names), pa.large_string()).take(pa.array(index, mask=index < 0))
    return pd.array(taken, dtype="str")


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column from Python strings and ``None`` (missing)."""
    return pd.array(pa.array(values, pa.large_string()), dtype="str")


def job_arrays(trace: Trace, meta: TraceMeta) -> dict[str, np.ndarray]:
    """The jobs table as numpy columns, in job order: ``workload`` as its index and
    ``status`` as its place in ``STATUSES`` (the summary works on these, not on strings).

    Written for a log of millions of records: one pass per record kind and few temporaries
    (fresh memory is much of what a large table costs)."""
    cols = _columns(trace)
    kind, t = cols.kind, cols.t
    # Row indices rather than boolean masks: numpy takes by index faster than by mask.
    submitted = np.flatnonzero(kind == Kind.JOB_SUBMIT)
    submit_at = t[submitted]  # submissions are logged in job order
    n = len(submit_at)

    def time_of(record_kind: Kind) -> np.ndarray:
        out = np.full(n, np.nan)
        rows = np.flatnonzero(kind == record_kind)
        out[cols.field("job", rows)] = t[rows]
        return out

    dispatch, qpu_start, qpu_end = (time_of(k) for k in (
        Kind.JOB_DISPATCH, Kind.QPU_START, Kind.QPU_END))
    ended = np.flatnonzero((kind >= Kind.JOB_DONE) & (kind <= Kind.JOB_INCOMPLETE))
    ended_job = cols.field("job", ended)
    end_at = np.full(n, np.nan)
    end_at[ended_job] = t[ended]
    status = np.full(n, -1, dtype=np.int8)  # -1: no end record (not in a finished run)
    status[ended_job] = kind[ended] - Kind.JOB_DONE  # _END_KINDS is in STATUSES' order
    quantum_s = np.where(np.isnan(qpu_end), end_at, qpu_end)
    quantum_s -= qpu_start
    np.nan_to_num(quantum_s, copy=False)
    if meta.legacy_lock:
        charged = np.nan_to_num(end_at - dispatch)
    else:
        charged = quantum_s.copy()
    jobs, reasons = reasons_given(trace, cols)
    charged[jobs[reasons == SYSTEM_ERROR]] = 0.0  # system failures are not charged
    queue_wait = np.where(np.isnan(dispatch), end_at, dispatch)
    queue_wait -= submit_at
    ready = time_of(Kind.JOB_READY)
    # Ready for the QPU until it started there, or ended without (failed, cancelled, cut off).
    qpu_wait = np.where(np.isnan(qpu_start), np.where(np.isnan(end_at), meta.end_s, end_at),
                        qpu_start)
    qpu_wait -= ready
    np.nan_to_num(qpu_wait, copy=False)  # never ready: no wait for the QPU
    return {
        "workload": cols.field("workload", submitted),
        "context": cols.field("context", submitted),
        "submit_at": submit_at, "dispatch_at": dispatch, "ready_at": ready,
        "quantum_start_at": qpu_start, "quantum_end_at": qpu_end, "end_at": end_at,
        "status": status, "queue_wait_s": queue_wait, "qpu_wait_s": qpu_wait,
        "quantum_s": quantum_s,
        "charged_s": charged,
    }


def reasons_given(trace: Trace, cols: Columns) -> tuple[np.ndarray, np.ndarray]:
    """The failed or cancelled jobs and their reasons (only their records carry one)."""
    rows = np.array([seq for seq in trace.info
                     if cols.kind[seq] in (Kind.JOB_FAILED, Kind.JOB_CANCELLED)], dtype=np.int64)
    reasons = np.array([trace.info[seq] for seq in rows.tolist()], dtype=object)
    return cols.field("job", rows), reasons


def _reasons(trace: Trace, n: int) -> np.ndarray:
    """The reason of every failed or cancelled job (None for the others)."""
    jobs, reasons = reasons_given(trace, _columns(trace))
    reason = np.full(n, None, dtype=object)
    reason[jobs] = reasons
    return reason


def jobs_frame(trace: Trace, meta: TraceMeta,
               arrays: dict[str, np.ndarray] | pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per submitted job, in queue order (the job id).

    ``arrays``: ``job_arrays`` of the same trace, if already computed. Given as a DataFrame
    over their memory (``RunResult`` keeps one), the table shares that memory and pandas
    copies a column only when someone writes to it: copying them all took a quarter of a
    second at a million jobs, on memory fresh from the system. A dict of arrays is copied."""
    if arrays is None:
        a: dict[str, np.ndarray] | pd.DataFrame = job_arrays(trace, meta)  # ours alone
    else:
        a = arrays if isinstance(arrays, pd.DataFrame) else pd.DataFrame(arrays)
    n = len(a["status"])
    done = np.asarray(a["status"]) == 0
    return pd.DataFrame({
        "job": np.arange(n),
        "workload": _names(np.asarray(a["workload"]), meta.workloads),
        "context": a["context"],
        "submit_at": a["submit_at"],
        "dispatch_at": a["dispatch_at"],
        "compile_start_at": np.array(a["dispatch_at"]),  # its own copy: two names, one column
        "compile_end_at": a["ready_at"],
        "quantum_start_at": a["quantum_start_at"],
        "quantum_end_at": a["quantum_end_at"],
        "post_start_at": np.where(done, a["quantum_end_at"], np.nan),
        "post_end_at": np.where(done, a["end_at"], np.nan),
        "end_at": a["end_at"],
        # -1 (no end record) reads as the last, incomplete
        "status": _names(np.asarray(a["status"]) % len(STATUSES), STATUSES),
        "reason": _text(_reasons(trace, n)),
        "queue_wait_s": a["queue_wait_s"],
        "qpu_wait_s": a["qpu_wait_s"],
        "quantum_s": a["quantum_s"],
        "charged_s": a["charged_s"],
    }, copy=False)


def contexts_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Every state change of every batch and session: ``context, workload, mode, at,
    change, state, accepting_jobs``."""
    cols = _columns(trace)
    rows = cols.rows_of(*_CONTEXT_CHANGES)
    state: dict[int, str] = {}
    accepting: dict[int, bool] = {}
    out = []
    for kind, ctx, wl, t in zip(cols.kind[rows].tolist(), cols.field("context", rows).tolist(),
                                cols.field("workload", rows).tolist(), cols.t[rows].tolist()):
        change = Kind(kind)
        state[ctx] = _STATE_AFTER.get(change, state.get(ctx, "open"))
        if change in (Kind.CONTEXT_DRAIN, Kind.CONTEXT_CLOSE):
            accepting[ctx] = False
        out.append((ctx, meta.workloads[wl], meta.modes[wl], t, change.label.split(".")[1],
                    state[ctx], accepting.get(ctx, True)))
    return pd.DataFrame(out, columns=[
        "context", "workload", "mode", "at", "change", "state", "accepting_jobs"])


def windows_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Active windows: ``context, workload, mode, start_at, end_at, length_s`` in start order."""
    cols = _columns(trace)
    opened: dict[int, float] = {}
    out = []
    rows = cols.rows_of(Kind.CONTEXT_ACTIVATE, Kind.CONTEXT_RELEASE)
    for kind, ctx, wl, t in zip(cols.kind[rows].tolist(), cols.field("context", rows).tolist(),
                                cols.field("workload", rows).tolist(), cols.t[rows].tolist()):
        if kind == Kind.CONTEXT_ACTIVATE:
            opened[ctx] = t
            continue
        start = opened.pop(ctx)
        out.append((ctx, meta.workloads[wl], meta.modes[wl], start, t, t - start))
    frame = pd.DataFrame(out, columns=[
        "context", "workload", "mode", "start_at", "end_at", "length_s"])
    return frame.sort_values(["start_at", "context"], kind="stable").reset_index(drop=True)


def _calibration_times(cols: Columns, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every calibration; one still running at the end ends there."""
    start = cols.t[cols.rows_of(Kind.CALIBRATION_START)]
    end = cols.t[cols.rows_of(Kind.CALIBRATION_END)]
    return start, np.concatenate([end, np.full(len(start) - len(end), end_s)])


def qpu_intervals(arrays: dict[str, np.ndarray], cal_start: np.ndarray, cal_end: np.ndarray,
                  meta: TraceMeta) -> dict[str, np.ndarray]:
    """What held the QPU, when, sorted by start: ``start_at, end_at, job, workload, context``
    (job -1 for a calibration). Under the legacy lock a job holds it from dispatch to its end;
    anything still holding it at the end of the run holds it until then."""
    first, last = (arrays["dispatch_at"], arrays["end_at"]) if meta.legacy_lock else (
        arrays["quantum_start_at"], arrays["quantum_end_at"])
    held = np.flatnonzero(~np.isnan(first))
    end = np.where(np.isnan(last[held]), arrays["end_at"][held], last[held])
    end = np.where(np.isnan(end), meta.end_s, end)
    no = np.full(len(cal_start), -1)
    start = np.concatenate([first[held], cal_start])
    order = np.argsort(start, kind="stable")
    return {
        "start_at": start[order],
        "end_at": np.concatenate([end, cal_end])[order],
        "job": np.concatenate([held, no])[order],
        "workload": np.concatenate([arrays["workload"][held], no])[order],
        "context": np.concatenate([arrays["context"][held], no])[order],
    }


def intervals_frame(trace: Trace, meta: TraceMeta,
                    arrays: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """What held the QPU, when: ``start_at, end_at, length_s, what, job, workload, context``
    (``what`` is job or calibration), sorted by start. ``arrays``: ``job_arrays`` of the same
    trace, if already computed."""
    a = job_arrays(trace, meta) if arrays is None else arrays
    iv = qpu_intervals(a, *_calibration_times(_columns(trace), meta.end_s), meta)
    return pd.DataFrame({  # fresh arrays, the frame's alone: no copy
        "start_at": iv["start_at"], "end_at": iv["end_at"],
        "length_s": iv["end_at"] - iv["start_at"],
        "what": _names((iv["job"] >= 0).astype(np.int64), ("calibration", "job")),
        "job": iv["job"], "workload": _names(iv["workload"], meta.workloads),
        "context": iv["context"],
    }, copy=False)


def calibrations_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Calibrations: ``due_at, start_at, end_at, deferred_s`` (how long a session or busy QPU
    pushed each one back)."""
    cols = _columns(trace)
    starts = cols.rows_of(Kind.CALIBRATION_START)
    due = np.array([trace.info[int(s)] for s in starts], dtype=np.float64)
    start, end = _calibration_times(cols, meta.end_s)
    return pd.DataFrame({"due_at": due, "start_at": start, "end_at": end,
                         "deferred_s": start - due})
