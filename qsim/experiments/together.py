"""The axes of a sweep's grid (SPEC §20): each ``--vary`` PATH is an axis of its own; the
PATHs of a ``--vary-together`` group are one axis whose points are their value lists zipped
(2000, 200, 20 jobs with 1, 10, 100 circuits: three points, not nine). The grid crosses the
axes, the groups first (slowest), then the ``--vary`` PATHs in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from qsim.experiments.fields import Setting, SweepError, show

__all__ = ["Axis", "Together", "axes", "combinations"]

#: One ``--vary-together`` group: PATH -> its values, all lists as long as each other.
Together = Mapping[str, Sequence[Any]]
#: An axis of the grid: its PATHs, and its points (one value per PATH each).
Axis = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def axes(vary: Mapping[str, list[Any]], together: Sequence[Together]) -> list[Axis]:
    """The grid's axes: each group zipped, then each ``--vary`` PATH (checked already).
    SweepError for a group of one PATH, lists of unequal length, a point listed twice, or a
    PATH given twice (in two groups, or in a group and in ``--vary``)."""
    out = [_zipped(group) for group in together]
    seen = [p for paths, _ in out for p in paths]
    if len(set(seen)) != len(seen):
        twice = next(p for p in seen if seen.count(p) > 1)
        raise SweepError(f"--vary-together {twice}: in two groups; give a PATH once")
    for path, values in vary.items():
        if path in seen:
            raise SweepError(f"--vary {path}: also in --vary-together; give a PATH once")
        out.append(((path,), [(v,) for v in values]))
    return out


def _zipped(group: Together) -> Axis:
    if len(group) < 2:
        raise SweepError("--vary-together: give at least two PATHs to vary together (one "
                         "alone: --vary)")
    paths = tuple(group)
    lists = []
    for path, values in group.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise SweepError(f"--vary-together {path}: expected a list of values "
                             f"(got {values!r})")
        lists.append(list(values))
    if len({len(v) for v in lists}) > 1:
        first = f"{paths[0]} has {len(lists[0])} values"
        rest = ", ".join(f"{p} {len(v)}" for p, v in zip(paths[1:], lists[1:]))
        raise SweepError(f"--vary-together: the lists must be as long as each other: "
                         f"{first}, {rest}")
    points = list(zip(*lists))
    for i, point in enumerate(points):
        if point in points[:i]:  # few points: a quadratic look is fine, and needs no hash
            label = ", ".join(f"{p}={show(v)}" for p, v in zip(paths, point))
            raise SweepError(f"--vary-together: the point {label} is listed twice")
    return paths, points


def combinations(grid_axes: Sequence[Axis]) -> list[tuple[Setting, ...]]:
    """Every point of the grid as its settings, the first axis varying slowest."""
    return [tuple(setting for (paths, _), point in zip(grid_axes, combo)
                  for setting in zip(paths, point))
            for combo in itertools.product(*(points for _, points in grid_axes))]
