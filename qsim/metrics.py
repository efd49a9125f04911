"""The summary dict of SPEC §7, computed from the tables of one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qsim import accounting
from qsim.tables import STATUSES

if TYPE_CHECKING:
    from qsim.result import RunResult


def summarize(result: RunResult) -> dict[str, Any]:
    """The run's summary: exactly the keys of SPEC §7 (later additions are extra keys)."""
    info, scenario = result.info, result.info.scenario
    jobs, windows, intervals = result.jobs, result.windows, result.intervals
    job_iv = intervals[intervals["what"] == "job"]
    return {
        "scenario": scenario.name,
        "seed": info.seed,
        "qsim_version": info.qsim_version,
        "end_s": info.end_s,
        "workloads": [
            _workload(w, jobs[jobs["workload"] == w.name], windows[windows["workload"] == w.name],
                      job_iv[job_iv["workload"] == w.name], scenario, info.end_s)
            for w in scenario.workloads
        ],
        "backend": {**_backend(intervals, windows, info.end_s),
                    **_calibrations(result.calibrations["deferred_s"].to_numpy())},
    }


def _workload(spec: Any, jobs: pd.DataFrame, windows: pd.DataFrame, busy: pd.DataFrame,
              scenario: Any, end_s: float) -> dict[str, Any]:
    mode = spec.mode.kind
    counts = jobs["status"].value_counts()
    starts, ends = accounting.billed_windows(
        windows["start_at"].to_numpy(), windows["end_at"].to_numpy(), mode,
        scenario.accounting.session)
    idle = accounting.idle(starts, ends, busy["start_at"].to_numpy(), busy["end_at"].to_numpy())
    usage = accounting.usage(mode, jobs["charged_s"].to_numpy(), ends - starts)
    ended = jobs["end_at"].fillna(end_s)
    return {
        "name": spec.name,
        "kind": spec.kind,
        "mode": mode,
        "instance": spec.instance,  # added: the fair-share allocation it draws on
        "share": float(spec.share),
        "jobs": {"submitted": len(jobs), **{s: int(counts.get(s, 0)) for s in STATUSES}},
        "usage_s": usage,
        "quantum_s": float(jobs["quantum_s"].sum()),
        "wall_time_s": float(ended.max() - jobs["submit_at"].min()) if len(jobs) else 0.0,
        "queue_wait_s": float(jobs["queue_wait_s"].sum()),
        "first_queue_wait_s": float(jobs["queue_wait_s"].iloc[0]) if len(jobs) else 0.0,
        "idle_s": idle.idle_s,
        "idle_gaps": idle.gaps,
        "longest_idle_gap_s": idle.longest_gap_s,
        "windows": len(starts),
        "cost_usd": usage * scenario.pricing.usd_per_second,
    }


def _backend(intervals: pd.DataFrame, windows: pd.DataFrame, end_s: float) -> dict[str, float]:
    busy_start = intervals["start_at"].to_numpy()
    busy_end = intervals["end_at"].to_numpy()
    busy = float(np.sum(busy_end - busy_start))
    sessions = windows[windows["mode"] == "session"]
    reserved = float(sessions["length_s"].sum()) - accounting.busy_within(
        sessions["start_at"].to_numpy(), sessions["end_at"].to_numpy(), busy_start, busy_end)
    is_cal = (intervals["what"] == "calibration").to_numpy()
    return {
        "qpu_busy_s": busy,
        "qpu_reserved_idle_s": reserved,
        "qpu_free_s": end_s - busy - reserved,
        "utilization": busy / end_s if end_s > 0 else 0.0,
        "qpu_calibration_s": float(np.sum((busy_end - busy_start)[is_cal])),
        "calibrations": int(is_cal.sum()),
    }


def _calibrations(deferred: np.ndarray) -> dict[str, float]:
    """How long calibrations waited past their due time (busy QPU or an active session)."""
    return {
        "calibration_deferred_s": float(deferred.sum()),
        "calibration_max_deferred_s": float(deferred.max()) if len(deferred) else 0.0,
    }
