"""``run(scenario, seed) -> (Trace, RunInfo)``: build the model, run it to its end, keep the
record log. The tables and figures are the analysis' (``qsim.analysis``), not the model's.

The run ends (SPEC §11) at the horizon when the scenario sets one (background streams arrive
until then); without one, at the first instant when every non-background workload has ended
and every context is closed or inactive (background streams stop arriving when the last
foreground workload ends). Whatever is still queued or running at the end is recorded
``job.incomplete``; open windows are cut there.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

import numpy as np
from simpy.events import Event

from qsim.input.errors import QsimError
from qsim.input.scenario import Scenario, Workload
from qsim.input.text import shown
from qsim.input.units import format_duration
from qsim.input.work import HINT, RECORDS_PER_JOB, WorkLimitError
from qsim.model.availability import Availability
from qsim.model.backend import Backend
from qsim.model.clock import STOP, Clock, fire
from qsim.model.counts import draw_counts
from qsim.model.modes import CLOSED, INACTIVE, Context
from qsim.model.rng import Streams
from qsim.model.rules import InstanceLedger
from qsim.model.watch import Progress, watched
from qsim.model.workloads import WorkloadRun
from qsim.records.log import Kind, RunInfo, Trace
from qsim.version import __version__

if TYPE_CHECKING:
    from qsim.model.fleet import Fleet
    from qsim.model.limits import LimitedBackend

END_OF_RUN = "end_of_run"


class _Simulation:
    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        specs = scenario.fleet
        if len(specs) == 1:
            self.env = Clock()
        else:  # SPEC §18: nothing of this for one backend (not even its import)
            from qsim.model import fleet

            self.env = fleet.clock()
        self.env.origin = scenario.warmup
        self.trace = Trace()
        self.scenario = scenario
        workloads = scenario.workloads
        if len(workloads) > Trace.MAX_WORKLOADS:  # the record code has 12 bits for them
            raise QsimError(f"{scenario.name}: {len(workloads)} workloads; qsim simulates at "
                            f"most {Trace.MAX_WORKLOADS} in one scenario")
        # Usage per instance over the rolling window: one ledger, whatever the backends.
        self.ledger = InstanceLedger(
            [(w.instance, w.share) for w in workloads], scenario.backend.fair_share_window,
            {name: i.used for name, i in scenario.instances.items()},
            failure_charge=scenario.failure_charges)
        self.fleet: Fleet | None = None
        self.limited: LimitedBackend | None = None
        if scenario.usage_limits:  # SPEC §19 (one backend: Scenario refuses several)
            from qsim.model.limits import LimitedBackend

            self.limited = LimitedBackend(
                self.env, self.trace, specs[0], len(workloads), self.ledger,
                [w.instance for w in workloads], scenario.usage_limits,
                scenario.pricing.usd_per_second)
            self.backends: list[Backend] = [self.limited]
        elif len(specs) == 1:
            self.backends = [Backend(self.env, self.trace, specs[0], len(workloads),
                                     self.ledger)]
        else:  # SPEC §18: nothing of this for one backend (not even its import)
            from qsim.model.fleet import Fleet

            self.fleet = Fleet(self.env, self.trace, specs, len(workloads), self.ledger)
            self.backends = list(self.fleet.backends)
        self.backend = self.backends[0]
        self.contexts: list[Context] = []
        self.runs: list[WorkloadRun] = []
        streams = Streams(seed, replication)
        # Each backend with its availability (SPEC §16); the first's streams are named as
        # they were with one backend.
        self.availability = [Availability(b, spec.outages, streams, index)
                             if spec.outages else None
                             for index, (b, spec) in enumerate(zip(self.backends, specs))]
        for index, spec in enumerate(workloads):
            backend = self.backends[scenario.candidates(index)[0]]
            context = self._context_for(index, spec, backend, scenario.routed(index))
            self.runs.append(WorkloadRun(
                index, spec, backend, context, streams, self.check_end
            ))
            if self.fleet is not None:
                self._route(self.runs[-1], self.fleet)
        self.foreground = [run for run in self.runs if run.foreground]
        self.background = [run for run in self.runs if not run.foreground]
        self.stop = Event(self.env)
        self._stopping = False

    def _context_for(self, index: int, spec: Workload, backend: Backend, routed: bool
                     ) -> Context | None:
        mode = spec.mode
        if mode.kind == "job":
            return None
        context = Context(len(self.contexts), index, mode, backend, self.check_end,
                          spec.opens_at)
        self.contexts.append(context)
        if not routed:  # else on the backend it chooses at its start (WorkloadRun.route)
            backend.add_context(index, context)
        return context

    def _route(self, run: WorkloadRun, fleet: Fleet) -> None:
        """Where a workload's jobs go (SPEC §18): its backend, or the least busy of its
        candidates, chosen at its start (a stream: at each arrival)."""
        candidates = self.scenario.candidates(run.index)
        routed = len(candidates) > 1
        self.trace.workload_backend.append(
            -1 if routed and not run.foreground else candidates[0])
        if routed:
            run.route(fleet.router(run.index, candidates), self.trace.workload_backend)

    def foreground_over(self) -> bool:
        """True once background streams should stop arriving (never before a horizon)."""
        if self.scenario.horizon is not None:
            return False
        return bool(self.foreground) and all(run.ended for run in self.foreground)

    def check_end(self) -> None:
        if not self.foreground_over():
            return
        for run in self.background:
            run.submitting = False  # background streams stop arriving once the foreground ends
        if all(c.state in (CLOSED, INACTIVE) for c in self.contexts):
            self._request_stop()

    def _request_stop(self, _event: object = None) -> None:
        if not self._stopping:
            self._stopping = True
            fire(self.stop, STOP)

    def run(self) -> float:
        horizon = self.scenario.horizon
        if horizon is not None:
            self.env.call(horizon, STOP, self._request_stop)
        for run in self.runs:
            run.start()
        self.check_end()  # a scenario can have nothing to do at all
        try:
            self.env.run(until=self.stop)
        except RuntimeError as err:
            # Nothing left to happen before the end condition: end here and report the rest
            # as incomplete rather than lose it. Any other RuntimeError is a bug: re-raise.
            if "No scheduled events left" not in str(err):
                raise
        self._finalize()
        return self.env.now

    def _finalize(self) -> None:
        now, trace = self.env.now, self.trace
        trace.add_incomplete(now, None if self.limited is None else self.limited.held_jobs())
        for context in self.contexts:
            if context.window_open:
                trace.add(now, Kind.CONTEXT_RELEASE, -1, context.id, context.workload, END_OF_RUN)
        trace.add(now, Kind.RUN_END)
        trace.freeze()
        if self.fleet is not None:
            self.fleet.record_job_backends()


def run(scenario: Scenario, seed: int | None = None, replication: int = 0, *,
        max_jobs: int | None = None, progress: Progress | None = None
        ) -> tuple[Trace, RunInfo]:
    """Run ``scenario`` once: its frozen record log and what produced it. ``seed`` defaults
    to the scenario's; ``replication`` picks an independent set of random streams from it.

    ``max_jobs``: stop the run with a WorkLimitError once it has submitted more jobs than
    that (or written as many records as twice that many jobs would). ``progress(now_s,
    jobs)`` is called a few times a second from another thread while it runs. Both are
    watched from outside the event loop (``qsim.model.watch``), which does nothing for them.
    A run whose times are not finite raises a QsimError naming where they stopped being so.
    """
    seed = scenario.seed if seed is None else seed
    # SPEC §20: this run's counts drawn first; its RunInfo carries them (the run's plan).
    scenario = draw_counts(scenario, Streams(seed, replication))
    sim = _Simulation(scenario.warmed_up(), seed, replication)
    if max_jobs is None and progress is None:
        end = sim.run()
    else:
        trace = sim.trace
        with watched(sim.env, sim.backend.jobs_submitted, trace.__len__,
                     partial(_over_limit, sim, max_jobs), progress):
            end = sim.run()
    _check_finite(sim.trace, scenario)
    if scenario.warmup:  # the warm-up is the time before 0 (Scenario.warmed_up)
        _from_warm_up_clock(sim.trace, scenario.warmup)
        end -= scenario.warmup
    return sim.trace, RunInfo(scenario, seed, replication, __version__, end,
                              sim.env.events_scheduled())


def _from_warm_up_clock(trace: Trace, warmup: float) -> None:
    """The log's times, and the due times its calibrations carry, from the scenario's 0."""
    np.frombuffer(trace.t, np.float64)[:] -= warmup
    for seq in trace.columns().rows_of(Kind.CALIBRATION_START).tolist():
        trace.info[seq] = cast(float, trace.info[seq]) - warmup


def _over_limit(sim: _Simulation, max_jobs: int | None, jobs: int, records: int
                ) -> WorkLimitError | None:
    if max_jobs is None or (jobs <= max_jobs and records <= 2 * RECORDS_PER_JOB * max_jobs):
        return None
    return WorkLimitError(
        f"{shown(sim.scenario.name)}: the run passed the limit of {max_jobs:,} jobs at "
        f"simulated {format_duration(sim.env.now)} ({jobs:,} jobs and {records:,} records so "
        f"far); {HINT}")


# The part of a job (or of the backend) whose time a record of each kind ends.
_PHASE = {Kind.JOB_SUBMIT: "its submissions (start, arrivals, classical, submit_interval)",
          Kind.JOB_READY: "compile", Kind.QPU_END: "quantum", Kind.JOB_DONE: "post",
          Kind.CALIBRATION_START: "backend.calibration",
          Kind.CALIBRATION_END: "backend.calibration.duration"}


def _check_finite(trace: Trace, scenario: Scenario) -> None:
    """QsimError unless every time in the log is finite: the figures would be inf or NaN.

    Validation bounds every duration, so this guards against distributions (or models
    built without validation) whose draws add up past what a float holds."""
    columns = trace.columns()
    finite = np.isfinite(columns.t)
    if finite.all():
        return
    row = int(np.argmin(finite))
    kind = Kind(int(columns.kind[row]))
    index = int(columns.workload[row])
    phase = _PHASE.get(kind, "the durations before it")
    where = f"backend's {phase}" if index < 0 else (
        f"workload {shown(scenario.workloads[index].name)!r} "
        f"(workloads[{index}]), its {phase}")
    raise QsimError(f"{shown(scenario.name)}: the run's clock reached {columns.t[row]} at a "
                    f"{kind.label} record: the {where} drew durations that add up beyond what "
                    "a float holds, so its figures would be inf or NaN; give that "
                    "distribution smaller values")
