"""The timeline's lanes: the fast scan and the heap give the greedy colouring the picture
promises (lowest free lane, a lane freed at t free at t), whichever the lane count picks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qsim.present import plot_timeline as pt


def greedy(starts: list[float], ends: list[float]) -> list[int]:
    """The rule, written out: each job (in order) takes the lowest lane whose jobs all
    ended by its start."""
    lanes: list[list[float]] = []
    taken = []
    for s, e in zip(starts, ends):
        k = next((i for i, held in enumerate(lanes) if max(held) <= s), len(lanes))
        if k == len(lanes):
            lanes.append([])
        lanes[k].append(e)
        taken.append(k)
    return taken


def intervals(seed: int, n: int, concurrency: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    # Whole-second times: many ends fall exactly on later starts, the case SPEC §10 orders.
    starts = np.sort(rng.integers(0, n * 4 // concurrency, n)).astype(float)
    ends = starts + rng.integers(0, 8, n)
    return starts.tolist(), ends.tolist()


@pytest.mark.parametrize(("seed", "concurrency"), [(1, 2), (2, 5), (3, 12), (4, 40)])
def test_scan_and_heap_are_the_greedy_colouring(seed: int, concurrency: int) -> None:
    starts, ends = intervals(seed, 3_000, concurrency)
    expected = greedy(starts, ends)
    assert pt._lanes_by_heap(starts, ends) == expected
    scanned = pt._lanes_by_scan(starts, ends)
    if max(expected) < pt.SCAN_LANES:
        assert scanned is not None and scanned.tolist() == expected
    else:  # more lanes than the scan takes: it gives up and the heap answers
        assert scanned is None


def test_many_lanes_still_assigned_past_the_scan() -> None:
    n = pt.SCAN_LANES + 4  # all at once: one lane each, past what the scan takes
    jobs = pd.DataFrame({"job": range(n), "dispatch_at": [0.0] * n, "end_at": [1.0] * n})
    assert pt.assign_lanes(jobs).tolist() == list(range(n))
