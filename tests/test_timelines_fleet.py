"""Exact timelines of SPEC §18, several backends. Fixed durations, hand-computed; compile and
post 0 unless given, so a job is ``job_rows(start, id, 0, 10, 0)``.

The rules as the implementation contract states them:
- Job ids are one counter across backends (submission order). Each backend has its own lanes,
  QPU, queue, calibrations and outages; at an instant's end each backend that asked settles
  (dispatch, then the QPU's choice), in file order.
- ``least_busy`` chooses at the workload's start (in its submission phase: after the
  same-instant submissions of workloads before it in the file, before any dispatch) the
  backend with the fewest jobs queued (submitted, not dispatched) among those not in an
  outage, ties by file order. A batch or session stays on its backend; a background stream
  with ``least_busy`` chooses at each arrival.
- Fair share counts an instance's usage on every backend together.
"""

from __future__ import annotations

from typing import Any

from helpers import job, job_rows, loop, run

import qsim

Row = tuple[float, str, int]


def fleet(*backends: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"lanes": 1, **b} for b in backends]


def backends_of(result: qsim.RunResult) -> list[int]:
    assert result.trace.job_backend is not None
    return list(result.trace.job_backend)


def submits(t: float, *jobs: int) -> list[Row]:
    return [(t, "job.submit", j) for j in jobs]


def test_least_busy_goes_to_the_emptier_backend() -> None:
    # a gets 3 jobs at 0; the user, later in the file, sees a with 3 queued, b with none
    result = run(job("busy", 3, backend="a"), job("user", 1, backend="least_busy"),
                 backends=fleet({"name": "a"}, {"name": "b"}))
    assert result.trace.rows() == [
        *submits(0, 0, 1, 2, 3),
        (0, "job.dispatch", 0), (0, "job.dispatch", 3),  # a settles, then b
        (0, "job.ready", 0), (0, "job.ready", 3),
        (0, "qpu.start", 0), (0, "qpu.start", 3),
        (10, "qpu.end", 0), (10, "qpu.end", 3), (10, "job.done", 0), (10, "job.done", 3),
        *job_rows(10, 1, 0, 10, 0), *job_rows(20, 2, 0, 10, 0),
        (30, "run.end", -1)]
    assert backends_of(result) == [0, 0, 0, 1]
    assert result.trace.workload_backend == [0, 1]


def test_ties_go_by_file_order_and_the_choice_is_at_the_start() -> None:
    # at 0 both backends are empty: a (file order). At 5, a has 2 queued: b
    result = run(job("first", 1, backend="least_busy"),
                 job("busy", 2, start="1s", backend="a"),
                 job("late", 1, start="5s", backend={"least_busy": ["b", "a"]}),
                 backends=fleet({"name": "a"}, {"name": "b"}))
    assert backends_of(result) == [0, 0, 0, 1]
    first = [r for r in result.trace.rows() if r[2] == 0]
    assert first == [(0, "job.submit", 0), *job_rows(0, 0, 0, 10, 0)]
    late = [r for r in result.trace.rows() if r[2] == 3]
    assert late == [(5, "job.submit", 3), *job_rows(5, 3, 0, 10, 0)]


def test_least_busy_never_picks_a_backend_in_an_outage() -> None:
    # a is paused 0..100 s with nothing queued; b has one job queued behind one running
    result = run(job("busy", 2, backend="b"), job("user", 1, start="5s", backend="least_busy"),
                 backends=fleet({"name": "a", "outages": [{"start": 0, "end": "100s"}]},
                                {"name": "b"}))
    assert result.trace.rows() == [
        (0, "outage.start", -1), *submits(0, 0, 1), *job_rows(0, 0, 0, 10, 0)[:3],
        (5, "job.submit", 2),
        (10, "qpu.end", 0), (10, "job.done", 0), *job_rows(10, 1, 0, 10, 0),
        *job_rows(20, 2, 0, 10, 0),
        (30, "run.end", -1)]
    assert backends_of(result) == [1, 1, 1]


def test_an_outage_at_the_instant_a_backend_asked_holds_what_it_asked() -> None:
    # At 10 job 0 ends on a and its lane asks to dispatch job 1; a pause begins on a at the
    # same instant (after the job's end): job 1 waits for the pause to end, at 15.
    result = run(job("w", 2, backend="a"),
                 backends=fleet({"name": "a", "outages": [{"start": "10s", "end": "15s"}]},
                                {"name": "b"}))
    assert result.trace.rows() == [
        *submits(0, 0, 1), *job_rows(0, 0, 0, 10, 0)[:3],
        (10, "qpu.end", 0), (10, "job.done", 0), (10, "outage.start", -1),
        (15, "outage.end", -1), *job_rows(15, 1, 0, 10, 0),
        (25, "run.end", -1)]


