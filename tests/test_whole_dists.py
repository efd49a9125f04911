"""Whole-number distributions (SPEC §8, §17, §20): uniform_int, geometric, empirical of whole
numbers, and any distribution rounded to the nearest whole number >= 1. Each knows its mean;
sampling agrees with it within four standard errors and stays in its range."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from qsim.input.dists import Geometric, Rounded, UniformInt, WholeDistribution

N = 200_000
WHOLE = TypeAdapter(WholeDistribution)


def parse(value: object) -> object:
    return WHOLE.validate_python(value)


CASES = [
    (3, 3.0, 3, 3),
    ({"dist": "uniform_int", "low": 2, "high": 5}, 3.5, 2, 5),
    ({"dist": "geometric", "mean": 4}, 4.0, 1, None),
    ({"dist": "geometric", "mean": 1}, 1.0, 1, 1),
    ({"dist": "empirical", "values": [1, 1, 7]}, 3.0, 1, 7),
    # Rounded: the mean of max(1, floor(x + 1/2)), not the mean of x
    ({"dist": "exponential", "mean": 3}, None, 1, None),
    ({"dist": "exponential", "mean": 0.2}, None, 1, None),
    ({"dist": "uniform", "low": 0, "high": 4}, None, 1, 4),
    ({"dist": "lognormal", "mean": 6, "cv": 1.5}, None, 1, None),
    ({"dist": "normal", "mean": 2, "sd": 3}, None, 1, None),
]


@pytest.mark.parametrize("value, mean, low, high", CASES, ids=lambda c: repr(c))
def test_whole_numbers_in_range_with_the_stated_mean(value: object, mean: float | None,
                                                     low: int, high: int | None) -> None:
    dist = parse(value)
    draws = dist.sample(np.random.default_rng(2024), N)  # type: ignore[attr-defined]
    assert draws.dtype == np.float64
    assert (draws == np.floor(draws)).all() and draws.min() >= low
    if high is not None:
        assert draws.max() <= high
    if mean is not None:
        assert dist.mean == pytest.approx(mean, rel=1e-12)  # type: ignore[attr-defined]
    se = draws.std(ddof=1) / math.sqrt(N)
    assert abs(draws.mean() - dist.mean) <= 4 * se + 1e-12  # type: ignore[attr-defined]


def test_rounded_uniform_mean_by_hand() -> None:
    # uniform(0, 4) rounded half up, then at least 1: [0, 1.5) -> 1, [1.5, 2.5) -> 2,
    # [2.5, 3.5) -> 3, [3.5, 4] -> 4: (1.5*1 + 2 + 3 + 0.5*4) / 4 = 2.125
    assert parse({"dist": "uniform", "low": 0, "high": 4}).mean == pytest.approx(2.125)


def test_rounded_exponential_mean_by_hand() -> None:
    # 1 + sum_{k>=2} P(X >= k - 1/2) = 1 + e^{-1.5/m} / (1 - e^{-1/m})
    m = 3.0
    expected = 1 + math.exp(-1.5 / m) / (1 - math.exp(-1 / m))
    assert parse({"dist": "exponential", "mean": m}).mean == pytest.approx(expected, rel=1e-9)
    big = 1e7  # beyond the terms summed one by one: the tail's integral takes over
    expected = 1 + math.exp(-1.5 / big) / -math.expm1(-1 / big)
    assert parse({"dist": "exponential", "mean": big}).mean == pytest.approx(expected, rel=1e-9)


def test_kinds() -> None:
    assert isinstance(parse({"dist": "uniform_int", "low": 1, "high": 2}), UniformInt)
    assert isinstance(parse({"dist": "geometric", "mean": 2}), Geometric)
    assert isinstance(parse(2), Rounded)
    again = parse(parse({"dist": "exponential", "mean": 2}).model_dump())  # type: ignore
    assert again == parse({"dist": "exponential", "mean": 2})


@pytest.mark.parametrize("value, words", [
    (2.5, "whole number"),
    (0, "whole number"),
    ({"dist": "fixed", "value": 1.5}, "whole number"),
    ({"dist": "empirical", "values": [1, 2.5]}, "whole number"),
    ({"dist": "empirical", "values": [0, 2]}, "whole number"),
    ({"dist": "uniform_int", "low": 0, "high": 3}, "greater than or equal to 1"),
    ({"dist": "uniform_int", "low": 3, "high": 2}, "low"),
    ({"dist": "uniform_int", "low": 1.5, "high": 2}, "integer"),
    ({"dist": "geometric", "mean": 0.5}, "greater than or equal to 1"),
    ({"dist": "sum", "of": [1, 2]}, "sum"),
    ({"dist": "geometric", "mean": 1e10}, "less than or equal to"),
])
def test_refused(value: object, words: str) -> None:
    with pytest.raises((ValidationError, ValueError)) as err:
        parse(value)
    assert words in str(err.value)
