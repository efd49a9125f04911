"""Experiments over many runs: independent replications, and one workload replayed per mode.

``replicate`` runs replication r = ``simulate(scenario, seed, replication=r)`` for r in
0..R-1 (each replication's streams are spawned from the one seed, so they are independent and
replication 0 is the plain run) and reports each figure as a mean with a 95% t-interval.
``compare`` replays one workload in each mode; every other workload draws from the same named
streams in every mode (common random numbers), so the differences are the mode's, not noise.

Runs go to worker processes when there is more than one run and more than one core. Workers
send back only summary dicts (small, and plain data), and results are put back in replication
order, so the output does not depend on which worker finished first.
"""

from __future__ import annotations

import math
import os
import statistics
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Final, Iterable, Sequence

from qsim.engine import simulate
from qsim.errors import QsimError
from qsim.scenario import Scenario

__all__ = ["MODES", "Comparison", "Estimate", "Replications", "Verdict", "compare", "replicate"]

MODES: Final = ("job", "batch", "session")
CONFIDENCE: Final = 0.95

#: ``progress(done, total)``: called in the calling process as runs finish.
Progress = Callable[[int, int], None]
Summary = dict[str, Any]
_Task = tuple[Scenario, int, int]  # scenario, seed, replication

# Summary keys that name a run rather than measure it: carried over, never averaged.
_LABEL_KEYS: Final = frozenset({"scenario", "seed", "qsim_version", "name", "kind", "mode",
                                "instance", "share"})  # share is a setting, not a measurement
# Chunks per worker: enough for a smooth progress bar and load balance, few enough that
# pickling and scheduling stay negligible next to the runs themselves.
_CHUNKS_PER_WORKER: Final = 4


# ---------------------------------------------------------------------------------------------
# Estimates


@dataclass(frozen=True)
class Estimate:
    """The mean of one figure over replications, with a 95% t-interval (None below 2 runs)."""

    mean: float
    low: float | None
    high: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        n = len(values)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(mean, None, None, n)
        half = _t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n)

    @property
    def half_width(self) -> float | None:
        return None if self.high is None else (self.high - self.low) / 2  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        ci = None if self.low is None else [self.low, self.high]
        return {"mean": self.mean, "ci95": ci}


def _t_quantile(dof: int) -> float:
    # scipy is imported here, not at module level: it costs ~0.3 s and single runs never need it.
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, dof))


def aggregate(summaries: Sequence[Summary]) -> Summary:
    """Summaries of the same scenario -> one of the same shape, each figure an Estimate dict.

    Labels (names, modes, the seed) are carried over; numbers become ``{"mean", "ci95"}``.
    A ``replications`` count is added at the top.
    """
    out = _aggregate_value(list(summaries), key=None)
    return {**out, "replications": len(summaries)} if isinstance(out, dict) else out


def _aggregate_value(values: list[Any], key: str | None) -> Any:
    first = values[0]
    if isinstance(first, dict):
        return {k: _aggregate_value([v[k] for v in values], k) for k in first}
    if isinstance(first, list):
        return [_aggregate_value(list(items), key) for items in zip(*values)]
    if key in _LABEL_KEYS or isinstance(first, (bool, str)) or first is None:
        return first
    return Estimate.of([float(v) for v in values]).to_dict()


# ---------------------------------------------------------------------------------------------
# Running many simulations


def _summarize(task: _Task) -> Summary:
    scenario, seed, replication = task
    return simulate(scenario, seed, replication=replication).summary()


def _run_chunk(tasks: list[_Task]) -> list[Summary]:
    """What a worker process does: whole chunks, so each submission carries several runs."""
    return [_summarize(t) for t in tasks]


def available_cores() -> int:
    """Cores this process may use (the affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def run_many(tasks: Sequence[_Task], workers: int | None = None,
             progress: Progress | None = None) -> list[Summary]:
    """Summaries of ``tasks``, in order; across processes when that can help."""
    total = len(tasks)
    workers = min(workers or available_cores(), total)
    if workers <= 1:
        return _run_serial(tasks, progress)
    try:
        pool = ProcessPoolExecutor(max_workers=workers)
    except (OSError, NotImplementedError):  # no process support (e.g. no /dev/shm): run here
        return _run_serial(tasks, progress)
    with pool:
        return _run_pool(pool, tasks, workers, progress)


def _run_serial(tasks: Sequence[_Task], progress: Progress | None) -> list[Summary]:
    out = []
    for task in tasks:
        out.append(_summarize(task))
        if progress:
            progress(len(out), len(tasks))
    return out


def _run_pool(pool: Executor, tasks: Sequence[_Task], workers: int,
              progress: Progress | None) -> list[Summary]:
    size = max(1, math.ceil(len(tasks) / (workers * _CHUNKS_PER_WORKER)))
    chunks = [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]
    futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
    done = 0
    for future in as_completed(futures):
        done += len(future.result())  # re-raises a worker's error here
        if progress:
            progress(done, len(tasks))
    # Back in submission order: the result never depends on which worker was faster.
    return [summary for future in futures for summary in future.result()]


# ---------------------------------------------------------------------------------------------
# Replications


@dataclass(frozen=True)
class Replications:
    """R independent replications of one scenario: every run's summary, and their aggregate."""

    scenario: str
    seed: int
    summaries: tuple[Summary, ...]

    @property
    def replications(self) -> int:
        return len(self.summaries)

    def to_dict(self) -> Summary:
        """The SPEC §7 summary shape, each figure ``{"mean": m, "ci95": [low, high]}``
        (``ci95`` is null for a single replication), plus ``replications``."""
        return aggregate(self.summaries)

    def estimate(self, workload: str, figure: str) -> Estimate:
        """One workload figure over the replications, e.g. ``estimate("vqe", "usage_s")``."""
        values = [_entry(s, workload)[figure] for s in self.summaries]
        return Estimate.of([float(v) for v in values])


