"""A background stream's ``hold`` (SPEC §17): each job it submits is held a draw of the hold
after its submission before it may be dispatched. Submitted all along (it counts in
``pending_jobs``), it stands for jobs the service keeps that a FIFO queue would serve: another
instance's usage limit, fair share between providers, a reservation.

A stream without the key never builds one (``WorkloadRun`` chooses its submission once), so
the plain path does no more work per job. What the backend does at the hold and the release
is ``Backend.submit_held`` and ``Backend.release_held``; here is only when.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qsim.model.clock import TIMER

if TYPE_CHECKING:
    from qsim.input.dists import Distribution
    from qsim.model.backend import Backend
    from qsim.model.clock import Clock
    from qsim.model.jobs import Job
    from qsim.model.rng import Streams

__all__ = ["Hold"]


class Hold:
    """One stream's hold: its draws, from the stream's own random stream ``(NAME, "hold")``,
    one per job in submission order (so no other stream's draws change with it)."""

    __slots__ = ("_draws", "_env")

    def __init__(self, spec: Distribution, streams: Streams, name: str, env: Clock) -> None:
        self._draws = streams.draws(spec, name, "hold")
        self._env = env

    def submit(self, backend: Backend, job: Job) -> None:
        """Submit ``job`` held to ``backend``; its release is a timer (after that instant's
        job ends, before its submissions, as a usage limit's release)."""
        backend.submit_held(job)
        self._env.call(next(self._draws), TIMER, backend.release_held, job)
