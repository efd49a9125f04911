"""The probability of overrunning an instance's allocation over replications (SPEC §20):
``p_over_allocation`` with its 95 % Wilson interval ``p_over_allocation_ci95``, in run's and
compare's replicated summaries. No background: each run's answer is known by construction."""

from __future__ import annotations

import pytest
from helpers import job, scenario

import qsim
from qsim.analysis.wilson import wilson_interval
from qsim.model.rng import Streams

R = 12


def chemistry(allocation: str, jobs: object) -> qsim.Scenario:
    return scenario(job("s", jobs=jobs, quantum="10s", instance="chem"),  # type: ignore
                    instances={"chem": {"allocation": allocation}})


@pytest.mark.parametrize("allocation, over", [("20s", R), ("30s", 0), ("60s", 0)])
def test_fixed_work_is_always_or_never_over(allocation: str, over: int) -> None:
    # Three 10-s jobs in job mode use 30 s: over 20 s in every run, within 30 s in none.
    summary = qsim.replicate(chemistry(allocation, 3), R).to_dict()
    chem = summary["instances"][0]
    assert chem["p_over_allocation"] == over / R
    assert chem["p_over_allocation_ci95"] == list(wilson_interval(over, R))


def test_drawn_work_is_over_exactly_when_its_draw_is() -> None:
    # 1 to 4 jobs of 10 s against 25 s: over exactly in the replications that drew 3 or 4.
    s = chemistry("25s", {"dist": "uniform_int", "low": 1, "high": 4})
    dist = s.workloads[0].jobs
    draws = [int(dist.sample(Streams(0, r).generator("s", "jobs"), 1)[0])  # type: ignore
             for r in range(R)]
    over = sum(d >= 3 for d in draws)
    assert 0 < over < R  # seed 0 draws both kinds: the case tests something
    chem = qsim.replicate(s, R).to_dict()["instances"][0]
    assert chem["p_over_allocation"] == over / R
    assert chem["p_over_allocation_ci95"] == list(wilson_interval(over, R))


def test_compare_gives_each_mode_its_share_over() -> None:
    # Two 10-s jobs against 15 s: over in every mode and run (job and batch: 20 s; session:
    # 20 s and more).
    c = qsim.compare(chemistry("15s", 2), workload="s", replications=R)
    out = c.to_dict()["modes"]
    for mode in ("job", "batch", "session"):
        assert out[mode]["p_over_allocation"] == 1.0
        assert out[mode]["p_over_allocation_ci95"] == list(wilson_interval(R, R))


def test_without_an_allocation_nothing_is_added() -> None:
    s = scenario(job("s", jobs=2, quantum="10s", instance="chem"), instances={"chem": {}})
    chem = qsim.replicate(s, 3).to_dict()["instances"][0]
    assert "p_over_allocation" not in chem
    assert "p_over_allocation" not in qsim.compare(s, workload="s",
                                                   replications=3).to_dict()["modes"]["job"]


def test_the_report_shows_the_share_and_its_interval() -> None:
    from rich.console import Console

    from qsim.present.report import print_summary
    console = Console(width=200, record=True)
    print_summary(console, qsim.replicate(chemistry("20s", 3), R).to_dict())
    low, _ = wilson_interval(R, R)
    assert f"100% [{low:.0%}–100%] of {R} runs" in console.export_text()
