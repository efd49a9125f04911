"""``qsim.fit``: a backend's background and pauses from its ``pending_jobs`` series (SPEC §21).

1. The data's statistics (``qsim.analysis.queue_stats``: a 10-s grid, time-weighted).
2. Moment matching (``qsim.analysis.queue_estimate``): pauses (and whether the stream stops
   in them: ``during_outages: stop``), the service time, the arrival rate, a first burst
   size and a daily profile.
3. A seeded simulation-based search over what the moments do not pin down: the service time
   (the data bound it from above: a shorter one is as consistent with the data), the burst
   size and shape (geometric or constant: the dispersion also holds the profile's and the
   regimes' share), how much of the profile's swing to keep, and the regimes (``BOUNDS``:
   k levels, a swing and a dwell; long dwells give the data's plateaus and days-long
   trends, a level above a load of 1 builds a queue). Each candidate runs ``replications``
   replications of the fitted scenario (``qsim.experiments.fit_replay``: its exact schedule)
   with common random numbers, sampled as the data were; the loss (``WEIGHTS``) is the
   squared log-ratio, model to data, of p50, p90 and the mean, with the arrivals and their
   dispersion as light guides, and the 24-h autocorrelation. scipy's scrambled Sobol scan,
   then Nelder-Mead from its best; the best few candidates are judged again on fresh
   replications, so that the winner is not the luck of the search's own: the same data and
   seed give the same fit.
4. The fitted model's statistics: each figure's mean over ``CHECK_RUNS`` replications the
   search never saw, so the figures beside the data's are an
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
from qsim.experiments.fit_pool import Runs, auto_workers, model_grid
from qsim.experiments.fit_replay import Draws, Held, Model
from qsim.experiments.replications import check_workers
from qsim.input.errors import QsimError
from qsim.input.job_series import JobSeries, read_jobs
from qsim.input.queue_series import Series, read_series

__all__ = ["FitResult", "JobsFitResult", "fit", "fit_series", "model_grid"]

LANES: Final = 5  # qsim's default: the service's lanes are not observable in pending_jobs
#: The search's coordinates and their bounds: log scale of the estimated service time (1: the
#: data's bound), log scale of the moment-matched burst, how much of the estimated daily
#: profile's swing to keep, the regimes' swing a, log of their mean dwell in hours, and the
#: count of regime levels k (2, 3 or 4; coordinate in [0, 1)): k - 1 levels 1 - a and one
#: 1 + (k - 1) a, so that a busy spell can be rarer than a quiet one (each level is held a
#: 1/k share of the time). Then the held stream (SPEC §17 ``hold``; ``HELD_FROM``): the share
#: of the arrivals it brings, log of its (geometric) burst, log of its mean hold in hours and
#: the hold's cv (lognormal): the jobs a real queue keeps waiting that a FIFO would serve, so
#: that the queue never empties and sits in a band.
BOUNDS: Final = ((math.log(0.1), 0.0), (math.log(0.01), math.log(3.0)), (0.0, 1.0),
                 (0.0, 0.95), (math.log(0.5), math.log(96.0)), (0.0, 0.999),
                 (0.0, 0.95), (0.0, math.log(300.0)), (math.log(0.25), math.log(96.0)),
                 (0.2, 3.0))
HELD_FROM: Final = 0.02  # a smaller share of the arrivals: no held stream
PLAIN: Final = 6  # the coordinates of a model without a held stream (the first six)
#: Scrambled Sobol points over the coordinates x the burst's shape: 2 ** 7 = 128 without a
#: held stream, 2 ** 8 = 256 with one (ten coordinates).
SCAN_LOG2: Final = {False: 7, True: 8}
FINALISTS: Final = 8  # the best distinct candidates, judged again on fresh replications
VALIDATION_REPLICATION: Final = 500  # their replications: neither the search's nor the check's
MIN_FRESH: Final = 6  # at least this many fresh replications judge the finalists
#: The search point of the moments' own model (no regimes, none held).
MOMENTS: Final = (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
#: The loss's weights on each figure's squared log-ratio, model to data: the level's median,
#: tail and mean are what the fit is for (SPEC §21); the arrivals and their dispersion are
#: lower bounds from the data's increments, so they only steer.
WEIGHTS: Final = {"p50": 1.0, "p90": 1.0, "mean": 1.0, "arrivals_per_10min": 0.3,
                  "dispersion": 0.05}
ACF_WEIGHT: Final = 0.5  # on the squared difference of the 24-h autocorrelation (a multi-day
#                          trend: long dwells)
CHECK_REPLICATION: Final = 1000  # the model's reported runs: replications the search never saw
#: How many: one 10-day run of a bursty queue varies a lot (ibm_hanoi's fitted p50: 14 with a
#: standard deviation of 6 between runs), so the reported means take more runs than a
#: candidate of the search does.
CHECK_RUNS: Final = 16
JOBS_PER_CANDIDATE: Final = 600_000  # simulated jobs per candidate (replications: auto)
MAX_REPLICATIONS: Final = 8
MAX_EVALUATIONS: Final = 60  # of Nelder-Mead, after the scan

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
    scales: tuple[float, ...]  # natural(x): the search's answer
    notes: list[str] = field(default_factory=list)
    waits: WaitComparison | None = None  # --jobs: the user's waits beside the model's

    @property
    def name(self) -> str:
        base = self.series.file.replace("\\", "/").rsplit("/", 1)[-1]
        return base.split(".")[0] or "backend"


def _shrunk(levels: list[float], strength: float) -> tuple[float, ...]:
    """Multipliers moved towards 1 (``strength`` 0: flat; 1: as estimated); the mean stays 1."""
    return tuple(round(1 + strength * (x - 1), 4) for x in levels)


def _model(first: Estimate, x: np.ndarray | tuple[float, ...], *, fixed: bool = False) -> Model:
    """The candidate at search point ``x`` (see ``BOUNDS``). A constant burst (``fixed``) starts
    from the dispersion itself (a constant burst k has variance / mean k), a geometric one from
    (dispersion + 1) / 2. Where the data's arrivals nearly stop in a pause (a `dedicated`
    period: ``first.stops_in_pauses``), the model's do (``during_outages: stop``) and its rate
    is the data's per active second."""
    stop = first.stops_in_pauses
    service_scale, burst_scale, strength, swing, dwell_h, levels, share, *hold = natural(x)
    k = int(levels)
    moment = max(first.dispersion, 1.0) if fixed and np.isfinite(first.dispersion) else (
        first.burst_mean)
    burst = max(1.0, moment * burst_scale)
    regimes = ((round(1 - swing, 4),) * (k - 1) + (round(1 + (k - 1) * swing, 4),)
               if swing > 0 else ())
    rate = first.active_rate if stop else first.arrival_rate
    held = None
    if share >= HELD_FROM:
        held_burst, hold_h, hold_cv = hold
        held = Held(arrival_rate=rate * share, burst_mean=held_burst, hold_s=3600.0 * hold_h,
                    hold_cv=hold_cv)
        rate *= 1 - share
    return Model(
        arrival_rate=rate,
        burst_mean=float(round(burst)) if fixed else burst, burst_fixed=fixed,
        service_s=first.service_s * service_scale,
        service_cv=first.service_cv,
        profile=_shrunk(first.profile, strength), regimes=regimes,
        regime_dwell_s=3600.0 * dwell_h if regimes else 0.0,
        lanes=LANES, pending0=first.pending0,
        pauses=tuple(first.pauses), stop_in_pauses=stop, held=held,
    )


