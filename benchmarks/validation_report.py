"""The validation suite's comparisons at a larger size, as the README's markdown table.

    python benchmarks/validation_report.py                 # the README's numbers (~10 min)
    python benchmarks/validation_report.py --reps 10 --jobs 8000   # a quick look (~1 min)

It imports the checks from the test modules (tests/test_validation_queueing.py,
tests/test_validation_claims.py, tests/test_metamorphic.py), so the table measures exactly what
the tests assert; only the number of replications and jobs per replication grow. Every row
prints: the check, the theoretical value, the simulated mean +- the 95% confidence half-width
(Student t over replications), the number of replications, and whether the check passes
(|mean - theory| <= 4 standard errors, or the exact identity to 1e-9).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_metamorphic as meta  # noqa: E402
import test_validation_claims as claims  # noqa: E402
import test_validation_queueing as vq  # noqa: E402

Z = vq.Z


@dataclass(frozen=True)
class Row:
    check: str
    theory: str
    simulated: str
    reps: int
    ok: bool
    z: float | None = None  # |mean - theory| / standard error, for statistical rows


def ci(values: Iterable[float]) -> tuple[float, float, float]:
    """(mean, 95% half-width, standard error) over replications."""
    x = np.asarray(list(values), dtype=float)
    se = float(x.std(ddof=1) / math.sqrt(len(x)))
    return float(x.mean()), float(stats.t.ppf(0.975, len(x) - 1) * se), se


def fmt(mean: float, half: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


# ---- queueing theory -----------------------------------------------------------------------------

def queueing_rows(reps: int, jobs: int) -> list[Row]:
    rows = []
    for check in vq.CHECKS.values():
        est = vq.replicate(check, reps, jobs)
        rows.append(Row(f"{check.name} [{check.formula}]", f"{check.theory:.4f}",
                        fmt(est.mean, est.ci95, 4), est.reps, est.agrees(check.theory),
                        est.z(check.theory)))
    return rows + plug_in_rows(reps, jobs)


def plug_in_rows(reps: int, jobs: int) -> list[Row]:
    """M/M/1 diagnostics on the same replications: were the drawn inputs typical, and does
    the formula hold at the realised arrival rate and mean service time of each replication?
    This separates sampling luck in the inputs from an error in the queue."""
    check = vq.CHECKS["M/M/1 mean wait Wq (s)"]
    scenario, window = check.scenario(jobs), check.window(jobs)
    service, plug_in, wait = [], [], []
    for r in range(reps):
        jobs_ = vq.measured(vq.qsim.simulate(scenario, seed=check.seed, replication=r), window)
        service.append(float(jobs_["quantum_s"].mean()))
        plug_in.append(vq.mm1_wait(len(jobs_) / window.length, service[-1]))
        wait.append(float(jobs_["queue_wait_s"].mean()))
    s_mean, s_half, s_se = ci(service)
    w_mean, w_half, w_se = ci(np.subtract(wait, plug_in))
    return [
        Row("M/M/1 input: realised mean service time of the measured jobs (s)", "6.0000",
            fmt(s_mean, s_half, 4), reps, abs(s_mean - 6.0) <= Z * s_se,
            abs(s_mean - 6.0) / s_se),
        Row("M/M/1 Wq − formula at each replication's realised λ and E[S] (s)", "0.0000",
            fmt(w_mean, w_half, 4), reps, abs(w_mean) <= Z * w_se, abs(w_mean) / w_se),
    ]


def schedule_error(lanes: int, seed: int) -> float:
    """Largest |simulated - recomputed| time of any job event (independent event loop)."""
    result = vq.phases_run(lanes, seed)
    jobs = result.jobs
    ended = jobs.assign(end_at=jobs["end_at"].where(jobs["status"] == "done"))
    ours = vq.replay(vq.realised(jobs), lanes, result.info.end_s)
    worst = 0.0
    for key, column in vq.SIM_COLUMN.items():
        sim = ended[column].to_numpy(dtype=float)
        known = ~np.isnan(sim)
        worst = max(worst, float(np.max(np.abs(sim[known] - np.asarray(ours[key])[known]),
                                        initial=0.0)))
    return worst


def lindley_error(seed: int) -> float:
    result = vq.phases_run(5, seed, job_lock="all")
    sim = result.jobs["dispatch_at"].to_numpy(dtype=float)
    ours = np.asarray(vq.lindley(vq.realised(result.jobs)))
    known = ~np.isnan(sim)
    return float(np.max(np.abs(sim[known] - ours[known]), initial=0.0))


def exact_schedule_rows(seeds: int) -> list[Row]:
    errors = [schedule_error(lanes, s) for lanes in (1, 2, 3, 5) for s in range(seeds)]
    legacy = [lindley_error(s) for s in range(seeds)]
    return [
        Row("Schedule, 1/2/3/5 lanes + compile/post: every job time vs independent event loop",
            "identical", f"max abs diff {max(errors):.1e} s", len(errors), max(errors) < 1e-9),
        Row("Legacy lock, 5 lanes: dispatch times vs Lindley recursion", "identical",
            f"max abs diff {max(legacy):.1e} s", len(legacy), max(legacy) < 1e-9),
    ]


# ---- the documentation's claims -----------------------------------------------------------------

def speedup_rows() -> list[Row]:
    rows = []
    for ratio, up in zip(claims.COMPILE_RATIOS, claims.speedups_by_compile()):
        rows.append(Row(f"Batch speed-up over legacy lock, 100 jobs, compile = {ratio:g} x quantum",
                        "≤ 5, → 5 as compile dominates", f"{up:.3f}", 1, up <= 5 + 1e-12))
    return rows


def session_rows(reps: int) -> list[Row]:
    runs = claims.session_vs_job(reps)
    saving = claims.wall_saving(runs)
    job_wall = ci(j["wall_time_s"] for j in runs["job"])
    ses_wall = ci(s["wall_time_s"] for s in runs["session"])
    job_use = ci(j["usage_s"] for j in runs["job"])
    ses_use = ci(s["usage_s"] for s in runs["session"])
    idle = ci(s["idle_s"] for s in runs["session"])
    return [
        Row("VQE under load, wall time: job mode (s)", "—", fmt(*job_wall[:2], 1), reps, True),
        Row("VQE under load, wall time: session (s)", "< job mode", fmt(*ses_wall[:2], 1), reps,
            saving.mean > Z * saving.se),
        Row("VQE under load, usage: job mode = quantum time (s)", "120.0",
            fmt(*job_use[:2], 1), reps, abs(job_use[0] - 120.0) < 1e-9),
        Row("VQE under load, usage: session (s), paying idle time", "> 120",
            fmt(*ses_use[:2], 1), reps, ses_use[0] > 120.0),
        Row("VQE under load, session idle time (s)",
            f"≥ {claims.MIN_IDLE_S:g} (compile+post+classical)", fmt(*idle[:2], 1), reps,
            min(s["idle_s"] for s in runs["session"]) >= claims.MIN_IDLE_S - 1e-9),
    ]


def exact_claim_rows() -> list[Row]:
    savings = [claims.close_saving(ttl, cl, seed) - ttl for ttl in (1.0, 10.0, 60.0, 600.0)
               for cl in (2.0, {"dist": "exponential", "mean": 30.0}) for seed in range(5)]
    gaps = [abs(g) for sched in claims.SCHEDULES for seed in range(5)
            for g in claims.batch_usage_gap(sched, seed)]
    overhead = [claims.combining_saves(k, c, s, mode)[0] - (k - 1) * claims.OVERHEAD_S
                for mode in ("job", "batch", "session")
                for k, c, s in ((10, 10, 1000), (4, 1, 4096), (3, 50, 4000))]
    short_saved, short_job = claims.combining_saves(10, 10, 1000, "job")
    worst = [max(abs(x) for x in savings), max(gaps), max(abs(x) for x in overhead)]
    return [
        Row("Closing a session saves the ITTL tail (usage not closed − closed − ITTL)", "0",
            f"max abs {worst[0]:.1e} s", len(savings), worst[0] < 1e-9),
        Row("Batch usage − Σ quantum, and − job-mode usage, 6 schedules", "0",
            f"max abs {worst[1]:.1e} s", len(gaps) // 2, worst[1] < 1e-9),
        Row("Combining k jobs saves (k−1)·2 s of usage, job/batch/session", "(k−1)·2 s",
            f"max abs error {worst[2]:.1e} s", len(overhead), worst[2] < 1e-9),
        Row(f"Share of usage saved combining 10 jobs of {short_job:g} s", "18/55 = 32.7%",
            f"{100 * short_saved / (10 * short_job):.1f}%", 1,
            abs(short_saved - 18.0) < 1e-9),
    ]


# ---- metamorphic ---------------------------------------------------------------------------------

def metamorphic_rows(reps: int) -> list[Row]:
    walls = meta.walls_by_lanes(reps)
    rows = []
    for k in range(walls.shape[1] - 1):
        gain = walls[:, k] - walls[:, k + 1]
        m, h, se = ci(gain)
        rows.append(Row(f"Wall time saved by lane {k + 2} (30 random jobs, s)", "> 0",
                        fmt(m, h, 1), reps, m > Z * se))
    steps = (0.0, 5.0, 20.0, 50.0)
    idle = np.array([[meta.session_idle(c, arrival_mean=30.0, replication=r) for c in steps]
                     for r in range(reps)])
    for k in range(len(steps) - 1):
        m, h, se = ci(idle[:, k + 1] - idle[:, k])
        rows.append(Row(f"Session idle added by classical {steps[k]:g} → {steps[k + 1]:g} s "
                        "(10 iterations, under load)", "> 0", fmt(m, h, 1), reps, m > Z * se))
    penalty = meta.load_penalty(reps)
    for mode in ("job", "session"):
        m, h, _ = ci(penalty[mode])
        rows.append(Row(f"Extra waiting, arrivals every 60 s → 25 s: {mode} mode (s)", "—",
                        fmt(m, h, 1), reps, True))
    m, h, se = ci(penalty["job"] - penalty["session"])
    rows.append(Row("… job-mode extra waiting − session extra waiting (s)", "> 0",
                    fmt(m, h, 1), reps, m > Z * se))
    return rows


# ---- output --------------------------------------------------------------------------------------

def table(rows: list[Row]) -> str:
    lines = ["| check | theory | simulated (mean ± 95% CI) | replications | z | pass |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.check} | {r.theory} | {r.simulated} | {r.reps} | "
              f"{'' if r.z is None else f'{r.z:.1f}'} | {'yes' if r.ok else '**NO**'} |"
              for r in rows]
    return "\n".join(lines)


def timed(label: str, make: Callable[[], list[Row]]) -> list[Row]:
    start = time.perf_counter()
    rows = make()
    print(f"  {label}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="replications per statistical check")
    parser.add_argument("--jobs", type=int, default=50_000,
                        help="measured arrivals per replication (queueing checks)")
    args = parser.parse_args(argv)
    sections = [
        ("Queueing theory", lambda: queueing_rows(args.reps, args.jobs)),
        ("Exact schedules", lambda: exact_schedule_rows(5)),
        ("Claims: batch vs legacy lock", speedup_rows),
        ("Claims: session vs job mode", lambda: session_rows(max(args.reps, 100))),
        ("Claims: exact accounting", exact_claim_rows),
        ("Metamorphic", lambda: metamorphic_rows(max(args.reps, 100))),
    ]
    rows: list[Row] = []
    for label, make in sections:
        rows += timed(label, make)
    print(table(rows))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
