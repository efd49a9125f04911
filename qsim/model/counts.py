"""Counts drawn at the start of a run (SPEC §20): each workload's ``iterations``, ``jobs`` or
``jobs_per_iteration`` given as a distribution becomes the number this run draws, one draw
from the workload's own stream ``(NAME, FIELD)``. A repeat's copies are workloads ``NAME#k``,
so each draws its own. The stream is new and used for nothing else: no other stream moves, and
a scenario that draws nothing is the very same object (nothing is copied).
"""

from __future__ import annotations

from typing import Any

from qsim.input.counts import COUNT_FIELDS, as_drawn, is_drawn
from qsim.input.limits import MAX_ITERATIONS, MAX_JOBS_FIELD, MAX_JOBS_PER_ITERATION
from qsim.input.scenario import Scenario, Workload
from qsim.model.rng import Streams

__all__ = ["count", "draw_counts"]

# A draw is at most its field's own maximum (an unbounded distribution's rare tail).
_MAXIMUM = {"iterations": MAX_ITERATIONS, "jobs_per_iteration": MAX_JOBS_PER_ITERATION,
            "jobs": MAX_JOBS_FIELD}


def draw_counts(scenario: Scenario, streams: Streams) -> Scenario:
    """``scenario`` with every drawn count replaced by this run's draw."""
    if not any(_drawn_fields(w) for w in scenario.workloads):
        return scenario
    workloads = tuple(_draw(w, streams) for w in scenario.workloads)
    return scenario.model_copy(update={"workloads": workloads})


def _drawn_fields(w: Workload) -> list[str]:
    return [f for f in COUNT_FIELDS if is_drawn(getattr(w, f, 1))]


def _draw(w: Workload, streams: Streams) -> Workload:
    update: dict[str, Any] = {}
    for field in _drawn_fields(w):
        dist = getattr(w, field)
        value = float(dist.sample(streams.generator(w.name, field), 1)[0])
        update[field] = min(int(value), _MAXIMUM[field])
    return w.model_copy(update=update) if update else w


count = as_drawn  # what the engine reads: a number, once draw_counts has run
