"""Usage and idle time from the tables (SPEC §3, §6, §7): pure functions, no simulation.

- job and batch: usage is the sum of the jobs' charged quantum time;
- session: the sum of its active windows (``active_windows``), or one span from the first
  activation to the last window's end (``first_start_to_end``, paused gaps included);
- idle: inside the workload's billed windows, the time the QPU ran none of its jobs
  (``idle_gap_arrays``: the one derivation both the summary and the timeline use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAP_EPS_S = 1e-9  # gaps shorter than this are float noise, not idle time


@dataclass(frozen=True)
class Idle:
    idle_s: float
    gaps: int
    longest_gap_s: float

    @classmethod
    def of(cls, starts: list[float], ends: list[float]) -> Idle:
        lengths = [b - a for a, b in zip(starts, ends)]
        return cls(float(sum(lengths)), len(lengths), max(lengths, default=0.0))


def idle_gap_arrays(windows: dict[str, np.ndarray], busy: dict[str, np.ndarray],
                    modes: tuple[str, ...], session_accounting: str) -> dict[str, np.ndarray]:
    """Every idle gap of every workload: ``workload`` (its index), ``start_at, end_at``, in
    workload order then time, from the active windows (``columns.window_arrays``) and what
    held the QPU (``columns.qpu_intervals``). The summary's idle figures are sums over it and
    the timeline draws it, so the number and the picture cannot disagree."""
    owners, starts, ends = [], [], []
    for index, mode in enumerate(modes):
        own = windows["workload"] == index
        w0, w1 = billed_windows(windows["start_at"][own], windows["end_at"][own], mode,
                                session_accounting)
        if not len(w0):  # no windows (a stream's jobs in job mode): no gaps, and no pass over
            continue     # every QPU interval to find none (six such streams in a fleet)
        mine = busy["workload"] == index
        g0, g1 = idle_gaps(w0, w1, busy["start_at"][mine], busy["end_at"][mine])
        owners.append(np.full(len(g0), index, dtype=np.int64))
        starts.append(g0)
        ends.append(g1)
    return {"workload": np.concatenate([np.empty(0, np.int64), *owners]),
            "start_at": np.concatenate([np.empty(0), *starts]),
            "end_at": np.concatenate([np.empty(0), *ends])}


def billed_windows(starts: np.ndarray, ends: np.ndarray, mode: str, accounting: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The windows a workload is measured over: its active windows, or for a session under
    ``first_start_to_end`` one window spanning them all."""
    if mode == "session" and accounting == "first_start_to_end" and len(starts):
        return np.array([starts.min()]), np.array([ends.max()])
    return starts, ends


def usage(mode: str, charged_s: np.ndarray, window_lengths: np.ndarray) -> float:
    """The billed seconds of one workload, given its billed windows."""
    if mode == "session":
        return float(window_lengths.sum())
    return float(charged_s.sum())


def idle_gaps(win_start: np.ndarray, win_end: np.ndarray,
              busy_start: np.ndarray, busy_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inside the windows, the spans when the QPU ran none of the given (sorted, disjoint)
    busy intervals: the gaps SPEC §7 counts in ``idle_s``, and the ones the timeline hatches.
    """
    free_start = np.r_[-np.inf, busy_end]  # the complement of busy
    free_end = np.r_[busy_start, np.inf]
    order = np.argsort(win_start, kind="stable")
    return intersect(win_start[order], win_end[order], free_start, free_end)


def intersect(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Overlaps (longer than float noise) of two sorted lists of disjoint intervals: each
    interval of ``a`` finds its first overlapping ``b`` by bisection, so this is linear after
    the sort."""
    lo = np.searchsorted(b1, a0, side="right")  # first b ending after a starts
    hi = np.searchsorted(b0, a1, side="left")  # first b starting at or after a ends
    n = np.maximum(hi - lo, 0)
    ia = np.repeat(np.arange(len(a0)), n)
    ib = np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    s, e = np.maximum(a0[ia], b0[ib]), np.minimum(a1[ia], b1[ib])
    keep = e - s > GAP_EPS_S
    return s[keep], e[keep]


def busy_within(win_start: np.ndarray, win_end: np.ndarray,
                busy_start: np.ndarray, busy_end: np.ndarray) -> float:
    """Total length of the (sorted, disjoint) busy intervals that falls inside the windows."""
    if len(busy_start) == 0 or len(win_start) == 0:
        return 0.0
    # The busy time before each interval, up to the last one a window reaches (sessions
    # that end before the run reach only part of it), where three fresh arrays of the whole
    # run's length were made. A cumulative sum adds in order: a prefix's are the whole's.
    reach = int(np.searchsorted(busy_start, win_end.max(), side="right"))
    cumulative = np.zeros(reach + 1)
    np.cumsum(busy_end[:reach] - busy_start[:reach], out=cumulative[1:])

    def busy_until(t: np.ndarray) -> np.ndarray:
        started = np.searchsorted(busy_start, t, side="right")  # intervals begun by t
        last = np.maximum(started - 1, 0)
        in_last = np.minimum(t, busy_end[last]) - busy_start[last]
        return np.where(started > 0, cumulative[last] + in_last, 0.0)

    return float(np.sum(busy_until(win_end) - busy_until(win_start)))
