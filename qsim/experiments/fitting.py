"""``qsim.fit``: a backend's background and pauses from its ``pending_jobs`` series (SPEC §21).

1. The data's statistics (``qsim.analysis.queue_stats``: a 10-s grid, time-weighted).
2. Moment matching (``qsim.analysis.queue_estimate``): pauses, the service time, the arrival rate, a
   first burst size, a daily profile and two regimes.
3. A seeded simulation-based search over what the moments do not pin down: the service time
   (the data bound it from above: a shorter one is as consistent with the data), the burst
   size (the dispersion also holds the profile's and the regimes' share) and how much of the
   profile's and the regimes' swings to keep (their estimates also hold the bursts' noise);
   once with geometric bursts and once with constant ones (the same dispersion, a lighter
   tail), keeping the better. Each candidate runs
   ``replications`` replications of the fitted scenario (``qsim.experiments.fit_replay``: its exact
   schedule) with common random numbers, sampled as the data were; the loss is the squared
   log-ratio of p50, p90, mean, dispersion and arrivals, model to data, plus a small pull
   towards the moments (``PULL``). scipy's Nelder-Mead, bounded,
   from a fixed simplex: the same data and seed give the same fit.
4. The fitted model's statistics: each figure's mean over as many replications as the
   search ran, replications the search never saw, so the figures beside the data's are an
   honest check, not the search's own score. (One 10-day sample of a bursty queue near
   saturation varies a lot: the data are one such sample, the model's figures are its
   expected ones.)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, overload

import numpy as np

from qsim.analysis.queue_estimate import Estimate, estimate
from qsim.analysis.queue_stats import (
    TARGETS,
    Grid,
    QueueStats,
    compare,
    queue_level_of_jobs,
    queue_stats,
    resample,
)
from qsim.experiments.fit_jobs import (  # ---- --jobs (fit_jobs.py) ----
    JobsFitResult,
    WaitComparison,
    fit_jobs_only,
    service_from_jobs,
    waits_json,
    waits_of_fit,
)
from qsim.experiments.fit_replay import Draws, Model, simulate_queue
from qsim.input.errors import QsimError
from qsim.input.job_series import JobSeries, read_jobs
from qsim.input.queue_series import Series, read_series

__all__ = ["FitResult", "JobsFitResult", "fit", "fit_series"]

LANES: Final = 5  # qsim's default: the service's lanes are not observable in pending_jobs
SERVICE_BOUNDS: Final = (0.1, 1.0)  # scale of the estimated service time (1: the data's bound)
BURST_BOUNDS: Final = (0.02, 3.0)  # scale of the moment-matched burst
STRENGTH_BOUNDS: Final = (0.0, 1.0)  # of the profile's and the regimes' swings (1: estimated)
FIGURES: Final = ("p50", "p90", "mean", "dispersion", "arrivals_per_10min")
CHECK_REPLICATION: Final = 1000  # the model's reported runs: replications the search never saw
JOBS_PER_CANDIDATE: Final = 600_000  # simulated jobs per candidate (replications: auto)
MAX_REPLICATIONS: Final = 8
PULL: Final = 0.02  # weight of the squared log-scales (and swings) in the loss

Progress = Callable[[str], None]


@dataclass
class FitResult:
    """What ``qsim fit`` found: the data's statistics, the first (moment) estimate, the fitted
    model, the model's statistics from an unseen replication, and which targets they meet."""

    series: Series
    data: QueueStats
    first: Estimate
    model: Model
    model_stats: QueueStats
    met: dict[str, bool]
    data_grid: Grid
    model_grid: Grid
    seed: int
    evaluations: int
    loss: float
    scales: tuple[float, float, float]  # service, burst, swings: the search's answer
    notes: list[str] = field(default_factory=list)
    waits: WaitComparison | None = None  # --jobs: the user's waits beside the model's

    @property
    def name(self) -> str:
        base = self.series.file.replace("\\", "/").rsplit("/", 1)[-1]
        return base.split(".")[0] or "backend"


def _shrunk(levels: list[float], strength: float) -> tuple[float, ...]:
    """Multipliers moved towards 1 (``strength`` 0: flat; 1: as estimated); the mean stays 1."""
    return tuple(round(1 + strength * (x - 1), 4) for x in levels)


def _model(first: Estimate, service_scale: float, burst_scale: float,
           strength: float, *, fixed: bool = False) -> Model:
    """The candidate: a constant burst (``fixed``) starts from the dispersion itself (a
    constant burst k has variance / mean k), a geometric one from (dispersion + 1) / 2."""
    moment = max(first.dispersion, 1.0) if fixed and np.isfinite(first.dispersion) else (
        first.burst_mean)
    burst = max(1.0, moment * burst_scale)
    return Model(
        arrival_rate=first.arrival_rate,
        burst_mean=float(round(burst)) if fixed else burst, burst_fixed=fixed,
        service_s=first.service_s * service_scale,
        service_cv=first.service_cv,
        profile=_shrunk(first.profile, strength), regimes=_shrunk(first.regimes, strength),
        regime_dwell_s=first.regime_dwell_s, lanes=LANES, pending0=first.pending0,
        pauses=tuple(first.pauses),
    )


