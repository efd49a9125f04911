"""The documentation's claims about execution modes, as tests (seed documents in shared/seeds).

1. Batch against the legacy lock (a job locked the QPU for all its phases) speeds independent
   work up by at most the number of lanes (5), approaching it as compilation dominates.
2. On an iterative workload under background load a session cuts wall time against job mode,
   and pays for the idle time (classical steps) inside its window.
3. Closing a session saves exactly the interactive-TTL tail.
4. Batch usage is the sum of the jobs' quantum time, whatever the schedule.
5. "There is a fixed overhead associated with running a job ... if each of your jobs uses less
   than one minute of QPU time, consider combining several into one larger job (this applies to
   all execution modes)": with the circuit form (SPEC §2, 2 s per job) combining k jobs saves
   exactly (k - 1) * 2 s of quantum time and usage.

Claims 1, 3, 4, 5 hold on every sample path and are checked exactly; claim 2 is statistical
and is checked on paired replications (common random numbers: the background stream draws the
same jobs whatever the foreground mode) with a tolerance of Z standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy import stats

import qsim

Z = 4.0
SEED = 7
LANES = 5


def scenario(*workloads: dict[str, Any], **top: Any) -> qsim.Scenario:
    return qsim.parse_scenario({"name": "claims", "workloads": list(workloads), **top},
                               "claims.yaml")


def summary_of(result: qsim.RunResult, name: str) -> dict[str, Any]:
    return next(w for w in result.summary()["workloads"] if w["name"] == name)


# ---- 1. batch vs the legacy lock ------------------------------------------------------------

def sweep(jobs: int, compile_: Any, quantum: Any = 5.0, post: Any = 1.0, mode: str = "batch"
          ) -> dict[str, Any]:
    return {"name": "sweep", "kind": "independent", "jobs": jobs, "mode": mode,
            "compile": compile_, "quantum": quantum, "post": post}


def speedup(jobs: int, compile_: Any, seed: int = SEED, **phases: Any) -> tuple[float, float]:
    """(legacy wall / batch wall, the QPU bound on that ratio) for one sweep of ``jobs``.

    Legacy: job mode under ``job_lock: all``, so the jobs run strictly one after another and
    the wall time is the sum of their compile + quantum + post. Both runs draw the same
    durations (same workload name and seed). The batch needs at least sum(spans) / lanes of
    wall time (each job holds a lane for its three phases) and at least sum(quantum) (one QPU),
    so the ratio is at most min(lanes, sum(spans) / sum(quantum)).
    """
    batch = qsim.simulate(scenario(sweep(jobs, compile_, **phases)), seed=seed)
    legacy = qsim.simulate(scenario(sweep(jobs, compile_, mode="job", **phases),
                                    backend={"job_lock": "all"}), seed=seed)
    assert np.allclose(batch.jobs["quantum_s"], legacy.jobs["quantum_s"], rtol=0, atol=1e-9)
    spans = float((legacy.jobs["end_at"] - legacy.jobs["dispatch_at"]).sum())
    legacy_wall = summary_of(legacy, "sweep")["wall_time_s"]
    batch_wall = summary_of(batch, "sweep")["wall_time_s"]
    assert math.isclose(legacy_wall, spans, rel_tol=1e-12)  # strictly one after another
    return legacy_wall / batch_wall, spans / float(batch.jobs["quantum_s"].sum())


COMPILE_RATIOS = (0.0, 1.0, 5.0, 20.0, 100.0)  # compile time / quantum time (quantum 5 s)


def speedups_by_compile(jobs: int = 100) -> list[float]:
    return [speedup(jobs, 5.0 * r)[0] for r in COMPILE_RATIOS]


def test_batch_speedup_over_legacy_lock_rises_towards_the_lane_count() -> None:
    ups = speedups_by_compile()
    assert all(s <= LANES + 1e-12 for s in ups)
    assert all(a < b for a, b in zip(ups, ups[1:]))  # more compilation, more overlap
    assert ups[0] < 1.25  # quantum-bound: little to overlap (only the 1 s post)
    assert ups[-1] > 0.97 * LANES  # compile-bound: close to 5x


@pytest.mark.parametrize("seed", range(5))
def test_batch_speedup_never_exceeds_the_lanes_with_random_durations(seed: int) -> None:
    ratio, qpu_bound = speedup(40, {"dist": "exponential", "mean": 30.0}, seed=seed,
                               quantum={"dist": "lognormal", "mean": 5.0, "cv": 1.0},
                               post={"dist": "uniform", "low": 0.0, "high": 2.0})
    assert 1.0 < ratio <= min(LANES, qpu_bound) + 1e-12


# ---- 2. session vs job mode for an iterative workload under load --------------------------------

ITERATIONS, COMPILE_S, QUANTUM_S, POST_S, CLASSICAL_S = 15, 2.0, 8.0, 1.0, 5.0
VQE = {"name": "vqe", "kind": "iterative", "iterations": ITERATIONS, "compile": COMPILE_S,
       "quantum": QUANTUM_S, "post": POST_S, "classical": CLASSICAL_S}
OTHERS = {"name": "others", "kind": "background",
          "arrivals": {"dist": "exponential", "mean": 30.0}, "compile": 1.0,
          "quantum": {"dist": "lognormal", "mean": 18.0, "cv": 1.0}, "post": 0.5}
LOADED_START_S = 600.0  # the workload starts once the background queue is in steady state
# Inside a session window, the QPU idles at least during each job's compile and post and each
# classical step (the window opens at the first dispatch and closes at the last result).
MIN_IDLE_S = ITERATIONS * (COMPILE_S + POST_S) + (ITERATIONS - 1) * CLASSICAL_S


@dataclass(frozen=True)
class Paired:
    """Per-replication differences (job mode minus session) and their mean's CI."""

    diffs: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.diffs))

    @property
    def se(self) -> float:
        return float(np.std(self.diffs, ddof=1) / math.sqrt(len(self.diffs)))

    @property
    def ci95(self) -> float:
        return float(stats.t.ppf(0.975, len(self.diffs) - 1) * self.se)


