"""The Wilson score interval (qsim.analysis.wilson) against known values."""

from __future__ import annotations

import pytest

from qsim.analysis.wilson import wilson_interval


def test_known_value_7_of_10() -> None:
    # Wilson (1927); e.g. statsmodels proportion_confint(7, 10, method="wilson")
    # = (0.3967781, 0.8922087).
    low, high = wilson_interval(7, 10)
    assert low == pytest.approx(0.3967781, abs=1e-7)
    assert high == pytest.approx(0.8922087, abs=1e-7)


def test_ends_are_exact_and_not_empty() -> None:
    # 0 of 10: [0, z²/(n+z²)] = [0, 0.2775328]; n of n mirrors it.
    for (k, n), (low, high) in {(0, 10): (0.0, 0.2775328), (10, 10): (0.7224672, 1.0),
                                (1, 1): (0.2065493, 1.0)}.items():
        got = wilson_interval(k, n)
        assert got[0] == pytest.approx(low, abs=1e-7) and got[1] == pytest.approx(high, abs=1e-7)
        assert (got[0] == 0.0) == (k == 0) and (got[1] == 1.0) == (k == n)


@pytest.mark.parametrize(("k", "n"), [(-1, 3), (4, 3), (0, 0)])
def test_bad_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="wilson_interval"):
        wilson_interval(k, n)
