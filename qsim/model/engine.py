"""``run(scenario, seed) -> (Trace, RunInfo)``: build the model, run it to its end, keep the
record log. The tables and figures are the analysis' (``qsim.analysis``), not the model's.

The run ends (SPEC §11) at the horizon when the scenario sets one (background streams arrive
until then); without one, at the first instant when every non-background workload has ended
and every context is closed or inactive (background streams stop arriving when the last
foreground workload ends). Whatever is still queued or running at the end is recorded
``job.incomplete``; open windows are cut there.
"""

from __future__ import annotations

from simpy.events import Event

from qsim.errors import QsimError
from qsim.model.backend import Backend
from qsim.model.clock import STOP, Clock, fire
from qsim.model.modes import CLOSED, INACTIVE, Context
from qsim.model.workloads import WorkloadRun
from qsim.rng import Streams
from qsim.scenario import Scenario, Workload
from qsim.trace import RunInfo, Kind, Trace
from qsim.version import __version__

END_OF_RUN = "end_of_run"


class _Simulation:
    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.env = Clock()
        self.trace = Trace()
        self.scenario = scenario
        workloads = scenario.workloads
        if len(workloads) > Trace.MAX_WORKLOADS:  # the record code has 12 bits for them
            raise QsimError(f"{scenario.name}: {len(workloads)} workloads; qsim simulates at "
                            f"most {Trace.MAX_WORKLOADS} in one scenario")
        self.backend = Backend(
            self.env, self.trace, scenario.backend, [(w.instance, w.share) for w in workloads]
        )
        self.contexts: list[Context] = []
        self.runs: list[WorkloadRun] = []
        streams = Streams(seed, replication)
        for index, spec in enumerate(workloads):
            context = self._context_for(index, spec)
            self.runs.append(WorkloadRun(
                index, spec, self.backend, context, streams, self.check_end
            ))
        self.foreground = [run for run in self.runs if run.foreground]
        self.background = [run for run in self.runs if not run.foreground]
        self.stop = Event(self.env)
        self._stopping = False

    def _context_for(self, index: int, spec: Workload) -> Context | None:
        mode = spec.mode
        if mode.kind == "job":
            return None
        context = Context(len(self.contexts), index, mode, self.backend, self.check_end,
                          spec.opens_at)
        self.contexts.append(context)
        self.backend.add_context(index, context)
        return context

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
        trace.add_incomplete(now)
        for context in self.contexts:
            if context.window_open:
                trace.add(now, Kind.CONTEXT_RELEASE, -1, context.id, context.workload, END_OF_RUN)
        trace.add(now, Kind.RUN_END)
        trace.freeze()


def run(scenario: Scenario, seed: int | None = None, replication: int = 0
        ) -> tuple[Trace, RunInfo]:
    """Run ``scenario`` once: its frozen record log and what produced it. ``seed`` defaults
    to the scenario's; ``replication`` picks an independent set of random streams from it."""
    seed = scenario.seed if seed is None else seed
    sim = _Simulation(scenario, seed, replication)
    end = sim.run()
    return sim.trace, RunInfo(scenario, seed, replication, __version__, end,
                              sim.env.events_scheduled())
