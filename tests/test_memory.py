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
