"""How much work a scenario asks for, before it runs: the expected jobs, calibrations and end of
one run, from the analytic means of its distributions (SPEC §8), and the limit a command holds
all its runs to (``--max-jobs``, ``max_jobs=``; default ``qsim.input.limits.DEFAULT_MAX_JOBS``).

The estimate is rough on purpose: it reads means only (queueing from background load is
taken as an M/M/1 wait, an overloaded QPU as a backlog that grows with time), and its use is
to refuse, before any simulated second, a run that would take hours or never end, with one
line that says what was estimated and how to go on. It is not a bound: the engine also stops
a run that passes the limit while it runs (``qsim.model.watch``). A count a run draws (SPEC
§20) is read at its high end, not its mean, so that no run of the command is likely to pass
the limit: its upper bound, or its 99.9th percentile where it has none
(``qsim.input.counts.high_count``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from qsim.input.counts import high_count
from qsim.input.errors import QsimError
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.text import shown

if TYPE_CHECKING:
    from qsim.input.scenario import Scenario

__all__ = ["DEFAULT_MAX_JOBS", "RECORDS_PER_JOB", "HINT", "Work", "WorkLimitError",
           "check_work", "estimate", "count_text"]

#: Records a job leaves in the log (submit, dispatch, ready, QPU start and end, end): the
#: engine's measure of work done, which calibrations and context changes also move.
RECORDS_PER_JOB: Final = 6
#: How to go on, said by every refusal.
HINT: Final = ("raise the limit with --max-jobs N (max_jobs=N in Python) if the run is meant to "
               "be that long, or shorten the horizon or the workloads")


class WorkLimitError(QsimError):
    """A command refused (or a run stopped) because it would simulate more than its limit."""


@dataclass(frozen=True)
class Work:
    """One run's expected work. ``jobs`` and ``calibrations`` may be ``inf`` (the run may not
    end), with ``why`` saying what never ends; ``by_workload`` gives each workload's jobs."""

    jobs: float
    calibrations: float
    end_s: float
    by_workload: dict[str, float] = field(default_factory=dict)
    why: str = ""
    note: str = ""  # what makes it long, when the estimate knows (an overloaded QPU)
    outages: float = 0.0  # SPEC §16: each costs about a job, as a calibration does

    @property
    def units(self) -> float:
        """Jobs, calibrations and outages: what the limit counts (each costs about a job)."""
        return self.jobs + self.calibrations + self.outages

    @property
    def records(self) -> float:
        """Records the run's log is expected to hold."""
        return RECORDS_PER_JOB * self.jobs + 2 * (self.calibrations + self.outages)


def count_text(x: float) -> str:
    """``1,234`` below ten million, ``2.6e+09`` above (and ``inf``)."""
    if not math.isfinite(x):
        return "unbounded"
    return f"{x:,.0f}" if x < 1e7 else f"{x:.2g}"


def check_work(scenarios: Iterable[Scenario], runs_each: int, max_jobs: int | None) -> float:
    """The expected jobs of running each of ``scenarios`` ``runs_each`` times (replications);
    WorkLimitError if that is more than ``max_jobs`` (None: no limit), or may never end."""
    works = [(s, estimate(s)) for s in scenarios]
    total = runs_each * math.fsum(w.units for _, w in works)
    if max_jobs is None or total <= max_jobs:
        return total
    scenario, worst = max(works, key=lambda sw: sw[1].units)
    name = shown(scenario.name)
    if not math.isfinite(worst.units):
        raise WorkLimitError(f"{name}: the run may never end: {worst.why}; {HINT}")
    runs = len(works) * runs_each
    parts = sorted(worst.by_workload.items(), key=lambda kv: -kv[1])[:3]
    if worst.calibrations >= 1:
        parts.append(("calibrations", worst.calibrations))
    if worst.outages >= 1:
        parts.append(("outages", worst.outages))
    detail = ", ".join(f"{shown(n, 24)}: {count_text(j)}" for n, j in parts if j >= 1)
    each = (f" in {runs:,} runs of up to about {count_text(worst.units)} each" if runs > 1
            else "")
    note = f"; {worst.note}" if worst.note else ""
    raise WorkLimitError(f"{name}: about {count_text(total)} jobs expected{each} ({detail}), "
                         f"more than the limit of {max_jobs:,} jobs{note}; {HINT}")


# ---------------------------------------------------------------------------------------------
# The estimate


