"""The service's plans (SPEC §12) and what qsim derives from a scenario before running it.

:data:`PLANS` holds each plan's price preset and documented limits. :func:`offered_load`
states the load each workload offers the QPU (a background ``load: X`` resolved to its mean
inter-arrival time), and :func:`notes` the lines ``validate --show`` and the report print.
The warnings a scenario earns (a plan's rule it breaks, an offered load of 1 or more) are
collected while it loads and kept on it (``Scenario.warnings``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from qsim.input.counts import count_notes, mean_count
from qsim.input.dists import Circuits
from qsim.input.limits import DEFAULT_MAX_JOBS
from qsim.input.units import format_duration

if TYPE_CHECKING:
    from qsim.input.scenario import BackgroundWorkload, Scenario

__all__ = ["PLANS", "Plan", "WorkloadLoad", "limit_notes", "notes", "offered_load",
           "open_stream_load", "relaxation_time"]


@dataclass(frozen=True)
class Plan:
    """A plan's price preset and limits."""

    usd_per_second: float
    #: The longest ``max_time`` a session or batch may have (None: no batch/session limit).
    max_time_s: float
    #: The longest batch ``max_time`` (the open plan's 10 min).
    batch_max_time_s: float
    sessions: bool
    #: Allocation of the plan's instance per 28 days (None: as bought).
    allocation_s: float | None
    #: Where the price comes from.
    price_note: str


_EIGHT_HOURS: Final = 8 * 3600.0

#: SPEC §12. payg: the published pay-as-you-go rate (96 USD/min). flex and premium: list prices
#: as published when this was written (Flex 72 USD/min; Premium is sold by contract, with no
#: per-second list price, so qsim keeps the pay-as-you-go rate): what-ifs, not quotes.
PLANS: Final[dict[str, Plan]] = {
    "payg": Plan(1.60, _EIGHT_HOURS, _EIGHT_HOURS, True, None,
                 "pay-as-you-go list price, 96 USD/min"),
    "open": Plan(0.0, _EIGHT_HOURS, 600.0, False, 600.0,
                 "free: 10 min of QPU time per 28 days"),
    "flex": Plan(1.20, _EIGHT_HOURS, _EIGHT_HOURS, True, None,
                 "Flex list price, 72 USD/min (what-if)"),
    "premium": Plan(1.60, _EIGHT_HOURS, _EIGHT_HOURS, True, None,
                    "Premium is priced by contract; the pay-as-you-go rate as a what-if: "
                    "give pricing.usd_per_second"),
}


@dataclass(frozen=True)
class WorkloadLoad:
    """The QPU load one workload offers: ``rho`` = E[quantum] / E[inter-arrival] for a stream
    (a background stream is open: it never ends; an independent workload with a
    ``submit_interval`` is a finite one); for a closed loop (iterative, independent at once),
    the busy fraction it would keep on an idle backend while it runs."""

    name: str
    rho: float
    open_stream: bool
    mean_interarrival_s: float | None


def offered_load(scenario: Scenario) -> list[WorkloadLoad]:
    """Each workload's offered load (see :class:`WorkloadLoad`)."""
    from qsim.input.scenario import BackgroundWorkload, IndependentWorkload, IterativeWorkload

    out: list[WorkloadLoad] = []
    for w in scenario.workloads:
        if isinstance(w, BackgroundWorkload):
            gap = w.mean_gap  # between jobs: a burst's count, a trace's rows, taken in
            finite = math.isfinite(gap)  # a trace of one instant offers no lasting load
            out.append(WorkloadLoad(w.name, w.quantum.mean / gap if finite else 0.0, True,
                                    gap if finite else None))
        elif isinstance(w, IndependentWorkload) and w.submit_interval > 0:
            # A finite stream: its queue cannot grow without bound, so it is no open stream.
            gap = w.submit_interval
            out.append(WorkloadLoad(w.name, min(1.0, w.quantum.mean / gap), False, gap))
        elif isinstance(w, IterativeWorkload):
            q = w.quantum.mean
            cycle = w.compile.mean + q + w.post.mean + w.classical.mean
            busy = w.parallel * mean_count(w.jobs_per_iteration) * q
            out.append(WorkloadLoad(w.name, min(1.0, busy / cycle) if cycle > 0 else 1.0,
                                    False, None))
        elif w.quantum is not None:  # independent at once: the QPU is busy while it lasts
            out.append(WorkloadLoad(w.name, 1.0, False, None))
    return out


def open_stream_load(scenario: Scenario) -> float:
    """The summed load of the open streams: at 1 or more the queue grows without bound.
    With several backends (SPEC §18), the most loaded backend's: a stream offers its load to
    its backend, a ``least_busy`` one an equal part to each of its candidates (a rough
    reading: it goes where the queue is shortest)."""
    loads = offered_load(scenario)
    if not scenario.backends:
        return sum(x.rho for x in loads if x.open_stream)
    per_backend = [0.0] * len(scenario.backends)
    index = {w.name: i for i, w in enumerate(scenario.workloads)}
    for x in loads:
        if x.open_stream:
            candidates = scenario.candidates(index[x.name])
            for b in candidates:
                per_backend[b] += x.rho / len(candidates)
    return max(per_backend)


