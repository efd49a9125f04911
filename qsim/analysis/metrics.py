"""The summary dict of SPEC §7, computed from the tables of one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NotRequired, TypedDict, cast

import numpy as np

from qsim.analysis import accounting, columns
from qsim.analysis.columns import STATUSES
from qsim.analysis.limits import limit_figures
from qsim.input import plans
from qsim.input.counts import as_drawn
from qsim.input.scenario import (
    IndependentWorkload,
    Instance,
    IterativeWorkload,
    RecordedWorkload,
)
from qsim.records.log import CANCELLED, CHUNK, CONTEXT_CLOSED, COST_LIMIT, LIMIT, MAX_TIME

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.input.scenario import Scenario, Workload


class JobCounts(TypedDict):
    submitted: int
    done: int
    failed: int
    cancelled: int
    incomplete: int


class WorkloadSummary(TypedDict):
    """One workload's figures (SPEC §7)."""

    name: str
    kind: str
    mode: str
    instance: str  # added: the fair-share allocation it draws on
    share: float
    jobs: JobCounts
    usage_s: float
    quantum_s: float
    wall_time_s: float
    queue_wait_s: float
    first_queue_wait_s: float
    idle_s: float
    idle_gaps: int
    longest_idle_gap_s: float
    windows: int
    cost_usd: float
    # added in 0.2 (SPEC §7)
    qpu_wait_s: float
    first_qpu_start_s: float | None  # None: none of its jobs reached the QPU
    others_in_windows_s: float
    complete: bool
    planned_jobs: int | None  # what it meant to run (None: an open background stream)
    stopped_by: str | None  # why it is not complete: max_time, cancel_at, ... (None: it is)
    # SPEC §18, several backends only: where its jobs ran (least_busy: a stream that chose
    # at each arrival)
    backend: NotRequired[str]


class BackendSummary(TypedDict):
    qpu_busy_s: float
    qpu_reserved_idle_s: float
    qpu_free_s: float
    utilization: float
    qpu_calibration_s: float
    calibrations: int
    calibration_deferred_s: float
    calibration_max_deferred_s: float
    outage_s: float  # added (SPEC §16): time in outage within the run
    outages: int  # outages (merged) under way at some time within the run


class NamedBackendSummary(BackendSummary):
    """One backend of several (SPEC §18): its figures, as ``backend``'s, and its name."""

    name: str


class InstanceSummary(TypedDict):
    """One declared instance (SPEC §12): its workloads' usage in this run against its
    allocation. ``over_allocation`` is 1.0 when used + usage exceed the allocation, else 0.0
    (None without an allocation): over replications, its mean is the share that go over."""

    name: str
    share: float
    usage_s: float
    allocation_s: float | None
    used_s: float
    remaining_s: float | None
    over_allocation: float | None


class StreamLoad(TypedDict):
    """What qsim derived for one open stream (SPEC §12): its mean inter-arrival time and the
    fraction of the QPU's time its quantum phases ask for."""

    name: str
    mean_interarrival_s: float
    offered_load: float


class Summary(TypedDict):
    """The summary of one run (SPEC §7): the contract of ``qsim run --json``."""

    scenario: str
    seed: int
    qsim_version: str
    end_s: float
    workloads: list[WorkloadSummary]
    backend: BackendSummary  # with several backends (SPEC §18): the first one's figures
    backends: NotRequired[list[NamedBackendSummary]]  # SPEC §18: several backends only
    instances: list[InstanceSummary]  # added (SPEC §12): the declared instances, in order
    streams: list[StreamLoad]  # added (SPEC §12): background and interval-submitted streams
    expected_utilization: float  # the open streams' summed offered load (>= 1: unbounded)


