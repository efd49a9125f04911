"""The figures a planner acts on (SPEC §7, 0.2) and a verdict that never ranks unfinished work:
exact timelines with fixed durations, hand-computed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import job, loop, run, scenario, workload

import qsim

ROOT = Path(__file__).resolve().parent.parent


# ---- the new per-workload figures ---------------------------------------------------------


def test_spec_timeline_b_waits_for_the_qpu() -> None:
    # SPEC §9 B: j0-j4 dispatched at 0, ready at 20, on the QPU 20-25, 25-30, ..., 40-45: they
    # wait 0, 5, 10, 15, 20 s for it. j5-j9 take the lanes j0-j4 free at 27, 32, ..., 47 and
    # are ready at 47, 52, ..., 67, when the QPU is free: no wait.
    result = run(job("b", jobs=10, compile="20s", quantum="5s", post="2s", mode="batch"))
    b = workload(result)
    assert b["qpu_wait_s"] == 50.0
    assert result.jobs["qpu_wait_s"].tolist() == [0.0, 5.0, 10.0, 15.0, 20.0, 0, 0, 0, 0, 0]
    assert b["first_qpu_start_s"] == 20.0
    assert (b["others_in_windows_s"], b["complete"], b["planned_jobs"]) == (0.0, True, 10)
    assert b["stopped_by"] is None


def test_others_on_the_qpu_inside_a_batch_window() -> None:
    # others: one job at 0, on the QPU 0-10. b: a batch job submitted at 1, dispatched at once
    # (the window opens at 1), ready at 1, waits for the QPU until 10, runs 10-20; the batch
    # closes at its last result, 20. Inside the window 1-20 others held the QPU 1-10.
    result = run(job("others"), job("b", start="1s", mode="batch"))
    b = workload(result, "b")
    assert (b["windows"], b["usage_s"], b["idle_s"]) == (1, 10.0, 9.0)
    assert (b["qpu_wait_s"], b["first_qpu_start_s"], b["others_in_windows_s"]) == (9.0, 9.0, 9.0)
    assert workload(result, "others")["others_in_windows_s"] == 0.0  # job mode: no window


def test_a_workload_none_of_whose_jobs_reach_the_qpu_has_no_first_quantum_start() -> None:
    # compile-stage failures end each job at the end of compile: nothing reaches the QPU.
    result = run(job("j", jobs=2, compile="3s",
                     failure={"probability": 1.0, "kind": "user", "stage": "compile"}))
    j = workload(result)
    assert j["first_qpu_start_s"] is None and j["qpu_wait_s"] == 0.0
    assert j["complete"] is True  # an independent workload's failures are its own rules'
    json.dumps(result.summary(), allow_nan=False)  # still plain JSON


def test_max_time_leaves_a_batch_incomplete() -> None:
    # lanes 2: j0, j1 dispatched at 0; j2 at 10, j3 at 20 would be next, but max_time 15 s
    # (from the first activation, 0) cancels the queued j3 at 15.
    result = run(job("b", jobs=4, mode={"kind": "batch", "max_time": "15s"}),
                 backend={"lanes": 2})
    b = workload(result)
    assert (b["complete"], b["stopped_by"], b["planned_jobs"]) == (False, "max_time", 4)


def test_an_aborted_loop_is_incomplete_and_a_retried_one_is_not() -> None:
    always = {"probability": 1.0, "kind": "user", "stage": "compile"}
    aborted = workload(run(loop("l", 3, on_failure="abort", failure=always)))
    assert (aborted["complete"], aborted["stopped_by"], aborted["jobs"]["done"]) == (
        False, "a failure", 0)
    cut = workload(run(loop("l", 3, classical="100s"), horizon="50s"))
    assert (cut["complete"], cut["stopped_by"]) == (False, "the end of the run")
    whole = workload(run(loop("l", 3)))
    assert (whole["complete"], whole["stopped_by"], whole["planned_jobs"]) == (True, None, 3)


# ---- the verdict ---------------------------------------------------------------------------

# One lane kept busy by others' 10 s jobs every 12 s; a 20-iteration loop whose batch dies of
# its 2-minute max_time long before the end. Batch is cheapest only because it did less.
CUT_SHORT = scenario(
    {"name": "others", "kind": "background", "arrivals": "12s", "quantum": "10s"},
    loop("vqe", 20, classical="5s", mode={"kind": "batch", "max_time": "2m"}),
    backend={"lanes": 1})


def test_compare_never_ranks_unfinished_work() -> None:
    result = qsim.compare(CUT_SHORT, workers=1)
    batch = result.modes["batch"]
    assert batch["complete"] is False and batch["stopped_by"] is not None
    assert batch["cost_usd"] < min(result.figure(m, "cost_usd") for m in ("job", "session"))
    v = result.verdict
    assert v.incomplete == ("batch",)
    assert "batch" not in v.cheapest and "batch" not in v.fastest
    assert v.cheapest and v.fastest
    out = result.to_dict()
    assert out["verdict"]["incomplete"] == ["batch"]
    assert out["verdict"]["cheapest"] == v.cheapest[0]
    assert (out["scenario"], out["seed"]) == (CUT_SHORT.name, CUT_SHORT.seed)


def test_other_modes_take_their_own_defaults() -> None:
    # The batch's own max_time (2 min) must not cut the session column short: a session
    # takes the session defaults (max_time 8 h) and finishes all 20 iterations.
    result = qsim.compare(CUT_SHORT, modes=("batch", "session"), workers=1)
    session = result.modes["session"]
    assert session["complete"] is True and session["jobs"]["done"] == 20
    assert result.verdict.cheapest == ("session",)


def test_no_complete_mode_ranks_nothing() -> None:
    cut = scenario(loop("vqe", 20, classical="5s"), horizon="30s")
    v = qsim.compare(cut, workers=1).verdict
    assert (v.cheapest, v.fastest, set(v.incomplete)) == ((), (), {"job", "batch", "session"})


def test_paired_differences_are_against_the_cheapest_complete_mode() -> None:
    result = qsim.compare(CUT_SHORT, modes=("job", "session"), replications=3, workers=1)
    best = result.verdict.cheapest[0]
    diffs = result.paired_differences()
    assert diffs[best]["cost_usd"].mean == 0.0
    other = next(m for m in ("job", "session") if m != best)
    expected = [a["cost_usd"] - b["cost_usd"]
                for a, b in zip(result.runs[other], result.runs[best])]
    assert diffs[other]["cost_usd"].mean == pytest.approx(np.mean(expected))


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qsim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def cut_short_file(tmp_path: Path) -> Path:
    path = tmp_path / "cut.yaml"
    path.write_text(
        "name: cut\nbackend: {lanes: 1}\nworkloads:\n"
        "  - {name: others, kind: background, arrivals: 12s, quantum: 10s}\n"
        "  - name: vqe\n    kind: iterative\n    iterations: 20\n    quantum: 10s\n"
        "    classical: 5s\n    mode: {kind: batch, max_time: 2m}\n")
    return path


@pytest.mark.slow
def test_the_verdict_in_words_names_the_unfinished_mode(cut_short_file: Path) -> None:
    proc = cli("compare", cut_short_file)
    assert proc.returncode == 0, proc.stderr
    verdict = next(line for line in proc.stdout.splitlines() if line.startswith("Cheapest:"))
    assert "Not ranked, did not finish: batch mode " in verdict
    assert "/20 done (" in verdict and "batch (incomplete)" in proc.stdout


@pytest.mark.slow
def test_compare_out_writes_the_comparison_atomically(cut_short_file: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    proc = cli("compare", cut_short_file, "-r", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [".qsim-manifest.json", "compare.csv",
                                                     "compare.json", "compare.png"]
    data = json.loads((out / "compare.json").read_text())
    assert data["verdict"]["incomplete"] == ["batch"]
    rows = (out / "compare.csv").read_text().splitlines()
    assert rows[0].startswith("replication,workload,mode,jobs_submitted")
    assert len(rows) == 1 + 3 * 2  # a row per mode and replication


@pytest.mark.slow
def test_compare_out_refuses_a_folder_of_the_users(cut_short_file: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    proc = cli("compare", cut_short_file, "--out", mine)
    assert proc.returncode == 2 and proc.stderr.startswith("qsim: error: --out ")
    assert "Traceback" not in proc.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_percentiles_show_the_spread_of_the_runs() -> None:
    plain = cli("run", "scenarios/vqe.yaml", "-r", "3")
    spread = cli("run", "scenarios/vqe.yaml", "-r", "3", "--percentiles")
    assert plain.returncode == spread.returncode == 0, spread.stderr
    def wall_time_rows(text: str) -> str:  # the row and the line under it
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("│ wall time"))
        return "\n".join(lines[at:at + 2])

    assert "[" not in wall_time_rows(plain.stdout)
    assert "[" in wall_time_rows(spread.stdout)  # e.g. 53m ± 2m, then [51m 2s–56m 10s]
    assert "–" in wall_time_rows(spread.stdout)
