"""Exact timelines of background jobs at instants shared with other events (SPEC §10, §11).

A background job's dispatch and the QPU's choice are made inline, in the heap entry that asks
for them, when nothing else is due at that instant and no outage holds them (``Backend``'s
module docstring, "the plain stretch"). Each timeline here puts some other event at that very
instant, so the dispatch or the choice must wait for it as the settle does: all of an instant's
job ends, timers and submissions first, then dispatch, then the QPU's choice. Fixed durations,
hand-computed: every stream sends a job every 10 s (its first one 10 s after its start),
compile 2 s, quantum 3 s, post 1 s.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest
from helpers import run

import qsim
from qsim.model.backend import Backend
from qsim.model.jobs import Job
from qsim.model.rules import FairShare, InstanceLedger

Row = tuple[float, str, int]


def stream(name: str, **extra: object) -> dict[str, Any]:
    return {"name": name, "kind": "background", "arrivals": "10s", "compile": "2s",
            "quantum": "3s", "post": "1s", **extra}


def test_two_arrivals_and_two_compile_ends_at_one_instant() -> None:
    # a and b arrive together at 10 and 20: both submissions before either dispatch; both
    # compile ends (12) before the QPU's choice, which takes a's job (ready first: id order).
    result = run(stream("a"), stream("b"), horizon="25s", backend={"lanes": 2})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.submit", 1),
        (10.0, "job.dispatch", 0), (10.0, "job.dispatch", 1),
        (12.0, "job.ready", 0), (12.0, "job.ready", 1), (12.0, "qpu.start", 0),
        (15.0, "qpu.end", 0), (15.0, "qpu.start", 1),
        (16.0, "job.done", 0),
        (18.0, "qpu.end", 1),
        (19.0, "job.done", 1),
        (20.0, "job.submit", 2), (20.0, "job.submit", 3),
        (20.0, "job.dispatch", 2), (20.0, "job.dispatch", 3),
        (22.0, "job.ready", 2), (22.0, "job.ready", 3), (22.0, "qpu.start", 2),
        (25.0, "qpu.end", 2),  # the end instant: phase ends come before the run's end
        (25.0, "job.incomplete", 2), (25.0, "job.incomplete", 3), (25.0, "run.end", -1)]


def test_a_quantum_end_and_an_arrival_at_one_instant() -> None:
    # At 15 job 0 leaves the QPU while job 1 waits for it and c's first job arrives: the
    # arrival and its dispatch come before the QPU takes job 1.
    result = run(stream("a"), stream("b"), stream("c", start="5s"), horizon="20s",
                 backend={"lanes": 3})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.submit", 1),
        (10.0, "job.dispatch", 0), (10.0, "job.dispatch", 1),
        (12.0, "job.ready", 0), (12.0, "job.ready", 1), (12.0, "qpu.start", 0),
        (15.0, "qpu.end", 0), (15.0, "job.submit", 2), (15.0, "job.dispatch", 2),
        (15.0, "qpu.start", 1),
        (16.0, "job.done", 0),
        (17.0, "job.ready", 2),
        (18.0, "qpu.end", 1), (18.0, "qpu.start", 2),
        (19.0, "job.done", 1),
        (20.0, "job.incomplete", 2), (20.0, "run.end", -1)]


def test_a_job_end_and_an_arrival_at_one_instant() -> None:
    # One lane. b's job (13) queues behind job 0; job 0 ends at 16 as c's first job arrives:
    # the arrival first, then the freed lane goes to the oldest queued job, b's.
    result = run(stream("a"), stream("b", start="3s"), stream("c", start="6s"),
                 horizon="17s", backend={"lanes": 1})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.dispatch", 0),
        (12.0, "job.ready", 0), (12.0, "qpu.start", 0),
        (13.0, "job.submit", 1),
        (15.0, "qpu.end", 0),
        (16.0, "job.done", 0), (16.0, "job.submit", 2), (16.0, "job.dispatch", 1),
        (17.0, "job.incomplete", 1), (17.0, "job.incomplete", 2), (17.0, "run.end", -1)]


def test_an_arrival_on_one_backend_while_an_earlier_backend_waits_to_settle() -> None:
    # Two backends (SPEC §18), a stream on each. At 12 x's job is ready on a, asking a's QPU to
    # choose, and y's first job arrives on b: a settles first (file order), then b.
    result = run(stream("x", backend="a"), stream("y", start="2s", backend="b"),
                 horizon="19s", backends=[{"name": "a"}, {"name": "b"}])
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.dispatch", 0),
        (12.0, "job.ready", 0), (12.0, "job.submit", 1),
        (12.0, "qpu.start", 0), (12.0, "job.dispatch", 1),
        (14.0, "job.ready", 1), (14.0, "qpu.start", 1),
        (15.0, "qpu.end", 0),
        (16.0, "job.done", 0),
        (17.0, "qpu.end", 1),
        (18.0, "job.done", 1),
        (19.0, "run.end", -1)]


def test_a_pause_holds_what_a_quantum_end_and_a_job_end_would_settle() -> None:
    # Two lanes, pause 14-17 (SPEC §16). Job 0 leaves the QPU at 15 with job 1 waiting, and
    # ends at 16 with c's job (13) queued: the QPU's choice and the dispatch wait for 17.
    result = run(stream("a"), stream("b"), stream("c", start="3s"), horizon="20s",
                 backend={"lanes": 2, "outages": [{"start": "14s", "end": "17s"}]})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.submit", 1),
        (10.0, "job.dispatch", 0), (10.0, "job.dispatch", 1),
        (12.0, "job.ready", 0), (12.0, "job.ready", 1), (12.0, "qpu.start", 0),
        (13.0, "job.submit", 2),
        (14.0, "outage.start", -1),
        (15.0, "qpu.end", 0),
        (16.0, "job.done", 0),
        (17.0, "outage.end", -1), (17.0, "job.dispatch", 2), (17.0, "qpu.start", 1),
        (19.0, "job.ready", 2),
        (20.0, "qpu.end", 1),
        (20.0, "job.incomplete", 1), (20.0, "job.incomplete", 2), (20.0, "run.end", -1)]


def test_a_pause_holds_the_qpu_from_a_compile_end() -> None:
    # Job 0's compile ends at 12 inside the pause 11-13, the QPU free: it starts at 13.
    result = run(stream("a"), horizon="18s",
                 backend={"outages": [{"start": "11s", "end": "13s"}]})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.dispatch", 0),
        (11.0, "outage.start", -1),
        (12.0, "job.ready", 0),
        (13.0, "outage.end", -1), (13.0, "qpu.start", 0),
        (16.0, "qpu.end", 0),
        (17.0, "job.done", 0),
        (18.0, "run.end", -1)]


def test_under_fair_share_two_arrivals_at_one_instant_go_by_usage() -> None:
    # One lane, fair share (SPEC §4). a's job 0 runs alone (its dispatch made inline), so a's
    # instance has used 3 s at 16. At 20 a's job 1 and b's first job 2 arrive together: the
    # dispatch waits for both and takes b's (no usage), where fifo would take job 1.
    result = run(stream("a", instance="a"), stream("b", instance="b", start="10s"),
                 horizon="27s", backend={"lanes": 1, "queue": "fair_share"})
    assert result.trace.rows() == [
        (10.0, "job.submit", 0), (10.0, "job.dispatch", 0),
        (12.0, "job.ready", 0), (12.0, "qpu.start", 0),
        (15.0, "qpu.end", 0),
        (16.0, "job.done", 0),
        (20.0, "job.submit", 1), (20.0, "job.submit", 2), (20.0, "job.dispatch", 2),
        (22.0, "job.ready", 2), (22.0, "qpu.start", 2),
        (25.0, "qpu.end", 2),
        (26.0, "job.done", 2), (26.0, "job.dispatch", 1),
        (27.0, "job.incomplete", 1), (27.0, "run.end", -1)]


def test_fair_share_accounts_are_the_settles_to_the_bit(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    # A lone arrival under fair share is dispatched inline, without the pick that would have
    # moved its instance's window up to that instant: it moves it itself, so each instance's
    # running total is the same float as when every arrival is settled (which
    # Backend.submit_last as plain submit gives), and so is every later choice.
    data = {"name": "fs", "horizon": "6h",
            "backend": {"lanes": 3, "queue": "fair_share", "fair_share_window": "7m"},
            "workloads": [
                {"name": name, "kind": "background", "instance": name, "share": share,
                 "arrivals": {"dist": "exponential", "mean": "21s"},
                 "compile": {"dist": "exponential", "mean": "3.3s"},
                 "quantum": {"dist": "lognormal", "mean": "6.3s", "cv": 0.9},
                 "post": {"dist": "exponential", "mean": "1.7s"}}
                for name, share in (("a", 1.0), ("b", 3.0))]}
    scenario = qsim.parse_scenario(data, "fs.yaml")

    def accounts() -> tuple[list[tuple[float, str, int]], list[tuple[float, int, bytes]]]:
        ledgers: list[InstanceLedger] = []
        original = FairShare.__init__

        def keep(self: FairShare, ledger: InstanceLedger, charged: Callable[[Job], float]
                 ) -> None:
            ledgers.append(ledger)
            original(self, ledger, charged)

        with monkeypatch.context() as patch:
            patch.setattr(FairShare, "__init__", keep)
            result = qsim.simulate(scenario, seed=4)
        usages = ledgers[0].by_name.values()
        for usage in usages:
            usage.pack()  # the newest entries too
        return result.trace.rows(), [(u.total, u.head, u.times.tobytes()) for u in usages]

    inline = accounts()
    monkeypatch.setattr(Backend, "submit_last", Backend.submit)
    settled = accounts()
    assert len(inline[0]) > 4000 and inline[0] == settled[0]
    assert [struct.pack("<d", t) for t, _, _ in inline[1]] == [
        struct.pack("<d", t) for t, _, _ in settled[1]]
    assert inline[1] == settled[1]
