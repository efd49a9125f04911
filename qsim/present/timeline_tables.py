"""What the timeline reads of a run, as numpy columns: taken straight from a ``RunResult``'s
arrays (``from_result``: no pandas, which a plain ``qsim run --out`` then never imports, a
fifth of a second holding the GIL, and no DataFrames of a million rows to build), or from the
DataFrames a caller hands ``timeline_from_tables`` (``from_frames``).

Text the picture compares (a job's workload and status, an interval's workload, a change's
kind) is held as codes: ``workload`` indexes ``Tables.names`` (the colour order), ``status``
``STATUSES``, ``change`` ``CHANGES``; -1 where it is missing or not one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qsim.analysis.columns import STATUSES
from qsim.analysis.context_table import CHANGES

if TYPE_CHECKING:
    import pandas as pd

    from qsim.analysis.result import RunResult

__all__ = ["CHANGES", "STATUSES", "Tables", "from_frames", "from_result", "take"]

Columns = dict[str, np.ndarray]
_JOB_TIMES = ("submit_at", "dispatch_at", "compile_end_at", "quantum_start_at",
              "quantum_end_at", "end_at")


@dataclass(frozen=True)
class Tables:
    """``jobs``: job, workload, context, status and ``_JOB_TIMES``; ``windows``: context,
    workload, start_at, end_at; ``intervals``: start_at, end_at, workload and ``held`` (a
    job's, not a calibration's); ``calibrations``: start_at, end_at (due_at if known);
    ``contexts``: context, change, at (None: not known); ``idle``: the gaps' (start, end).
    ``ctx_rows``: (context, workload name) of each context row, in order of first window."""

    names: tuple[str, ...]
    jobs: Columns
    windows: Columns
    intervals: Columns
    calibrations: Mapping[str, np.ndarray]
    contexts: Columns | None
    idle: tuple[np.ndarray, np.ndarray]
    ctx_rows: list[tuple[int, str]]


def take(columns: Columns, rows: np.ndarray) -> Columns:
    """The rows ``rows`` (a mask or indices) of every column."""
    return {name: column[rows] for name, column in columns.items()}


def from_result(result: RunResult) -> Tables:
    """A one-backend run's tables, from the arrays the summary read (nothing copied)."""
    meta, a = result.meta, result.job_arrays
    jobs = {"job": np.arange(len(a["status"])), "workload": a["workload"],
            "context": a["context"], "status": a["status"] % len(STATUSES),  # -1: incomplete
            "submit_at": a["submit_at"], "dispatch_at": a["dispatch_at"],
            "compile_end_at": a["ready_at"], "quantum_start_at": a["quantum_start_at"],
            "quantum_end_at": a["quantum_end_at"], "end_at": a["end_at"]}
    w, busy, c = result.window_arrays, result.busy, result.context_arrays
    windows = {k: w[k] for k in ("context", "workload", "start_at", "end_at")}
    intervals = {"start_at": busy["start_at"], "end_at": busy["end_at"],
                 "workload": busy["workload"], "held": busy["job"] >= 0}
    contexts = {"context": c["context"], "change": c["change"], "at": c["at"]}
    gaps = result.gap_arrays
    workloads = meta.workloads
    ctx_rows = list(dict.fromkeys(zip(w["context"].tolist(),
                                      [workloads[k] for k in w["workload"].tolist()])))
    return Tables(workloads, jobs, windows, intervals, result.calibration_arrays, contexts,
                  (gaps["start_at"], gaps["end_at"]), ctx_rows)


def from_frames(names: Sequence[str], jobs: pd.DataFrame, windows: pd.DataFrame,
                intervals: pd.DataFrame, calibrations: pd.DataFrame,
                contexts: pd.DataFrame | None, idle: pd.DataFrame) -> Tables:
    """The tables of ``timeline_from_tables`` (columns as in ``RunResult``); ``names``: the
    workloads in colour order."""
    names = tuple(names)
    job_cols = {"job": jobs["job"].to_numpy(), "workload": codes(jobs["workload"], names),
                "context": jobs["context"].to_numpy(),
                "status": codes(jobs["status"], STATUSES),
                **{t: jobs[t].to_numpy(float) for t in _JOB_TIMES}}
    window_cols = {"context": windows["context"].to_numpy(),
                   "workload": codes(windows["workload"], names),
                   "start_at": windows["start_at"].to_numpy(float),
                   "end_at": windows["end_at"].to_numpy(float)}
    interval_cols = {"start_at": intervals["start_at"].to_numpy(float),
                     "end_at": intervals["end_at"].to_numpy(float),
                     "workload": codes(intervals["workload"], names),
                     "held": (intervals["what"] == "job").to_numpy(bool)}
    context_cols = None if contexts is None else {
        "context": contexts["context"].to_numpy(), "change": codes(contexts["change"], CHANGES),
        "at": contexts["at"].to_numpy(float)}
    ctx_rows = list(dict.fromkeys(zip(windows["context"], windows["workload"])))
    return Tables(names, job_cols, window_cols, interval_cols, calibrations, context_cols,
                  (idle["start_at"].to_numpy(float), idle["end_at"].to_numpy(float)), ctx_rows)


def codes(column: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Each row's text as its place in ``names`` (-1: not there, or missing)."""
    import pandas as pd

    found, uniques = pd.factorize(column)  # fast on Arrow strings, unlike a Categorical
    index: dict[Any, int] = {n: j for j, n in enumerate(names)}
    return np.asarray(np.array([index.get(u, -1) for u in uniques] + [-1], np.int64)[found])
