"""What ``validate --show`` says of SPEC §17 traffic (the offered load, its peak, the regimes,
the bursts) and ``warmup: auto``: long enough for the background's load, bounded by the work
limit."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_hostile import cli, one_error_line, write

import qsim
from qsim.input import plans
from qsim.input.limits import DEFAULT_MAX_JOBS

VARYING = """\
name: t
horizon: 1d
workloads:
  - name: others
    kind: background
    load: 0.5
    quantum: 10s
    burst: 2
    profile: {period: 1d, levels: [1, 3]}
    regimes: {levels: [1, 3], dwell: {dist: exponential, mean: 2h}}
"""


def test_show_states_the_offered_load_its_peak_and_the_regimes(tmp_path: Path) -> None:
    code, out, err = cli("validate", write(tmp_path, VARYING), "--show")
    assert (code, err) == (0, "")
    notes = [line for line in out.splitlines() if line.startswith("# others")]
    assert notes == [
        "# others: mean inter-arrival 20s, offered load 0.500",
        "# others: offered load 0.500 on average, 1.125 at its peak (profile 1.5 x regimes 1.5)",
        "# others: 2 jobs an arrival on average (burst)",
        "# others: regimes at 0.5, 1.5 x the average rate, each held 2h on average",
        "# others: the profile repeats every 1d in 2 slices of 12h at 0.5, 1.5 x the average "
        "rate"]
    # the keys a file does not set are not shown (a plain stream dumps as it did)
    plain = cli("validate", write(tmp_path, VARYING.split("    burst")[0], "p.yaml"), "--show")[1]
    assert "burst" not in plain and "pending" not in plain and "regimes" not in plain
    assert "during_outages" not in plain


def test_show_states_a_stream_that_stops_during_outages(tmp_path: Path) -> None:
    code, out, err = cli("validate", write(tmp_path, VARYING + "    during_outages: stop\n"),
                         "--show")
    assert (code, err) == (0, "")
    assert ("# others: submits nothing while its backend is in an outage (during_outages: "
            "stop): its load holds while the backend is up") in out.splitlines()
    assert "during_outages: stop" in out  # the resolved scenario keeps the key


def relaxation(load: float, service: float) -> float:
    return service / (1 - math.sqrt(load)) ** 2


def auto(tmp_path: Path, stream: str) -> qsim.Scenario:
    text = ("name: t\nwarmup: auto\nworkloads:\n  - {name: x, kind: independent, jobs: 3, "
            f"quantum: 10s}}\n  - {{name: o, kind: background, {stream}}}\n")
    return qsim.load_scenario(write(tmp_path, text))


def test_auto_warmup_is_ten_relaxation_times(tmp_path: Path) -> None:
    s = auto(tmp_path, "load: 0.5, quantum: 10s")
    assert s.warmup == pytest.approx(10 * relaxation(0.5, 10.0))
    # a burst is served as one batch of work: the relaxation of batches of 4 x 10 s
    s = auto(tmp_path, "load: 0.5, quantum: 10s, burst: 4")
    assert s.warmup == pytest.approx(10 * relaxation(0.5, 40.0))


def test_auto_warmup_covers_the_regimes_and_whole_periods(tmp_path: Path) -> None:
    s = auto(tmp_path, "load: 0.5, quantum: 10s, regimes: {levels: [1, 2], dwell: 10m}")
    assert s.warmup == pytest.approx(10 * 600.0)  # ten dwells: more than 10 relaxations
    s = auto(tmp_path, "load: 0.5, quantum: 10s, profile: {period: 1h, levels: [1, 2]}")
    assert s.warmup == 3600.0  # 19.4 min rounded up to the period
    # the foreground then starts where the profile's period starts
    assert s.warmed_up().workloads[0].start == 3600.0


def test_auto_warmup_is_bounded_by_the_work_limit(tmp_path: Path) -> None:
    # load 0.999 of 1-ms jobs relaxes in about 4,000 s: 40,000 s would be 40 million jobs
    s = auto(tmp_path, "load: 0.999, quantum: 1ms")
    assert s.warmup == pytest.approx(DEFAULT_MAX_JOBS / 10 / 999)
    show = plans.notes(s)
    assert any("warmup now 8m 21s, auto, bounded by the work limit)" in n for n in show), show


@pytest.mark.parametrize("stream, words", [
    (None, "needs a background workload"),
    ("{name: o, kind: background, arrivals: 1s, quantum: 2s}", "load below 1"),
])
def test_auto_warmup_needs_a_background_below_1(stream: str | None, words: str,
                                                tmp_path: Path) -> None:
    text = "name: t\nwarmup: auto\nworkloads:\n  - {name: x, kind: independent, jobs: 3, " \
           "quantum: 10s}\n" + (f"  - {stream}\n" if stream else "")
    code, out, err = cli("validate", write(tmp_path, text))
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert "warmup" in line and words in line, line
