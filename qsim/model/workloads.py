"""Workload processes (SPEC §5): iterative loops, independent sweeps, background streams.

A workload draws each job's durations at submission from its own named streams, submits at
its submission priority (so same-instant submissions follow the file's order), and tells the
engine when it has ended (at its last job's end). A stopped or finished workload closes its
context when the mode says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from heapq import heappush
from itertools import chain, islice
from typing import TYPE_CHECKING

import numpy as np
from simpy.events import Event

from qsim.input.scenario import (
    BackgroundWorkload,
    IndependentWorkload,
    IterativeWorkload,
    RecordedWorkload,
)
from qsim.input.traffic import ArrivalTrace
from qsim.model.arrivals import Drawn, RateClock, Replayed, trace_quanta
from qsim.model.clock import END, PENDING, at, fire, submit_priority
from qsim.model.counts import count
from qsim.model.holds import Hold
from qsim.model.jobs import Job, quantum_run
from qsim.model.rng import Streams
from qsim.records.log import SYSTEM_ERROR, USER_ERROR, Trace
from qsim.records.trace_file import Close, Submit, Think, Wait

if TYPE_CHECKING:
    from qsim.input.dists import Distribution
    from qsim.input.scenario import Workload
    from qsim.model.backend import Backend
    from qsim.model.modes import Context


class _UnitUniform:
    @staticmethod
    def sample(rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.random(size)


class WorkloadRun:
    """The running state of one workload of the scenario."""

    def __init__(
        self, index: int, spec: Workload, backend: Backend, context: Context | None,
        streams: Streams, on_end: Callable[[], None],
    ) -> None:
        self.index = index
        self.spec = spec
        self.backend = backend
        self.env = backend.env
        self.context = context
        self.priority = submit_priority(index)
        self._keys = self.env.keys(self.priority)  # its heap entries' (Clock.keys)
        self._on_end = on_end
        # A recorded workload's phases may come from its trace instead (None here).
        self.compile_draws = _draws(streams, spec.compile, spec.name, "compile")
        self.quantum_draws = _draws(streams, spec.quantum, spec.name, "quantum")
        self.post_draws = _draws(streams, spec.post, spec.name, "post")
        self._failure = streams.draws(_UnitUniform, spec.name, "failure")
        self._arrivals: Iterator[float] = (
            streams.draws(spec.arrivals, spec.name, "arrivals")
            if isinstance(spec, BackgroundWorkload) and not isinstance(spec.arrivals, ArrivalTrace)
            else iter(()))
        self.streams = streams
        # Read once: every job needs them, and a pydantic model's attributes are slow to read.
        self._failure_spec = spec.failure
        self._cap_s = spec.max_execution_time
        # Bound once: a background stream calls it per job.
        self._next_arrival: Callable[[object], None] = (
            self._arrive if spec.failure is not None else self._arrive_sound)
        self._process: Drawn | Replayed | None = None
        # SPEC §17's hold: a stream with one takes the varying path (``varies``), which asks
        # for it once per arrival; a plain stream never reads it.
        self._hold: Hold | None = None
        if isinstance(spec, BackgroundWorkload) and spec.hold is not None:
            self._hold = Hold(spec.hold, streams, spec.name, self.env)
        if isinstance(spec, BackgroundWorkload) and spec.varies:
            # SPEC §17: chosen here, so that a plain stream's loop stays as it is
            self._process = self._varying(spec, streams)
            self._next_arrival = (self._arrive_varying if spec.during_outages == "keep"
                                  else self._arrive_unless_outage)
        # A job's three phases in one ``next`` (a C call each draw): the same numbers in the
        # same order, each from its own stream; made after ``_varying``, which may replace
        # the quantum draws. A plain stream's arrival takes its next gap in the same call.
        self._phases = zip(self.compile_draws, self.quantum_draws, self.post_draws)
        self._phases_and_gap = zip(self.compile_draws, self.quantum_draws, self.post_draws,
                                   self._arrivals)
        self.live = 0  # submitted jobs not yet ended
        self.submitting = True  # False once it will submit nothing more (background: stop)
        self.ended = False
        self.end_time: float | None = None
        self._routed_at_start = False

    @property
    def foreground(self) -> bool:
        return self.spec.kind != "background"

    # ---- several backends (SPEC §18) ---------------------------------------------------------

    def route(self, least_busy: Callable[[], Backend], chosen: list[int]) -> None:
        """Choose the backend by ``least_busy()``: a foreground workload once, at its start
        (its batch or session stays there), recording it in ``chosen``; a background
        stream at each arrival."""
        self._least_busy = least_busy
        self._chosen = chosen
        if self.foreground:
            self._routed_at_start = True
        else:
            self._unrouted_arrival = self._next_arrival
            self._next_arrival = self._arrive_routed

    def _choose(self, _arg: object) -> None:
        backend = self.backend = self._least_busy()
        self._chosen[self.index] = backend.index
        if self.context is not None:
            self.context.backend = backend
            backend.add_context(self.index, self.context)

    def _arrive_routed(self, arg: object) -> None:
        self.backend = self._least_busy()
        self._unrouted_arrival(arg)

    def start(self) -> None:
        spec = self.spec
        if self._routed_at_start:
            # At the start, before its first submission (pushed before the process's own).
            self.env.call(spec.start, self.priority, self._choose)
        if isinstance(spec, IterativeWorkload):
            _Iterative(self, spec).start()
        elif isinstance(spec, IndependentWorkload):
            self.env.process(self._independent(spec))
        elif isinstance(spec, RecordedWorkload):
            self.env.process(_Recorded(self, spec).client())
        else:
            self._background()

    # ---- jobs --------------------------------------------------------------------------------

    def submit(self, on_end: Callable[[Job], None], attempt: int = 0) -> Job:
        job = self._new_job(self._wrap(on_end), attempt)
        self.live += 1
        self.backend.submit(job)
        return job

    def submit_phases(self, compile_s: float, quantum_s: float, post_s: float,
                      on_end: Callable[[Job], None], in_context: bool = True) -> Job:
        """Submit a job whose phases are given (a recorded job), capped as any job is;
        ``in_context`` False: in job mode, outside the workload's batch or session."""
        run, stop = quantum_run(quantum_s, self._cap_s, None, None, 0.0)
        job = Job(self.index, self.context if in_context else None, compile_s, run, post_s,
                  None, stop, self._wrap(on_end))
        self.live += 1
        trace = self.backend.trace
        row = len(trace)  # its submission's record: the first that submit writes
        self.backend.submit(job)
        if not in_context and self.context is not None:
            # The backend codes a job's records from its workload's (Backend.add_context),
            # and so with the workload's context: this one's name none, as any job mode's.
            trace.code[row] = Trace.without_context(trace.code[row])
            job.code = Trace.without_context(job.code)
        return job

    def _new_job(self, on_end: Callable[[Job], None] | None, attempt: int) -> Job:
        failure = self._failure_spec
        stage, reason, where = None, None, 0.0
        if failure is not None:
            fails, where = next(self._failure) < failure.probability, next(self._failure)
            if fails:
                stage = failure.stage
                reason = USER_ERROR if failure.kind == "user" else SYSTEM_ERROR
        compile_s, quantum_s, post_s = next(self._phases)
        if stage is None and quantum_s <= self._cap_s:
            run, stop = quantum_s, None  # quantum_run's answer for most jobs, without a call
        elif stage == "compile":
            run, stop = 0.0, reason
        else:
            run, stop = quantum_run(quantum_s, self._cap_s, stage, reason, where)
        return Job(self.index, self.context, compile_s, run, post_s, stage, stop, on_end,
                   attempt)

    def _wrap(self, on_end: Callable[[Job], None]) -> Callable[[Job], None]:
        def ended(job: Job) -> None:
            self.live -= 1
            on_end(job)
            self.check_end()

        return ended

    # ---- ending ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Submit nothing more and close the context (abort, retries exhausted, cancellation)."""
        self.submitting = False
        if self.context is not None:
            self.context.close()

    def check_end(self) -> None:
        if self.ended or self.submitting or self.live:
            return
        self.ended = True
        self.end_time = self.env.now
        if self.context is not None and self.spec.mode.close:
            self.context.close()
        self._on_end()

    # ---- independent and background ----------------------------------------------------------

    def _independent(self, spec: IndependentWorkload) -> Generator[Event, object, None]:
        yield at(self.env, spec.start, self.priority)
        jobs = count(spec.jobs)
        for i in range(jobs):
            self.submit(_ignore)
            if spec.submit_interval > 0 and i + 1 < jobs:
                yield at(self.env, spec.submit_interval, self.priority)
        self.submitting = False
        self.check_end()

    def _background(self) -> None:
        # A callback chain rather than a generator process: this runs once per background job.
        if self._process is not None:
            self._background_varying(self._process)
            return
        first = self.spec.start + next(self._arrivals)  # one inter-arrival after `start`
        self.env.call(first, self.priority, self._next_arrival)

    # ---- background traffic that varies (SPEC §17) -------------------------------------------

    def _varying(self, spec: BackgroundWorkload, streams: Streams) -> Drawn | Replayed:
        """The stream's arrival process; a trace's quantum times replace the quantum draws
        after the pending jobs' (which are the stream's own jobs)."""
        if isinstance(spec.arrivals, ArrivalTrace):
            data = spec.arrivals.data
            quanta = trace_quanta(data)
            if quanta is not None:
                self.quantum_draws = chain(islice(self.quantum_draws, spec.pending),
                                           quanta.tolist())
            return Replayed(data, spec.start)
        clock = None
        if spec.profile is not None or spec.regimes is not None:
            clock = RateClock(spec.profile, spec.regimes, streams, spec.name)
        bursts = None if spec.burst is None else streams.draws(spec.burst, spec.name, "burst")
        return Drawn(self._arrivals, bursts, clock)

    def _background_varying(self, process: Drawn | Replayed) -> None:
        spec = self.spec
        assert isinstance(spec, BackgroundWorkload)
        if spec.pending:
            # at 0, before any submission of the instant (every workload's comes after)
            self.env.call(0.0, PENDING, self._submit_pending, spec.pending)
        first = (process.first() if isinstance(process, Replayed)
                 else process.next_after(spec.start))
        self._schedule_arrival(first)

    def _submit_pending(self, jobs: int) -> None:
        submit = self._stream_submit()
        for _ in range(jobs):
            submit(self._new_job(None, 0))

    def _stream_submit(self) -> Callable[[Job], None]:
        """How the stream's jobs go to its backend now: submitted, or held (SPEC §17)."""
        return self.backend.submit if self._hold is None else self._submit_held

    def _submit_held(self, job: Job) -> None:
        assert self._hold is not None
        self._hold.submit(self.backend, job)

    def _schedule_arrival(self, when: float) -> None:
        if math.isinf(when):
            return  # a trace's last row is behind it: the stream stops
        env = self.env
        heappush(env.heap, (when, next(self._keys), self._next_arrival, None))

    def _arrive_varying(self, _arg: object) -> None:
        if not self.submitting:
            return
        process = self._process
        assert process is not None
        submit = self._stream_submit()
        for _ in range(process.count()):  # a burst: its jobs at this instant, in order
            submit(self._new_job(None, 0))
        self._schedule_arrival(process.next_after(self.env.now))

    def _arrive_unless_outage(self, _arg: object) -> None:
        """``_arrive_varying`` for ``during_outages: stop``: an arrival while its backend is in
        an outage submits nothing (its burst is still drawn, and the next arrival is due as
        ever: the stream's random numbers stay those of the same stream with ``keep``)."""
        if not self.submitting:
            return
        process = self._process
        assert process is not None
        count = process.count()
        if not self.backend.in_outage:
            submit = self._stream_submit()
            for _ in range(count):
                submit(self._new_job(None, 0))
        self._schedule_arrival(process.next_after(self.env.now))

    def _arrive(self, _arg: object) -> None:
        if not self.submitting:
            return  # the engine stopped the stream (the foreground has ended)
        # Background streams never end, so their jobs need no end bookkeeping (on_end None).
        job = self._new_job(None, 0)
        env = self.env  # env.call, written out (see Clock): this runs once per job
        heappush(env.heap, (env.now + next(self._arrivals), next(self._keys), self._next_arrival,
                            None))
        self.backend.submit_last(job)  # last: it may dispatch the job now


    def _arrive_sound(self, _arg: object) -> None:
        """``_arrive`` for a stream whose jobs never fail: ``_new_job`` written out (a call
        and its failure checks less per job, a percent of a million-job run)."""
        if not self.submitting:
            return
        compile_s, quantum_s, post_s, gap = next(self._phases_and_gap)
        if quantum_s <= self._cap_s:
            run, stop = quantum_s, None
        else:
            run, stop = quantum_run(quantum_s, self._cap_s, None, None, 0.0)
        job = Job(self.index, self.context, compile_s, run, post_s, None, stop)
        env = self.env
        heappush(env.heap, (env.now + gap, next(self._keys), self._next_arrival, None))
        self.backend.submit_last(job)