def summarize(result: RunResult) -> Summary:
    """The run's summary: exactly the keys of SPEC §7 (later additions are extra keys).

    It works on numpy columns (``RunResult.job_arrays``) rather than the jobs DataFrame, and
    sums per workload in one pass: a summary of a million jobs should cost little next to
    simulating them."""
    info, scenario = result.info, result.info.scenario
    jobs, windows, busy = result.job_arrays, result.window_arrays, result.busy
    gaps, cal = result.gap_arrays, result.calibration_arrays
    reason_jobs, reasons = columns.reasons_given(result.trace, result.trace.columns())
    reason_workload = jobs["workload"][reason_jobs]
    closed_workload, closed_by = columns.close_reasons(result.trace, result.trace.columns())
    reason_workload = np.concatenate([reason_workload, closed_workload])
    reasons = np.concatenate([reasons, closed_by])
    fleet = result.trace.job_backend is not None
    if fleet:  # SPEC §18: each QPU interval's backend goes where its row goes
        busy = {**busy, "backend": result.busy_backend}
    if scenario.warmup:
        jobs, busy = _from_zero(jobs, busy)
        cal = _rows(cal, cal["end_at"] > 0)  # those the figures count: on the QPU from 0 on
    # Each backend's QPU intervals, split once: its workloads' figures and its own read them.
    on_backend = _split({k: busy[k] for k in _PER_BACKEND}, busy["backend"],
                        len(scenario.backends)) if fleet else []
    sums = _sums_by_workload(jobs, len(scenario.workloads))
    workloads = [
        _workload(w, index, jobs, sums, _rows(windows, index), _rows(gaps, index),
                  _on_backend(busy, on_backend, result, index) if fleet else busy,
                  scenario, info.end_s, set(reasons[reason_workload == index].tolist()))
        for index, w in enumerate(scenario.workloads)
    ]
    sessions = np.isin(windows["workload"],
                       [i for i, w in enumerate(scenario.workloads) if w.mode.kind == "session"])
    if fleet:
        return _fleet_summary(result, workloads, on_backend, windows, sessions)
    return _summary(result, workloads, _backend(busy, _rows(windows, sessions), info.end_s,
                                                cal["start_at"] - cal["due_at"],
                                                result.outage_arrays))


def _summary(result: RunResult, workloads: list[WorkloadSummary],
             backend: BackendSummary) -> Summary:
    """SPEC §7's dict, in its order (later additions after)."""
    info, scenario = result.info, result.info.scenario
    return {
        "scenario": scenario.name,
        "seed": info.seed,
        "qsim_version": info.qsim_version,
        "end_s": info.end_s,
        "workloads": workloads,
        "backend": backend,
        "instances": _instances(result, workloads),
        "streams": (streams := _streams(scenario)),
        "expected_utilization": sum(x["offered_load"] for x in streams),
    }


def _on_backend(busy: dict[str, np.ndarray], on_backend: list[dict[str, np.ndarray]],
                result: RunResult, workload: int) -> dict[str, np.ndarray]:
    """What held the QPU of the workload's backend (a stream that chose per job: all)."""
    index = result.trace.workload_backend[workload]
    return busy if index < 0 else on_backend[index]


def _fleet_summary(result: RunResult, workloads: list[WorkloadSummary],
                   on_backend: list[dict[str, np.ndarray]], windows: dict[str, np.ndarray],
                   sessions: np.ndarray) -> Summary:
    """The summary with several backends (SPEC §18): each backend's figures from its own
    QPU intervals, calibrations, outages and the windows of the sessions on it; ``backend``
    is the first one's; each workload names its backend. Usage is the workload's wherever
    it ran (an instance's usage counts on every backend together)."""
    info, scenario = result.info, result.info.scenario
    names = [b.name for b in scenario.backends]
    chosen = result.trace.workload_backend
    for entry, index in zip(workloads, chosen):
        entry["backend"] = "least_busy" if index < 0 else names[index]
    cal, outages = result.calibration_arrays, result.outage_arrays
    window_backend = np.array([chosen[w] for w in windows["workload"].tolist()], np.int64)
    figures: list[NamedBackendSummary] = []
    for index, name in enumerate(names):
        mine = cal["backend"] == index
        figures.append({"name": name, **_backend(
            on_backend[index],
            _rows(windows, sessions & (window_backend == index)), info.end_s,
            cal["start_at"][mine] - cal["due_at"][mine],
            _rows(outages, outages["backend"] == index))})
    first = cast(BackendSummary, {k: v for k, v in figures[0].items() if k != "name"})
    items = list(_summary(result, workloads, first).items())
    at = [key for key, _ in items].index("backend") + 1  # `backends` right after `backend`
    return cast(Summary, dict([*items[:at], ("backends", figures), *items[at:]]))


# The QPU-interval columns a backend's figures and its workloads' read (``_backend``,
# ``_others_in_windows``).
_PER_BACKEND: Final = ("start_at", "end_at", "job", "workload")


