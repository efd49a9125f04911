"""What the limits of SPEC §19 did in a run, per instance, from the record log alone.

- ``limit_reached_at`` / ``cost_limit_reached_at``: the first ``limit.reached`` /
  ``costlimit.reached`` record naming the instance (None: never);
- ``held_s``: job-seconds held back, each ``job.hold`` to its ``job.release`` (or to the
  job's end: cancelled, or ``incomplete`` when the run ended);
- ``peak_window_usage_s``: the most usage the instance had booked within one window
  (``limit_window``; prior ``used`` included), booked as the model books it (SPEC §11): a
  job's charged time at its end in job and batch mode, a session window at its end. Over the
  limit by at most what was running when the limit was reached (the overshoot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import numpy as np

from qsim.analysis import columns
from qsim.records.log import COST_LIMIT, Columns, Kind, Trace

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.input.scenario import InstanceLimits


class LimitFigures(TypedDict, total=False):
    """The keys an instance with limits adds to its summary entry (SPEC §19)."""

    limit_s: float
    limit_window_s: float
    limit_reached_at: float | None
    held_s: float
    held_jobs: int
    peak_window_usage_s: float
    cost_limit_usd: float
    cost_limit_reached_at: float | None
    cost_cancelled: int


def limit_figures(result: RunResult) -> dict[str, LimitFigures]:
    """Each instance with a limit in force: what the limit did (module docstring)."""
    scenario = result.info.scenario
    limits = scenario.usage_limits
    if not limits:
        return {}
    trace, jobs = result.trace, result.job_arrays
    cols = trace.columns()
    instance_of = np.array([w.instance for w in scenario.workloads], dtype=object)
    job_instance = instance_of[jobs["workload"]] if len(jobs["workload"]) else \
        np.empty(0, dtype=object)
    reached = _first_reached(trace, cols)
    held, ever_held = _held_by_job(cols, jobs["end_at"], result.info.end_s)
    reason_jobs, reasons = columns.reasons_given(trace, cols)
    out: dict[str, LimitFigures] = {}
    for name, spec in limits.items():
        mine = job_instance == name
        figures: LimitFigures = {}
        if spec.limit_s is not None:
            figures["limit_s"] = spec.limit_s
            figures["limit_window_s"] = spec.window_s
            figures["limit_reached_at"] = reached.get((Kind.LIMIT_REACHED, name))
            figures["held_s"] = float(held[mine].sum())
            figures["held_jobs"] = int(np.count_nonzero(ever_held[mine]))
            figures["peak_window_usage_s"] = peak_window_usage(result, name, spec)
        if spec.cost_limit_usd is not None:
            cancelled = reason_jobs[reasons == COST_LIMIT]
            figures["cost_limit_usd"] = spec.cost_limit_usd
            figures["cost_limit_reached_at"] = reached.get((Kind.COSTLIMIT_REACHED, name))
            figures["cost_cancelled"] = int(np.count_nonzero(mine[cancelled]))
        out[name] = figures
    return out


def _first_reached(trace: Trace, cols: Columns) -> dict[tuple[int, str], float]:
    out: dict[tuple[int, str], float] = {}
    for row in cols.rows_of(Kind.LIMIT_REACHED, Kind.COSTLIMIT_REACHED).tolist():
        key = (int(cols.kind[row]), str(trace.info[row]))
        out.setdefault(key, float(cols.t[row]))
    return out


def _held_by_job(cols: Columns, end_at: np.ndarray, end_s: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Seconds each job was held (a hold to its release; a hold left open, to the job's end
    or the run's), and whether it ever was."""
    held = np.zeros(len(end_at))
    ends = np.where(np.isnan(end_at), end_s, end_at)
    holds = cols.rows_of(Kind.JOB_HOLD)
    releases = cols.rows_of(Kind.JOB_RELEASE)
    held_job, released_job = cols.field("job", holds), cols.field("job", releases)
    np.add.at(held, held_job, ends[held_job] - cols.t[holds])
    np.add.at(held, released_job, cols.t[releases] - ends[released_job])
    ever = np.zeros(len(end_at), dtype=bool)
    ever[held_job] = True
    return held, ever


def peak_window_usage(result: RunResult, instance: str, spec: InstanceLimits) -> float:
    """The most usage ``instance`` had booked within one ``limit_window`` (module docstring):
    at each booking, what was booked in the window ending there."""
    at, seconds = bookings(result, instance, spec.used_s)
    if not len(at):
        return 0.0
    order = np.argsort(at, kind="stable")
    at, seconds = at[order], seconds[order]
    cumulative = np.cumsum(seconds)
    # entries still in the window at a booking at t: booked after t - window (a booking at b
    # leaves at b + window, so it counts while t < b + window)
    first = np.searchsorted(at, at - spec.window_s, side="right")
    before = np.where(first > 0, cumulative[first - 1], 0.0)
    return float(np.max(cumulative - before))


def bookings(result: RunResult, instance: str, used_s: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """When usage was booked for ``instance`` and how much (SPEC §11's rule)."""
    scenario = result.info.scenario
    jobs, windows = result.job_arrays, result.window_arrays
    mine = [i for i, w in enumerate(scenario.workloads) if w.instance == instance]
    sessions = [i for i in mine if scenario.workloads[i].mode.kind == "session"]
    per_job = np.isin(jobs["workload"], mine) & ~(
        np.isin(jobs["workload"], sessions) & (jobs["context"] >= 0)) & ~np.isnan(jobs["end_at"])
    per_job &= jobs["status"] != 3  # an incomplete job is booked by nobody
    in_windows = np.isin(windows["workload"], sessions)
    at = np.concatenate([[0.0] if used_s else [], jobs["end_at"][per_job],
                         windows["end_at"][in_windows]])
    seconds = np.concatenate([[used_s] if used_s else [], jobs["charged_s"][per_job],
                              windows["end_at"][in_windows] - windows["start_at"][in_windows]])
    return at, seconds
