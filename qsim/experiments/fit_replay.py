"""The fitted scenario's queue, computed directly: what the search evaluates many times.

The scenario ``qsim fit`` writes is one background stream in job mode on a FIFO backend with
``lanes`` lanes, no compile, no post-processing and no calibration, plus fixed ``pause``
outages. For that scenario qsim's schedule is a recursion (SPEC §1, §4, §16), in submission
order n:

    dispatch[n] = after_pauses(max(submit[n], qpu_end[n - lanes]))   # a lane frees at its end
    qpu_start[n] = after_pauses(max(dispatch[n], qpu_end[n - 1]))     # one QPU, FIFO
    qpu_end[n] = qpu_start[n] + quantum[n]

(``after_pauses``: nothing is dispatched or started during a pause: a time inside one moves to
its end.) ``tests/test_fit.py`` checks it against qsim's own runs to 1e-9.

With a held stream (``Model.held``: a second background workload with ``hold``, SPEC §17)
a job may be dispatched only from its release (submission + hold), and among the jobs
released and waiting the oldest submission goes first (``dispatch_held``: the same schedule,
an event loop over the releases).

The arrivals are drawn with common random numbers (``Draws``): the same unit exponentials,
uniforms and normals for every candidate of the search, transformed by its parameters, so
that two candidates differ by their parameters, not by their luck.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace
from heapq import heappop, heappush

import numpy as np

__all__ = ["Draws", "Held", "Model", "background_jobs", "dispatch_held", "dispatch_jobs",
           "dispatch_times", "simulate_queue"]


@dataclass(frozen=True)
class Held:
    """The held stream of a fitted scenario: jobs the service holds before it may dispatch
    them, counted in pending_jobs all along (SPEC §17 ``hold``). It shares the main stream's
    daily profile, its regimes' levels and dwell (switched by its own draws), its quantum and
    its pauses; its bursts are geometric."""

    arrival_rate: float  # jobs per second, averaged over the profile and the regimes
    burst_mean: float
    hold_s: float  # mean of a lognormal hold
    hold_cv: float


@dataclass(frozen=True)
class Model:
    """The background of a fitted scenario (rates per second, times in seconds)."""

    arrival_rate: float  # jobs per second, averaged over the profile and the regimes
    burst_mean: float  # >= 1: a geometric burst's mean, or a constant burst (whole)
    service_s: float  # mean quantum (lognormal)
    service_cv: float
    profile: tuple[float, ...] = ()  # multipliers of equal slices of a day, mean 1
    regimes: tuple[float, ...] = ()  # multipliers, mean 1, switched uniformly among the others
    regime_dwell_s: float = 0.0  # mean of an exponential dwell
    lanes: int = 5
    pending0: int = 0
    pauses: tuple[tuple[float, float], ...] = ()
    burst_fixed: bool = False  # every arrival brings exactly burst_mean jobs
    stop_in_pauses: bool = False  # no arrival during a pause (``during_outages: stop``)
    held: Held | None = None  # a second stream whose jobs are held (SPEC §17 ``hold``)

    @property
    def load(self) -> float:
        """The QPU's offered load: both streams' jobs x the mean quantum."""
        held = self.held.arrival_rate if self.held is not None else 0.0
        return (self.arrival_rate + held) * self.service_s

    def held_model(self) -> Model:
        """The held stream's arrivals as a ``Model`` of their own (no pending jobs)."""
        assert self.held is not None
        return replace(self, arrival_rate=self.held.arrival_rate,
                       burst_mean=self.held.burst_mean, burst_fixed=False, pending0=0,
                       held=None)


class Draws:
    """The random numbers of one replication, drawn once and reused by every candidate."""

    NAMES: tuple[str, ...] = ("gaps", "burst_u", "service_z", "regime_u", "dwell_e", "hold_z")

    def __init__(self, seed: int, replication: int, span_s: float, stream: int = 0) -> None:
        # One generator per kind of number: growing one array never shifts another's values.
        # Stream 1 is the held stream's (``held``): its own numbers, the main stream's unchanged.
        key = [seed, replication, 0x9F17]
        self.rngs = {name: np.random.default_rng([*key, k, *([stream] if stream else [])])
                     for k, name in enumerate(self.NAMES)}
        for name in self.NAMES:
            setattr(self, name, self._more(name, 64))
        self.span_s = span_s
        self._key = (seed, replication, stream)
        self._held: Draws | None = None

    @property
    def key(self) -> tuple[int, int, float]:
        """(seed, replication, span_s): what makes these draws again, in another process."""
        seed, replication, stream = self._key
        assert stream == 0, "a held stream's draws are made from its main stream's"
        return seed, replication, self.span_s

    def held(self) -> Draws:
        """The held stream's draws of the same replication (made on first need)."""
        if self._held is None:
            seed, replication, stream = self._key
            self._held = Draws(seed, replication, self.span_s, stream + 1)
        return self._held

    def grow(self, name: str, n: int) -> np.ndarray:
        """The first ``n`` numbers of kind ``name``, drawn on first need."""
        have: np.ndarray = getattr(self, name)
        while len(have) < n:  # drawn in order after what exists: earlier values never change
            have = np.concatenate([have, self._more(name, len(have))])
            setattr(self, name, have)
        return have[:n]

    def _more(self, name: str, size: int) -> np.ndarray:
        rng = self.rngs[name]
        if name in ("gaps", "dwell_e"):
            return rng.standard_exponential(size)
        if name in ("service_z", "hold_z"):
            return rng.standard_normal(size)
        return rng.random(size)