def _ignore(_job: Job) -> None:
    pass


def _draws(streams: Streams, dist: Distribution | None, *names: str) -> Iterator[float]:
    return iter(()) if dist is None else streams.draws(dist, *names)


class _Recorded:
    """A recorded client program (SPEC §13), replayed step by step: it thinks for the
    recorded classical time, submits each job with its recorded quantum time, waits where it
    waited, and closes its batch or session where it did (when its mode closes). It stops
    at a job that does not end ``done``, as the program's ``result()`` would have raised."""

    def __init__(self, run: WorkloadRun, spec: RecordedWorkload) -> None:
        self.run = run
        self.spec = spec
        self.rec = spec.recording
        self.quantum = spec.quantum_seconds()
        self.ended: set[int] = set()
        self.waiting: dict[int, Event] = {}
        # Replayed as recorded (the mode is the recorded one, left out or written so): a job
        # the program ran in job mode runs in job mode. A mode of another kind puts every job
        # in it (qsim compare's other modes, or the user's override).
        as_recorded = spec.mode.kind == self.rec.mode
        self.in_context = [not as_recorded or job.context is not None for job in self.rec.jobs]

    def client(self) -> Generator[Event, object, None]:
        run, spec, env, rec = self.run, self.spec, self.run.env, self.rec
        yield at(env, spec.start, run.priority)
        # All the program's contexts are one here: it closes at the program's last close,
        # unless a job comes after that (job mode there), then at the workload's end.
        last_close = -1
        for i, s in enumerate(rec.steps):
            if isinstance(s, Close) and spec.mode.close:
                last_close = i
            elif isinstance(s, Submit) and self.in_context[s.job]:
                last_close = -1
        for index, step in enumerate(rec.steps):
            if not run.submitting:
                break
            if isinstance(step, Think):
                if step.seconds > 0:
                    yield at(env, step.seconds, run.priority)
            elif isinstance(step, Submit):
                self._submit(step.job)
            elif isinstance(step, Wait):
                if step.job not in self.ended:
                    self.waiting[step.job] = done = Event(env)
                    yield done
                    yield at(env, 0, run.priority)  # go on in the submission phase
            elif index == last_close and run.context is not None:
                assert isinstance(step, Close)
                if step.cancel:
                    run.context.cancel()
                else:
                    run.context.close()
        run.submitting = False
        run.check_end()

    def _submit(self, index: int) -> None:
        job = self.rec.jobs[index]
        compile_s = next(self.run.compile_draws) if self.spec.compile is not None \
            else job.compile_s or 0.0
        post_s = next(self.run.post_draws) if self.spec.post is not None else job.post_s or 0.0

        def ended(done: Job) -> None:
            self.ended.add(index)
            if done.status != "done":
                self.run.stop()  # the program's result() raises: it goes no further
            waiting = self.waiting.pop(index, None)
            if waiting is not None:
                fire(waiting, END)

        self.run.submit_phases(compile_s, self.quantum[index], post_s, ended,
                               self.in_context[index])