def session_vs_job(reps: int, seed: int = SEED) -> dict[str, Any]:
    """Run the iterative workload in job and session mode on the same background draws."""
    base = scenario({**VQE, "start": LOADED_START_S}, OTHERS)
    out: dict[str, list[Any]] = {"job": [], "session": []}
    for r in range(reps):
        for mode in out:
            result = qsim.simulate(base.with_mode("vqe", mode), seed=seed, replication=r)
            out[mode].append(summary_of(result, "vqe"))
    return out


def wall_saving(runs: dict[str, Any]) -> Paired:
    return Paired(tuple(j["wall_time_s"] - s["wall_time_s"]
                        for j, s in zip(runs["job"], runs["session"])))


def test_session_cuts_wall_time_and_pays_for_idle_time() -> None:
    runs = session_vs_job(reps=40)
    saving = wall_saving(runs)
    assert saving.mean > Z * saving.se  # the saving is real, not noise
    for job, session in zip(runs["job"], runs["session"]):
        assert job["usage_s"] == pytest.approx(job["quantum_s"], abs=1e-9)
        assert session["windows"] == 1  # classical 5 s < ITTL 60 s: one window throughout
        # One window from the first dispatch to the close at the last result:
        window = session["wall_time_s"] - session["first_queue_wait_s"]
        assert session["usage_s"] == pytest.approx(window, abs=1e-9)
        # ... and all of it not spent on its own quantum phases is idle, and paid for.
        assert session["idle_s"] == pytest.approx(session["usage_s"] - session["quantum_s"],
                                                  abs=1e-9)
        assert session["idle_s"] >= MIN_IDLE_S - 1e-9
        assert session["usage_s"] > job["usage_s"]


# ---- 3. closing a session saves exactly the ITTL tail -------------------------------------------

def close_saving(ttl: float, classical: Any, seed: int, mode: str = "session") -> float:
    """Usage with ``close: false`` minus usage with ``close: true``."""
    usage = []
    for close in (True, False):
        vqe = {**VQE, "classical": classical,
               "mode": {"kind": mode, "interactive_ttl": ttl, "close": close},
               "quantum": {"dist": "exponential", "mean": QUANTUM_S}}
        result = qsim.simulate(scenario(vqe, OTHERS), seed=seed)
        usage.append(summary_of(result, "vqe")["usage_s"])
    return usage[1] - usage[0]


@pytest.mark.parametrize("ttl", [1.0, 10.0, 60.0, 600.0])
@pytest.mark.parametrize("classical", [2.0, {"dist": "exponential", "mean": 30.0}])
def test_closing_a_session_saves_exactly_the_ittl_tail(ttl: float, classical: Any) -> None:
    # With classical steps sometimes longer than the ITTL the session pauses and re-activates
    # in between; only the last tail differs between closing and not closing.
    for seed in range(3):
        assert close_saving(ttl, classical, seed) == pytest.approx(ttl, abs=1e-9)


