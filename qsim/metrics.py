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

    It works on numpy columns (``RunResult.job_arrays``) rather than the jobs DataFrame, and
    sums per workload in one pass: a summary of a million jobs should cost little next to
    simulating them."""
    info, scenario, meta = result.info, result.info.scenario, result.meta
    jobs, windows = result.job_arrays, result.windows
    cal = result.calibrations
    busy = tables.qpu_intervals(jobs, cal["start_at"].to_numpy(), cal["end_at"].to_numpy(), meta)
    sums = _sums_by_workload(jobs, len(scenario.workloads))
    return {
        "scenario": scenario.name,
        "seed": info.seed,
        "qsim_version": info.qsim_version,
        "end_s": info.end_s,
        "workloads": [
            _workload(w, index, jobs, sums, windows[windows["workload"] == w.name], busy,
                      scenario, info.end_s)
            for index, w in enumerate(scenario.workloads)
        ],
        "backend": {**_backend(busy, windows, info.end_s),
                    **_calibrations(cal["deferred_s"].to_numpy())},
    }


def _sums_by_workload(jobs: dict[str, np.ndarray], workloads: int) -> dict[str, np.ndarray]:
    index = jobs["workload"]
    statuses = len(STATUSES) + 1  # status -1 (no end record) counts nowhere
    counts = np.bincount(index * statuses + jobs["status"] + 1, minlength=workloads * statuses)
    sums = {"status": counts.reshape(workloads, statuses)[:, 1:]}
    for column in ("charged_s", "quantum_s", "queue_wait_s"):
        sums[column] = np.bincount(index, weights=jobs[column], minlength=workloads)
    return sums


def _workload(spec: Any, index: int, all_jobs: dict[str, np.ndarray],
              sums: dict[str, np.ndarray], windows: pd.DataFrame,
              all_busy: dict[str, np.ndarray], scenario: Any, end_s: float) -> dict[str, Any]:
    mode = spec.mode.kind
    mine = all_jobs["workload"] == index
    submitted = int(np.count_nonzero(mine))
    starts, ends = accounting.billed_windows(
        windows["start_at"].to_numpy(), windows["end_at"].to_numpy(), mode,
        scenario.accounting.session)
    if len(starts):
        busy = all_busy["workload"] == index
        idle = accounting.idle(starts, ends, all_busy["start_at"][busy], all_busy["end_at"][busy])
    else:
        idle = accounting.Idle(0.0, 0, 0.0)  # no window, nothing reserved to idle in
    usage = accounting.usage(mode, sums["charged_s"][index], ends - starts)
    if submitted:
        first = int(np.argmax(mine))  # the workload's first job: the earliest submission
        end_at = all_jobs["end_at"][mine]
        last = end_s if np.isnan(end_at).any() else float(end_at.max())  # unended: runs to end
        wall = last - float(all_jobs["submit_at"][first])
        first_wait = float(all_jobs["queue_wait_s"][first])
    else:
        wall = first_wait = 0.0
    counts = sums["status"][index]
    return {
        "name": spec.name,
        "kind": spec.kind,
        "mode": mode,
        "instance": spec.instance,  # added: the fair-share allocation it draws on
        "share": float(spec.share),
        "jobs": {"submitted": submitted,
                 **{s: int(counts[code]) for code, s in enumerate(STATUSES)}},
        "usage_s": usage,
        "quantum_s": float(sums["quantum_s"][index]),
        "wall_time_s": wall,
        "queue_wait_s": float(sums["queue_wait_s"][index]),
        "first_queue_wait_s": first_wait,
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