def _intensity(model: Model, draws: Draws) -> tuple[np.ndarray, np.ndarray]:
    """The rate multiplier's breakpoints ``t`` and its cumulative integral ``big`` there."""
    span = draws.span_s
    marks = [0.0, span]
    profile = np.asarray(model.profile or (1.0,))
    slice_s = 86400.0 / len(profile)
    marks += list(np.arange(slice_s, span, slice_s))
    switches: list[float] = []
    levels = np.asarray(model.regimes or (1.0,))
    if len(levels) > 1:
        n = 1
        while True:
            dwell = draws.grow("dwell_e", n)
            at = float(np.sum(dwell) * model.regime_dwell_s)
            if at >= span:
                break
            switches.append(at)
            n += 1
    t = np.unique(np.asarray(marks + switches))
    mid = (t[:-1] + t[1:]) / 2
    mult = profile[((mid // slice_s) % len(profile)).astype(np.int64)]
    if len(levels) > 1:
        u = draws.grow("regime_u", len(switches) + 1)
        state = [int(u[0] * len(levels))]
        for x in u[1:]:  # the next level, uniformly among the others
            step = 1 + int(x * (len(levels) - 1))
            state.append((state[-1] + step) % len(levels))
        which = np.searchsorted(np.asarray(switches), mid, side="right")
        mult = mult * levels[np.asarray(state)[which]]
    big = np.concatenate([[0.0], np.cumsum(mult * np.diff(t))])
    return t, big


def arrivals(model: Model, draws: Draws) -> np.ndarray:
    """Submission instants of every job (bursts repeat their instant), sorted."""
    events_rate = model.arrival_rate / model.burst_mean
    t, big = _intensity(model, draws)
    if events_rate <= 0:
        return np.zeros(model.pending0)
    expected = big[-1] * events_rate
    n = int(expected + 10 * math.sqrt(expected) + 20)
    gaps = draws.grow("gaps", n)
    while gaps.sum() / events_rate < big[-1]:
        n *= 2
        gaps = draws.grow("gaps", n)
    operational = np.cumsum(gaps) / events_rate
    operational = operational[operational < big[-1]]
    at = np.interp(operational, big, t)
    p = 1.0 / model.burst_mean
    u = draws.grow("burst_u", len(at))
    if model.burst_fixed or p >= 1:
        size = np.full(len(at), max(1, round(model.burst_mean)), np.int64)
    else:
        size = 1 + np.floor(np.log1p(-u) / math.log1p(-p)).astype(np.int64)
    if model.stop_in_pauses and model.pauses:  # an arrival in [start, end) is not submitted
        size = np.where(_in_pauses(at, model.pauses), 0, size)
    return np.concatenate([np.zeros(model.pending0), np.repeat(at, size)])


def _in_pauses(at: np.ndarray, pauses: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Whether each instant lies in a pause ``[start, end)`` (the pauses merged)."""
    starts, ends = _merged(pauses)
    k = np.searchsorted(np.asarray(starts), at, side="right") - 1
    inside = k >= 0
    inside[inside] = at[inside] < np.asarray(ends)[k[inside]]
    return inside


def _merged(pauses: tuple[tuple[float, float], ...]) -> tuple[list[float], list[float]]:
    """Pauses sorted, overlapping or touching ones merged (SPEC §16: they merge)."""
    starts: list[float] = []
    ends: list[float] = []
    for a, b in sorted(pauses):
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


def dispatch_times(submit: np.ndarray, quantum: np.ndarray, lanes: int,
                   pauses: tuple[tuple[float, float], ...] = ()) -> np.ndarray:
    """The recursion of the module docstring (``submit`` sorted)."""
    starts, ends = _merged(pauses)
    n = len(submit)
    dispatch = [0.0] * n
    end = [0.0] * n
    qpu_free = -math.inf
    sub, q = submit.tolist(), quantum.tolist()
    for i in range(n):
        d = sub[i]
        if i >= lanes and end[i - lanes] > d:
            d = end[i - lanes]
        if starts:
            k = bisect_right(starts, d) - 1
            if k >= 0 and d < ends[k]:
                d = ends[k]
        s = d if d > qpu_free else qpu_free
        if starts:
            k = bisect_right(starts, s) - 1
            if k >= 0 and s < ends[k]:
                s = ends[k]
        dispatch[i] = d
        qpu_free = s + q[i]
        end[i] = qpu_free
    return np.asarray(dispatch, dtype=np.float64)


def _lognormal(mean: float, cv: float, z: np.ndarray) -> np.ndarray:
    sigma2 = math.log1p(cv ** 2)
    return np.asarray(np.exp(math.log(mean) - sigma2 / 2 + math.sqrt(sigma2) * z))


def background_jobs(model: Model, draws: Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every background job of one replication: its submission, its release (the submission
    but for the held stream's) and its quantum, the main stream's jobs first."""
    submit = arrivals(model, draws)
    quantum = _lognormal(model.service_s, model.service_cv,
                         draws.grow("service_z", len(submit)))
    if model.held is None:
        return submit, submit, quantum
    other = draws.held()
    held_at = arrivals(model.held_model(), other)
    n = len(held_at)
    hold = _lognormal(model.held.hold_s, model.held.hold_cv, other.grow("hold_z", n))
    held_quantum = _lognormal(model.service_s, model.service_cv, other.grow("service_z", n))
    return (np.concatenate([submit, held_at]), np.concatenate([submit, held_at + hold]),
            np.concatenate([quantum, held_quantum]))


def dispatch_held(submit: np.ndarray, release: np.ndarray, quantum: np.ndarray, lanes: int,
                  pauses: tuple[tuple[float, float], ...] = ()) -> np.ndarray:
    """``dispatch_times`` for jobs that may be dispatched only from their ``release``
    (``submit`` sorted, ``release >= submit``): each time a lane is free the oldest
    submission among the released jobs goes, as qsim puts a released job back in its place
    by submission (SPEC §17 ``hold``, like §19's held jobs)."""
    starts, ends = _merged(pauses)

    def after_pauses(t: float) -> float:
        if starts:
            k = bisect_right(starts, t) - 1
            if k >= 0 and t < ends[k]:
                return ends[k]
        return t

    n = len(submit)
    by_release = np.argsort(release, kind="stable").tolist()
    rel, q = release.tolist(), quantum.tolist()
    dispatch = [math.nan] * n
    end: list[float] = []
    waiting: list[int] = []  # released, not yet dispatched: a heap of submission ranks
    nxt = 0
    qpu_free = t = -math.inf
    for k in range(n):
        # Not before the previous dispatch (a job still waiting was released by then), nor
        # before a lane frees, nor before a release if nothing released waits.
        if k >= lanes and end[k - lanes] > t:
            t = end[k - lanes]
        if not waiting and rel[by_release[nxt]] > t:
            t = rel[by_release[nxt]]
        t = after_pauses(t)
        while nxt < n and rel[by_release[nxt]] <= t:
            heappush(waiting, by_release[nxt])
            nxt += 1
        i = heappop(waiting)
        dispatch[i] = t
        s = after_pauses(t if t > qpu_free else qpu_free)
        qpu_free = s + q[i]
        end.append(qpu_free)
    return np.asarray(dispatch, dtype=np.float64)


def dispatch_jobs(model: Model, submit: np.ndarray, release: np.ndarray,
                  quantum: np.ndarray) -> np.ndarray:
    """The dispatch instants of jobs given in any order (``release``: ``submit`` but for held
    jobs), on ``model``'s lanes and pauses: the recursion when nothing is held, else the event
    loop, each over the jobs in submission order (stable: at an equal instant the earlier
    given goes first)."""
    if model.held is None and bool(np.all(submit[1:] >= submit[:-1])):
        return dispatch_times(submit, quantum, model.lanes, model.pauses)  # already in order
    order = np.argsort(submit, kind="stable")
    dispatch = np.empty(len(submit))
    if model.held is None:
        dispatch[order] = dispatch_times(submit[order], quantum[order], model.lanes,
                                         model.pauses)
    else:
        dispatch[order] = dispatch_held(submit[order], release[order], quantum[order],
                                        model.lanes, model.pauses)
    return dispatch


def simulate_queue(model: Model, draws: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Submission and dispatch instants of every job of one replication."""
    submit, release, quantum = background_jobs(model, draws)
    return submit, dispatch_jobs(model, submit, release, quantum)