def test_a_named_backend_is_used_even_when_busy() -> None:
    result = run(job("busy", 2, backend="a"), job("user", 1, backend="a"),
                 backends=fleet({"name": "a"}, {"name": "b"}))
    assert result.trace.rows() == [
        *submits(0, 0, 1, 2), *job_rows(0, 0, 0, 10, 0), *job_rows(10, 1, 0, 10, 0),
        *job_rows(20, 2, 0, 10, 0), (30, "run.end", -1)]
    assert backends_of(result) == [0, 0, 0]


def test_fair_share_counts_usage_on_every_backend() -> None:
    # x used 100 s on B (booked at 100). On A, busy until 200, x's job (150) and y's (160)
    # wait: at 200 fair share on A takes y first, whose instance used nothing anywhere,
    # though x's job is older. (Counted per backend, x and y would tie at 0: x first.)
    result = run(job("x-on-b", 1, quantum="100s", backend="B", instance="x"),
                 job("hog", 1, quantum="200s", backend="A"),
                 job("x-on-a", 1, start="150s", backend="A", instance="x"),
                 job("y-on-a", 1, start="160s", backend="A", instance="y"),
                 backends=fleet({"name": "A", "queue": "fair_share"}, {"name": "B"}))
    assert result.trace.rows() == [
        *submits(0, 0, 1),
        (0, "job.dispatch", 1), (0, "job.dispatch", 0),  # A settles first (file order)
        (0, "job.ready", 1), (0, "job.ready", 0), (0, "qpu.start", 1), (0, "qpu.start", 0),
        (100, "qpu.end", 0), (100, "job.done", 0),
        (150, "job.submit", 2), (160, "job.submit", 3),
        (200, "qpu.end", 1), (200, "job.done", 1),
        *job_rows(200, 3, 0, 10, 0), *job_rows(210, 2, 0, 10, 0),
        (220, "run.end", -1)]
    assert backends_of(result) == [1, 0, 0, 0]


def test_a_session_stays_on_the_backend_it_started_on() -> None:
    # The session chooses a at 0 (b has busy-b's job queued). At 15 its second job goes to a
    # though a then has busy-a's two jobs queued and b none: it does not choose again.
    result = run(job("busy-b", 1, backend="b"),
                 loop("vqe", iterations=2, quantum="10s", classical="5s", mode="session",
                      backend="least_busy"),
                 job("busy-a", 2, start="12s", backend="a"),
                 backends=fleet({"name": "a"}, {"name": "b"}))
    assert backends_of(result) == [1, 0, 0, 0, 0]
    vqe = [r for r in result.trace.rows() if r[2] in (1, 4) or r[1].startswith("context")]
    assert vqe == [
        (0, "context.open", -1), (0, "job.submit", 1),
        (0, "job.dispatch", 1), (0, "context.activate", -1), (0, "job.ready", 1),
        (0, "qpu.start", 1), (10, "qpu.end", 1), (10, "job.done", 1),
        (15, "job.submit", 4), *job_rows(15, 4, 0, 10, 0),
        (25, "context.drain", -1), (25, "context.close", -1), (25, "context.release", -1)]
    # busy-a's jobs wait on a for the session, then run there
    assert [r for r in result.trace.rows() if r[2] in (2, 3) and r[1] == "qpu.start"] == [
        (25, "qpu.start", 2), (35, "qpu.start", 3)]
    assert result.trace.workload_backend == [1, 0, 0]


def test_a_least_busy_stream_chooses_at_each_arrival() -> None:
    # arrivals every 4 s of 10 s jobs on two one-lane backends
    result = run({"name": "bg", "kind": "background", "arrivals": "4s", "quantum": "10s",
                  "backend": "least_busy"},
                 backends=fleet({"name": "a"}, {"name": "b"}), horizon="13s")
    # 4: both empty -> a (runs 4-14); 8: a has 0 queued, b 0 -> a (queued); 12: a 1, b 0 -> b
    assert backends_of(result) == [0, 0, 1]
    assert result.trace.workload_backend == [-1]


# ---- what a fleet's run reports (SPEC §18) ---------------------------------------------------

