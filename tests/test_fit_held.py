"""The fit's held stream (SPEC §17 ``hold``, §21): the replay's schedule with held jobs, and
when the fit searches for one."""

from __future__ import annotations

import numpy as np
import pytest

import qsim
from qsim.analysis.queue_stats import QueueStats
from qsim.experiments.fit_replay import (
    Draws,
    Held,
    Model,
    background_jobs,
    dispatch_held,
    dispatch_times,
    simulate_queue,
)
from qsim.experiments.fitting import holds_jobs


def test_with_nothing_held_the_event_loop_is_the_recursion() -> None:
    rng = np.random.default_rng(4)
    submit = np.sort(rng.random(5000) * 86400)
    quantum = rng.exponential(20.0, 5000)
    pauses = ((1000.0, 5000.0), (40000.0, 41000.0), (40500.0, 42000.0))
    for lanes in (1, 5):
        assert np.array_equal(dispatch_held(submit, submit, quantum, lanes, pauses),
                              dispatch_times(submit, quantum, lanes, pauses))


def test_a_released_job_takes_its_place_by_submission() -> None:
    # One lane. Job 0 is submitted at 0 and held until 30; jobs 1 and 2 (5 and 10) are not
    # held; job 3 comes at 40. Job 1 runs 5-25; at 25 only job 2 is released: it goes
    # (25-45). At 45 jobs 0 (released at 30) and 3 wait: job 0, the older submission, goes
    # first (45-55), then job 3.
    submit = np.array([0.0, 5.0, 10.0, 40.0])
    release = np.array([30.0, 5.0, 10.0, 40.0])
    quantum = np.array([10.0, 20.0, 20.0, 5.0])
    assert dispatch_held(submit, release, quantum, 1).tolist() == [45.0, 5.0, 25.0, 55.0]
    # with a free lane a job goes at its release, and nothing is dispatched in a pause
    assert dispatch_held(submit[:1], release[:1], quantum[:1], 2).tolist() == [30.0]
    assert dispatch_held(submit[:1], release[:1], quantum[:1], 2,
                         ((20.0, 50.0),)).tolist() == [50.0]


def test_the_held_streams_draws_leave_the_main_streams_alone() -> None:
    model = Model(arrival_rate=0.05, burst_mean=3.0, service_s=10.0, service_cv=1.0,
                  regimes=(0.5, 1.5), regime_dwell_s=3600.0, pending0=4)
    held = Model(**{**model.__dict__,
                    "held": Held(arrival_rate=0.01, burst_mean=2.0, hold_s=1800.0, hold_cv=1.5)})
    plain_submit, _, plain_quantum = background_jobs(model, Draws(2, 0, 86400.0))
    submit, release, quantum = background_jobs(held, Draws(2, 0, 86400.0))
    n = len(plain_submit)
    assert np.array_equal(submit[:n], plain_submit)  # the main stream's jobs, unchanged
    assert np.array_equal(quantum[:n], plain_quantum)
    assert np.array_equal(release[:n], submit[:n])  # ... and never held
    extra = release[n:] - submit[n:]
    assert len(extra) > 300 and (extra > 0).all()
    assert extra.mean() == pytest.approx(1800.0, rel=0.2)
    # held jobs are pending from their submission: the queue is longer than without them
    _, dispatch = simulate_queue(held, Draws(2, 0, 86400.0))
    assert (dispatch[n:] >= release[n:]).all()


def test_the_replay_with_a_held_stream_is_qsims_schedule() -> None:
    # qsim's own run of the fitted scenario's shape: the main stream and a held one, and the
    # event loop given the same submissions, releases (from the log's job.release records)
    # and quanta gives qsim's dispatch instants.
    pauses = ((3600.0, 5400.0),)
    scenario = qsim.parse_scenario({
        "name": "held", "seed": 7, "horizon": "6h",
        "backend": {"lanes": 3, "outages": [{"start": f"{a}s", "end": f"{b}s", "kind": "pause"}
                                            for a, b in pauses]},
        "workloads": [
            {"name": "others", "kind": "background", "pending": 5,
             "arrivals": {"dist": "exponential", "mean": "40s"}, "burst": 2,
             "quantum": {"dist": "lognormal", "mean": "25s", "cv": 1.2}},
            {"name": "held", "kind": "background",
             "arrivals": {"dist": "exponential", "mean": "90s"},
             "hold": {"dist": "lognormal", "mean": "20m", "cv": 1.5},
             "quantum": {"dist": "lognormal", "mean": "25s", "cv": 1.2}}]})
    result = qsim.simulate(scenario)
    jobs = result.job_arrays
    records = result.records
    released = records[records["kind"] == "job.release"]
    release = np.where(jobs["workload"] == 1, np.inf, jobs["submit_at"])  # held: until released
    release[released["job"].to_numpy()] = released["t"].to_numpy()
    order = np.argsort(jobs["submit_at"], kind="stable")
    submit, quantum, dispatch = (jobs[k][order] for k in ("submit_at", "quantum_s",
                                                          "dispatch_at"))
    started = ~np.isnan(jobs["quantum_start_at"][order])  # the rest cut off by the horizon
    replayed = dispatch_held(submit, release[order], quantum, lanes=3, pauses=pauses)
    assert len(released) > 100 and started.sum() > 400
    assert np.max(np.abs(replayed[started] - dispatch[started])) < 1e-9
    # held jobs did go ahead of later submissions: the schedule is not the plain FIFO one
    assert np.max(np.abs(dispatch_times(submit, quantum, 3, pauses)[started]
                         - dispatch[started])) > 1.0


def _stats(p10: float) -> QueueStats:
    nan = float("nan")
    return QueueStats(hours=24.0, coverage=1.0, p10=p10, p50=10.0, p90=50.0, p99=90.0,
                      mean=20.0, paused_share=0.0, arrivals_per_10min=5.0, dispersion=10.0,
                      departures_per_10min=5.0, acf_1h=nan, acf_24h=nan)


def test_a_held_stream_is_searched_only_for_a_queue_that_rarely_empties() -> None:
    assert holds_jobs(_stats(2.0)) and not holds_jobs(_stats(0.0))
