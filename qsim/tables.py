"""The record log as tidy DataFrames: records, jobs, contexts, windows, QPU intervals.

Pure functions of a ``Trace`` and a little metadata (no SimPy), each one linear in the number
of records: every column is filled by one vectorised pass per record kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qsim.trace import Kind, Trace

STATUSES = ("done", "failed", "cancelled", "incomplete")
_END_KINDS = (Kind.JOB_DONE, Kind.JOB_FAILED, Kind.JOB_CANCELLED, Kind.JOB_INCOMPLETE)
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


def _columns(trace: Trace) -> dict[str, np.ndarray]:
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


def _names(index: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    lookup = np.array(list(names) + [None], dtype=object)  # -1 -> None
    return lookup[index]


def job_arrays(trace: Trace, meta: TraceMeta) -> dict[str, np.ndarray]:
    """The jobs table as numpy columns, in job order: ``workload`` as its index and
    ``status`` as its place in ``STATUSES`` (the summary works on these, not on strings)."""
    cols = _columns(trace)
    kind, job, t = cols["kind"], cols["job"], cols["t"]
    submitted = kind == Kind.JOB_SUBMIT
    n = int(submitted.sum())
    # A job has at most one record of each kind: one scatter fills a (kind, job) table of
    # the kinds before its end.
    of_job = job >= 0
    timed = of_job & (kind <= Kind.QPU_END)
    at = np.full((Kind.QPU_END + 1, n), np.nan)
    at[kind[timed], job[timed]] = t[timed]
    ended = of_job & (kind >= Kind.JOB_DONE)
    status = np.full(n, -1, dtype=np.int64)
    status[job[ended]] = kind[ended] - Kind.JOB_DONE  # _END_KINDS is in STATUSES' order
    end_at = np.full(n, np.nan)
    end_at[job[ended]] = t[ended]
    reason = np.full(n, None, dtype=object)
    for seq, value in trace.info.items():
        if kind[seq] in (Kind.JOB_FAILED, Kind.JOB_CANCELLED):
            reason[job[seq]] = value
    submit, dispatch = at[Kind.JOB_SUBMIT], at[Kind.JOB_DISPATCH]
    qpu_start, qpu_end = at[Kind.QPU_START], at[Kind.QPU_END]
    quantum_end = np.where(np.isnan(qpu_end), end_at, qpu_end)
    quantum_s = np.nan_to_num(quantum_end - qpu_start)
    locked = np.nan_to_num(end_at - dispatch)
    charged = np.where(reason == "system_error", 0.0, locked if meta.legacy_lock else quantum_s)
    left_queue = np.where(np.isnan(dispatch), end_at, dispatch)
    return {
        "workload": cols["workload"][submitted],  # submissions are logged in job order
        "context": cols["context"][submitted],
        "submit_at": submit, "dispatch_at": dispatch, "ready_at": at[Kind.JOB_READY],
        "quantum_start_at": qpu_start, "quantum_end_at": qpu_end, "end_at": end_at,
        "status": status, "reason": reason, "queue_wait_s": left_queue - submit,
        "quantum_s": quantum_s, "charged_s": charged,
    }


def jobs_frame(trace: Trace, meta: TraceMeta,
               arrays: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per submitted job, in queue order (the job id). ``arrays``: ``job_arrays``
    of the same trace, if already computed."""
    a = job_arrays(trace, meta) if arrays is None else arrays
    done = a["status"] == 0
    return pd.DataFrame({
        "job": np.arange(len(a["status"])),
        "workload": _names(a["workload"], meta.workloads),
        "context": a["context"],
        "submit_at": a["submit_at"],
        "dispatch_at": a["dispatch_at"],
        "compile_start_at": a["dispatch_at"],
        "compile_end_at": a["ready_at"],
        "quantum_start_at": a["quantum_start_at"],
        "quantum_end_at": a["quantum_end_at"],
        "post_start_at": np.where(done, a["quantum_end_at"], np.nan),
        "post_end_at": np.where(done, a["end_at"], np.nan),
        "end_at": a["end_at"],
        "status": np.array(STATUSES, dtype=object)[a["status"]],
        "reason": a["reason"],
        "queue_wait_s": a["queue_wait_s"],
        "quantum_s": a["quantum_s"],
        "charged_s": a["charged_s"],
    })


def contexts_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Every state change of every batch and session: ``context, workload, mode, at,
    change, state, accepting_jobs``."""
    records = records_frame(trace, meta)
    rows = records[records["kind"].str.startswith("context.")]
    rows = rows[rows["kind"] != "context.release"]
    state, accepting, out = {}, {}, []
    for rec in rows.itertuples(index=False):
        kind = Kind[rec.kind.upper().replace(".", "_")]
        state[rec.context] = _STATE_AFTER.get(kind, state.get(rec.context, "open"))
        if kind in (Kind.CONTEXT_DRAIN, Kind.CONTEXT_CLOSE):
            accepting[rec.context] = False
        out.append((rec.context, rec.workload, meta.modes[meta.workloads.index(rec.workload)],
                    rec.t, rec.kind.split(".")[1], state[rec.context],
                    accepting.get(rec.context, True)))
    return pd.DataFrame(out, columns=[
        "context", "workload", "mode", "at", "change", "state", "accepting_jobs"])


def windows_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Active windows: ``context, workload, mode, start_at, end_at, length_s`` in start order."""
    cols = _columns(trace)
    opened: dict[int, float] = {}
    out = []
    starts = np.flatnonzero(np.isin(cols["kind"], (Kind.CONTEXT_ACTIVATE, Kind.CONTEXT_RELEASE)))
    for seq in starts:
        ctx, t = int(cols["context"][seq]), float(cols["t"][seq])
        if cols["kind"][seq] == Kind.CONTEXT_ACTIVATE:
            opened[ctx] = t
            continue
        start = opened.pop(ctx)
        wl = int(cols["workload"][seq])
        out.append((ctx, meta.workloads[wl], meta.modes[wl], start, t, t - start))
    frame = pd.DataFrame(out, columns=[
        "context", "workload", "mode", "start_at", "end_at", "length_s"])
    return frame.sort_values(["start_at", "context"], kind="stable").reset_index(drop=True)


def _calibration_times(cols: dict[str, np.ndarray], end_s: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every calibration; one still running at the end ends there."""
    start = cols["t"][cols["kind"] == Kind.CALIBRATION_START]
    end = cols["t"][cols["kind"] == Kind.CALIBRATION_END]
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
    return pd.DataFrame({
        "start_at": iv["start_at"], "end_at": iv["end_at"],
        "length_s": iv["end_at"] - iv["start_at"],
        "what": np.where(iv["job"] >= 0, "job", "calibration").astype(object),
        "job": iv["job"], "workload": _names(iv["workload"], meta.workloads),
        "context": iv["context"],
    })


def calibrations_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Calibrations: ``due_at, start_at, end_at, deferred_s`` (how long a session or busy QPU
    pushed each one back)."""
    cols = _columns(trace)
    starts = np.flatnonzero(cols["kind"] == Kind.CALIBRATION_START)
    due = np.array([trace.info[int(s)] for s in starts], dtype=np.float64)
    start, end = _calibration_times(cols, meta.end_s)
    return pd.DataFrame({"due_at": due, "start_at": start, "end_at": end,
                         "deferred_s": start - due})
