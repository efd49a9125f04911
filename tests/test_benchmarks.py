"""Smoke runs of the benchmark scripts: they run, print their tables, and their yardstick
holds. Never a timed assertion: speed is measured by hand (see the README's Performance)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> str:
    return subprocess.run([sys.executable, "benchmarks/scale.py", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def _tables(out: str) -> list[list[dict[str, str]]]:
    """Every table of ``out``, each as its rows."""
    blocks: list[list[str]] = [[]]
    for line in out.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [_rows(block) for block in blocks if block]


def _table(out: str) -> list[dict[str, str]]:
    return _tables(out)[0]


def _rows(lines: list[str]) -> list[dict[str, str]]:
    header, _rule, *rows = lines
    names = [c.strip() for c in header.strip("|").split("|")]
    return [dict(zip(names, (c.strip() for c in row.strip("|").split("|")))) for row in rows]


def _number(text: str) -> float:
    """A cell's number; of ``2.1x (1.9-2.4x)`` (a median and its range), the median."""
    return float(text.split()[0].replace(",", "").rstrip("x"))


@pytest.mark.slow
def test_scale_benchmark_prints_one_row_per_size_including_qsim_run() -> None:
    # The script itself exits non-zero if its heapq floor and qsim disagree on jobs done.
    out = _run("--sizes", "1000,3000", "--repeats", "2")
    rows = _table(out)
    assert [round(_number(r["jobs"]), -3) for r in rows] == [1000, 3000]
    for row in rows:
        for column in ("jobs/s", "events/s", "qsim run s", "peak B/job", "bg-only / floor"):
            assert _number(row[column]) > 0, (column, row)
    growth = re.search(r"([\d,]+) jobs against ([\d,]+): ([\d.]+)x the time", out)
    assert growth is not None and growth.group(1) == rows[1]["jobs"]
    assert _number(growth.group(3)) > 0
    # The full-feature scenario under both queues, and the goals of issue 18 it measures.
    full = _tables(out)[1]
    assert [r["full feature"] for r in full] == ["fair_share", "fifo"] * 2
    for row in full:
        assert _number(row["run / floor"]) > 0, row
        assert _number(row["--out / --json"]) > 0, row
    assert out.count(": met") + out.count(": NOT met") == 5  # -r 8's and issue 32's --out too


@pytest.mark.slow
def test_worst_case_benchmark_builds_a_queue_behind_the_session() -> None:
    baseline, blocked = _table(_run("--worst-case", "--repeats", "1"))
    assert baseline["jobs"] == blocked["jobs"]  # same arrivals, common random numbers
    assert _number(baseline["peak queue"]) < 1_000
    assert _number(blocked["peak queue"]) > 40_000


def _scale_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("scale", ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_instruction_counts_divide_by_the_jobs_each_model_ran() -> None:
    # --instructions divides instructions by jobs: the floor must count the same arrivals as
    # qsim's background-only run of the same size (both draw from the same streams).
    scale = _scale_module()
    background = scale._run_one_model("background", 2000)
    assert scale._run_one_model("floor", 2000) == background
    assert scale._run_one_model("full", 2000) > background  # plus the foreground's jobs
    assert scale.parse_collected("==1== Events    : Ir\n==1== Collected : 123456789\n") \
        == 123456789


@pytest.mark.slow
def test_startup_benchmark_times_each_command_and_says_what_it_loaded() -> None:
    out = subprocess.run([sys.executable, "benchmarks/startup.py", "--repeats", "1"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = {row["command"]: row for row in _table(out)}
    assert list(rows)[:3] == ["python -c pass", "qsim --version", "qsim --help"]
    assert all(_number(row["CPU s"]) > 0 for row in rows.values())
    assert rows["qsim --help"]["heavy libraries imported"] == "-"
    assert "numpy" not in rows["qsim validate scenarios/vqe.yaml"]["heavy libraries imported"]
    assert re.search(r"qsim --help: [\d.]+ s of CPU \((meets|misses) the goal", out)


@pytest.mark.slow
def test_sweep_benchmark_gives_cpu_per_run_against_the_pool() -> None:
    out = subprocess.run([sys.executable, "benchmarks/sweep.py", "--points", "2",
                          "--replications", "2", "--run-ms", "5", "--repeats", "1"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = {row["executor"]: row for row in _table(out)}
    assert _number(rows["2 workers (local process pool)"]["CPU vs pool"]) == 1.0
    assert all(_number(row["CPU ms per run"]) > 0 for row in rows.values())


@pytest.mark.slow
def test_growth_benchmark_pairs_each_large_run_with_the_small_runs_around_it() -> None:
    out = _run("--growth", "--sizes", "1000,3000", "--repeats", "2")
    runs = _table(out)
    assert [r["run"] for r in runs] == ["small", "large", "small", "large", "small"]
    for row in runs:
        both = _number(row["both µs/job"])
        assert both == pytest.approx(
            _number(row["simulate µs/job"]) + _number(row["summary µs/job"]), abs=0.002)
    assert re.search(r"simulate plus summary within 5% \(issue 32, goal 2\): [\d.]+x "
                     r"\([\d.]+-[\d.]+x\): (met|NOT met)", out)
    assert re.search(r"- summary: [\d.]+x", out)
