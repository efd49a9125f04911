"""Counts a workload may draw (SPEC §20): ``iterations``, ``jobs`` and ``jobs_per_iteration``
are a whole number, or a whole-number distribution (SPEC §8: ``uniform_int``, ``geometric``,
``empirical``, any distribution rounded) that each run draws once, each copy of a ``repeat``
on its own (``qsim.model.counts``).

A plain number, or a distribution that can only give one (``{dist: fixed, value: 3}``), stays
a plain ``int``: such a workload draws nothing, so its runs are what they were before counts
could be drawn. Whatever needs a count before a run (the work estimate, ``validate --show``)
reads :func:`high_count`: the distribution's upper bound, or its 99.9th percentile where it
has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeAlias, Union

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, Strict, Tag

from qsim.input.dists import (
    HIGH_COUNT_TAIL,
    DistributionBase,
    Empirical,
    Fixed,
    Rounded,
    Uniform,
    UniformInt,
    WholeCount,
    WholeDistribution,
    as_whole_number,
)
from qsim.input.errors import FieldError
from qsim.input.limits import MAX_ITERATIONS, MAX_JOBS_FIELD, MAX_JOBS_PER_ITERATION

__all__ = ["COUNT_FIELDS", "COUNT_TAGS", "HIGH_COUNT_TAIL", "CountValue", "Iterations", "Jobs",
           "JobsPerIteration", "as_drawn", "count_field", "high_count", "is_drawn", "mean_count"]

#: The fields of a workload that may be drawn, in the order a run draws them.
COUNT_FIELDS: Final = ("iterations", "jobs_per_iteration", "jobs")

_COPY: Final = re.compile(r"#\d+$")  # a repeat's copy NAME#k (qsim.input.scenario)
_NUMBER: Final = "whole number"
_DRAWN: Final = "count distribution"
#: Union tags pydantic puts in error locations (not keys of the file).
COUNT_TAGS: Final = frozenset((_NUMBER, _DRAWN))

#: A count as validated: a whole number, or the distribution each run draws it from.
CountValue = Union[int, WholeCount]


def _tag(value: Any) -> str:
    return _DRAWN if isinstance(value, (dict, DistributionBase)) else _NUMBER


def _one_value(value: Any) -> Any:
    """A distribution that can give one number only, as that number: it draws nothing."""
    if isinstance(value, Rounded):
        d = value.of
        if isinstance(d, Fixed):
            return int(d.value)
        if isinstance(d, Empirical) and len(set(d.values)) == 1:
            return int(d.values[0])
    return value


def _bounded(value: WholeCount) -> bool:
    """Whether every draw is at most ``high_count()`` (else it is a high percentile)."""
    return isinstance(value, UniformInt) or (
        isinstance(value, Rounded) and isinstance(value.of, (Fixed, Empirical, Uniform)))


def _within(maximum: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, int):
            return value
        # A bounded distribution's every draw, an unbounded one's mean, at most the field's
        # own maximum; a rare draw above it is that maximum (qsim.model.counts).
        if _bounded(value) and value.high_count() > maximum:
            raise FieldError(f"can draw {value.high_count():,}; must be at most {maximum:,}",
                             show_value=False)
        if value.mean > maximum:
            raise FieldError(f"has a mean of {value.mean:,.0f}; must be at most {maximum:,}",
                             show_value=False)
        return value
    return check


def count_field(maximum: int) -> Any:
    """The type of a count field whose plain value is at most ``maximum``."""
    number = Annotated[int, BeforeValidator(as_whole_number), Strict(),
                       Field(ge=1, le=maximum)]
    return Annotated[
        Union[Annotated[number, Tag(_NUMBER)], Annotated[WholeDistribution, Tag(_DRAWN)]],
        Discriminator(_tag),
        AfterValidator(_one_value),
        AfterValidator(_within(maximum)),
    ]


if TYPE_CHECKING:  # what a field holds once validated
    Iterations: TypeAlias = CountValue
    JobsPerIteration: TypeAlias = CountValue
    Jobs: TypeAlias = CountValue
else:  # how pydantic reads it
    Iterations = count_field(MAX_ITERATIONS)
    JobsPerIteration = count_field(MAX_JOBS_PER_ITERATION)
    Jobs = count_field(MAX_JOBS_FIELD)


def is_drawn(value: CountValue) -> bool:
    """Whether a run draws this count (it is not a plain number)."""
    return not isinstance(value, int)


def high_count(value: CountValue) -> int:
    """The count as the work estimate reads it: the number, or the distribution's upper
    bound, or its 99.9th percentile (``HIGH_COUNT_TAIL``) where it has no upper bound."""
    return value if isinstance(value, int) else value.high_count()


def mean_count(value: CountValue) -> float:
    """The count's mean: the number, or the distribution's mean."""
    return float(value) if isinstance(value, int) else float(value.mean)


def as_drawn(value: CountValue) -> int:
    """A count of a run's own scenario (its ``RunInfo``): a number once the run drew it."""
    assert isinstance(value, int), "a count distribution read as a run's count, undrawn"
    return value


def count_notes(workloads: Sequence[Any]) -> list[str]:
    """One line per count a run draws, for ``validate --show``: the distribution's mean and
    what the work estimate reads. A repeat's copies (``NAME#k``) share one line, by NAME."""
    lines: list[str] = []
    for w in workloads:
        name = _COPY.sub("", w.name)
        for field in COUNT_FIELDS:
            value = getattr(w, field, 1)
            if isinstance(value, int):
                continue
            line = (f"{name}: {field} drawn each run{' (each copy)' if name != w.name else ''}"
                    f": mean {value.mean:,.4g}, at most {value.high_count():,}"
                    f"{'' if _bounded(value) else ' (99.9th percentile)'} in the work "
                    "estimate")
            if line not in lines:
                lines.append(line)
    return lines
