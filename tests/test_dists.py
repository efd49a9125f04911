"""Distributions: the analytic mean matches what sampling produces; the YAML forms parse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from qsim.input.dists import (
    DIST_NAMES,
    Circuits,
    Distribution,
    DistributionBase,
    Empirical,
    Exponential,
    Fixed,
    Lognormal,
    Normal,
    Uniform,
)

N = 200_000
DIST = TypeAdapter(Distribution)


def rng(seed: int = 12345) -> np.random.Generator:
    return np.random.default_rng(seed)


SAMPLED = [
    Fixed(value=3.0),
    Exponential(mean=60.0),
    Uniform(low=2.0, high=5.0),
    Lognormal(mean=20.0, cv=1.0),
    Lognormal(mean=0.3, cv=0.2),
    Normal(mean=0.5, sd=1.0),
    Normal(mean=10.0, sd=3.0),
    Normal(mean=0.0, sd=2.0),
    Empirical(values=(1.0, 2.0, 2.0, 10.0)),
    Circuits(circuits=4, shots=4096, circuit_duration=80e-6, rep_delay=250e-6),
]


@pytest.mark.parametrize("dist", SAMPLED, ids=lambda d: repr(d))
def test_sample_mean_within_four_standard_errors(dist: DistributionBase) -> None:
    draws = dist.sample(rng(), N)
    standard_error = draws.std(ddof=1) / math.sqrt(N)
    assert abs(draws.mean() - dist.mean) <= 4 * standard_error + 1e-12


@pytest.mark.parametrize("dist", SAMPLED, ids=lambda d: repr(d))
def test_samples_are_float64_non_negative_and_reproducible(dist: DistributionBase) -> None:
    draws = dist.sample(rng(7), 1000)
    assert draws.dtype == np.float64
    assert draws.shape == (1000,)
    assert (draws >= 0).all()
    np.testing.assert_array_equal(draws, dist.sample(rng(7), 1000))


def test_truncated_normal_mean_formula() -> None:
    # mu + sd * phi(a) / (1 - Phi(a)), a = -mu/sd, at mu=0.5, sd=1.
    a = -0.5
    phi = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    upper = 1 - 0.5 * (1 + math.erf(a / math.sqrt(2)))
    expected = 0.5 + phi / upper
    dist = Normal(mean=0.5, sd=1.0)
    assert dist.mean == pytest.approx(expected, rel=1e-12)
    assert dist.mean == pytest.approx(1.0091, abs=1e-4)
    draws = dist.sample(rng(99), N)
    assert abs(draws.mean() - dist.mean) <= 4 * draws.std(ddof=1) / math.sqrt(N)


def test_truncated_normal_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for mu, sd in [(0.5, 1.0), (0.0, 1.0), (3.0, 0.5), (0.1, 10.0)]:
        reference = stats.truncnorm(-mu / sd, math.inf, loc=mu, scale=sd).mean()
        assert Normal(mean=mu, sd=sd).mean == pytest.approx(reference, rel=1e-10)


def test_truncated_normal_redraws_rather_than_clipping() -> None:
    draws = Normal(mean=0.0, sd=1.0).sample(rng(), N)
    # Clipping at zero would put about half the mass exactly at 0.
    assert (draws == 0).sum() == 0
    assert (draws > 0).all()


@pytest.mark.parametrize(
    "dist",
    [Normal(mean=4.0, sd=0.0), Lognormal(mean=4.0, cv=0.0), Exponential(mean=0.0),
     Lognormal(mean=0.0, cv=2.0), Uniform(low=3.0, high=3.0)],
    ids=repr,
)
def test_degenerate_parameters_are_constant(dist: DistributionBase) -> None:
    draws = dist.sample(rng(), 100)
    np.testing.assert_array_equal(draws, np.full(100, dist.mean))


def test_lognormal_has_the_requested_coefficient_of_variation() -> None:
    draws = Lognormal(mean=20.0, cv=0.5).sample(rng(), N)
    assert draws.std() / draws.mean() == pytest.approx(0.5, rel=0.02)


def test_circuit_form_value_with_backend_rep_delay() -> None:
    # 2 + (250us + 80us) * 4 * 4096 = 7.40672 s
    dist = Circuits(circuits=4, shots=4096, circuit_duration="80us", rep_delay="250us")
    assert dist.mean == pytest.approx(7.40672, abs=1e-9)
    np.testing.assert_allclose(dist.sample(rng(), 3), [7.40672] * 3, atol=1e-9)


@pytest.mark.parametrize(("circuits", "shots"), [(1, 1), (4, 4096), (10, 1000), (100, 8192)])
def test_circuit_quick_form(circuits: int, shots: int) -> None:
    dist = Circuits(circuits=circuits, shots=shots, rep_delay=250e-6)
    assert dist.mean == pytest.approx(2 + 0.00035 * circuits * shots, rel=1e-12)


def test_circuit_multiplier_and_overhead() -> None:
    dist = Circuits(circuits=2, shots=1000, rep_delay=0.0, circuit_duration=1e-3,
                    overhead="1s", multiplier=3)
    assert dist.mean == pytest.approx(1 + 1e-3 * 2 * 3 * 1000)


def test_circuit_form_needs_a_resolved_rep_delay() -> None:
    with pytest.raises(ValueError, match="rep_delay is unresolved"):
        _ = Circuits(circuits=1, shots=1).mean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3s", Fixed(value=3.0)),
        (3, Fixed(value=3.0)),
        ("250us", Fixed(value=250e-6)),
        ({"dist": "fixed", "value": "2m"}, Fixed(value=120.0)),
        ({"dist": "exponential", "mean": "60s"}, Exponential(mean=60.0)),
        ({"dist": "uniform", "low": "1s", "high": "3s"}, Uniform(low=1.0, high=3.0)),
        ({"dist": "lognormal", "mean": "20s", "cv": 1}, Lognormal(mean=20.0, cv=1.0)),
        ({"dist": "normal", "mean": "5s", "sd": "1s"}, Normal(mean=5.0, sd=1.0)),
        ({"dist": "empirical", "values": ["1s", 2, "500ms"]}, Empirical(values=(1.0, 2.0, 0.5))),
        ({"circuits": 4, "shots": 4096, "circuit_duration": "80us"},
         Circuits(circuits=4, shots=4096, circuit_duration=80e-6)),
    ],
)
def test_yaml_forms(raw: object, expected: DistributionBase) -> None:
    assert DIST.validate_python(raw) == expected


def test_normal_is_written_with_mean_and_dumps_the_same_way() -> None:
    dist = DIST.validate_python({"dist": "normal", "mean": 0.5, "sd": 1})
    assert isinstance(dist, Normal)
    assert dist.mu == 0.5
    assert dist.mean > 0.5  # the truncated mean
    assert dist.model_dump(by_alias=True) == {"dist": "normal", "mean": 0.5, "sd": 1.0}
    assert DIST.validate_python(dist.model_dump(by_alias=True)) == dist


def test_distributions_are_frozen() -> None:
    dist = Exponential(mean=1.0)
    with pytest.raises(ValidationError):
        dist.mean = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"dist": "gamma", "mean": 1}, "gamma"),
        ({"dist": "exponential", "mean": "-3s"}, "must not be negative"),
        ({"dist": "exponential", "mean": 1, "sd": 2}, "unknown key 'sd'; allowed: dist, mean"),
        ({"dist": "uniform", "low": 5, "high": 1}, "must not be less than low (5s)"),
        ({"dist": "lognormal", "mean": 1, "cv": -1}, "greater than or equal to 0"),
        ({"dist": "empirical", "values": []}, "at least 1 item"),
        ({"circuits": 0, "shots": 10}, "greater than or equal to 1"),
        ({"circuits": 1, "shots": 10, "multiplier": 0}, "greater than 0"),
        ({"circuits": 1.5, "shots": 10}, "valid integer"),
        ("12 parsecs", "unknown unit 'parsecs'"),
    ],
)
def test_invalid_distributions_are_rejected(raw: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        DIST.validate_python(raw)
    assert fragment in str(info.value)


def test_dist_names_are_those_of_the_spec() -> None:
    assert DIST_NAMES == ("fixed", "exponential", "uniform", "lognormal", "normal", "empirical",
                          "sum")


def test_draw_returns_a_python_float() -> None:
    value = Uniform(low=1.0, high=2.0).draw(rng())
    assert type(value) is float and 1.0 <= value <= 2.0