class _Iterative:
    """`parallel` optimiser loops sharing one workload (and so one context)."""

    def __init__(self, run: WorkloadRun, spec: IterativeWorkload) -> None:
        self.run = run
        self.spec = spec
        self.loops_left = spec.parallel

    def start(self) -> None:
        for _ in range(self.spec.parallel):
            self.run.env.process(self._loop())

    def _loop(self) -> Generator[Event, object, None]:
        run, spec, env = self.run, self.spec, self.run.env
        classical = run.streams.draws(spec.classical, spec.name, "classical")
        yield at(env, spec.start, run.priority)
        iterations = count(spec.iterations)
        for iteration in range(iterations):
            if not run.submitting:
                break
            yield _Round(run, spec).done
            if iteration + 1 < iterations and run.submitting:
                yield at(env, next(classical), run.priority)
        self.loops_left -= 1
        if self.loops_left == 0:
            run.submitting = False
            run.check_end()


class _Round:
    """One iteration's jobs: done when every slot has a final result (after any retries)."""

    def __init__(self, run: WorkloadRun, spec: IterativeWorkload) -> None:
        self.run = run
        self.spec = spec
        self.outstanding = count(spec.jobs_per_iteration)
        self.done = Event(run.env)
        for _ in range(self.outstanding):
            run.submit(self._job_ended)

    def _job_ended(self, job: Job) -> None:
        run, spec = self.run, self.spec
        if job.status == "failed" and run.submitting and spec.on_failure == "retry" \
                and job.attempt < spec.max_retries:
            # A retry is submitted at the failure instant, in the submission phase.
            run.env.call(0, run.priority, self._retry, job.attempt + 1)
            return
        if job.status in ("failed", "cancelled"):
            run.stop()
        self._resolve()

    def _retry(self, attempt: int) -> None:
        if self.run.submitting:
            self.run.submit(self._job_ended, attempt)
        else:
            self._resolve()

    def _resolve(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0:
            fire(self.done, END)
