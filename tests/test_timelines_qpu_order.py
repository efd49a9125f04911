"""The QPU's order among dispatched jobs (issue 29, SPEC §1, §19): by default the jobs of the
active batch or session go first at the QPU as well as in the queue; ``backend.qpu_order:
ready`` (what-if) serves them first ready, first served, whatever their context.

The documentation says batch jobs "are scheduled together" and jump the queue; it says
nothing of the order on the QPU among jobs already dispatched. These timelines show the one
place the two readings differ: a one-job batch whose job becomes ready after others' jobs
already compiled in the lanes."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import job, rows, run, workload

# Lanes 3. others: two job-mode jobs at 0 (compile 1 s, quantum 10 s), both ready at 1; o0
# takes the QPU 1-11 and o1 waits. b: a one-job batch at 2 (compile 1 s), dispatched at 2
# (a lane is free, the batch activates), ready at 3. At 11 the QPU chooses between o1 (ready
# since 1) and b's job (ready since 3).
OTHERS = job("others", jobs=2, compile="1s")
BATCH = job("b", start="2s", compile="1s", mode="batch")
HEAD = [(0.0, "job.submit", 0), (0.0, "job.submit", 1), (0.0, "job.dispatch", 0),
        (0.0, "job.dispatch", 1), (1.0, "job.ready", 0), (1.0, "job.ready", 1),
        (1.0, "qpu.start", 0), (2.0, "job.submit", 2), (2.0, "job.dispatch", 2),
        (3.0, "job.ready", 2), (11.0, "qpu.end", 0), (11.0, "job.done", 0)]


def ordered(qpu_order: str | None) -> Any:
    backend: dict[str, Any] = {"lanes": 3}
    if qpu_order is not None:
        backend["qpu_order"] = qpu_order
    return run(OTHERS, BATCH, backend=backend)


@pytest.mark.parametrize("qpu_order", [None, "context_first"])
def test_by_default_the_active_batch_goes_first_at_the_qpu(qpu_order: str | None) -> None:
    result = ordered(qpu_order)
    assert rows(result, jobs_only=True) == [
        *HEAD, (11.0, "qpu.start", 2), (21.0, "qpu.end", 2), (21.0, "job.done", 2),
        (21.0, "qpu.start", 1), (31.0, "qpu.end", 1), (31.0, "job.done", 1)]
    b = workload(result, "b")
    assert (b["wall_time_s"], b["usage_s"]) == (19.0, 10.0)


def test_ready_order_serves_the_first_ready_whatever_its_context() -> None:
    result = ordered("ready")
    assert rows(result, jobs_only=True) == [
        *HEAD, (11.0, "qpu.start", 1), (21.0, "qpu.end", 1), (21.0, "job.done", 1),
        (21.0, "qpu.start", 2), (31.0, "qpu.end", 2), (31.0, "job.done", 2)]
    b = workload(result, "b")
    assert (b["wall_time_s"], b["usage_s"]) == (29.0, 10.0)  # 10 s later, same charge


def test_the_queue_still_lets_the_active_batch_jump_under_ready_order() -> None:
    # Lane 1: the batch's second job (submitted at 5) is dispatched at 20 ahead of late's job
    # (waiting since 6), as without the what-if: qpu_order changes the QPU's order only.
    result = run(job("others", jobs=2), job("sweep", jobs=2, start="5s", submit_interval="10s",
                                            mode="batch"),
                 job("late", jobs=2, start="6s"), backend={"lanes": 1, "qpu_order": "ready"})
    assert result.jobs["dispatch_at"].tolist() == [0.0, 10.0, 20.0, 40.0, 50.0, 30.0]


def test_ties_in_readiness_go_by_queue_order_in_both_orders() -> None:
    # Lanes 3, no compile: o0, o1 and the batch's job are all ready at 0; o0 first (oldest),
    # then, by default, the active batch's job; under ready, queue order: o1 before b's job.
    default = run(job("others", jobs=2), job("b", mode="batch"), backend={"lanes": 3})
    ready = run(job("others", jobs=2), job("b", mode="batch"),
                backend={"lanes": 3, "qpu_order": "ready"})
    assert default.jobs["quantum_start_at"].tolist() == [10.0, 20.0, 0.0]
    assert ready.jobs["quantum_start_at"].tolist() == [0.0, 10.0, 20.0]
