"""Usage and idle time from the tables (SPEC §3, §6, §7): pure functions, no simulation.

- job and batch: usage is the sum of the jobs' charged quantum time;
- session: the sum of its active windows (``active_windows``), or one span from the first
  activation to the last window's end (``first_start_to_end``, paused gaps included);
- idle: inside the workload's windows, the time the QPU ran none of its jobs.
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


def idle(win_start: np.ndarray, win_end: np.ndarray,
         busy_start: np.ndarray, busy_end: np.ndarray) -> Idle:
    """Idle time and gaps inside windows, given the QPU intervals of the workload's jobs.

    Both inputs are sorted and disjoint (one QPU; a context's windows never overlap), so each
    window finds its first interval by bisection and each interval is visited once or twice.
    """
    gaps: list[float] = []
    starts, ends = busy_start.tolist(), busy_end.tolist()  # plain floats out, and faster
    for a, b in zip(win_start.tolist(), win_end.tolist()):
        cursor = a
        i = int(np.searchsorted(busy_end, a, side="right"))  # first interval ending after a
        while i < len(starts) and starts[i] < b:
            if starts[i] - cursor > GAP_EPS_S:
                gaps.append(starts[i] - cursor)
            cursor = max(cursor, min(ends[i], b))
            i += 1
        if b - cursor > GAP_EPS_S:
            gaps.append(b - cursor)
    total = float(sum(gaps))
    return Idle(total, len(gaps), max(gaps) if gaps else 0.0)


def busy_within(win_start: np.ndarray, win_end: np.ndarray,
                busy_start: np.ndarray, busy_end: np.ndarray) -> float:
    """Total length of the (sorted, disjoint) busy intervals that falls inside the windows."""
    if len(busy_start) == 0 or len(win_start) == 0:
        return 0.0
    cumulative = np.concatenate([[0.0], np.cumsum(busy_end - busy_start)])

    def busy_until(t: np.ndarray) -> np.ndarray:
        started = np.searchsorted(busy_start, t, side="right")  # intervals begun by t
        last = np.maximum(started - 1, 0)
        in_last = np.minimum(t, busy_end[last]) - busy_start[last]
        return np.where(started > 0, cumulative[last] + in_last, 0.0)

    return float(np.sum(busy_until(win_end) - busy_until(win_start)))