def _split(table: dict[str, np.ndarray], codes: np.ndarray, groups: int
           ) -> list[dict[str, np.ndarray]]:
    """The rows of a table of columns for each code 0 .. groups-1, each group in the
    table's order: each group's row numbers, one after another, one gather per column, then
    each group a slice. A boolean mask per column per group (a fleet's six backends) cost
    about as much again as one backend's whole summary per job (issue 28); a stable argsort
    of the codes took about twice as long as these row numbers (timeit, 150,000 rows)."""
    rows = [np.flatnonzero(codes == code) for code in range(groups)]
    order = np.concatenate([np.empty(0, np.int64), *rows])
    bounds = np.cumsum([0, *(len(r) for r in rows)]).tolist()
    gathered = {name: column[order] for name, column in table.items()}
    return [{name: column[lo:hi] for name, column in gathered.items()}
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def _rows(table: dict[str, np.ndarray], which: int | np.ndarray) -> dict[str, np.ndarray]:
    """The rows of a table of columns that belong to workload ``which`` (or a row mask)."""
    keep = table["workload"] == which if isinstance(which, int) else which
    return {name: column[keep] for name, column in table.items()}


def _streams(scenario: Scenario) -> list[StreamLoad]:
    """The open streams' offered load, as ``qsim validate --show`` states it."""
    return [{"name": x.name, "mean_interarrival_s": x.mean_interarrival_s,
             "offered_load": x.rho}
            for x in plans.offered_load(scenario) if x.mean_interarrival_s is not None]


def _from_zero(jobs: dict[str, np.ndarray], busy: dict[str, np.ndarray]
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """After a warm-up, the figures are from t = 0: the jobs submitted from then on, and
    what held the QPU from then on."""
    keep = jobs["submit_at"] >= 0
    start = np.maximum(busy["start_at"], 0.0)
    held = busy["end_at"] > start
    clipped = {k: v[held] for k, v in busy.items()}
    clipped["start_at"] = start[held]
    return {k: v[keep] for k, v in jobs.items()}, clipped


def _instances(result: RunResult, workloads: list[WorkloadSummary]) -> list[InstanceSummary]:
    """Each declared instance's usage: the sum of its workloads' usage in this run; then
    each other instance with a limit in force (the open plan's), and for every instance
    with one, what the limit did (SPEC §19, qsim.analysis.limits)."""
    scenario = result.info.scenario
    figures = limit_figures(result)
    declared = dict(scenario.instances)
    plan_allocation = plans.PLANS[scenario.plan].allocation_s
    for name in figures:
        if name not in declared:
            declared[name] = Instance(share=_share_of(scenario, name),
                                      allocation=plan_allocation)
    out: list[InstanceSummary] = []
    for name, spec in declared.items():
        usage = float(sum(w["usage_s"] for w in workloads if w["instance"] == name))
        remaining = None if spec.allocation is None else spec.allocation - spec.used - usage
        out.append(cast(InstanceSummary, {
            "name": name, "share": spec.share, "usage_s": usage,
            "allocation_s": spec.allocation, "used_s": spec.used, "remaining_s": remaining,
            "over_allocation": None if remaining is None else float(remaining < 0),
            **figures.get(name, {}),
        }))
    return out


def _share_of(scenario: Scenario, instance: str) -> float:
    return float(next(w.share for w in scenario.workloads if w.instance == instance))


def _sums_by_workload(jobs: dict[str, np.ndarray], workloads: int) -> dict[str, np.ndarray]:
    index = jobs["workload"]
    statuses = len(STATUSES) + 1  # status -1 (no end record) counts nowhere
    # Counts and first jobs a chunk of jobs at a time: their keys and row numbers are
    # temporaries the allocator reuses, where whole-run ones were fresh memory at 10M jobs.
    # (The float sums below read the columns as they are, in one pass each: a sum in
    # chunks would add in another order.)
    counts = np.zeros(workloads * statuses, np.int64)
    first = np.full(workloads, len(index), np.int64)
    for lo in range(0, len(index), CHUNK):
        part = index[lo:lo + CHUNK]
        key = part * statuses
        key += jobs["status"][lo:lo + CHUNK]
        key += 1
        counts += np.bincount(key, minlength=workloads * statuses)
        np.minimum.at(first, part, np.arange(lo, lo + len(part)))
    by_status = counts.reshape(workloads, statuses)
    sums = {"status": by_status[:, 1:], "submitted": by_status.sum(axis=1)}
    for column in ("charged_s", "quantum_s", "queue_wait_s", "qpu_wait_s"):
        sums[column] = np.bincount(index, weights=jobs[column], minlength=workloads)
    # Each workload's first job (the earliest submission: job order, above), the latest end
    # (NaN if one has none) and the first quantum start (NaN: none), each in one pass over
    # the jobs for all workloads, not one per workload (a fleet has a stream per backend,
    # issue 28).
    sums["first"] = first
    sums["last_end"] = np.full(workloads, -np.inf)
    np.maximum.at(sums["last_end"], index, jobs["end_at"])  # maximum keeps a NaN
    sums["first_qpu"] = np.full(workloads, np.nan)
    np.fmin.at(sums["first_qpu"], index, jobs["quantum_start_at"])  # fmin skips NaNs
    return sums


def _workload(spec: Workload, index: int, jobs: dict[str, np.ndarray],
              sums: dict[str, np.ndarray], windows: dict[str, np.ndarray],
              gaps: dict[str, np.ndarray], busy: dict[str, np.ndarray], scenario: Scenario,
              end_s: float, reasons: set[str]) -> WorkloadSummary:
    mode = spec.mode.kind
    submitted = int(sums["submitted"][index])
    starts, ends = accounting.billed_windows(windows["start_at"], windows["end_at"], mode,
                                             scenario.accounting.session)
    idle = accounting.Idle.of(gaps["start_at"].tolist(), gaps["end_at"].tolist())
    usage = accounting.usage(mode, sums["charged_s"][index], ends - starts)
    if mode == "session" and isinstance(spec, RecordedWorkload):
        # the program's jobs in job mode, outside its session (SPEC §13), pay for themselves
        mine = jobs["workload"] == index
        usage += float(jobs["charged_s"][mine & (jobs["context"] < 0)].sum())
    if submitted:
        first = int(sums["first"][index])  # the workload's first job: the earliest submission
        last = float(sums["last_end"][index])
        last = end_s if np.isnan(last) else last  # a job unended: it runs to the end
        submit = float(jobs["submit_at"][first])
        wall = last - submit
        first_wait = float(jobs["queue_wait_s"][first])
        started = float(sums["first_qpu"][index])
        first_qpu = None if np.isnan(started) else started - submit
    else:
        wall = first_wait = 0.0
        first_qpu = None
    counts = sums["status"][index]
    planned = _planned_jobs(spec)
    job_counts: JobCounts = {"submitted": submitted, "done": int(counts[0]),
                             "failed": int(counts[1]), "cancelled": int(counts[2]),
                             "incomplete": int(counts[3])}
    complete = _complete(job_counts, planned, iterative=isinstance(spec, IterativeWorkload))
    return {
        "name": spec.name,
        "kind": spec.kind,
        "mode": mode,
        "instance": spec.instance,  # added: the fair-share allocation it draws on
        "share": float(spec.share),
        "jobs": job_counts,
        "usage_s": usage,
        "quantum_s": float(sums["quantum_s"][index]),
        "wall_time_s": wall,
        "queue_wait_s": float(sums["queue_wait_s"][index]),
        "first_queue_wait_s": first_wait,
        "idle_s": idle.idle_s,
        "idle_gaps": idle.gaps,
        "longest_idle_gap_s": idle.longest_gap_s,
        "windows": len(starts),
        "cost_usd": usage * scenario.pricing.usd_per_second,
        "qpu_wait_s": float(sums["qpu_wait_s"][index]),
        "first_qpu_start_s": first_qpu,
        "others_in_windows_s": _others_in_windows(windows, busy, index),
        "complete": complete,
        "planned_jobs": planned,
        "stopped_by": None if complete else _stopped_by(reasons, job_counts),
    }


def _others_in_windows(windows: dict[str, np.ndarray], busy: dict[str, np.ndarray],
                       index: int) -> float:
    """QPU time of other workloads' jobs and of calibrations inside the workload's active
    windows (SPEC §7): what a session pays for under ``session_entry: overlap``."""
    if not len(windows["start_at"]):
        return 0.0
    # Only the intervals between the first window's start and the last one's end can meet a
    # window: a slice (a view) of the sorted, disjoint intervals ``intersect`` takes, masked
    # and gathered, rather than the whole run's (three fresh whole-run arrays per workload
    # with windows: a fifth of the summary's fresh memory at 10M jobs). The overlaps are the
    # same, in the same order, so is their sum.
    lo = int(np.searchsorted(busy["end_at"], windows["start_at"].min(), side="right"))
    hi = int(np.searchsorted(busy["start_at"], windows["end_at"].max(), side="left"))
    near = slice(lo, max(lo, hi))
    others = busy["workload"][near] != index  # calibrations have workload -1
    order = np.argsort(windows["start_at"], kind="stable")
    s, e = accounting.intersect(windows["start_at"][order], windows["end_at"][order],
                                busy["start_at"][near][others], busy["end_at"][near][others])
    return float(np.sum(e - s))


def _planned_jobs(spec: Workload) -> int | None:
    """The jobs a workload means to run, retries aside (None: an open background stream)."""
    if isinstance(spec, IterativeWorkload):
        # the run's own counts (SPEC §20: its RunInfo holds what it drew)
        return as_drawn(spec.iterations) * as_drawn(spec.jobs_per_iteration) * spec.parallel
    if isinstance(spec, IndependentWorkload):
        return as_drawn(spec.jobs)
    if isinstance(spec, RecordedWorkload):
        return len(spec.recording.jobs)
    return None


def _complete(jobs: JobCounts, planned: int | None, iterative: bool) -> bool:
    """Whether the workload did all it meant to (SPEC §7): no job cancelled or cut off; an
    iterative loop's every job done (a failure that ``abort`` or exhausted retries turned into
    a stop leaves its round undone); an independent workload's every job submitted (its
    failures are its own rules' outcome). A background stream: complete unless cut off."""
    if jobs["cancelled"] or jobs["incomplete"]:
        return False
    if planned is None:
        return True
    return (jobs["done"] if iterative else jobs["submitted"]) == planned


# Why work was left undone, most telling first: (reason recorded with a job, as said)
_STOPS: Final = ((COST_LIMIT, "a cost limit"), (LIMIT, "a usage limit"),
                 (MAX_TIME, "max_time"), (CANCELLED, "cancel_at"),
                 (CONTEXT_CLOSED, "a closed context"))


def _stopped_by(reasons: set[str], jobs: JobCounts) -> str:
    """What left an incomplete workload's work undone, in a few words."""
    for reason, said in _STOPS:
        if reason in reasons:
            return said
    if jobs["incomplete"]:
        return "the end of the run"
    return "a failure" if jobs["failed"] else "the end of the run"


def _backend(busy: dict[str, np.ndarray], sessions: dict[str, np.ndarray], end_s: float,
             deferred: np.ndarray, outages: dict[str, np.ndarray]) -> BackendSummary:
    """The QPU's figures; ``sessions``: the active windows of sessions."""
    busy_start, busy_end = busy["start_at"], busy["end_at"]
    length = busy_end - busy_start
    total = float(np.sum(length))
    reserved = float(np.sum(sessions["end_at"] - sessions["start_at"])) - accounting.busy_within(
        sessions["start_at"], sessions["end_at"], busy_start, busy_end)
    is_cal = busy["job"] < 0
    outage_s, outage_count = _outages(outages, end_s)
    return {
        "qpu_busy_s": total,
        "qpu_reserved_idle_s": reserved,
        "qpu_free_s": end_s - total - reserved,
        "utilization": total / end_s if end_s > 0 else 0.0,
        "qpu_calibration_s": float(np.sum(length[is_cal])),
        "calibrations": int(is_cal.sum()),
        # how long calibrations waited past their due time (busy QPU or an active session)
        "calibration_deferred_s": float(deferred.sum()),
        "calibration_max_deferred_s": float(deferred.max()) if len(deferred) else 0.0,
        "outage_s": outage_s,
        "outages": outage_count,
    }


def _outages(outages: dict[str, np.ndarray], end_s: float) -> tuple[float, int]:
    """Time in outage within the run, [0, end] (a warm-up's outages are before 0)."""
    start = np.clip(outages["start_at"], 0.0, end_s)
    end = np.clip(outages["end_at"], 0.0, end_s)
    within = (outages["end_at"] > 0.0) & (outages["start_at"] <= end_s)
    return float(np.sum(end - start)), int(within.sum())