def test_closing_a_batch_saves_nothing_billed() -> None:
    # Batch usage is quantum time, so the tail a batch keeps when not closed costs nothing.
    assert close_saving(30.0, 2.0, seed=0, mode="batch") == pytest.approx(0.0, abs=1e-9)


# ---- 4. batch usage = sum of quantum time, whatever the schedule --------------------------------

SCHEDULES = {
    "5 lanes, all at once": ({"lanes": 5}, {}, False),
    "1 lane, all at once": ({"lanes": 1}, {}, False),
    "2 lanes, one every 7 s": ({"lanes": 2}, {"submit_interval": 7.0}, False),
    "3 lanes, one every 40 s (ITTL expires)": ({"lanes": 3}, {"submit_interval": 40.0}, False),
    "5 lanes, under background load": ({"lanes": 5}, {}, True),
    "1 lane, spaced, under load": ({"lanes": 1}, {"submit_interval": 15.0}, True),
}


def batch_usage_gap(schedule: str, seed: int) -> tuple[float, float]:
    """(batch usage - sum of its jobs' quantum time, batch usage - job-mode usage of the same
    draws). Both are 0 if usage does not depend on the schedule."""
    backend, extra, loaded = SCHEDULES[schedule]
    sweep_ = {**sweep(25, {"dist": "exponential", "mean": 10.0},
                      quantum={"dist": "lognormal", "mean": 6.0, "cv": 1.2}), **extra}
    workloads = [sweep_, OTHERS] if loaded else [sweep_]
    usage = {}
    for mode in ("batch", "job"):
        sc = scenario(*workloads, backend=backend).with_mode("sweep", mode)
        result = qsim.simulate(sc, seed=seed)
        usage[mode] = summary_of(result, "sweep")
    batch = usage["batch"]
    assert batch["jobs"]["done"] == 25
    return batch["usage_s"] - batch["quantum_s"], batch["usage_s"] - usage["job"]["usage_s"]


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_batch_usage_is_the_sum_of_quantum_time_whatever_the_schedule(schedule: str) -> None:
    for seed in range(3):
        to_quantum, to_job_mode = batch_usage_gap(schedule, seed)
        assert abs(to_quantum) < 1e-9 and abs(to_job_mode) < 1e-9


# ---- 5. the fixed per-job overhead -------------------------------------------------------------

OVERHEAD_S = 2.0  # SPEC §2: overhead_s per (sub-)job


def circuit_jobs(jobs: int, circuits: int, shots: int, mode: str) -> dict[str, Any]:
    return {"name": "exp", "kind": "independent", "jobs": jobs, "mode": mode,
            "quantum": {"circuits": circuits, "shots": shots}}


def combining_saves(k: int, circuits: int, shots: int, mode: str) -> tuple[float, float]:
    """(usage of k separate jobs - usage of one job with k times the circuits, quantum time
    of one separate job)."""
    apart = summary_of(qsim.simulate(scenario(circuit_jobs(k, circuits, shots, mode))), "exp")
    together = summary_of(qsim.simulate(scenario(circuit_jobs(1, k * circuits, shots, mode))),
                          "exp")
    return apart["usage_s"] - together["usage_s"], apart["quantum_s"] / k


@pytest.mark.parametrize("mode", ["job", "batch", "session"])
@pytest.mark.parametrize("k,circuits,shots", [(10, 10, 1000), (4, 1, 4096), (3, 50, 4000)])
def test_combining_jobs_saves_the_fixed_overhead_in_every_mode(
        mode: str, k: int, circuits: int, shots: int) -> None:
    saved, per_job = combining_saves(k, circuits, shots, mode)
    # Quick form of SPEC §2: 2 + 0.00035 * circuits * shots (default 100 us circuits).
    assert per_job == pytest.approx(OVERHEAD_S + 0.00035 * circuits * shots, abs=1e-9)
    assert saved == pytest.approx((k - 1) * OVERHEAD_S, abs=1e-9)


def test_the_overhead_matters_below_a_minute_of_quantum_time() -> None:
    # The saving per combined job is the 2 s overhead whatever the job's size, so its weight
    # is large for short jobs and small past a minute: the documentation's rule of thumb.
    short_saved, short_job = combining_saves(10, 10, 1000, "job")  # 5.5 s jobs
    long_saved, long_job = combining_saves(10, 200, 1000, "job")  # 72 s jobs
    assert short_job < 60 < long_job
    assert short_saved == pytest.approx(9 * OVERHEAD_S, abs=1e-9)
    assert long_saved == pytest.approx(9 * OVERHEAD_S, abs=1e-9)
    assert short_saved / (10 * short_job) > 0.3 and long_saved / (10 * long_job) < 0.03
