"""The record log as tidy DataFrames: records, jobs, contexts, windows, QPU intervals, idle
gaps; and many summaries as one table.

Built from the numpy columns of ``columns`` (this module is the analysis' one pandas
importer, with ``sweeps``); pure functions of a ``Trace`` and a little metadata (no SimPy),
each one linear in the number of records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from qsim.analysis import accounting, context_table, job_table
from qsim.analysis.columns import (
    STATUSES,
    TraceMeta,
    calibration_arrays,
    interval_backends,
    job_arrays,
    job_backends,
    qpu_intervals,
    qpu_order,
    window_arrays,
)
from qsim.records.log import Kind, Trace

__all__ = ["STATUSES", "TraceMeta", "calibrations_frame", "contexts_frame", "entries_frame",
           "idle_gap_frame", "idle_gap_table", "intervals_frame", "jobs_frame", "records_frame",
           "summaries_frame", "windows_frame"]


def records_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Every record, in order: ``t, seq, kind, job, context, workload, info``."""
    cols = trace.columns()
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
    """The text column of ``names[index]`` (-1: missing), built by Arrow (``job_table``)."""
    return _str(job_table.names(index, names))


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column from Python strings and ``None`` (missing)."""
    return _str(pa.array(values, pa.large_string()))


def _str(text: Any) -> pd.api.extensions.ExtensionArray:
    if pa.types.is_dictionary(text.type):  # job_table.job_text's: the text itself here
        text = text.dictionary_decode()
    return pd.array(text, dtype="str")


def jobs_frame(trace: Trace, meta: TraceMeta,
               arrays: dict[str, np.ndarray] | pd.DataFrame | None = None,
               text: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per submitted job, in queue order (the job id): ``job_table.job_columns``.

    ``arrays``: ``job_arrays`` of the same trace, if already computed. Given as a DataFrame
    over their memory (``RunResult`` keeps one), the table shares that memory and pandas
    copies a column only when someone writes to it: copying them all took a quarter of a
    second at a million jobs, on memory fresh from the system. A dict of arrays is copied.
    ``text``: ``job_table.job_text`` of the same trace, if already computed."""
    if arrays is None:
        a: dict[str, np.ndarray] | pd.DataFrame = job_arrays(trace, meta)  # ours alone
    else:
        a = arrays if isinstance(arrays, pd.DataFrame) else pd.DataFrame(arrays)
    text = job_table.job_text(trace, meta, a) if text is None else text
    return pd.DataFrame({name: _str(column) if isinstance(column, pa.Array) else column
                         for name, column in job_table.job_columns(a, text).items()},
                        copy=False)