def _qpu_order_notes(scenario: Scenario) -> list[str]:
    """A line for each backend whose QPU serves dispatched jobs first ready (SPEC §19)."""
    named = len(scenario.fleet) > 1
    return [(f"{getattr(b, 'name', '')}: " if named else "")
            + "qpu_order: ready (what-if): the QPU serves dispatched jobs first ready, first "
            "served, whatever their batch or session; by default the active batch's or "
            "session's jobs go first" for b in scenario.fleet if b.qpu_order == "ready"]


def notes(scenario: Scenario) -> list[str]:
    """What qsim derived, one line each: the plan and its price, each stream's mean
    inter-arrival and load, the expected utilisation of all workloads together."""
    plan = PLANS[scenario.plan]
    lines = [f"plan: {scenario.plan} ({plan.price_note}); price "
             f"{scenario.pricing.usd_per_second:g} USD/s"]
    for w in scenario.workloads:  # the circuit form's quantum time, as SPEC §2 computes it
        q = getattr(w, "quantum", None)
        if isinstance(q, Circuits) and q.rep_delay is not None:
            times = f" x {q.multiplier:g}" if q.multiplier != 1 else ""
            per_circuit = (f"{format_duration(q.per_circuit_overhead)} x {q.circuits:,} "
                           f"circuits{times} (per_circuit_overhead) + "
                           if q.per_circuit_overhead else "")
            lines.append(f"{w.name}: quantum {format_duration(q.mean)} a job = "
                         f"{format_duration(q.overhead)} + {per_circuit}"
                         f"({format_duration(q.rep_delay)} + "
                         f"{format_duration(q.circuit_duration)}) x {q.circuits:,} circuits"
                         f"{times} x {q.shots:,} shots")
        charge = getattr(w, "per_circuit_overhead", 0.0)  # a recorded workload's (SPEC §19)
        if w.kind == "recorded" and charge:
            circuits = math.fsum((j.circuit_count or 0) * j.multiplier
                                 for j in w.recording.jobs)
            lines.append(f"{w.name}: per_circuit_overhead {format_duration(charge)} x "
                         f"{circuits:,.6g} recorded circuits (x multiplier) = "
                         f"{format_duration(charge * circuits)} more quantum time in all")
    lines += _qpu_order_notes(scenario)
    lines += limit_notes(scenario)
    lines += count_notes(scenario.workloads)
    loads = offered_load(scenario)
    for x in loads:
        if x.mean_interarrival_s is not None:
            lines.append(f"{x.name}: mean inter-arrival {format_duration(x.mean_interarrival_s)}"
                         f", offered load {x.rho:.3f}")
            stream = scenario.workload(x.name)
            if isinstance(stream, _background_type()):
                lines += _traffic_notes(stream, x.rho)
        else:
            lines.append(f"{x.name}: at most {x.rho:.3f} of the QPU while it runs (on an idle "
                         "backend)")
    streams = sum(x.rho for x in loads if x.open_stream)
    if scenario.backends:  # SPEC §18: in QPUs, and the busiest backend's
        lines.append(f"expected utilisation: {streams:.3f} QPUs of {len(scenario.backends)} "
                     f"from open streams; the busiest backend {open_stream_load(scenario):.3f}")
    else:
        together = min(1.0, sum(x.rho for x in loads))
        lines.append(f"expected utilisation: {streams:.3f} from open streams, {together:.3f} "
                     "with every workload while all run")
    relax = relaxation_time(scenario)
    if relax is not None:
        how = f", {scenario.warmup_auto}" if scenario.warmup_auto else ""
        lines.append(f"warm-up: the background relaxes in about {format_duration(relax)}; "
                     f"warmup: {format_duration(10 * relax)} or more starts the foreground in "
                     f"steady state (warmup now {format_duration(scenario.warmup)}{how})")
    return lines


def limit_notes(scenario: Scenario) -> list[str]:
    """Each instance's limits in force (SPEC §19), and what the plan implies for them."""
    lines: list[str] = []
    plan_limit = PLANS[scenario.plan].allocation_s
    for name, lim in scenario.usage_limits.items():
        declared = scenario.instances.get(name)
        if lim.limit_s is not None:
            whose = " (the open plan's)" if (declared is None or declared.limit is None) \
                and lim.limit_s == plan_limit else ""
            used = f", {format_duration(lim.used_s)} of it used before" if lim.used_s else ""
            lines.append(f"instance {name}: usage limit {format_duration(lim.limit_s)}{whose} "
                         f"per {format_duration(lim.window_s)}{used}: its jobs wait once it "
                         "is reached, until usage leaves the window")
        if lim.cost_limit_usd is not None:
            price = scenario.pricing.usd_per_second
            then = ("running jobs finish (on_cost_limit: finish)"
                    if lim.on_cost_limit == "finish" else "running jobs are stopped")
            lines.append(f"instance {name}: cost limit {lim.cost_limit_usd:g} USD (= "
                         f"{format_duration(lim.cost_limit_usd / price)} of usage at {price:g} "
                         f"USD/s): its queued work and batches or sessions are cancelled then, "
                         f"{then}")
    return lines


