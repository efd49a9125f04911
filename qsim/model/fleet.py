"""Several backends (SPEC §18): each its own lanes, QPU, queue, calibrations and outages; one
job-id counter, one fair-share ledger, one settle hook for all of them, and ``least_busy``.

A one-backend scenario builds none of this: its backend is a plain ``Backend`` whose settle
hook is its own ``_settle`` (the clock has one ``settle`` slot, and one backend fills it).

With several, two backends may want dispatch or the QPU's choice at one instant, and each
request writes the clock's one slot: so every backend's settle hook is the fleet's
``settle``, which settles, in file order, each backend that asked (its ``_want_dispatch`` or
``_want_qpu`` is set) and is not in an outage. A backend in an outage keeps what it asked for
until it resumes (``Backend.resume`` asks again), as a lone backend does by swapping its hook.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qsim.model.backend import Backend
from qsim.model.rules import QUEUE_POLICIES, FairShare, QueuePolicy

if TYPE_CHECKING:
    from qsim.input.scenario import Backend as BackendSpec
    from qsim.model.clock import Clock
    from qsim.model.jobs import Job
    from qsim.model.rules import InstanceLedger
    from qsim.records.log import Trace


class FleetBackend(Backend):
    """A backend of several: its job ids come from the fleet's counter (unique across
    backends, in submission order), and it records which backend each job went to."""

    __slots__ = ("fleet", "_booker")

    def __init__(self, env: Clock, trace: Trace, spec: BackendSpec, workloads: int,
                 ledger: InstanceLedger, fleet: Fleet, index: int, books: bool) -> None:
        super().__init__(env, trace, spec, workloads, ledger)
        self.fleet = fleet
        self.index = index
        self._settle_hook = self._run_hook = fleet.settle
        # When any backend orders by fair share, every backend books its usage in the one
        # ledger (a fifo backend too): the service counts usage "on all the QPUs".
        self._booker: QueuePolicy = FairShare(ledger) if books else self.policy
        if books:
            self._charges_jobs = True

    def submit(self, job: Job) -> None:
        fleet = self.fleet
        self._next_id = fleet.jobs  # the id Backend.submit gives it
        fleet.jobs += 1
        fleet.job_backend.append(self.index)
        Backend.submit(self, job)

    def _charge_job(self, job: Job) -> None:
        context = job.context
        if context is None or not context.exclusive:
            self._booker.charge_job(job, self.env.now, self.lock)

    def charge_instance(self, workload: int, seconds: float) -> None:
        self._booker.book(workload, self.env.now, seconds)

    def _hold_settle(self) -> None:
        """An outage: the fleet's settle passes this backend by (``in_outage``), and the
        clock's slot stays the fleet's, for the other backends."""


class Fleet:
    """The backends of a scenario with several, in file order."""

    def __init__(self, env: Clock, trace: Trace, specs: Sequence[BackendSpec], workloads: int,
                 ledger: InstanceLedger) -> None:
        self.jobs = 0
        # One byte a job (limits.MAX_BACKENDS <= 255).
        self.job_backend = trace.job_backend = array("B")
        books = any(QUEUE_POLICIES[spec.queue].charges_jobs for spec in specs)
        self.backends = [FleetBackend(env, trace, spec, workloads, ledger, self, index, books)
                         for index, spec in enumerate(specs)]

    def jobs_submitted(self) -> int:
        return self.jobs

    def settle(self) -> None:
        """The clock's settle hook for every backend: each one that asked, in file order."""
        Backend.settle_each(self.backends)

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


def _queued(backend: Backend) -> int:
    return backend.queued
