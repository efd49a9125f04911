"""The shipped fitted backends (``scenarios/backends/``, made by ``qsim fit``) against the
shared queue data they were fitted to (SPEC §21, issues 26 and 27's "Done when"): qsim itself
runs the shipped file, its own queue sampled every 10 s as the data were, and the means over
the runs meet the targets: issue 27's four (p50 within 35 %, p90 and the mean within 25 %, the
paused share within 3 points) on all six backends, and issue 26's two more (the dispersion of
arrivals per 10 min within a factor of 2, the 24-h autocorrelation within 0.2) on the four
that meet them (``KEPT``). qsim's random streams are not the fit's replay's, so these runs are
replications the search never saw. Slow (16 ten-day runs each, about 30 CPU seconds for the
six); benchmarks/queue_data.py prints the tables. The data's figures are kept in
tests/data/shared_queue_stats.json, so that the test runs where the shared data are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qsim
from qsim.analysis.queue_stats import QueueStats, compare, queue_stats, resample
from qsim.experiments.fit_check import scenario_queue
from qsim.input.queue_series import read_series

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "queues"
GOAL = ("p50", "p90", "mean", "paused_share")
RUNS = 16  # as many as the fit's own check (CHECK_RUNS)


ALL = (*GOAL, "dispersion", "acf_24h")
#: What qsim's own 16 runs of each backend meet (docs/fit.md): issue 26's six targets on four
#: backends; ibm_cusco misses the dispersion (350 against 741, a factor 2.1) and
#: ibm_sherbrooke the 24-h autocorrelation (0.28 against 0.75: a trend over the ten days).
KEPT = {"ibm_algiers": ALL, "ibm_cairo": ALL, "ibm_hanoi": ALL, "ibmq_kolkata": ALL,
        "ibm_cusco": GOAL, "ibm_sherbrooke": GOAL}


#: The data's figures, kept beside the tests so that the test runs where the shared data are
#: not (a clean checkout alone, as CI may have it); checked against the data wherever they are
#: (``test_the_kept_figures_are_the_datas``). Regenerate: ``python tests/test_fit_backends.py``.
FIGURES_FILE = ROOT / "tests" / "data" / "shared_queue_stats.json"


def datas_figures(name: str) -> QueueStats:
    series = read_series(str(DATA / f"{name}.csv.gz"))
    return queue_stats(resample(series.t, series.pending, series.paused))


def kept_figures(name: str) -> QueueStats:
    return QueueStats(**json.loads(FIGURES_FILE.read_text())[name])


def test_the_kept_figures_are_the_datas() -> None:
    if not (DATA / "ibm_hanoi.csv.gz").exists():
        pytest.skip(f"the shared queue data are not here ({DATA})")
    for name in KEPT:
        assert kept_figures(name) == datas_figures(name), name


@pytest.mark.slow
@pytest.mark.parametrize("name", list(KEPT))
def test_a_fitted_backend_keeps_the_datas_queue(name: str) -> None:
    want = kept_figures(name)
    scenario = qsim.load_scenario(ROOT / "scenarios" / "backends" / f"{name}.yaml")
    got = scenario_queue(scenario, RUNS).stats
    met = compare(want, got, KEPT[name])
    assert all(met.values()), {f: (getattr(want, f), getattr(got, f)) for f in KEPT[name]}


if __name__ == "__main__":  # write the data's figures (needs ../shared/data/queues)
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    FIGURES_FILE.write_text(json.dumps({name: datas_figures(name).as_dict() for name in KEPT},
                                       indent=2) + "\n")