def _traffic_notes(w: BackgroundWorkload, rho: float) -> list[str]:
    """What SPEC §17's keys make of a stream: the load's peak, bursts, regimes, profile,
    pending jobs, its hold, a trace."""
    from qsim.input.traffic import ArrivalTrace

    out: list[str] = []
    parts = [f"{what} {max(v.multipliers):.3g}" for what, v in
             (("profile", w.profile), ("regimes", w.regimes)) if v is not None]
    if parts:
        out.append(f"{w.name}: offered load {rho:.3f} on average, {rho * w.peak:.3f} at its "
                   f"peak ({' x '.join(parts)})")
    if w.burst is not None:
        out.append(f"{w.name}: {w.burst.mean:.4g} jobs an arrival on average (burst)")
    if w.regimes is not None:
        out.append(f"{w.name}: regimes at {_levels(w.regimes.multipliers)} x the average rate, "
                   f"each held {format_duration(w.regimes.dwell.mean)} on average")
    if w.profile is not None:
        p = w.profile
        out.append(f"{w.name}: the profile repeats every {format_duration(p.period)} in "
                   f"{len(p.levels)} slices of {format_duration(p.slice_s)} at "
                   f"{_levels(p.multipliers)} x the average rate")
    if w.pending:
        out.append(f"{w.name}: {w.pending:,} jobs pending at t = 0")
    if w.during_outages == "stop":
        out.append(f"{w.name}: submits nothing while its backend is in an outage "
                   "(during_outages: stop): its load holds while the backend is up")
    if w.hold is not None:  # Little's law: jobs held on average = arrival rate x mean hold
        rate = 1 / w.mean_gap  # 0 for a trace of one instant
        out.append(f"{w.name}: each job held {format_duration(w.hold.mean)} on average after "
                   f"its submission (hold): {rate * w.hold.mean:.3g} jobs held on average "
                   "(arrival rate x mean hold), counted in pending_jobs")
    if isinstance(w.arrivals, ArrivalTrace):
        data = w.arrivals.data
        out.append(f"{w.name}: {data.jobs:,} jobs at {len(data.at):,} instants over "
                   f"{format_duration(data.at[-1] - data.at[0])} from {w.arrivals.trace}")
    return out


def _levels(multipliers: tuple[float, ...]) -> str:
    return ", ".join(f"{m:.3g}" for m in multipliers)


#: Relaxation times a ``warmup: auto`` lasts, and the share of the default work limit its
#: background jobs may take.
AUTO_RELAXATIONS: Final = 10
AUTO_SHARE_OF_LIMIT: Final = 0.1


def auto_warmup(scenario: Scenario) -> tuple[float, bool]:
    """``warmup: auto`` (SPEC §17): ten relaxation times at the average load, at least ten
    mean dwells of any regimes, rounded up to whole periods of any profile (so the foreground
    starts where a period starts); at most as long as keeps the warm-up's background jobs to
    a tenth of the default work limit. Returns (seconds, bounded by the limit); ValueError
    when the background has no steady state (a load of 1 or more)."""
    relax = relaxation_time(scenario)
    if relax is None:
        load = open_stream_load(scenario)
        raise ValueError(f"auto needs background streams that offer a load below 1 (now "
                         f"{load:.3f}): there is no steady state to warm up to")
    streams = [w for w in scenario.workloads if isinstance(w, _background_type())]
    d = AUTO_RELAXATIONS * relax
    for w in streams:
        if w.regimes is not None:
            d = max(d, AUTO_RELAXATIONS * w.regimes.dwell.mean)
    for w in streams:
        if w.profile is not None:
            d = math.ceil(d / w.profile.period) * w.profile.period
    rate = sum(1 / w.mean_gap for w in streams)
    cap = AUTO_SHARE_OF_LIMIT * DEFAULT_MAX_JOBS / rate
    return (cap, True) if d > cap else (d, False)


def _background_type() -> type[BackgroundWorkload]:
    from qsim.input.scenario import BackgroundWorkload

    return BackgroundWorkload


def relaxation_time(scenario: Scenario) -> float | None:
    """The background's relaxation time E[S] / (1 - sqrt(rho))^2 (the M/M/1 value, with the
    streams' rate-weighted mean quantum time E[S] and their summed load rho): how long an
    empty backend takes to forget it started empty. None without background, or at rho >= 1
    (there is no steady state)."""
    bursts = {w.name: w.mean_burst for w in scenario.workloads
              if isinstance(w, _background_type())}
    streams = [x for x in offered_load(scenario) if x.mean_interarrival_s is not None
               and x.name in bursts]
    rho = sum(x.rho for x in streams)
    if not streams or not 0 < rho < 1:
        return None
    # arrivals (a burst's jobs are one arrival: its work is served as one batch)
    rate = sum(1 / x.mean_interarrival_s / bursts[x.name] for x in streams
               if x.mean_interarrival_s)
    service = rho / rate
    return float(service / (1 - rho ** 0.5) ** 2)
