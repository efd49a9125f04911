"""``qsim fit --jobs``: a user's own past jobs beside a fit (SPEC §21).

**The model's waits are measured the way the user's were**: the user's jobs are submitted to
the fitted backend (``fit_replay``'s exact schedule of the fitted scenario) at the instants they
were created, each taking its own run time on the QPU, among the background's jobs, and each
one's wait is its dispatch less its submission (qsim's ``running - created``). They are pooled
over replications the search never saw.

Where the user's jobs fall in the model's span: at their own instants if they all lie within
the series' span; otherwise shifted by whole days (the time of day kept, for the daily
profile) so that the first falls within it, and wrapped over the span's whole days.

**The quantum time** (``service_from_jobs``): with fewer than ``MIN_BUSY_BLOCKS`` 10-min blocks
in which the queue never emptied, the series only bounds the service time from above (the
fastest block's departures); the user's run times are then the evidence of a job's time on
that QPU, within the bound.

**With ``--jobs`` alone** (``fit_jobs_only``) there is no queue to read: the background's jobs
are taken to run as long as the user's (their mean and cv), and a seeded Nelder-Mead search
over its load and burst size (common random numbers, as ``fitting``) matches the waits'
p50, p90, mean (and, weighted less, p99). The waits pin down how much work is queued ahead of a
job in seconds; they cannot tell many short jobs from few long ones, nor show the queue's
length, outages or a daily cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np

from qsim.analysis.queue_estimate import MIN_BUSY_BLOCKS, Estimate
from qsim.analysis.wait_stats import WAIT_TARGETS, WaitStats, compare_waits, wait_stats
from qsim.experiments.fit_replay import (
    Draws,
    Model,
    background_jobs,
    dispatch_jobs,
)
from qsim.input.job_series import JobSeries, JobsError

__all__ = ["JobsFitResult", "WaitComparison", "fit_jobs_only", "model_waits", "place_jobs",
           "service_from_jobs", "waits_json", "waits_of_fit"]

Progress = Callable[[str], None]

LANES: Final = 5  # as fitting.LANES: lanes do not show in waits either
CHECK_REPLICATION: Final = 1000  # as fitting's: replications the search never saw
JOBS_PER_CANDIDATE: Final = 400_000  # simulated jobs per candidate (replications: auto)
MAX_REPLICATIONS: Final = 32
LOAD_BOUNDS: Final = (0.02, 0.995)
BURST_BOUNDS: Final = (1.0, 2000.0)
P99_WEIGHT: Final = 0.25  # the tail, from a few hundred jobs, is noisy: it counts less
MAX_WARMUP_S: Final = 7 * 86400.0
MIN_SERVICE_S: Final = 1.0  # a background job's quantum time at least (IBM's estimate: 2 s+)
MAX_JOBS_PER_RUN: Final = 2_000_000  # background jobs one replication may simulate


@dataclass(frozen=True)
class WaitComparison:
    """The user's waits and the same jobs' waits on the fitted backend, and the targets met."""

    data: WaitStats
    model: WaitStats
    met: dict[str, bool]
    placed: str  # how the jobs were placed in the model's span (a sentence)


def model_waits(model: Model, draws: Draws, created: np.ndarray, run_s: np.ndarray
                ) -> np.ndarray:
    """Waits (dispatch - submission) of jobs submitted at ``created`` (any order), each taking
    ``run_s`` on the QPU, among one replication of ``model``'s background (FIFO: at an equal
    instant the background's jobs are ahead; a held job from its release, in its place by
    submission)."""
    background, release, quantum = background_jobs(model, draws)
    submit = np.concatenate([background, created])
    release = np.concatenate([release, created])
    quantum = np.concatenate([quantum, run_s])
    mine = dispatch_jobs(model, submit, release, quantum)[len(background):]
    return np.asarray(mine - created)


def place_jobs(jobs: JobSeries, offset_s: float, span_s: float) -> tuple[np.ndarray, str]:
    """The jobs' instants on the model's clock (see the module docstring): ``offset_s`` is
    the first job's creation less the series' start."""
    at = jobs.created + offset_s
    if at[0] >= 0 and at[-1] <= span_s:
        return at, "at their own instants within the series' span"
    period = 86400.0 * math.floor(span_s / 86400.0) or span_s
    at = (jobs.created + offset_s % 86400.0 % period) % period  # (unsorted: model_waits sorts)
    return at, (f"shifted by whole days into the series' span (time of day kept) and wrapped "
                f"over {period / 86400:g} days")


def service_from_jobs(first: Estimate, jobs: JobSeries, say: Progress) -> Estimate:
    """``first`` with its service time taken from the user's run times when the series holds
    too few busy blocks to read it (within the series' upper bound); unchanged otherwise."""
    if first.busy_blocks >= MIN_BUSY_BLOCKS:
        return first
    mean = float(np.mean(jobs.run_s))
    if mean <= 0:
        return first
    cv = float(np.std(jobs.run_s) / mean)
    service = min(first.service_s, mean)
    say(f"service: {first.busy_blocks} busy blocks in the series (fewer than "
        f"{MIN_BUSY_BLOCKS}): {service:.1f} s from the jobs' run times (bound "
        f"{first.service_s:.1f} s)")
    return replace(first, service_s=service, service_cv=float(np.clip(cv, 0.05, 5.0)))


def _pooled(model: Model, draws: list[Draws], at: np.ndarray, run_s: np.ndarray
            ) -> tuple[WaitStats, np.ndarray]:
    """The waits' figures pooled over ``draws``' replications, and the waits themselves."""
    waits = np.concatenate([model_waits(model, d, at, run_s) for d in draws])
    return wait_stats(waits, np.tile(run_s, len(draws))), waits


def waits_of_fit(model: Model, jobs: JobSeries, offset_s: float, span_s: float, seed: int,
                 replications: int) -> WaitComparison:
    """The user's waits beside the fitted ``model``'s, on unseen replications."""
    at, placed = place_jobs(jobs, offset_s, span_s)
    draws = [Draws(seed, CHECK_REPLICATION + r, span_s) for r in range(replications)]
    data = wait_stats(jobs.wait_s, jobs.run_s)
    got, _ = _pooled(model, draws, at, jobs.run_s)
    return WaitComparison(data, got, compare_waits(data, got), placed)


def waits_json(waits: WaitComparison) -> dict[str, Any]:
    """``fit.json``'s ``waits``: each wait figure, the user's and the model's, side by side."""
    data, model = waits.data.as_dict(), waits.model.as_dict()
    return {**{name: {"data": data[name], "model": model[name],
                      **({"met": waits.met[name],
                          "target": f"within {100 * WAIT_TARGETS[name]:.0f} %"}
                         if name in waits.met else {})}
               for name in data},
            "placed": waits.placed}


# ---- --jobs alone ---------------------------------------------------------------------------

@dataclass
class JobsFitResult:
    """What ``qsim fit --jobs`` alone found: a background whose waits match the user's."""

    jobs: JobSeries
    model: Model
    waits: WaitComparison
    model_wait_s: np.ndarray  # the waits behind ``waits.model`` (for the picture)
    warmup_s: float
    seed: int
    evaluations: int
    loss: float
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        base = self.jobs.file.replace("\\", "/").rsplit("/", 1)[-1]
        return base.split(".")[0] or "backend"

    @property
    def load(self) -> float:
        return self.model.arrival_rate * self.model.service_s


def _wait_loss(data: WaitStats, got: WaitStats, service_s: float) -> float:
    """Squared log-ratios, each wait plus a job's run time: a wait shorter than one job (an
    idle backend's median: 0 or a few seconds) counts little, not as an infinite ratio."""
    total = 0.0
    for name, weight in (("wait_p50", 1.0), ("wait_p90", 1.0), ("wait_mean", 1.0),
                         ("wait_p99", P99_WEIGHT)):
        ratio = (getattr(got, name) + service_s) / (getattr(data, name) + service_s)
        total += weight * math.log(ratio) ** 2
    return total


def _background(jobs: JobSeries, load: float, burst: float) -> Model:
    """The candidate: jobs as long as the user's, at ``load``, in bursts of mean ``burst``."""
    service = max(float(np.mean(jobs.run_s)), MIN_SERVICE_S)
    cv = float(np.clip(np.std(jobs.run_s) / service, 0.05, 5.0))
    return Model(arrival_rate=load / service, burst_mean=burst, service_s=service,
                 service_cv=cv, lanes=LANES)


def fit_jobs_only(jobs: JobSeries, *, seed: int = 0, replications: int | None = None,
                  max_evaluations: int = 60, progress: Progress | None = None
                  ) -> JobsFitResult:
    """A background whose waits match ``jobs``' (see the module docstring); deterministic for
    ``seed``."""
    from scipy.optimize import minimize

    say = progress or (lambda _: None)
    data = wait_stats(jobs.wait_s, jobs.run_s)
    service = max(float(np.mean(jobs.run_s)), MIN_SERVICE_S)
    # Warm-up: the queue starts empty; a day, or fifty mean waits, lets it reach its level.
    warmup = float(min(max(86400.0, 50 * data.wait_mean), MAX_WARMUP_S))
    span = warmup + jobs.span_s + 1.0
    at = jobs.created + warmup
    per_run = LOAD_BOUNDS[1] / service * span  # background jobs at the highest load searched
    if per_run > MAX_JOBS_PER_RUN:
        raise JobsError(f"{jobs.span_s / 86400:.0f} days of jobs of {service:.3g} s: a "
                        f"background that busy would take {per_run:,.0f} jobs a run (qsim fit "
                        f"simulates at most {MAX_JOBS_PER_RUN:,}); give a shorter period",
                        file=jobs.file)
    if replications is None:
        replications = int(np.clip(JOBS_PER_CANDIDATE // max(per_run, 1.0), 2, MAX_REPLICATIONS))
    say(f"jobs: {len(jobs.created)} over {jobs.span_s / 3600:.1f} h, wait p50 "
        f"{data.wait_p50:.0f} s, p90 {data.wait_p90:.0f} s, run {service:.1f} s each; search: "
        f"{replications} replications per candidate, at most {max_evaluations} candidates")
    draws = [Draws(seed, r, span) for r in range(replications)]
    evaluations = 0

    def objective(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        load, burst = _unpack(x)
        got, _ = _pooled(_background(jobs, load, burst), draws, at, jobs.run_s)
        loss = _wait_loss(data, got, service)
        say(f"  {evaluations:>2}: load {load:.3f}, burst {burst:.1f}: wait p50 "
            f"{got.wait_p50:.0f} s, p90 {got.wait_p90:.0f} s: loss {loss:.4f}")
        return loss

    start = _start(data, service)
    simplex = np.array([start, [start[0] - 1.0, start[1]], [start[0], start[1] + 1.0]])
    found = minimize(objective, start, method="Nelder-Mead", bounds=_bounds(),
                     options={"maxfev": max_evaluations, "initial_simplex": simplex,
                              "xatol": 0.01, "fatol": 1e-3})
    load, burst = _unpack(found.x)
    model = _background(jobs, load, burst)
    check = [Draws(seed, CHECK_REPLICATION + r, span) for r in range(replications)]
    got, model_wait_s = _pooled(model, check, at, jobs.run_s)
    waits = WaitComparison(data, got, compare_waits(data, got),
                           f"after a warm-up of {warmup / 3600:g} h")
    say(f"fitted: load {load:.3f}, burst {burst:.1f} after {evaluations} runs; "
        f"{sum(waits.met.values())} of {len(waits.met)} wait targets met on unseen replications")
    return JobsFitResult(jobs, model, waits, model_wait_s, warmup, seed, evaluations,
                         float(found.fun))


def _unpack(x: np.ndarray) -> tuple[float, float]:
    """(load, burst) from the search's coordinates (logit of the load, log of the burst)."""
    load = 1 / (1 + math.exp(-float(x[0])))
    return load, math.exp(float(x[1]))


def _bounds() -> list[tuple[float, float]]:
    lo, hi = LOAD_BOUNDS
    return [(math.log(lo / (1 - lo)), math.log(hi / (1 - hi))),
            (math.log(BURST_BOUNDS[0]), math.log(BURST_BOUNDS[1]))]


def _start(data: WaitStats, service: float) -> np.ndarray:
    """Near the moments: load 0.8; the burst a batch-Poisson queue's mean wait would need
    (mean wait ~ load x burst x service / (1 - load))."""
    load = 0.8
    burst = float(np.clip(data.wait_mean * (1 - load) / (load * service), 1.0, 1000.0))
    return np.array([math.log(load / (1 - load)), math.log(burst)])