def estimate(scenario: Scenario) -> Work:
    """The expected work of one run of ``scenario`` (see the module docstring), its warm-up
    included (the background alone before t = 0)."""
    warmed_up = getattr(scenario, "warmed_up", None)
    if warmed_up is not None:
        scenario = warmed_up()
    horizon = scenario.horizon
    load, service = _background_load(scenario)
    foreground: dict[str, tuple[float, float, float]] = {}  # name -> (start, end, jobs)
    why = ""
    for w in scenario.workloads:
        if w.kind == "background":
            continue
        start, wall, planned = _foreground(w, load, service)
        end = start + wall
        if w.mode.kind != "job":  # a batch or session closes at its max_time, or cancel_at
            end = min(end, w.opens_at + w.mode.max_time)
            if w.mode.cancel_at is not None:
                end = min(end, w.mode.cancel_at)
        if horizon is not None:
            end = min(end, horizon)
        if math.isinf(end) and not why:
            why = (f"the background load on the QPU ({load:.2f}) is more than it serves, so "
                   f"workload {shown(w.name, 24)!r} in job mode falls ever further behind, and "
                   "there is no horizon to end the run (set horizon:)")
        done = 1.0 if wall <= 0 or math.isinf(wall) else max(0.0, min(1.0, (end - start) / wall))
        if horizon is not None and start >= horizon:
            done = 0.0
        jobs = planned * done if math.isfinite(end) or planned == 0 else planned
        foreground[w.name] = (start, end, max(jobs, _built(w, horizon)))
    if horizon is not None:
        run_end = horizon
    else:
        run_end = max((end for _, end, _ in foreground.values()), default=0.0)
    by_workload = {name: jobs for name, (_, _, jobs) in foreground.items()}
    for w in scenario.workloads:
        if w.kind == "background":
            # pending jobs at 0 (SPEC §17) count even when the run is 0 s long
            by_workload[w.name] = w.expected_jobs(max(0.0, run_end - w.start))
    calibrations = math.fsum(_ratio(run_end, b.calibration.every) for b in scenario.fleet
                             if b.calibration is not None)  # every backend's (SPEC §18)
    jobs = math.fsum(by_workload.values())
    if math.isinf(jobs) and not why:
        why = "background streams arrive without end and there is no horizon (set horizon:)"
    note = ""
    if load >= 1 and horizon is None:
        note = (f"the background load ({load:.2f}) is more than the QPU serves and there is no "
                "horizon, so a workload in job mode falls ever further behind (set horizon:)")
    return Work(jobs, calibrations, run_end, by_workload, why, note,
                math.fsum(_outages(b.outages, run_end) for b in scenario.fleet))


def _outages(outages: Any, run_end: float) -> float:
    """Expected outages of one run: each fixed period, and a random process's run length over
    its mean cycle (up plus down)."""
    count = 0.0
    for outage in outages:
        every = getattr(outage, "every", None)
        count += 1.0 if every is None else _ratio(run_end, every.mean + outage.duration.mean)
    return count


def _built(w: Any, horizon: float | None) -> float:
    """Jobs an independent workload builds whatever runs of them: it submits all its ``jobs``
    (at once when ``submit_interval`` is 0), also past a batch's ``max_time`` (they fail
    there), until the horizon. A billion-job batch costs a billion jobs before its first
    ``max_time`` is reached."""
    if w.kind != "independent":
        return 0.0
    jobs = float(high_count(w.jobs))
    if horizon is None:
        return jobs
    if w.start >= horizon:
        return 0.0
    if w.submit_interval <= 0:
        return jobs
    before: float = math.ceil((horizon - w.start) / w.submit_interval)  # submitted before it
    return min(jobs, before)


def _ratio(span: float, every: float) -> float:
    if span <= 0:
        return 0.0
    return math.inf if every <= 0 or math.isinf(span) else span / every


def _mean(dist: Any) -> float:
    """A distribution's mean; 0 for none (a recorded workload's phases from its trace)."""
    return 0.0 if dist is None else float(dist.mean)


def _quantum(w: Any) -> float:
    """Mean quantum time of a job of ``w``, as its ``max_execution_time`` cuts it."""
    return min(_mean(w.quantum), float(w.max_execution_time))


def _background_load(scenario: Scenario) -> tuple[float, float]:
    """The QPU's busy fraction from background streams, and their mean quantum time."""
    load, weighted = 0.0, 0.0
    for w in scenario.workloads:
        if w.kind == "background":
            q = _quantum(w)
            rate = 1 / w.mean_gap
            load += q * rate
            weighted += q * q * rate
    return load, (weighted / load if load > 0 else 0.0)


def _foreground(w: Any, load: float, service: float) -> tuple[float, float, float]:
    """(start, wall time, planned jobs) of a foreground workload on a backend that background
    streams keep ``load`` busy with jobs of ``service`` s on average."""
    q = _quantum(w)
    job_s = _mean(w.compile) + q + _mean(w.post)
    # A job in job mode waits behind the background queue (M/M/1: load/(1 - load) of a job);
    # a batch or session, once active, jumps it.
    queued = w.mode.kind == "job" and w.kind != "recorded"
    wait = load / (1 - load) * service if queued and load < 1 else 0.0
    recording = getattr(w, "recording", None)
    if w.kind == "iterative":
        attempts = 1.0
        failure = w.failure
        if failure is not None and w.on_failure == "retry":
            p = min(failure.probability, 1.0)
            attempts = w.max_retries + 1.0 if p >= 1 else (1 - p ** (w.max_retries + 1)) / (1 - p)
        iterations = high_count(w.iterations)  # SPEC §20: a drawn count at its high end
        per_round = high_count(w.jobs_per_iteration) * attempts
        planned = iterations * w.parallel * per_round
        iteration_s = max(job_s, per_round * w.parallel * q) + _mean(w.classical) + wait
        if queued and load >= 1 and service > 0:
            # Each iteration queues behind a backlog that grows with time: t_{k+1} = load·t_k
            # + iteration_s, so n iterations take iteration_s·(load^n − 1)/(load − 1).
            n = iterations
            grow = n * math.log(load)
            wall = math.inf if grow > 700 else (
                n * iteration_s if load == 1 else iteration_s * math.expm1(grow) / (load - 1))
        else:
            wall = iterations * iteration_s
        return w.start, wall, planned
    if w.kind == "independent":
        jobs = high_count(w.jobs)
        planned = float(jobs)
        wall = max((jobs - 1) * w.submit_interval, jobs * q) + job_s - q + wait
        return w.start, wall, planned
    if recording is not None:  # a recorded program: its jobs, its think times
        steps = getattr(recording, "steps", ())
        think = math.fsum(getattr(s, "seconds", 0.0) for s in steps)
        planned = float(len(recording.jobs))
        return w.start, think + planned * job_s, planned
    return w.start, 0.0, 0.0  # a kind this estimate does not know: the engine's guard holds
