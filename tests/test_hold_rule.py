"""A background stream's ``hold`` (SPEC §17) over long runs: Little's law for the jobs it keeps
held, the order in which released jobs are dispatched under fifo and fair share, its own
random stream, and what ``validate --show`` says of it. The exact timelines are in
tests/test_timelines_hold.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import run
from test_hostile import cli, write

from qsim.analysis.queue_stats import queue_level_of_run
from qsim.records.log import Kind

RATE_S = 60.0  # mean inter-arrival
HOLD_S = 600.0  # mean hold: Little's law gives 10 jobs held on average
SPAN_S = 3 * 86400.0
BATCHES = 20


def held_stream(**extra: object) -> dict[str, object]:
    return {"name": "held", "kind": "background", "quantum": "1s",
            "arrivals": {"dist": "exponential", "mean": RATE_S},
            "hold": {"dist": "exponential", "mean": HOLD_S}, **extra}


def batch_means(starts: np.ndarray, ends: np.ndarray, span: float) -> np.ndarray:
    """The time-average of the number of intervals [start, end) open, over each of BATCHES
    equal slices of [0, span)."""
    edges = np.linspace(0.0, span, BATCHES + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    inside = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0.0, None)
    means: np.ndarray = inside.sum(axis=1) / (span / BATCHES)
    return means


def test_the_jobs_held_keep_littles_law() -> None:
    """At a low load (1 s jobs every minute on 5 lanes) nothing contends for dispatch: the
    jobs held on average over 3 days (and those pending, held or queued) are the arrival
    rate x the mean hold, 10, within three standard errors of their batch means."""
    result = run(held_stream(), horizon=f"{SPAN_S:g}s", seed=7)
    columns = result.trace.columns()
    held_at = columns.t[columns.kind == Kind.JOB_HOLD]
    released = np.full(len(held_at), SPAN_S)  # still held at the end: held until then
    # The stream's jobs are all the jobs: job i is the i-th held.
    released[columns.job[columns.kind == Kind.JOB_RELEASE]] = \
        columns.t[columns.kind == Kind.JOB_RELEASE]
    means = batch_means(held_at, released, SPAN_S)
    error = means.std(ddof=1) / np.sqrt(BATCHES)
    expected = HOLD_S / RATE_S
    assert abs(means.mean() - expected) < 3 * error, (means.mean(), error)
    # The queue level qsim's fit samples (submitted, not yet dispatched) counts them as held:
    # pending jobs on average = the held ones (+ a queue that is all but empty here).
    grid = queue_level_of_run(result.job_arrays, SPAN_S)
    assert abs(grid.level[grid.valid].mean() - expected) < 3 * error + 0.05


@pytest.mark.parametrize("queue", ["fifo", "fair_share"])
def test_released_jobs_are_dispatched_by_submission(queue: str) -> None:
    """Holds drawn at random (a later job may be released first), a busy single lane beside
    a stream that is not held: replaying the log, each dispatched job is, under fifo, the
    oldest job then eligible (submitted and not held, or released); under fair share, the
    oldest of its own workload's."""
    result = run(held_stream(hold={"dist": "uniform", "low": "0s", "high": "120s"},
                             arrivals={"dist": "exponential", "mean": "20s"}, quantum="8s"),
                 {"name": "plain", "kind": "background", "quantum": "8s",
                  "arrivals": {"dist": "exponential", "mean": "40s"}},
                 backend={"lanes": 1, "queue": queue}, horizon="1d", seed=3)
    columns = result.trace.columns()
    workload_of: dict[int, int] = {}
    eligible: set[int] = set()
    checked = 0
    for kind, job, workload in zip(columns.kind.tolist(), columns.job.tolist(),
                                   columns.workload.tolist()):
        if kind == Kind.JOB_SUBMIT:
            workload_of[job] = workload
            eligible.add(job)
        elif kind == Kind.JOB_HOLD:
            eligible.discard(job)
        elif kind == Kind.JOB_RELEASE:
            eligible.add(job)
        elif kind == Kind.JOB_DISPATCH:
            mine = eligible if queue == "fifo" else {
                j for j in eligible if workload_of[j] == workload_of[job]}
            assert job == min(mine)
            eligible.discard(job)
            checked += 1
    overtaken = np.count_nonzero(np.diff(columns.job[columns.kind == Kind.JOB_RELEASE]) < 0)
    assert checked > 2000 and overtaken > 100  # later jobs were released first, often


def test_same_seed_same_bytes_and_a_hold_draws_from_its_own_stream() -> None:
    """Two runs, same seed: the same log, byte for byte. Adding a hold to one stream changes
    no draw of any stream: every job's phases are the same in the two runs (the dispatch
    times differ: the held jobs wait)."""
    plain = {"name": "plain", "kind": "background", "arrivals": "30s",
             "quantum": {"dist": "lognormal", "mean": "10s", "cv": 1}}
    other = {**plain, "name": "other", "arrivals": {"dist": "exponential", "mean": "45s"}}
    held = {**other, "hold": {"dist": "lognormal", "mean": "1h", "cv": 2.8}}
    runs = [run(plain, w, backend={"lanes": 1}, horizon="1d", seed=5)
            for w in (held, held, other)]
    first, again, without = (r.trace for r in runs)
    assert bytes(first.t) == bytes(again.t) and bytes(first.code) == bytes(again.code)
    assert bytes(first.t) != bytes(without.t)
    for name in ("plain", "other"):
        with_hold, no_hold = (r.jobs[r.jobs["workload"] == name] for r in (runs[0], runs[2]))
        assert with_hold["submit_at"].tolist() == no_hold["submit_at"].tolist()
        done = (with_hold["status"].to_numpy() == "done") & (
            no_hold["status"].to_numpy() == "done")
        assert done.sum() > 1000
        # qpu.end - qpu.start at other instants: the same draw to the float's rounding there
        assert with_hold["quantum_s"].to_numpy()[done] == pytest.approx(
            no_hold["quantum_s"].to_numpy()[done], rel=1e-9)


def test_show_states_the_mean_hold_and_the_jobs_held(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nhorizon: 1d\nworkloads:\n  - {name: o, kind: background, "
                 "quantum: 1s, arrivals: 1m, hold: {dist: lognormal, mean: 1h, cv: 2.8}}\n")
    code, out, err = cli("validate", path, "--show")
    assert (code, err) == (0, "")
    assert "# o: each job held 1h on average after its submission (hold): 60 jobs held on " \
        "average (arrival rate x mean hold), counted in pending_jobs" in out.splitlines()
    assert "  hold: {dist: lognormal, mean: 3600.0, cv: 2.8}" in out.splitlines()