def contexts_frame(trace: Trace, meta: TraceMeta,
                   arrays: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Every state change of every batch and session: ``context, workload, mode, at,
    change, state, accepting_jobs`` (``context_table``, which --out writes without pandas).
    ``arrays``: ``context_table.context_arrays`` of the same trace, if already computed."""
    arrays = context_table.context_arrays(trace) if arrays is None else arrays
    columns = context_table.context_columns(arrays, meta)
    # made from rows of Python values, as it always was: the same dtypes, empty or not
    rows = list(zip(*(column.tolist() for column in columns.values())))
    return pd.DataFrame(rows, columns=list(columns))


def windows_frame(trace: Trace, meta: TraceMeta,
                  windows: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Active windows: ``context, workload, mode, start_at, end_at, length_s`` in start order.
    ``windows``: ``window_arrays`` of the same trace, if already computed."""
    w = window_arrays(trace) if windows is None else windows
    modes = np.array(meta.modes + ("",), dtype=object)  # -1 never happens: "" if it did
    return pd.DataFrame({
        "context": w["context"], "workload": _names(w["workload"], meta.workloads),
        "mode": _text(modes[w["workload"]]), "start_at": w["start_at"],
        "end_at": w["end_at"], "length_s": w["end_at"] - w["start_at"],
    })


def intervals_frame(trace: Trace, meta: TraceMeta,
                    arrays: dict[str, np.ndarray] | None = None,
                    busy: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """What held the QPU, when: ``start_at, end_at, length_s, what, job, workload, context``
    (``what`` is job or calibration), sorted by start. ``arrays``: ``job_arrays`` of the same
    trace, if already computed; ``busy``: its ``qpu_intervals``, if already computed (the
    summary's: copied, which is a tenth of the time of finding them again)."""
    cal = calibration_arrays(trace, meta.end_s)
    if busy is not None:
        iv = {name: np.array(column) for name, column in busy.items()}
    else:
        a = job_arrays(trace, meta) if arrays is None else arrays
        iv = qpu_intervals(a, cal["start_at"], cal["end_at"], meta, qpu_order(trace, meta))
    backend = {} if not meta.backends else {"backend": _names(
        interval_backends(iv, job_backends(trace), cal["backend"]), meta.backends)}
    return pd.DataFrame({  # fresh arrays, the frame's alone: no copy
        "start_at": iv["start_at"], "end_at": iv["end_at"],
        "length_s": iv["end_at"] - iv["start_at"],
        "what": _names((iv["job"] >= 0).astype(np.int64), ("calibration", "job")),
        "job": iv["job"], "workload": _names(iv["workload"], meta.workloads),
        "context": iv["context"], **backend,
    }, copy=False)


def calibrations_frame(trace: Trace, meta: TraceMeta) -> pd.DataFrame:
    """Calibrations: ``due_at, start_at, end_at, deferred_s`` (how long a session or busy QPU
    pushed each one back)."""
    cal = calibration_arrays(trace, meta.end_s)
    if meta.backends:  # SPEC §18: which backend's, by name
        cal = {**cal, "backend": _names(cal["backend"], meta.backends)}
    return pd.DataFrame({**cal, "deferred_s": cal["start_at"] - cal["due_at"]})


def idle_gap_frame(gaps: dict[str, np.ndarray], workloads: tuple[str, ...]) -> pd.DataFrame:
    """``accounting.idle_gap_arrays`` as a table: ``workload, start_at, end_at, length_s``."""
    return pd.DataFrame({"workload": _names(gaps["workload"], workloads),
                         "start_at": gaps["start_at"], "end_at": gaps["end_at"],
                         "length_s": gaps["end_at"] - gaps["start_at"]})


def idle_gap_table(windows: pd.DataFrame, busy: dict[str, np.ndarray], workloads: tuple[str, ...],
                   modes: tuple[str, ...], session_accounting: str) -> pd.DataFrame:
    """Every idle gap of every workload, from a windows table (``windows_frame``'s columns):
    ``accounting.idle_gap_arrays`` for tables that did not come from a run's record log."""
    index = {name: i for i, name in enumerate(workloads)}
    arrays = {"workload": windows["workload"].map(index).fillna(-1).to_numpy(np.int64),
              "start_at": windows["start_at"].to_numpy(float),
              "end_at": windows["end_at"].to_numpy(float)}
    gaps = accounting.idle_gap_arrays(arrays, busy, modes, session_accounting)
    return idle_gap_frame(gaps, workloads)


# ---- many summaries as one table ----------------------------------------------------------


def summaries_frame(summaries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run and workload, with every figure of its summary entry (counts of jobs
    as ``jobs_<status>``): the tidy form of many summaries."""
    return entries_frame([({"replication": r}, w)
                          for r, s in enumerate(summaries) for w in s["workloads"]])


def entries_frame(rows: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> pd.DataFrame:
    """One row per (labels, workload entry): the labels, then ``workload``, ``mode`` and every
    figure of the entry (counts of jobs as ``jobs_<status>``)."""
    return pd.DataFrame([
        {**labels, "workload": w["name"], "mode": w["mode"],
         **{f"jobs_{k}": v for k, v in w["jobs"].items()},
         **{k: v for k, v in w.items() if k not in ("name", "kind", "mode", "jobs")}}
        for labels, w in rows])
