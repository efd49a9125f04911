"""A backend's queue level over a run, for the timeline: at each of a few hundred evenly spaced
instants, the jobs submitted and not yet dispatched (what ``backend.status().pending_jobs``
shows; SPEC §16–§17: the background's level, with the foreground's few queued jobs in it).

Linear in the jobs and the instants: each job's submission and its leaving the queue are
placed among the instants by arithmetic (the instants are evenly spaced), then counted with
one ``bincount`` and a running sum: no sort, so a million jobs cost a few tens of
milliseconds. ``queue_stats.queue_level_of_jobs`` gives the same counts at any instants
through a sort; this is its fast form for a picture's bins.

numpy only; nothing here imports the model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["left_queue_at", "queue_level_at"]


def left_queue_at(job_arrays: Mapping[str, np.ndarray], end_s: float) -> np.ndarray:
    """When each job left the queue: its dispatch, or the end of a job that left it without
    one (cancelled while queued); nan for a job still queued when the run ended at
    ``end_s`` (an incomplete job's end is the run's end)."""
    dispatch = np.asarray(job_arrays["dispatch_at"], dtype=np.float64)
    end = np.asarray(job_arrays["end_at"], dtype=np.float64)
    left = np.where(np.isnan(dispatch), end, dispatch)
    return np.where(np.isnan(dispatch) & (end >= end_s), np.nan, left)


def queue_level_at(submit_at: np.ndarray, left_at: np.ndarray, instants: np.ndarray
                   ) -> np.ndarray:
    """At each of the evenly spaced ``instants``, how many jobs have ``submit_at <= t`` and
    have not left (``left_at <= t``; nan: never left)."""
    instants = np.asarray(instants, dtype=np.float64)
    if len(instants) == 0:
        return np.zeros(0, np.int64)
    submitted = _at_or_before(np.asarray(submit_at, dtype=np.float64), instants)
    left = np.asarray(left_at, dtype=np.float64)
    gone = _at_or_before(left[~np.isnan(left)], instants)
    return np.asarray(submitted - gone)


def _at_or_before(x: np.ndarray, instants: np.ndarray) -> np.ndarray:
    """How many of ``x`` are at or before each instant (evenly spaced), in O(len(x) + n)."""
    n = len(instants)
    x = x[~np.isnan(x)]
    if n == 1:
        return np.array([np.count_nonzero(x <= instants[0])])
    width = (instants[-1] - instants[0]) / (n - 1)
    # first: the first instant at or after x (x <= instants[k] iff k >= first); by arithmetic,
    # then made exact where rounding put it one off
    first = np.clip(np.ceil((x - instants[0]) / width), 0, n).astype(np.int64)
    first -= (first > 0) & (x <= instants[np.maximum(first - 1, 0)])
    first += (first < n) & (x > instants[np.minimum(first, n - 1)])
    return np.cumsum(np.bincount(first, minlength=n + 1))[:n]
