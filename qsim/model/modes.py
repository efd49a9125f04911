"""Batch and session contexts (SPEC §3): state, ITTL, max TTL, close, cancel, auto-close.

A context is ``open`` until its first job is dispatched, then ``active`` (an active window is
open) and ``inactive`` when its interactive TTL expires, until it is ``closed``. The backend
asks two things of it: whether it is ``exclusive`` (a session holds every lane and the QPU)
and whether it is ``accepting`` jobs; it reports submissions, dispatches and job ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qsim.model.clock import TIMER
from qsim.records.log import CANCELLED, MAX_TIME, Kind

if TYPE_CHECKING:
    from qsim.input.scenario import Mode
    from qsim.model.backend import Backend

AUTO_CLOSE_S = 1800.0  # a session that receives no job this long after it opens closes

OPEN, ACTIVE, INACTIVE, CLOSED = "open", "active", "inactive", "closed"


class Context:
    """One batch or session, owned by one workload (whose parallel loops all share it)."""

    def __init__(
        self, context_id: int, workload: int, mode: Mode, backend: Backend,
        on_state_change: Callable[[], None], opens_at: float = 0.0,
    ) -> None:
        self.id = context_id
        self.workload = workload
        self.mode = mode
        if mode.interactive_ttl is None:  # Mode resolves it for every batch and session
            raise ValueError(f"a {mode.kind} context needs an interactive TTL")
        self.interactive_ttl: float = mode.interactive_ttl
        self.exclusive = mode.kind == "session"
        self.backend = backend
        self.env = backend.env
        self.trace = backend.trace
        self._on_state_change = on_state_change
        self.state = OPEN
        self.accepting = True
        self.closing = False  # close requested: finish what is queued and running, then close
        self.queued = 0
        self.running = 0
        self.held = 0  # jobs a usage limit holds outside the queue (SPEC §19; qsim.model.limits)
        self.window_open = False
        self.window_start = 0.0
        self.received_job = False
        self._ittl_token = 0  # bumping it disarms a pending ITTL timer
        # Opening is a timer event, so at the workload's start it precedes the submissions.
        self.env.call(opens_at, TIMER, self._open)
        if mode.cancel_at is not None:
            self.env.call(mode.cancel_at, TIMER, self.cancel, CANCELLED)

    def _open(self, _arg: object = None) -> None:
        if self.state != OPEN:
            return  # cancelled before it was even created
        self._record(Kind.CONTEXT_OPEN)
        if self.exclusive:
            self.env.call(AUTO_CLOSE_S, TIMER, self._auto_close)

    # ---- what the backend reports ------------------------------------------------------------

    def on_submit(self) -> None:
        self.received_job = True
        self.queued += 1
        self._ittl_token += 1  # a job submitted before the ITTL fires keeps the context active

    def on_dispatch(self) -> None:
        self.queued -= 1
        self.running += 1
        if self.state != ACTIVE:
            self._activate()

    def on_job_end(self, was_running: bool) -> None:
        if was_running:
            self.running -= 1
        else:
            self.queued -= 1  # cancelled while queued
        if self.running or self.queued:
            return
        if self.state == CLOSED:
            self._release()  # cancelled or expired: the window lasted until its jobs ended
        elif self.closing:
            if not self.held:  # a held job still runs once released (SPEC §19)
                self._close_now()
        elif self.state == ACTIVE:
            self._start_ittl()

    def on_hold(self) -> None:
        """A queued job of this context is held by a usage limit (SPEC §19): no longer in
        the queue, so with nothing else queued or running the context idles (its ITTL runs)
        as with nothing to do."""
        self.held += 1
        self.on_job_end(False)

    def on_held_submit(self) -> None:
        """A job submitted while a usage limit holds its instance: held at once."""
        self.received_job = True
        self.held += 1

    def on_release(self) -> None:
        """A held job goes back to the queue: as a submission (it keeps the context active)."""
        self.held -= 1
        self.on_submit()

    # ---- what the workload asks --------------------------------------------------------------

    def close(self) -> None:
        """Stop accepting jobs; close once nothing is queued or running (no ITTL tail)."""
        if self.state == CLOSED or self.closing:
            return
        self.closing = True
        self.accepting = False
        self._ittl_token += 1
        self._record(Kind.CONTEXT_DRAIN)
        if not self.running and not self.queued and not self.held:
            self._close_now()

    def cancel(self, reason: str = CANCELLED) -> None:
        """Close at once: queued jobs are cancelled, dispatched ones finish inside the window."""
        if self.state == CLOSED:
            return
        self.accepting = False
        self._ittl_token += 1
        self._set_closed(reason)  # the reason, for jobs submitted later (cancelled as closed)
        self.backend.cancel_queued(self, reason)
        if self.backend.active is self:
            # No more priority or exclusivity (SPEC §11): others may take the lanes it frees
            # and calibrations may run, though its window lasts until its running jobs end.
            self.backend.active = None
        if not self.running:
            self._release()
        self.backend.request_dispatch()
        self.backend.request_qpu()

    # ---- transitions -------------------------------------------------------------------------

    def _activate(self) -> None:
        first = self.state == OPEN
        self.state = ACTIVE
        self.window_open = True
        self.window_start = self.env.now
        self.backend.active = self
        self._record(Kind.CONTEXT_ACTIVATE)
        if first and self.mode.max_time is not None:
            self.env.call(self.mode.max_time, TIMER, self.cancel, MAX_TIME)

    def _start_ittl(self) -> None:
        self._ittl_token += 1
        self.env.call(self.interactive_ttl, TIMER, self._ittl_expired, self._ittl_token)

    def _ittl_expired(self, token: int) -> None:
        if token != self._ittl_token or self.state != ACTIVE:
            return
        self.state = INACTIVE
        self._record(Kind.CONTEXT_DEACTIVATE)
        self._release()
        self._on_state_change()

    def suspend(self) -> None:
        """An outage (SPEC §16): the window ends now, nobody pays for a QPU that serves no one;
        the next job dispatched re-activates the context by the ordinary rules. No ITTL runs
        meanwhile (the context is not active)."""
        if self.state != ACTIVE:
            return
        self._ittl_token += 1
        self.state = INACTIVE
        self._record(Kind.CONTEXT_DEACTIVATE)
        self._release()
        self._on_state_change()

    def _auto_close(self, _arg: object = None) -> None:
        if not self.received_job and self.state != CLOSED:
            self.closing = True
            self.accepting = False
            self._record(Kind.CONTEXT_DRAIN)
            self._close_now()

    def _close_now(self) -> None:
        self._set_closed()
        if self.window_open:
            self._release()

    def _set_closed(self, reason: str | None = None) -> None:
        self.state = CLOSED
        self.accepting = False
        self._record(Kind.CONTEXT_CLOSE, reason)
        self._on_state_change()

    def _release(self) -> None:
        """End the active window: the context loses its priority, and sessions are charged."""
        if self.backend.active is self:
            self.backend.active = None
        if self.window_open:
            self.window_open = False
            self._record(Kind.CONTEXT_RELEASE)
            if self.exclusive:
                self.backend.charge_instance(self.workload, self.env.now - self.window_start)
        self.backend.request_dispatch()
        self.backend.request_qpu()

    def _record(self, kind: Kind, info: str | None = None) -> None:
        self.trace.add(self.env.now, kind, -1, self.id, self.workload, info)
