"""Several backends (SPEC §18): each its own lanes, QPU, queue, calibrations and outages; one
job-id counter (the log's), one fair-share ledger, one clock, and ``least_busy``.

A one-backend scenario builds none of this: its backend is a plain ``Backend`` on a plain
``Clock``, whose one settle slot that backend fills.

With several, two backends may want dispatch or the QPU's choice at one instant, and each
request writes the clock's one slot: so their clock is a ``SharedClock``, which keeps every
hook written to the slot during an instant (each backend's own ``_settle``) and, at its end,
settles the backends that asked, in file order, and no other. A backend in an outage holds
its requests as a lone backend does (``Backend._hold_settle``): its hook is withdrawn from
the clock, and it asks again when it resumes.

Nothing here runs per job (only per arrival of a stream that routes: its choice): which
backend each job went to is written once the run is over (``Fleet.record_job_backends``),
from each workload's backend or its route's choices.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from functools import partial
from types import MethodType
from typing import TYPE_CHECKING

import numpy as np

from qsim.model.backend import Backend
from qsim.model.clock import SharedClock
from qsim.model.rules import QUEUE_POLICIES, FairShare, QueuePolicy
from qsim.records.log import Kind

if TYPE_CHECKING:
    from qsim.input.scenario import Backend as BackendSpec
    from qsim.model.clock import Clock
    from qsim.model.rules import InstanceLedger
    from qsim.records.log import Trace


class FleetBackend(Backend):
    """A backend of several: it books its usage in the one ledger when any backend orders by
    fair share. Its job ids come from the log's one counter (``Trace.jobs``), so they are
    unique across backends and in submission order."""

    __slots__ = ("_booker",)

    def __init__(self, env: Clock, trace: Trace, spec: BackendSpec, workloads: int,
                 ledger: InstanceLedger, index: int, books: bool) -> None:
        super().__init__(env, trace, spec, workloads, ledger)
        self.index = index
        # When any backend orders by fair share, every backend books its usage in the one
        # ledger (a fifo backend too): the service counts usage "on all the QPUs".
        self._booker: QueuePolicy = FairShare(ledger, self.lock.charged) if books \
            else self.policy
        if books:
            self._charges_jobs = True
            self._job_booker = self._booker

    def charge_instance(self, workload: int, seconds: float) -> None:
        self._booker.book(workload, self.env.now, seconds)


class Fleet:
    """The backends of a scenario with several, in file order."""

    def __init__(self, env: Clock, trace: Trace, specs: Sequence[BackendSpec], workloads: int,
                 ledger: InstanceLedger) -> None:
        self.trace = trace
        # Each job's backend, by id: written once the run is over (record_job_backends), not
        # a byte per job as it runs. Set now, empty: it marks a run of several backends.
        trace.job_backend = array("B")
        # A workload that routes: the first job id after each change of its backend, and
        # that backend (its first candidate until it first chooses).
        self._routes: dict[int, tuple[list[int], list[int]]] = {}
        books = any(QUEUE_POLICIES[spec.queue].charges_jobs for spec in specs)
        self.backends = [FleetBackend(env, trace, spec, workloads, ledger, index, books)
                         for index, spec in enumerate(specs)]

    def router(self, workload: int, candidates: Sequence[int]) -> Callable[[], Backend]:
        """For a workload that routes (SPEC §18): a call that returns the least busy of
        ``candidates`` and notes that the workload's jobs go there from then on."""
        self._routes[workload] = ([0], [candidates[0]])
        return partial(self._route, workload, candidates)

    def _route(self, workload: int, candidates: Sequence[int]) -> Backend:
        backend = self.least_busy(candidates)
        first_ids, chosen = self._routes[workload]
        if chosen[-1] != backend.index:
            first_ids.append(self.trace.jobs)  # the next job's id
            chosen.append(backend.index)
        return backend

    def least_busy(self, candidates: Sequence[int]) -> Backend:
        """SPEC §18: the backend with the fewest jobs queued (submitted, not dispatched)
        among ``candidates`` not in an outage, ties by file order; when every one of them
        is in an outage, the fewest queued among them all (its jobs queue until it resumes).
        """
        best: Backend | None = None
        for index in candidates:
            backend = self.backends[index]
            if not backend.in_outage and (best is None or backend.queued < best.queued):
                best = backend
        if best is None:
            best = min((self.backends[i] for i in candidates), key=_queued)
        return best

    def record_job_backends(self) -> None:
        """Once the run is over: each job's backend, by id, in ``trace.job_backend`` (one
        byte a job: limits.MAX_BACKENDS <= 255). A job goes to its workload's backend or,
        for a workload that routes, to the one it last chose before the job's submission."""
        trace = self.trace
        columns = trace.columns()
        workload = columns.field("workload", columns.kind == Kind.JOB_SUBMIT)  # in id order
        backend = np.array(trace.workload_backend, np.int64)[workload]
        for index, (first_ids, chosen) in self._routes.items():
            jobs = np.flatnonzero(workload == index)
            backend[jobs] = np.array(chosen)[np.searchsorted(first_ids, jobs, "right") - 1]
        trace.job_backend = array("B", backend.astype(np.uint8).tobytes())


def _queued(backend: Backend) -> int:
    return backend.queued


def clock() -> SharedClock:
    """The clock of a run on several backends: each backend's settle hook is its own, and
    the clock settles, in file order, those that asked at an instant."""
    return SharedClock(_file_order)


def _file_order(hook: Callable[[], None]) -> int:
    """A settle hook's backend's place in the file: each hook is a method of its backend."""
    assert isinstance(hook, MethodType) and isinstance(hook.__self__, Backend)
    return hook.__self__.index
