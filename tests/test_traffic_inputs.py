"""Bad input for SPEC §17's keys: each is one ``qsim: error:`` line naming the file, the field
and the value (exit 2, nothing written); and what the work estimate makes of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_hostile import cli, one_error_line, write

import qsim
from qsim.input.work import estimate

HEAD = "name: t\nhorizon: 1h\nworkloads:\n  - {name: o, kind: background, quantum: 1s, "


@pytest.mark.parametrize("keys, words", [
    ("arrivals: 10s, burst: -1", "burst"),
    ("arrivals: 10s, burst: 2.5", "whole number >= 1, not 2.5"),
    ("arrivals: 10s, burst: 0", "whole number >= 1, not 0"),
    ("arrivals: 10s, burst: {dist: uniform_int, low: 0, high: 3}", "burst.low"),
    ("arrivals: 10s, burst: {dist: uniform_int, low: 4, high: 3}", "burst.high"),
    ("arrivals: 10s, burst: {dist: geometric, mean: 0.5}", "burst.mean"),
    ("arrivals: 10s, burst: {dist: empirical, values: [1, 0.5]}", "whole number"),
    ("arrivals: 10s, burst: {dist: sum, of: [1, 2]}", "cannot be drawn from a sum"),
    ("arrivals: 10s, burst: {dist: geometric, mean: 1e7}", "at most 1,000,000"),
    ("arrivals: 10s, burst: {dist: poisson, mean: 3}",
     "burst.dist: unknown whole-number distribution; expected one of uniform_int, geometric"),
    ("arrivals: 10s, profile: {period: 1d, levels: []}", "profile.levels: needs at least two"),
    ("arrivals: 10s, profile: {period: 1d, levels: [2]}", "profile.levels: needs at least two"),
    ("arrivals: 10s, profile: {period: 1d, levels: [0, 0]}", "must not all be 0"),
    ("arrivals: 10s, profile: {period: 1d, levels: [1, -1]}", "profile.levels[1]"),
    ("arrivals: 10s, profile: {period: 1d, levels: [1, .nan]}", "profile.levels[1]"),
    ("arrivals: 10s, profile: {period: 0, levels: [1, 2]}", "profile.period"),
    ("arrivals: 10s, profile: {levels: [1, 2]}", "profile.period"),
    ("arrivals: 10s, regimes: {levels: [1], dwell: 1h}", "regimes.levels: needs at least two"),
    ("arrivals: 10s, regimes: {levels: [0, 0, 0], dwell: 1h}", "must not all be 0"),
    ("arrivals: 10s, regimes: {levels: [1, 2], dwell: 0}", "regimes.dwell"),
    ("arrivals: 10s, regimes: {levels: [1, 2]}", "regimes.dwell"),
    ("arrivals: 10s, pending: -1", "pending"),
    ("arrivals: 10s, pending: 1.5", "pending"),
    ("arrivals: 10s, pending: 1e10", "pending"),
    ("arrivals: 10s, during_outages: drop", "during_outages"),
    ("arrivals: 10s, during_outages: true", "during_outages"),
    ("arrivals: 10s, during_outages: [stop]", "during_outages"),
    ("arrivals: 10s, hold: -30s", "hold: must not be negative (got '-30s')"),
    ("arrivals: 10s, hold: 0", "hold: has a mean of 0: a hold of 0 is no hold: leave the key out"),
    ("arrivals: 10s, hold: {dist: exponential, mean: 0s}", "a hold of 0 is no hold"),
    ("arrivals: 10s, hold: soon", "hold: not a duration"),
    ("arrivals: 10s, hold: [30s]", "hold: not a duration"),
    ("arrivals: 10s, hold: .inf", "hold: a duration must be a finite number"),
    ("arrivals: 10s, hold: {dist: lognormal, mean: .inf, cv: 1}", "hold.mean"),
    ("arrivals: 10s, hold: {dist: uniform, low: 1s, high: 1e400}", "hold.high"),
    ("arrivals: {trace: a.csv}, burst: 2", "not used with an arrival trace"),
    ("arrivals: {trace: a.csv}, profile: {period: 1d, levels: [1, 2]}",
     "not used with an arrival trace"),
    ("arrivals: {trace: a.csv}, load: 0.5", "not used with an arrival trace"),
])
def test_bad_keys_are_one_line(keys: str, words: str, tmp_path: Path) -> None:
    write(tmp_path, "at\n1\n", "a.csv")
    path = write(tmp_path, HEAD + keys + "}\n")
    code, out, err = cli("run", path, "--out", tmp_path / "out")
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert words in line and str(path) in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, words", [
    ("name: t\nworkloads:\n  - {name: x, kind: independent, jobs: 1, quantum: 1s, hold: 30s}\n",
     "workloads[0].hold: applies to background streams only"),
    ("name: t\nhorizon: 1h\ninstances: {o: {limit: 1h}}\nworkloads:\n  - {name: o, kind: "
     "background, quantum: 1s, arrivals: 10s, hold: 30s}\n",
     "workloads[0].hold: not built beside a usage or cost limit on the stream's instance"),
])
def test_a_hold_only_on_a_stream_without_a_limit(text: str, words: str, tmp_path: Path) -> None:
    path = write(tmp_path, text)
    code, out, err = cli("run", path, "--out", tmp_path / "out")
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert words in line and str(path) in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("trace, words", [
    (None, "no such file"),
    ("folder", "is a directory"),
    ("fifo", "not a regular file"),
    ("", "needs a header row"),
    ("when\n1\n", "needs a header row"),
    ("at,size\n1,2\n", "unknown column 'size'"),
    ("at\n", "has no rows"),
    ("at\n5\n3\n", "before the previous row's"),
    ("at\n-1\n", "at '-1'"),
    ("at\nnan\n", "at 'nan'"),
    ("at,count\n1,-2\n", "count '-2'"),
    ("at,count\n1,NaN\n", "count 'NaN'"),
    ("at,count\n1,1.5\n", "count '1.5'"),
    ("at,quantum\n1,nan\n", "quantum 'nan'"),
    ("at,quantum\n1,\n", "quantum ''"),
    ("at\n2023-11-01T10:00:00Z\n2023-11-01T09:00:00Z\n", "before the first row's"),
    ("at\n1\n2023-11-01T10:00:00Z\n", "after numbers"),
    ("at\n2023-11-01T10:00:00\n2023-11-01T10:00:05Z\n", "time zone"),
    ("at,count\n1\n", "has 1 fields"),
    (b"at\n\xff\n", "not a text file"),
])
def test_a_bad_trace_is_one_line(trace: str | bytes | None, words: str, tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    if trace == "folder":
        target.mkdir()
    elif trace == "fifo":
        os.mkfifo(target)
    elif trace is not None:
        write(tmp_path, trace, "a.csv")
    path = write(tmp_path, HEAD + "arrivals: {trace: a.csv}}\n")
    code, out, err = cli("run", path, "--out", tmp_path / "out")
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert words in line and "a.csv" in line, line
    assert not (tmp_path / "out").exists()


def test_the_trace_is_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "at\n1\n2\n", "a.csv")
    path = write(tmp_path / "sub", HEAD + "arrivals: {trace: a.csv}}\n")
    os.chdir(tmp_path)  # not the scenario's folder
    result = qsim.simulate(qsim.load_scenario(path))
    assert result.jobs["submit_at"].tolist() == [1.0, 2.0]


def test_a_billion_pending_jobs_are_refused_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "arrivals: 1h, pending: 1e9}\n")
    code, out, err = cli("run", path, "--out", tmp_path / "out")
    assert (code, out) == (2, "")
    assert one_error_line(err).startswith("t: about 1e+09 jobs expected (o: 1e+09)")


def test_the_estimate_counts_bursts_pending_and_traces(tmp_path: Path) -> None:
    write(tmp_path, "at,count\n0,3\n100,2\n5000,4\n", "a.csv")
    burst = qsim.load_scenario(write(tmp_path, HEAD + "arrivals: 10s, burst: 3, pending: 7}\n"))
    assert estimate(burst).by_workload == {"o": pytest.approx(7 + 3 * 3600 / 10)}
    trace = qsim.load_scenario(write(tmp_path, HEAD + "arrivals: {trace: a.csv}}\n"))
    assert estimate(trace).by_workload == {"o": 5.0}  # the row at 5000 s is past the horizon


def test_a_multiplier_that_stays_0_for_ever_stops_the_run_with_one_line(tmp_path: Path) -> None:
    # Slices of 1 h at 0, 1 and regimes of exactly 1 h at 0, 1: whichever comes first, the
    # product is 0 at every instant; the run must not loop for ever.
    keys = ("arrivals: 10s, profile: {period: 2h, levels: [0, 1]}, "
            "regimes: {levels: [0, 1], dwell: 1h}")
    for seed in range(4):
        path = write(tmp_path, HEAD.replace("horizon: 1h", f"horizon: 1h\nseed: {seed}") + keys
                     + "}\n")
        code, out, err = cli("run", path, "--json")
        if code == 0:
            continue  # the seed made them line up: profile 1 meets regimes 1
        assert (code, out) == (2, "")
        assert "stayed 0 over 100,000 changes in a row" in one_error_line(err)
        return
    pytest.fail("no seed gave the multiplier that stays 0")
