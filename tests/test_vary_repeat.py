"""``--vary`` addresses a repeated workload by the name in its file (SPEC §20): the PATH
reaches every copy ``NAME#k``; a start (and ``open_at``, ``cancel_at``) moves every copy and
keeps them ``every`` apart. A copy's own name still addresses that copy alone."""

from __future__ import annotations

import pytest
from helpers import job, scenario

from qsim.experiments.sweep import SweepError, points, with_fields

REPEATED = scenario(job("s", jobs=2, quantum="1s", repeat={"every": "1h", "times": 3}),
                    job("t", jobs=1, quantum="1s"))


def test_a_field_of_a_repeated_workload_is_set_in_every_copy() -> None:
    s = with_fields(REPEATED, [("workloads.s.jobs", 7)])
    assert [(w.name, w.jobs) for w in s.workloads] == [
        ("s#1", 7), ("s#2", 7), ("s#3", 7), ("t", 1)]


def test_a_drawn_count_reaches_every_copy() -> None:
    s = with_fields(REPEATED, [("workloads.s.jobs", {"dist": "uniform_int", "low": 1,
                                                      "high": 9})])
    assert all(w.jobs.high == 9 for w in s.workloads[:3])  # type: ignore[union-attr]


def test_the_copies_keep_their_spacing_when_the_start_moves() -> None:
    s = with_fields(REPEATED, [("workloads.s.start", "30m")])
    assert [w.start for w in s.workloads[:3]] == [1800.0, 5400.0, 9000.0]
    s = with_fields(REPEATED, [("workloads.s.mode", {"kind": "batch", "cancel_at": "10m"})])
    assert [w.mode.cancel_at for w in s.workloads[:3]] == [600.0, 4200.0, 7800.0]


def test_a_copy_by_its_own_name_is_set_alone() -> None:
    s = with_fields(REPEATED, [("workloads.s#2.jobs", 5)])
    assert [w.jobs for w in s.workloads] == [2, 5, 2, 1]


def test_a_sweep_over_a_repeated_workload() -> None:
    grid = points(REPEATED, {"workloads.s.mode": ["job", "batch"]})
    assert [[w.mode.kind for w in p.scenario.workloads[:3]] for p in grid] == [
        ["job"] * 3, ["batch"] * 3]


def test_an_unknown_name_lists_the_names_in_the_file() -> None:
    with pytest.raises(SweepError, match=r"no workload named 'x' \(workloads: s \(3 copies "
                                         r"s#1\.\.s#3\), t\)"):
        with_fields(REPEATED, [("workloads.x.jobs", 1)])


def test_a_bad_value_names_the_path_as_written() -> None:
    with pytest.raises(Exception, match=r"workloads\.s\.jobs: must be at least 1 \(got 0\)"):
        with_fields(REPEATED, [("workloads.s.jobs", 0)])