def mean_stats(runs: list[QueueStats]) -> QueueStats:
    """Each figure's mean over ``runs`` (nan where a run has none)."""
    values = [r.as_dict() for r in runs]
    return QueueStats(**{k: float(np.mean([v[k] for v in values])) for k in values[0]})


def _loss(data: QueueStats, runs: list[QueueStats]) -> float:
    total = 0.0
    for name, weight in WEIGHTS.items():
        want = getattr(data, name)
        if not np.isfinite(want):
            continue
        got = float(np.mean([getattr(r, name) for r in runs]))
        got = got if np.isfinite(got) else 0.0
        total += weight * math.log((got + 1) / (want + 1)) ** 2
    want = data.acf_24h
    if np.isfinite(want):
        acf = [r.acf_24h for r in runs if np.isfinite(r.acf_24h)]
        total += ACF_WEIGHT * ((float(np.mean(acf)) if acf else 0.0) - want) ** 2
    return total


def fit_series(series: Series, *, seed: int = 0, replications: int | None = None,
               max_evaluations: int = MAX_EVALUATIONS, progress: Progress | None = None,
               mine: JobSeries | None = None, workers: int | None = None) -> FitResult:
    """Fit ``series`` (see the module docstring); deterministic for ``seed``. ``mine``: the
    user's past jobs (``fit_jobs``): their run times where the series cannot give the service
    time, and their waits beside the model's. ``workers``: processes for the simulations
    (default: every core, one for a small series); the fit is the same on any number."""
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
    jobs = first.arrival_rate * first.span_s + first.pending0
    if replications is None:  # as many as a fixed budget of simulated jobs allows
        replications = int(np.clip(JOBS_PER_CANDIDATE // max(jobs, 1.0), 4, MAX_REPLICATIONS))
    say(f"search: {replications} replications per candidate, {2 ** SCAN_LOG2[holds_jobs(data)]} "
        "scanned, then "
        f"at most {max_evaluations} of Nelder-Mead")
    draws = [Draws(seed, r, first.span_s) for r in range(replications)]
    held = holds_jobs(data)
    say("the queue is empty less than 10 % of the time: a held stream is searched" if held else
        "the queue is empty 10 % of the time or more: no held stream (a FIFO queue can be)")
    with Runs(workers if workers is not None else auto_workers(jobs * replications)) as runs:
        (loss, x, fixed), evaluations = _search(data, first, draws, seed, max_evaluations, say,
                                                held, runs)
        model = _model(first, x, fixed=fixed)
        checks = next(runs.runs([model], [Draws(seed, CHECK_REPLICATION + r, first.span_s)
                                          for r in range(max(replications, CHECK_RUNS))],
                                keep_grids=True))
    stats = mean_stats([s for s, _ in checks])
    check_grid = checks[0][1]
    assert check_grid is not None
    met = compare(data, stats)
    scales = natural(x)
    say(f"fitted: {'constant' if fixed else 'geometric'} bursts, {describe(scales)} after "
        f"{evaluations} runs; {sum(met.values())} of {len(met)} targets met on unseen "
        "replications")
    result = FitResult(series, data, first, model, stats, met, grid, check_grid, seed,
                       evaluations, loss, scales)
    if mine is not None:  # ---- --jobs (fit_jobs.py) ----
        offset = (mine.start - series.start).total_seconds()
        result.waits = waits_of_fit(model, mine, offset, first.span_s, seed, replications)
        say(f"waits: {sum(result.waits.met.values())} of {len(result.waits.met)} targets met, "
            f"the user's jobs {result.waits.placed}")
    return result


def natural(x: np.ndarray | tuple[float, ...]) -> tuple[float, ...]:
    """A search point in its natural units: service scale, burst scale, profile swing,
    regime swing a, mean dwell in hours, regime levels k; the held stream's share of the
    arrivals, its burst, its mean hold in hours and the hold's cv."""
    return (math.exp(x[0]), math.exp(x[1]), float(x[2]), float(x[3]), math.exp(x[4]),
            2 + int(3 * min(max(float(x[5]), 0.0), 0.999)), float(x[6]), math.exp(x[7]),
            math.exp(x[8]), float(x[9]))


def describe(scales: tuple[float, ...]) -> str:
    service, burst, profile, swing, dwell, k, share, held_burst, hold_h, hold_cv = scales
    regimes = (f"{int(k)} regimes (swing {swing:.2f}, dwell {dwell:.1f} h)" if swing > 0
               else "no regimes")
    held = (f"; {100 * share:.0f} % held (bursts {held_burst:.1f}, hold {hold_h:.2f} h, cv "
            f"{hold_cv:.1f})" if share >= HELD_FROM else "; none held")
    return f"service x{service:.3f}, burst x{burst:.3f}, profile x{profile:.2f}, {regimes}{held}"


def holds_jobs(data: QueueStats) -> bool:
    """Whether the data's queue is empty less than 10 % of the time (p10 above 0): a FIFO
    queue below a load of 0.9 cannot be, so some of its jobs wait that a FIFO would serve
    (SPEC §17 ``hold``). A queue that is empty more often gets no held stream: the plain
    model explains it, and the held stream's four more coordinates would only fit the one
    sample's luck."""
    return bool(data.p10 > 0)


def _search(data: QueueStats, first: Estimate, draws: list[Draws], seed: int,
            max_evaluations: int, say: Progress, held: bool, runs: Runs
            ) -> tuple[tuple[float, np.ndarray, bool], int]:
    """A scrambled Sobol scan (scipy's, seeded) of ``2 ** SCAN_LOG2`` points over ``BOUNDS``
    and the burst's shape (geometric or constant), then Nelder-Mead from the best of them with
    its shape, then the finalists (``_finalist``): the winner's loss, point and shape, and the
    candidates run. The loss is noisy and has several valleys (a busy regime that builds
    plateaus, or bursts that do): the scan finds the valley, the simplex its floor. ``runs``
    runs the replications: the scan's candidates all at once, Nelder-Mead's (one after the
    other by nature) each with its replications at once."""
    from scipy.optimize import minimize
    from scipy.stats import qmc

    evaluations = 0
    bounds = BOUNDS if held else BOUNDS[:PLAIN]
    scan_log2 = SCAN_LOG2[held]
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    rest = MOMENTS[len(bounds):]  # a plain model's point: none held
    seen: list[tuple[float, tuple[float, ...], bool]] = []

    def judged(xs: list[tuple[np.ndarray, bool]]) -> list[float]:
        """The losses of candidates ``xs`` (point, constant burst), in order."""
        nonlocal evaluations
        points = [((*np.clip(x, lo, hi).tolist(), *rest), fixed) for x, fixed in xs]
        losses = []
        for (point, fixed), got in zip(points, runs.stats(
                [_model(first, p, fixed=f) for p, f in points], draws)):
            evaluations += 1
            loss = _loss(data, got)
            seen.append((loss, point, fixed))
            say(f"  {evaluations:>3} {'constant' if fixed else 'geometric'}: "
                f"{describe(natural(point))}: loss {loss:.4f}")
            losses.append(loss)
        return losses

    def objective(x: np.ndarray, fixed: bool) -> float:
        return judged([(x, fixed)])[0]

    points = qmc.Sobol(len(bounds) + 1, scramble=True, seed=seed).random_base2(scan_log2)
    scanned = [(loss, i) for i, loss in enumerate(
        judged([(lo + u[:-1] * (hi - lo), bool(u[-1] >= 0.5)) for u in points]))]
    best = points[min(scanned)[1]]
    start, fixed = lo + best[:-1] * (hi - lo), bool(best[-1] >= 0.5)
    steps = 0.15 * (hi - lo)
    simplex = np.array([start] + [np.clip(start + steps[i] * np.eye(len(start))[i], lo, hi)
                                  if start[i] + steps[i] <= hi[i] else
                                  start - steps[i] * np.eye(len(start))[i]
                                  for i in range(len(start))])
    found = minimize(objective, start, args=(fixed,), method="Nelder-Mead",
                     bounds=list(bounds),
                     options={"maxfev": max_evaluations, "initial_simplex": simplex,
                              "xatol": 0.01, "fatol": 1e-3})
    del found  # its best is in ``seen``, with every other candidate
    return _finalist(data, first, seen, draws, seed, say, 2 ** scan_log2, runs), evaluations


def _finalist(data: QueueStats, first: Estimate, seen: list[tuple[float, tuple[float, ...], bool]],
              draws: list[Draws], seed: int, say: Progress, scanned: int, runs: Runs
              ) -> tuple[float, np.ndarray, bool]:
    """The finalists judged again on fresh replications (at least ``MIN_FRESH``): half the
    best distinct candidates of the whole search, half the best of the scan alone (other
    valleys). The winner has the least loss on the fresh runs alone: the search's own minimum
    is partly the luck of its replications (with regimes held for hours and bursts of
    hundreds of jobs one run varies a lot; with two replications of a short series the
    simplex found a valley three times too busy that only its two runs liked)."""
    fresh = [Draws(seed, VALIDATION_REPLICATION + r, draws[0].span_s)
             for r in range(max(len(draws), MIN_FRESH))]
    # The moments' own model (service and burst as estimated, the daily profile, no regimes)
    # is always one: the plain queue the data's moments describe, the least noisy candidate.
    finalists: list[tuple[float, tuple[float, ...], bool]] = [(math.nan, MOMENTS, False)]
    for pool in (seen, seen[:scanned]):
        wanted = len(finalists) + FINALISTS // 2
        for loss, x, fixed in sorted(pool):
            if len(finalists) >= wanted:
                break
            if all(np.max(np.abs(np.subtract(x, y))) > 1e-3 or f != fixed
                   for _, y, f in finalists):
                finalists.append((loss, x, fixed))
    judged = []
    models = [_model(first, np.asarray(x), fixed=fixed) for _, x, fixed in finalists]
    for (loss, x, fixed), got in zip(finalists, runs.stats(models, fresh)):
        again = _loss(data, got)
        say(f"  finalist {describe(natural(x))}: loss {loss:.4f}, on fresh runs {again:.4f}")
        judged.append((again, x, fixed))
    again, x, fixed = min(judged)
    return again, np.asarray(x), fixed


@overload
def fit(series: str, *, jobs: str | None = None, seed: int = 0,
        replications: int | None = None, max_evaluations: int = MAX_EVALUATIONS,
        progress: Progress | None = None, workers: int | None = None) -> FitResult: ...
@overload
def fit(series: None = None, *, jobs: str, seed: int = 0,
        replications: int | None = None, max_evaluations: int = MAX_EVALUATIONS,
        progress: Progress | None = None, workers: int | None = None) -> JobsFitResult: ...
def fit(series: str | None = None, *, jobs: str | None = None, seed: int = 0,
        replications: int | None = None, max_evaluations: int = MAX_EVALUATIONS,
        progress: Progress | None = None, workers: int | None = None
        ) -> FitResult | JobsFitResult:
    """``qsim.fit("pending.csv.gz")``: read a ``pending_jobs`` series and fit it (SPEC §21).
    ``jobs="jobs.csv"``: the user's past jobs too (their waits beside the model's); with
    ``jobs`` alone, a background whose waits match theirs (a ``JobsFitResult``). Bad input
    raises a ``SeriesError`` or ``JobsError`` (``QsimError``s) naming the file, line and
    column; both files are read before any fitting. ``workers``: processes for the series
    fit's simulations (default: every core, one for a small series); the fit is the same byte
    for byte on any number (``--jobs`` alone runs in this process)."""
    check_workers(workers)
    mine = read_jobs(jobs) if jobs is not None else None  # ---- --jobs (fit_jobs.py) ----
    if series is None:
        if mine is None:
            raise QsimError("qsim fit: give a SERIES, --jobs JOBS.csv, or both")
        return fit_jobs_only(mine, seed=seed, replications=replications,
                             max_evaluations=max_evaluations, progress=progress)
    return fit_series(read_series(series), seed=seed, replications=replications,
                      max_evaluations=max_evaluations, progress=progress, mine=mine,
                      workers=workers)


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
            "active_rate_per_10min": first.active_rate * 600,
            "paused_fill": first.paused_fill if np.isfinite(first.paused_fill) else None,
        },
        "fitted": {
            "service_scale": result.scales[0], "burst_scale": result.scales[1],
            "profile_swing": result.scales[2], "regime_swing": result.scales[3],
            "regime_dwell_h": result.scales[4], "regime_count": result.scales[5],
            "profile": list(model.profile),
            "regimes": list(model.regimes), "regime_dwell_s": model.regime_dwell_s,
            "during_outages": "stop" if model.stop_in_pauses else "keep",
            "arrival_rate_per_10min": model.arrival_rate * 600,
            "service_s": model.service_s, "burst_mean": model.burst_mean,
            "burst": "constant" if model.burst_fixed else "geometric",
            "load": model.load,
            "held": None if model.held is None else {
                "share": result.scales[6],
                "arrival_rate_per_10min": model.held.arrival_rate * 600,
                "burst_mean": model.held.burst_mean, "hold_s": model.held.hold_s,
                "hold_cv": model.held.hold_cv,
                "held_on_average": model.held.arrival_rate * model.held.hold_s},
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
    "jobs the service holds (another instance's usage limit, fair share between providers, a "
    "reservation) are one held stream whose jobs wait a lognormal time before they may be "
    "dispatched: pending_jobs cannot tell these causes apart",
]


def _target_text(name: str) -> str:
    kind, bound = TARGETS[name]
    return {"rel": f"within {100 * bound:.0f} %", "abs": f"within {bound:g}",
            "factor": f"within a factor {bound:g}"}[kind]
