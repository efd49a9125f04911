"""Building small scenarios in tests without YAML files."""

from __future__ import annotations

from typing import Any

import qsim


def scenario(*workloads: dict[str, Any], **top: Any) -> qsim.Scenario:
    data: dict[str, Any] = {"name": "test", "workloads": list(workloads), **top}
    return qsim.parse_scenario(data, "test.yaml")


def run(*workloads: dict[str, Any], seed: int | None = None, **top: Any) -> qsim.RunResult:
    return qsim.simulate(scenario(*workloads, **top), seed=seed)


def rows(result: qsim.RunResult, *, jobs_only: bool = False) -> list[tuple[float, str, int]]:
    out = result.trace.rows()
    return [r for r in out if not jobs_only or r[1].startswith(("job.", "qpu."))]


def job_rows(start: float, job: int, compile_s: float, quantum_s: float, post_s: float
             ) -> list[tuple[float, str, int]]:
    """The records of one job that is dispatched at ``start`` and never waits for the QPU."""
    q0 = start + compile_s
    q1 = q0 + quantum_s
    return [(start, "job.dispatch", job), (q0, "job.ready", job), (q0, "qpu.start", job),
            (q1, "qpu.end", job), (q1 + post_s, "job.done", job)]


def workload(result: qsim.RunResult, name: str | None = None) -> dict[str, Any]:
    entries = result.summary()["workloads"]
    return entries[0] if name is None else next(w for w in entries if w["name"] == name)


def job(name: str, jobs: int = 1, quantum: str = "10s", **extra: object) -> dict[str, Any]:
    """An independent workload of ``jobs`` fixed-length jobs, for exact timelines."""
    return {"name": name, "kind": "independent", "jobs": jobs, "quantum": quantum, **extra}


def loop(name: str, iterations: int, **extra: object) -> dict[str, Any]:
    """An iterative workload of 10 s jobs, for exact timelines."""
    return {"name": name, "kind": "iterative", "iterations": iterations, "quantum": "10s",
            **extra}


def column(result: qsim.RunResult, name: str, workload_name: str) -> list[Any]:
    """One column of the jobs table, for one workload's jobs."""
    jobs = result.jobs
    return jobs[jobs["workload"] == workload_name][name].tolist()


# One iterative workload and nothing else. Line numbers matter to tests that use it: 1 name,
# 2 workloads, 3 "- name", 4 kind, 5 iterations, 6 quantum.
ONE_LOOP_YAML = """\
name: t
workloads:
  - name: vqe
    kind: iterative
    iterations: 3
    quantum: 10s
"""

# A small session loop beside a background stream: the scenario the CLI tests run.
SMALL_YAML = """\
name: small
workloads:
  - name: loop
    kind: iterative
    mode: session
    iterations: 3
    compile: 2s
    quantum: 10s
    post: 1s
    classical: {dist: exponential, mean: 5s}
  - name: others
    kind: background
    arrivals: {dist: exponential, mean: 20s}
    quantum: {dist: lognormal, mean: 8s, cv: 1}
"""
