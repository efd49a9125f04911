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


def _time_of(cols: dict[str, np.ndarray], kind: Kind, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    mask = cols["kind"] == kind
    out[cols["job"][mask]] = cols["t"][mask]
    return out


def jobs_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """One row per submitted job, in queue order (the job id)."""
    cols = _columns(trace)
    submit_mask = cols["kind"] == Kind.JOB_SUBMIT
    n = int(submit_mask.sum())
    workload = np.empty(n, dtype=np.int64)
    workload[cols["job"][submit_mask]] = cols["workload"][submit_mask]
    context = np.empty(n, dtype=np.int64)
    context[cols["job"][submit_mask]] = cols["context"][submit_mask]
    at = {k: _time_of(cols, k, n) for k in (
        Kind.JOB_SUBMIT, Kind.JOB_DISPATCH, Kind.JOB_READY, Kind.QPU_START, Kind.QPU_END)}
    status = np.full(n, -1, dtype=np.int64)
    end_at = np.full(n, np.nan)
    for code, kind in enumerate(_END_KINDS):
        mask = cols["kind"] == kind
        status[cols["job"][mask]] = code
        end_at[cols["job"][mask]] = cols["t"][mask]
    reason = np.full(n, None, dtype=object)
    for seq, value in trace.info.items():
        if cols["kind"][seq] in (Kind.JOB_FAILED, Kind.JOB_CANCELLED):
            reason[cols["job"][seq]] = value
    done = status == 0
    quantum_end = np.where(np.isnan(at[Kind.QPU_END]), end_at, at[Kind.QPU_END])
    quantum_s = np.nan_to_num(quantum_end - at[Kind.QPU_START])
    locked = np.nan_to_num(end_at - at[Kind.JOB_DISPATCH])
    charged = np.where(reason == "system_error", 0.0, locked if meta.legacy_lock else quantum_s)
    left_queue = np.where(np.isnan(at[Kind.JOB_DISPATCH]), end_at, at[Kind.JOB_DISPATCH])
    return pd.DataFrame({
        "job": np.arange(n),
        "workload": _names(workload, meta.workloads),
        "context": context,
        "submit_at": at[Kind.JOB_SUBMIT],
        "dispatch_at": at[Kind.JOB_DISPATCH],
        "compile_start_at": at[Kind.JOB_DISPATCH],
        "compile_end_at": at[Kind.JOB_READY],
        "quantum_start_at": at[Kind.QPU_START],
        "quantum_end_at": at[Kind.QPU_END],
        "post_start_at": np.where(done, at[Kind.QPU_END], np.nan),
        "post_end_at": np.where(done, end_at, np.nan),
        "end_at": end_at,
        "status": np.array(STATUSES, dtype=object)[status],
        "reason": reason,
        "queue_wait_s": left_queue - at[Kind.JOB_SUBMIT],
        "quantum_s": quantum_s,
        "charged_s": charged,
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


def intervals_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """What held the QPU, when: ``start_at, end_at, length_s, what, job, workload, context``
    (``what`` is job or calibration), sorted by start. Under the legacy lock a job holds the
    QPU from dispatch to its end."""
    jobs = jobs_frame(trace, meta)
    first, last = ("dispatch_at", "end_at") if meta.legacy_lock else (
        "quantum_start_at", "quantum_end_at")
    held = jobs[jobs[first].notna()]
    end = held[last].fillna(held["end_at"]).fillna(meta.end_s)
    job_rows = pd.DataFrame({
        "start_at": held[first], "end_at": end, "what": "job", "job": held["job"],
        "workload": held["workload"], "context": held["context"],
    })
    cal_start, cal_end = _calibration_times(_columns(trace), meta.end_s)
    cal_rows = pd.DataFrame({
        "start_at": cal_start, "end_at": cal_end, "what": "calibration", "job": -1,
        "workload": None, "context": -1,
    })
    frame = pd.concat([job_rows, cal_rows], ignore_index=True) if len(cal_rows) else job_rows
    frame.insert(2, "length_s", frame["end_at"] - frame["start_at"])
    return frame.sort_values("start_at", kind="stable").reset_index(drop=True)


def calibrations_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Calibrations: ``due_at, start_at, end_at, deferred_s`` (how long a session or busy QPU
    pushed each one back)."""
    cols = _columns(trace)
    starts = np.flatnonzero(cols["kind"] == Kind.CALIBRATION_START)
    due = np.array([trace.info[int(s)] for s in starts], dtype=np.float64)
    start, end = _calibration_times(cols, meta.end_s)
    return pd.DataFrame({"due_at": due, "start_at": start, "end_at": end,
                         "deferred_s": start - due})