def test_the_summary_has_each_backend_and_each_workloads_backend() -> None:
    result = run(job("busy", 3, backend="a"), job("user", 1, backend="least_busy"),
                 {"name": "bg", "kind": "background", "arrivals": "100s", "quantum": "1s",
                  "backend": "least_busy"},
                 backends=fleet({"name": "a", "calibration": {"every": "25s", "duration": "2s"}},
                                {"name": "b", "outages": [{"start": "50s", "end": "60s"}]}),
                 horizon="40s")
    s = result.summary()
    assert [b["name"] for b in s["backends"]] == ["a", "b"]
    a, b = s["backends"]
    # a: three jobs of 10 s, then its calibration due at 25 waits for job 2 (20-30): 30-32
    assert (a["qpu_busy_s"], a["calibrations"], a["calibration_deferred_s"]) == (32.0, 1, 5.0)
    assert (b["qpu_busy_s"], b["calibrations"], b["outages"]) == (10.0, 0, 0)
    assert s["backend"] == {k: v for k, v in a.items() if k != "name"}
    assert [w["backend"] for w in s["workloads"]] == ["a", "b", "least_busy"]
    jobs = result.jobs
    assert list(jobs.columns[:3]) == ["job", "workload", "backend"]
    assert jobs["backend"].tolist() == ["a", "a", "a", "b"]
    assert result.calibrations["backend"].tolist() == ["a"]
    assert result.intervals["backend"].tolist() == ["a", "b", "a", "a", "a"]


def test_overlapping_calibrations_and_outages_pair_within_their_backend() -> None:
    # a's outage 10-30 and b's 20-25 overlap: each ends at its own backend's end record
    result = run(job("w", 1, quantum="1s", start="40s"),
                 backends=fleet({"name": "a", "outages": [{"start": "10s", "end": "30s"}]},
                                {"name": "b", "outages": [{"start": "20s", "end": "25s"}]}))
    a, b = result.summary()["backends"]
    assert (a["outage_s"], a["outages"], b["outage_s"], b["outages"]) == (20.0, 1, 5.0, 1)


def test_one_backend_reports_as_before() -> None:
    result = run(job("w", 2))
    s = result.summary()
    assert "backends" not in s and "backend" not in s["workloads"][0]
    assert "backend" not in result.jobs.columns and result.trace.job_backend is None


def test_a_fleet_run_is_the_same_for_the_same_seed() -> None:
    workloads = [{"name": f"bg-{n}", "kind": "background", "load": 0.6,
                  "quantum": {"dist": "exponential", "mean": "20s"}, "backend": n}
                 for n in ("a", "b", "c")] + [
        {"name": "vqe", "kind": "iterative", "iterations": 5, "mode": "session",
         "quantum": "5s", "classical": {"dist": "exponential", "mean": "10s"},
         "backend": "least_busy", "start": "1h"},
        {"name": "route", "kind": "background", "load": 0.3, "quantum": "10s",
         "backend": "least_busy"}]
    backends = fleet({"name": "a"}, {"name": "b", "outages": [
        {"every": {"dist": "exponential", "mean": "2h"}, "duration": "10m"}]}, {"name": "c"})
    first = run(*workloads, backends=backends, horizon="6h", seed=7)
    again = run(*workloads, backends=backends, horizon="6h", seed=7)
    other = run(*workloads, backends=backends, horizon="6h", seed=8)
    assert first.trace.rows() == again.trace.rows() and first.summary() == again.summary()
    assert list(first.trace.job_backend or []) == list(again.trace.job_backend or [])
    assert first.trace.rows() != other.trace.rows()
    assert set(first.jobs["backend"]) == {"a", "b", "c"}


def test_a_fleet_replicates_the_same_on_one_core_or_two() -> None:
    sc = qsim.parse_scenario({
        "name": "fleet", "horizon": "2h",
        "backends": [{"name": "a", "queue": "fair_share"},
                     {"name": "b", "outages": [{"every": {"dist": "exponential", "mean": "1h"},
                                                "duration": "10m"}]}],
        "workloads": [
            {"name": "bg", "kind": "background", "load": 0.6, "backend": "least_busy",
             "quantum": {"dist": "exponential", "mean": "30s"}},
            {"name": "vqe", "kind": "iterative", "iterations": 10, "mode": "session",
             "quantum": "5s", "classical": "10s", "backend": "least_busy", "start": "10m"}]},
        "fleet.yaml")
    serial = qsim.replicate(sc, 4, workers=1).to_dict()
    parallel = qsim.replicate(sc, 4, workers=2).to_dict()
    assert serial == parallel and len(serial["backends"]) == 2