def model_grid(model: Model, draws: Draws) -> Grid:
    """One replication of ``model``, sampled every 10 s as the data were."""
    submit, dispatch = simulate_queue(model, draws)
    return queue_level_of_jobs(submit, dispatch, draws.span_s + 1e-9, paused=model.pauses)


def mean_stats(runs: list[QueueStats]) -> QueueStats:
    """Each figure's mean over ``runs`` (nan where a run has none)."""
    values = [r.as_dict() for r in runs]
    return QueueStats(**{k: float(np.mean([v[k] for v in values])) for k in values[0]})


def _loss(data: QueueStats, runs: list[QueueStats]) -> float:
    total = 0.0
    for name in FIGURES:
        want = getattr(data, name)
        if not np.isfinite(want):
            continue
        got = float(np.mean([getattr(r, name) for r in runs]))
        got = got if np.isfinite(got) else 0.0
        total += math.log((got + 1) / (want + 1)) ** 2
    return total


def fit_series(series: Series, *, seed: int = 0, replications: int | None = None,
               max_evaluations: int = 60, progress: Progress | None = None,
               mine: JobSeries | None = None) -> FitResult:
    """Fit ``series`` (see the module docstring); deterministic for ``seed``. ``mine``: the
    user's past jobs (``fit_jobs``): their run times where the series cannot give the service
    time, and their waits beside the model's."""
    say = progress or (lambda _: None)
    grid = resample(series.t, series.pending, series.paused)
    data = queue_stats(grid)
    first = estimate(grid, data.dispersion)
    if mine is not None:  # ---- --jobs (fit_jobs.py) ----
        first = service_from_jobs(first, mine, say)
    say(f"data: {data.hours:.0f} h, mean {data.mean:.1f} pending, paused "
        f"{100 * data.paused_share:.1f} %; moments: {first.arrival_rate * 600:.1f} jobs per "
        f"10 min, {first.service_s:.1f} s each (load {first.load:.2f}), dispersion "
        f"{first.dispersion:.0f}")
    if replications is None:  # as many as a fixed budget of simulated jobs allows
        jobs = first.arrival_rate * first.span_s + first.pending0
        replications = int(np.clip(JOBS_PER_CANDIDATE // max(jobs, 1.0), 2, MAX_REPLICATIONS))
    say(f"search: {replications} replications per candidate, at most {max_evaluations} "
        "candidates for each shape of burst")
    draws = [Draws(seed, r, first.span_s) for r in range(replications)]
    searches = [_search(data, first, draws, fixed, max_evaluations, say)
                for fixed in (False, True)]
    loss, scales, fixed, _ = min(searches, key=lambda found: found[0])  # a tie: geometric
    evaluations = sum(found[3] for found in searches)
    model = _model(first, *scales, fixed=fixed)
    checks = [model_grid(model, Draws(seed, CHECK_REPLICATION + r, first.span_s))
              for r in range(replications)]
    stats = mean_stats([queue_stats(g) for g in checks])
    met = compare(data, stats)
    say(f"fitted: {'constant' if fixed else 'geometric'} bursts, service x{scales[0]:.3f}, "
        f"burst x{scales[1]:.3f}, swings x{scales[2]:.2f} after {evaluations} runs; "
        f"{sum(met.values())} of {len(met)} targets met on unseen replications")
    result = FitResult(series, data, first, model, stats, met, grid, checks[0], seed,
                       evaluations, loss, scales)
    if mine is not None:  # ---- --jobs (fit_jobs.py) ----
        offset = (mine.start - series.start).total_seconds()
        result.waits = waits_of_fit(model, mine, offset, first.span_s, seed, replications)
        say(f"waits: {sum(result.waits.met.values())} of {len(result.waits.met)} targets met, "
            f"the user's jobs {result.waits.placed}")
    return result


def _search(data: QueueStats, first: Estimate, draws: list[Draws], fixed: bool,
            max_evaluations: int, say: Progress
            ) -> tuple[float, tuple[float, float, float], bool, int]:
    """Nelder-Mead over (log service scale, log burst scale, swings) for one shape of burst:
    its best loss, scales, the shape, and the candidates it ran."""
    from scipy.optimize import minimize

    evaluations = 0
    shape = "constant" if fixed else "geometric"

    def objective(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        model = _model(first, math.exp(x[0]), math.exp(x[1]), float(x[2]), fixed=fixed)
        runs = [queue_stats(model_grid(model, d)) for d in draws]
        # A pull towards the moments (and towards no swings): where the data cannot tell two
        # candidates apart, the search should not wander on the replications' noise.
        loss = float(_loss(data, runs) + PULL * (x[0] ** 2 + x[1] ** 2 + x[2] ** 2))
        say(f"  {shape} {evaluations:>2}: service x{math.exp(x[0]):.3f}, burst "
            f"x{math.exp(x[1]):.3f}, swings x{x[2]:.2f}: loss {loss:.4f}")
        return loss

    lo = [math.log(SERVICE_BOUNDS[0]), math.log(BURST_BOUNDS[0]), STRENGTH_BOUNDS[0]]
    hi = [math.log(SERVICE_BOUNDS[1]), math.log(BURST_BOUNDS[1]), STRENGTH_BOUNDS[1]]
    start = [math.log(0.95), 0.0, 0.5]  # near the moments
    simplex = np.array([start, [math.log(0.6), *start[1:]],
                        [start[0], math.log(0.3), start[2]], [*start[:2], 0.0]])
    found = minimize(objective, np.array(start), method="Nelder-Mead",
                     bounds=list(zip(lo, hi)),
                     options={"maxfev": max_evaluations, "initial_simplex": simplex,
                              "xatol": 0.01, "fatol": 1e-3})
    scales = (math.exp(found.x[0]), math.exp(found.x[1]), float(found.x[2]))
    return float(found.fun), scales, fixed, evaluations


@overload
def fit(series: str, *, jobs: str | None = None, seed: int = 0,
        replications: int | None = None, max_evaluations: int = 60,
        progress: Progress | None = None) -> FitResult: ...
@overload
def fit(series: None = None, *, jobs: str, seed: int = 0,
        replications: int | None = None, max_evaluations: int = 60,
        progress: Progress | None = None) -> JobsFitResult: ...
def fit(series: str | None = None, *, jobs: str | None = None, seed: int = 0,
        replications: int | None = None, max_evaluations: int = 60,
        progress: Progress | None = None) -> FitResult | JobsFitResult:
    """``qsim.fit("pending.csv.gz")``: read a ``pending_jobs`` series and fit it (SPEC §21).
    ``jobs="jobs.csv"``: the user's past jobs too (their waits beside the model's); with
    ``jobs`` alone, a background whose waits match theirs (a ``JobsFitResult``). Bad input
    raises a ``SeriesError`` or ``JobsError`` (``QsimError``s) naming the file, line and
    column; both files are read before any fitting."""
    mine = read_jobs(jobs) if jobs is not None else None  # ---- --jobs (fit_jobs.py) ----
    if series is None:
        if mine is None:
            raise QsimError("qsim fit: give a SERIES, --jobs JOBS.csv, or both")
        return fit_jobs_only(mine, seed=seed, replications=replications,
                             max_evaluations=max_evaluations, progress=progress)
    return fit_series(read_series(series), seed=seed, replications=replications,
                      max_evaluations=max_evaluations, progress=progress, mine=mine)


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def summary_json(result: FitResult) -> dict[str, Any]:
    """``fit.json``: the data's statistics and the model's side by side, and how they were
    obtained."""
    first, model = result.first, result.model
    return {
        "series": result.series.file,
        "start": result.series.start.isoformat(),
        "samples": len(result.series.t),
        "seed": result.seed,
        "statistics": {name: {"data": getattr(result.data, name),
                              "model": getattr(result.model_stats, name),
                              **({"met": result.met[name],
                                  "target": _target_text(name)} if name in result.met else {})}
                       for name in result.data.as_dict()},
        "targets_met": sum(result.met.values()),
        "targets": len(result.met),
        "moments": {
            "arrival_rate_per_10min": first.arrival_rate * 600,
            "service_s": first.service_s, "service_cv": first.service_cv,
            "busy_blocks": first.busy_blocks, "load": first.load,
            "burst_mean": first.burst_mean, "pauses": len(first.pauses),
            "profile": first.profile, "regimes": first.regimes,
            "regime_dwell_s": first.regime_dwell_s,
        },
        "fitted": {
            "service_scale": result.scales[0], "burst_scale": result.scales[1],
            "swing_scale": result.scales[2], "profile": list(model.profile),
            "regimes": list(model.regimes),
            "service_s": model.service_s, "burst_mean": model.burst_mean,
            "burst": "constant" if model.burst_fixed else "geometric",
            "load": model.arrival_rate * model.service_s,
            "evaluations": result.evaluations, "loss": result.loss,
        },
        "assumptions": ASSUMPTIONS,
        **({"waits": waits_json(result.waits)} if result.waits is not None else {}),
    }


ASSUMPTIONS: Final = [
    "timestamps without a zone are UTC; the daily profile's slice 0 starts at the first "
    "sample's time of day",
    "the series is resampled on a 10-s grid (each point holds the latest sample); a point more "
    "than 60 s after its latest sample is a gap and counts in no figure",
    "arrivals are the positive 10-s increments (a lower bound: an arrival and a departure in "
    "the same 10 s cancel)",
    "the service time is read from 10-min blocks the queue never emptied (the QPU busy "
    "throughout): an upper bound, which the search may shorten",
    f"{LANES} lanes, no compile or post-processing, FIFO, no calibration: none of these shows in "
    "pending_jobs",
]


def _target_text(name: str) -> str:
    kind, bound = TARGETS[name]
    return {"rel": f"within {100 * bound:.0f} %", "abs": f"within {bound:g}",
            "factor": f"within a factor {bound:g}"}[kind]
