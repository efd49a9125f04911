"""The summary dict of SPEC §7, computed from the tables of one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qsim import accounting, tables
from qsim.tables import STATUSES

if TYPE_CHECKING:
    from qsim.result import RunResult


def summarize(result: RunResult) -> dict[str, Any]:
    """The run's summary: exactly the keys of SPEC §7 (later additions are extra keys).

    It works on numpy columns (``RunResult.job_arrays``) rather than the jobs DataFrame: a
    summary of a million jobs should not cost more than simulating them."""
    info, scenario, meta = result.info, result.info.scenario, result.meta
    jobs, windows = result.job_arrays, result.windows
    cal = result.calibrations
    busy = tables.qpu_intervals(jobs, cal["start_at"].to_numpy(), cal["end_at"].to_numpy(), meta)
    return {
        "scenario": scenario.name,
        "seed": info.seed,
        "qsim_version": info.qsim_version,
        "end_s": info.end_s,
        "workloads": [
            _workload(w, _rows(jobs, jobs["workload"] == index),
                      windows[windows["workload"] == w.name],
                      _rows(busy, busy["workload"] == index), scenario, info.end_s)
            for index, w in enumerate(scenario.workloads)
        ],
        "backend": {**_backend(busy, windows, info.end_s),
                    **_calibrations(cal["deferred_s"].to_numpy())},
    }


def _rows(columns: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {name: column[mask] for name, column in columns.items()}


def _workload(spec: Any, jobs: dict[str, np.ndarray], windows: pd.DataFrame,
              busy: dict[str, np.ndarray], scenario: Any, end_s: float) -> dict[str, Any]:
    mode = spec.mode.kind
    counts = np.bincount(jobs["status"], minlength=len(STATUSES))
    starts, ends = accounting.billed_windows(
        windows["start_at"].to_numpy(), windows["end_at"].to_numpy(), mode,
        scenario.accounting.session)
    idle = accounting.idle(starts, ends, busy["start_at"], busy["end_at"])
    usage = accounting.usage(mode, jobs["charged_s"], ends - starts)
    submitted = len(jobs["status"])
    ended = np.where(np.isnan(jobs["end_at"]), end_s, jobs["end_at"])
    return {
        "name": spec.name,
        "kind": spec.kind,
        "mode": mode,
        "instance": spec.instance,  # added: the fair-share allocation it draws on
        "share": float(spec.share),
        "jobs": {"submitted": submitted,
                 **{s: int(counts[code]) for code, s in enumerate(STATUSES)}},
        "usage_s": usage,
        "quantum_s": float(jobs["quantum_s"].sum()),
        "wall_time_s": float(ended.max() - jobs["submit_at"].min()) if submitted else 0.0,
        "queue_wait_s": float(jobs["queue_wait_s"].sum()),
        "first_queue_wait_s": float(jobs["queue_wait_s"][0]) if submitted else 0.0,
        "idle_s": idle.idle_s,
        "idle_gaps": idle.gaps,
        "longest_idle_gap_s": idle.longest_gap_s,
        "windows": len(starts),
        "cost_usd": usage * scenario.pricing.usd_per_second,
    }


def _backend(busy: dict[str, np.ndarray], windows: pd.DataFrame, end_s: float
             ) -> dict[str, float]:
    busy_start, busy_end = busy["start_at"], busy["end_at"]
    length = busy_end - busy_start
    total = float(np.sum(length))
    sessions = windows[windows["mode"] == "session"]
    reserved = float(sessions["length_s"].sum()) - accounting.busy_within(
        sessions["start_at"].to_numpy(), sessions["end_at"].to_numpy(), busy_start, busy_end)
    is_cal = busy["job"] < 0
    return {
        "qpu_busy_s": total,
        "qpu_reserved_idle_s": reserved,
        "qpu_free_s": end_s - total - reserved,
        "utilization": total / end_s if end_s > 0 else 0.0,
        "qpu_calibration_s": float(np.sum(length[is_cal])),
        "calibrations": int(is_cal.sum()),
    }


def _calibrations(deferred: np.ndarray) -> dict[str, float]:
    """How long calibrations waited past their due time (busy QPU or an active session)."""
    return {
        "calibration_deferred_s": float(deferred.sum()),
        "calibration_max_deferred_s": float(deferred.max()) if len(deferred) else 0.0,
    }