def _entry(summary: Summary, workload: str) -> Summary:
    return next(w for w in summary["workloads"] if w["name"] == workload)


def _check_count(replications: int) -> None:
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise QsimError(f"replications must be a whole number of at least 1 (got {replications!r})")


def replicate(scenario: Scenario, replications: int, seed: int | None = None,
              workers: int | None = None, progress: Progress | None = None) -> Replications:
    """Run ``scenario`` ``replications`` times with independent streams from one seed.

    ``seed`` defaults to the scenario's; ``workers`` to the available cores; ``progress`` is
    called as ``progress(done, total)``.
    """
    _check_count(replications)
    seed = scenario.seed if seed is None else seed
    tasks = [(scenario, seed, r) for r in range(replications)]
    return Replications(scenario.name, seed, tuple(run_many(tasks, workers, progress)))


# ---------------------------------------------------------------------------------------------
# Comparing modes


@dataclass(frozen=True)
class Verdict:
    """Which mode is cheapest and fastest, and what each costs and takes relative to the best.

    Ratios are of means; a mode ties for best when its ratio is 1.
    """

    cheapest: tuple[str, ...]
    fastest: tuple[str, ...]
    cost_ratio: dict[str, float]
    time_ratio: dict[str, float]


@dataclass(frozen=True)
class Comparison:
    """One workload's summary entry in each mode (aggregated when ``replications`` > 1)."""

    workload: str
    modes: dict[str, Summary]
    replications: int = 1
    scenario: str = ""
    seed: int = 0
    verdict: Verdict = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", _verdict(self.modes))

    def figure(self, mode: str, key: str) -> float:
        """The mean of one figure (``usage_s``, ``cost_usd``, ...) in one mode."""
        return _mean(self.modes[mode][key])

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "modes": self.modes}


def _mean(value: Any) -> float:
    return float(value["mean"] if isinstance(value, dict) else value)


def _verdict(modes: dict[str, Summary]) -> Verdict:
    cost = {m: _mean(e["cost_usd"]) for m, e in modes.items()}
    wall = {m: _mean(e["wall_time_s"]) for m, e in modes.items()}
    cost_ratio, time_ratio = _ratios(cost), _ratios(wall)
    return Verdict(
        cheapest=tuple(m for m, r in cost_ratio.items() if _is_best(r)),
        fastest=tuple(m for m, r in time_ratio.items() if _is_best(r)),
        cost_ratio=cost_ratio, time_ratio=time_ratio,
    )


def _ratios(values: dict[str, float]) -> dict[str, float]:
    best = min(values.values())
    if best <= 0:  # nothing charged (e.g. every job failed with a system error)
        return {m: 1.0 if v <= 0 else math.inf for m, v in values.items()}
    return {m: v / best for m, v in values.items()}


def _is_best(ratio: float) -> bool:
    # Job and batch often charge the very same quantum time; float noise must not split them.
    return ratio <= 1 + 1e-9


def resolve_workload(scenario: Scenario, name: str | None) -> str:
    """The workload to compare: ``name``, or the first non-background one."""
    if name is None:
        foreground = [w.name for w in scenario.workloads if w.kind != "background"]
        if not foreground:
            raise QsimError(f"scenario {scenario.name!r} has only background workloads; "
                            "there is nothing to compare")
        return foreground[0]
    spec = scenario.workload(name)
    if spec.kind == "background":
        raise QsimError(f"workload {name!r} is a background stream, which always runs in job "
                        "mode; choose a foreground workload")
    return name


def check_modes(modes: Iterable[str]) -> tuple[str, ...]:
    """``modes`` as a tuple, or QsimError naming the first unknown or repeated one."""
    out: list[str] = []
    for mode in modes:
        if mode not in MODES:
            raise QsimError(f"unknown mode {mode!r}; expected some of {', '.join(MODES)}")
        if mode in out:
            raise QsimError(f"mode {mode!r} is listed twice")
        out.append(mode)
    if not out:
        raise QsimError(f"no modes to compare; expected some of {', '.join(MODES)}")
    return tuple(out)


def _in_mode(scenario: Scenario, workload: str, mode: str) -> Scenario:
    # The workload's own mode, with its own TTLs, when it already runs in that kind, so the
    # column matches what `qsim run` reports for the file as written.
    if scenario.workload(workload).mode.kind == mode:
        return scenario
    return scenario.with_mode(workload, mode)


def compare(scenario: Scenario, workload: str | None = None,
            modes: Sequence[str] = MODES, replications: int = 1, seed: int | None = None,
            workers: int | None = None, progress: Progress | None = None) -> Comparison:
    """Replay ``workload`` (default: the first non-background one) in each of ``modes``.

    Everything else keeps its random streams in every mode (common random numbers). With
    ``replications`` > 1 each mode gets the same R replications and each figure is a mean
    with a 95% interval.
    """
    _check_count(replications)
    name = resolve_workload(scenario, workload)
    modes = check_modes(modes)
    seed = scenario.seed if seed is None else seed
    variants = {m: _in_mode(scenario, name, m) for m in modes}
    tasks = [(variants[m], seed, r) for m in modes for r in range(replications)]
    summaries = run_many(tasks, workers, progress)
    entries: dict[str, Summary] = {}
    for i, mode in enumerate(modes):
        runs = [_entry(s, name) for s in summaries[i * replications:(i + 1) * replications]]
        entries[mode] = runs[0] if replications == 1 else _aggregate_value(runs, key=None)
    return Comparison(name, entries, replications, scenario.name, seed)
