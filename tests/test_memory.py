"""What a run keeps alive: a finished job is garbage unless the results hold it (issue 18)."""

from __future__ import annotations

import pytest

import qsim
import qsim.model.engine as engine
from qsim.model.backend import Backend
from qsim.model.jobs import QUEUED


def _scenario(queue: str) -> qsim.Scenario:
    return qsim.parse_scenario({
        "name": "memory", "horizon": "6h",
        "backend": {"queue": queue, "calibration": {"every": "1h", "duration": "5m"}},
        "workloads": [
            {"name": "a", "kind": "background", "instance": "open",
             "arrivals": {"dist": "exponential", "mean": "20s"}, "quantum": "10s"},
            {"name": "b", "kind": "background", "instance": "materials", "share": 2,
             "arrivals": {"dist": "exponential", "mean": "30s"}, "quantum": "5s"},
            {"name": "loop", "kind": "iterative", "mode": "batch", "iterations": 5,
             "parallel": 2, "start": "1h", "quantum": "5s", "classical": "10s"},
        ]}, "memory")


@pytest.mark.parametrize("queue", ["fifo", "fair_share"])
def test_the_backend_keeps_no_finished_job(queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    backends: list[Backend] = []

    class Watched(Backend):
        __slots__ = ()

        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            backends.append(self)

    monkeypatch.setattr(engine, "Backend", Watched)
    result = qsim.simulate(_scenario(queue))
    assert result.summary()["workloads"][0]["jobs"]["done"] > 500
    (backend,) = backends
    # Under fair share nothing reads the queue order, so nothing may be kept in it; under fifo
    # it holds at most what is still queued plus what left since its head was read.
    kept = [job for job in backend._queue_order if job.state != QUEUED]
    if queue == "fair_share":
        assert not backend._queue_order
    assert len(kept) < 50


@pytest.mark.parametrize("tail", [1, 7, 1024])
def test_instance_usage_expires_as_the_deque_of_tuples_did(
        tail: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The arrays (and their compaction past 4,096 expired entries) and the unpacked tails
    # (packed every ``tail`` entries, or when every packed entry has expired) give the same
    # floats, in the same order of additions and subtractions, as the plain deque they replace.
    import random
    from collections import deque

    from qsim.model.rules import InstanceUsage

    monkeypatch.setattr(InstanceUsage, "TAIL", tail)
    rng = random.Random(1)
    usage, entries, total, now = InstanceUsage(2.0, 500.0), deque(), 0.0, 0.0
    for _ in range(30_000):
        now += rng.expovariate(1 / 3) if rng.random() < 0.99 else 2_000.0  # and quiet spells
        if rng.random() < 0.6:
            seconds = rng.lognormvariate(0, 1)
            usage.add(now, seconds)
            entries.append((now, seconds))
            total += seconds
        while entries and entries[0][0] < now - 500.0:
            total -= entries.popleft()[1]
        assert usage.ratio(now) == total / 2.0
    assert len(usage.times) - usage.head + len(usage.times_tail) == len(entries)


def test_instance_usage_drops_its_expired_half_when_it_packs() -> None:
    # A window that always holds entries (28 days of a busy backend) never empties the arrays:
    # the expired entries before ``head`` are dropped when a pack finds them more than half
    # the arrays (and more than 4,096), so the arrays stay about twice the window's entries,
    # not every entry ever added; the running total is the deque's float all along.
    from collections import deque

    from qsim.model.rules import InstanceUsage

    usage, entries, total = InstanceUsage(1.0, 5_000.0), deque(), 0.0
    longest = 0
    for step in range(60_000):  # an entry a second: 5,000 in the window, 60,000 in all
        now = float(step)
        usage.add(now, 0.1 + step % 7)
        entries.append((now, 0.1 + step % 7))
        total += 0.1 + step % 7
        while entries[0][0] < now - 5_000.0:
            total -= entries.popleft()[1]
        assert usage.ratio(now) == total
        longest = max(longest, len(usage.times))
    assert len(usage.times) - usage.head + len(usage.times_tail) == len(entries)
    assert 5_000 < longest < 2 * 5_000 + 2 * InstanceUsage.TAIL + 4_096


def test_the_record_log_packs_its_tails_as_the_run_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The newest records wait in two lists (Trace.t_tail, code_tail) that the backend packs
    # into the arrays every TAIL_JOBS jobs: packed every 8 jobs here, the lists stay a few
    # jobs' records long, and the log is the one packed every 1,024 jobs, record for record.
    import qsim.model.backend as backend_module
    from qsim.records.log import Trace

    whole = qsim.simulate(_scenario("fair_share"), seed=2).trace
    longest = [0]
    original = Trace.pack

    def pack(self: Trace) -> None:
        if not self.frozen:
            longest[0] = max(longest[0], len(self.t_tail))
        original(self)

    monkeypatch.setattr(backend_module, "_TAIL_MASK", 7)
    monkeypatch.setattr(Trace, "pack", pack)
    packed = qsim.simulate(_scenario("fair_share"), seed=2).trace
    assert len(packed) > 10_000
    assert 0 < longest[0] < 8 * 12
    assert packed.t.tobytes() == whole.t.tobytes()
    assert packed.code.tobytes() == whole.code.tobytes() and packed.info == whole.info
