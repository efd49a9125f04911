"""SPEC §17 in the long run: a profile and regimes change when jobs arrive, not how many on
average. ``load: X`` keeps meaning the average, within its standard error over seeded
replications (tolerance Z standard errors, as tests/test_validation_queueing.py)."""

from __future__ import annotations

import math

import numpy as np

import qsim

Z = 4.0
REPS = 16
HORIZON = 20_000.0  # 20 periods of the profile, about 65 regimes: 5,000 jobs a replication
LOAD, QUANTUM = 0.5, 2.0


def offered_load(result: qsim.RunResult) -> float:
    """Jobs that arrived over the whole run x their quantum time, over the run's length."""
    return len(result.jobs) * QUANTUM / HORIZON


def test_profile_and_regimes_keep_the_average_load() -> None:
    stream = {"name": "others", "kind": "background", "load": LOAD, "quantum": QUANTUM,
              "profile": {"period": "1000s", "levels": [1, 2, 3]},
              "regimes": {"levels": [1, 4], "dwell": {"dist": "exponential", "mean": "300s"}}}
    scenario = qsim.parse_scenario({"name": "varying", "horizon": HORIZON,
                                    "workloads": [stream]}, "varying.yaml")
    values = np.array([offered_load(qsim.simulate(scenario, seed=7, replication=r))
                       for r in range(REPS)])
    se = values.std(ddof=1) / math.sqrt(REPS)
    assert abs(values.mean() - LOAD) <= Z * se, (values.mean(), se)
    # tight enough to catch a 10 % error (levels left unscaled, 2 x 2.5 times the load, by far)
    assert Z * se < 0.1 * LOAD, se


def test_regimes_switch_to_another_level_each_dwell() -> None:
    # Three levels, each held a fixed 100 s: arrivals every 1 s of the stream's own time come
    # at 0.25, 0.75 or 2 a second (1, 3, 8 scaled to a mean of 1), 100 x that per regime
    # (+-1 at its ends); the next level is never the one just held, and each is about a third.
    stream = {"name": "others", "kind": "background", "arrivals": "1s", "quantum": "1ms",
              "regimes": {"levels": [1, 3, 8], "dwell": "100s"}}
    scenario = qsim.parse_scenario({"name": "regimes", "horizon": "30000s",
                                    "workloads": [stream]}, "regimes.yaml")
    result = qsim.simulate(scenario, seed=3)
    rates = np.histogram(result.jobs["submit_at"], bins=np.arange(0, 30_001, 100))[0] / 100
    levels = np.array([1 / 4, 3 / 4, 2])
    near = np.abs(rates[:, None] - levels[None, :]) <= 0.011
    assert (near.sum(axis=1) == 1).all()  # every regime at exactly one of the levels
    held = near.argmax(axis=1)
    assert (held[1:] != held[:-1]).all()
    shares = np.bincount(held, minlength=3) / len(held)
    assert ((shares > 0.25) & (shares < 0.42)).all(), shares
