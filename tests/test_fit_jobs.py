"""``qsim fit --jobs`` (SPEC §21): a user's past jobs (``job.metrics()``'s created, running,
finished, quantum_seconds) read and checked, their waits beside the model's, and a background
fitted to the waits alone recovering a known queue's."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from qsim.analysis.wait_stats import compare_waits, wait_stats
from qsim.experiments.fit_jobs import fit_jobs_only, model_waits
from qsim.experiments.fit_replay import Draws, Model
from qsim.input import job_series
from qsim.input.job_series import JobsError, read_jobs
from qsim.present.cli import main

T0 = datetime(2023, 11, 16, 14, tzinfo=timezone.utc)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=float(seconds))).isoformat().replace("+00:00", "Z")


def known_queue(seed: int, days: float = 3.0) -> tuple[np.ndarray, ...]:
    """A simple independent queue: others' jobs in geometric bursts (mean 4) arriving as a
    Poisson process at 0.85 of one QPU's capacity, exponential quantum (mean 30 s); the user's
    jobs a Poisson stream of one per 10 min with the same quantum; FIFO, one QPU, and (as the
    service: SPEC §1) five lanes: a job is running once fewer than five jobs ahead of it are
    unfinished. The queue starts empty a day before the user's first job (a warm-up), so the
    user's waits are those of the steady queue. Every job's (submit, running, end, quantum,
    is_mine), in submission order, from the end of the warm-up."""
    rng = np.random.default_rng(seed)
    warmup, burst, service, load, lanes = 86400.0, 4.0, 30.0, 0.85, 5
    span = warmup + days * 86400
    events = rng.exponential(burst * service / load, size=int(span / 50)).cumsum()
    events = events[events < span]
    others = np.repeat(events, rng.geometric(1 / burst, size=len(events)))
    mine = warmup + rng.exponential(600.0, size=int(span / 200)).cumsum()
    mine = mine[mine < span]
    submit = np.concatenate([others, mine])
    is_mine = np.concatenate([np.zeros(len(others), bool), np.ones(len(mine), bool)])
    order = np.argsort(submit, kind="stable")
    submit, is_mine = submit[order], is_mine[order]
    quantum = rng.exponential(service, size=len(submit))
    running = np.empty(len(submit))
    end = np.empty(len(submit))
    free = 0.0
    for i in range(len(submit)):
        running[i] = max(submit[i], end[i - lanes]) if i >= lanes else submit[i]
        free = max(running[i], free) + quantum[i]
        end[i] = free
    return submit - warmup, running - warmup, end - warmup, quantum, is_mine


def known_jobs(seed: int, days: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                        np.ndarray]:
    """The user's jobs of :func:`known_queue`: (created, running, finished, quantum)."""
    submit, running, end, quantum, mine = known_queue(seed, days)
    return submit[mine], running[mine], end[mine], quantum[mine]


def known_series(seed: int, days: float = 3.0) -> str:
    """:func:`known_queue`'s pending_jobs (submitted, not yet running) every 10 s, as CSV."""
    submit, running, *_ = known_queue(seed, days)
    t = np.arange(0.0, days * 86400, 10.0)
    level = np.searchsorted(submit, t, side="right") - np.searchsorted(np.sort(running), t,
                                                                       side="right")
    return "timestamp,pending_jobs\n" + "".join(f"{iso(x)},{n}\n" for x, n in zip(t, level))


def write_jobs(path: Path, created: np.ndarray, running: np.ndarray, finished: np.ndarray,
               quantum: np.ndarray | None = None) -> Path:
    rows = ["created,running,finished" + (",quantum_seconds" if quantum is not None else "")]
    for i in range(len(created)):
        row = f"{iso(created[i])},{iso(running[i])},{iso(finished[i])}"
        rows.append(row + (f",{quantum[i]:.3f}" if quantum is not None else ""))
    path.write_text("\n".join(rows) + "\n")
    return path


# ---- reading --------------------------------------------------------------------------------

def test_a_jobs_file_reads_as_waits_and_run_times(tmp_path: Path) -> None:
    text = ("created,running,finished\n"
            "2023-11-16T13:00:10+01:00,2023-11-16T12:01:00Z,2023-11-16T12:01:30Z\n"
            + "".join(f"2023-11-16T12:{m:02d}:00,2023-11-16T12:{m:02d}:20,"
                      f"2023-11-16T12:{m:02d}:25\n" for m in range(5, 25)))
    got = read_jobs(write_text(tmp_path, text))
    assert got.start.isoformat() == "2023-11-16T12:00:10+00:00"  # the +01:00 converted to UTC
    assert got.wait_s[:2].tolist() == [50.0, 20.0] and got.run_s[:2].tolist() == [30.0, 5.0]
    assert not got.quantum_given and len(got.created) == 21


def test_quantum_seconds_are_the_run_times_when_given(tmp_path: Path) -> None:
    created, running, finished, quantum = known_jobs(1, days=0.5)
    got = read_jobs(write_jobs(tmp_path / "j.csv", created[::-1], running[::-1],
                               finished[::-1], quantum[::-1]))  # rows need not be sorted
    assert got.quantum_given
    assert np.allclose(got.run_s, quantum, atol=1e-3)
    assert np.allclose(got.wait_s, running - created, atol=1e-3)


def write_text(tmp_path: Path, text: str, name: str = "j.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "2023-11-16T12:00:00Z,2023-11-16T12:00:05Z,2023-11-16T12:00:09Z"
TWENTY = "".join(GOOD + "\n" for _ in range(20))


@pytest.mark.parametrize("text, message", [
    ("", "j.csv: empty file: expected a CSV with columns created, running, finished"),
    ("created,running\n" + GOOD[:41] + "\n",
     "j.csv:1: no 'finished' column (the header has created, running)"),
    ("created,running,finished\nyesterday,2023-11-16T12:00:05Z,2023-11-16T12:00:09Z\n",
     "j.csv:2: created: not an ISO 8601 time (e.g. 2023-11-16T13:59:48Z) (got 'yesterday')"),
    ("created,running,finished\n2023-11-16T12:00:00Z,2023-11-16T11:00:05Z,"
     "2023-11-16T12:00:09Z\n", "j.csv:2: running: running before created (a job runs after it "
     "is created) (got '2023-11-16T11:00:05Z')"),
    ("created,running,finished\n2023-11-16T12:00:00Z,2023-11-16T12:00:05Z,"
     "2023-11-16T12:00:01Z\n", "j.csv:2: finished: finished before running (a job finishes "
     "after it starts running) (got '2023-11-16T12:00:01Z')"),
    ("created,running,finished,quantum_seconds\n" + GOOD + ",-2\n",
     "j.csv:2: quantum_seconds: must be between 0 and 1e+07 seconds (got '-2')"),
    ("created,running,finished,quantum_seconds\n" + GOOD + ",nan\n",
     "j.csv:2: quantum_seconds: must be between 0 and 1e+07 seconds (got 'nan')"),
    ("created,running,finished\n" + GOOD + ",4\n", "j.csv:2: 4 fields where the header has 3"),
    ("created,running,finished\n" + TWENTY[:-len(GOOD) - 1],
     "j.csv: 19 jobs: qsim fit needs at least 20 to compare waits"),
])
def test_bad_jobs_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(JobsError) as info:
        read_jobs(write_text(tmp_path, text))
    assert str(info.value).replace(str(tmp_path) + os.sep, "") == message


def test_a_huge_jobs_file_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as fh:  # sparse: 2 GB that take no disk
        fh.write(b"created,running,finished\n")
        fh.truncate(2 * 1024 ** 3)
    with pytest.raises(JobsError, match="larger than 10 MB"):
        read_jobs(huge)
    assert job_series.MIN_JOBS == 20


# ---- the model's waits ----------------------------------------------------------------------

def test_the_users_jobs_wait_behind_the_background_in_the_model() -> None:
    # One lane, a background of three constant 100-s jobs already queued at 0, and two jobs
    # of the user's (10 s each) given out of order: each waits behind everything submitted
    # before it (FIFO), and the lane frees at its job's end.
    model = Model(arrival_rate=0.0, burst_mean=1.0, service_s=100.0, service_cv=0.0, lanes=1,
                  pending0=3)  # three jobs queued at 0, nothing else
    waits = model_waits(model, Draws(0, 0, 1000.0), np.array([150.0, 50.0]),
                        np.array([10.0, 10.0]))
    # the three queued jobs hold the lane 0-100, 100-200, 200-300; the job at 50 follows them
    # (300-310); the one at 150 follows it (310)
    assert waits.tolist() == pytest.approx([160.0, 250.0], abs=1e-9)


# ---- recovery of a known queue from its waits alone ----------------------------------------

def test_the_waits_alone_recover_a_known_queues_waits(tmp_path: Path) -> None:
    # The process's wait figures, over sixteen independent 6-day samples: one sample's vary
    # by a quarter and more (a bursty queue at load 0.85), and the fit sees one sample.
    pooled = [known_jobs(seed, days=6) for seed in range(41, 57)]
    truth = wait_stats(np.concatenate([r - c for c, r, _, _ in pooled]),
                       np.concatenate([q for *_, q in pooled]))
    path = write_jobs(tmp_path / "mine.csv", *known_jobs(20, days=6))
    result = fit_jobs_only(read_jobs(path), seed=0)
    met = compare_waits(truth, result.waits.model)
    assert all(met.values()), (met, truth, result.waits.model)
    assert compare_waits(result.waits.data, result.waits.model) == result.waits.met
    # the load near the true 0.85: the waits cannot split it from the burst size exactly
    assert 0.75 <= result.load <= 0.95


def test_the_waits_fit_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    jobs = read_jobs(write_jobs(tmp_path / "mine.csv", *known_jobs(20, days=1)))
    first = fit_jobs_only(jobs, seed=3, max_evaluations=6)
    again = fit_jobs_only(jobs, seed=3, max_evaluations=6)
    assert again.model == first.model and again.waits == first.waits


def test_a_series_and_the_jobs_of_one_queue_side_by_side(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    series = tmp_path / "pending.csv"
    series.write_text(known_series(30, days=2))
    jobs = write_jobs(tmp_path / "mine.csv", *known_jobs(30, days=2))
    out = tmp_path / "fitted"
    assert main(["fit", str(series), "--jobs", str(jobs), "--out", str(out), "-r", "2"]) == 0
    shown = capsys.readouterr().out
    assert "wait_p90" in shown and "Your jobs' waits" in shown and "own instants" in shown
    report = json.loads((out / "fit.json").read_text())
    waits = report["waits"]
    assert waits["placed"] == "at their own instants within the series' span"
    assert waits["jobs"]["data"] == len(known_jobs(30, days=2)[0])
    # the model fitted to the queue alone gives the user's jobs waits of the right size: the
    # series' own targets are issue 27's; the waits are checked within a factor of 2 here
    # (two days of one bursty queue, two replications)
    for name in ("wait_p50", "wait_p90", "wait_mean"):
        assert 0.5 <= waits[name]["model"] / waits[name]["data"] <= 2.0, (name, waits[name])


def test_the_jobs_run_times_give_the_service_only_where_the_series_cannot() -> None:
    from qsim.analysis.queue_estimate import Estimate
    from qsim.experiments.fit_jobs import service_from_jobs
    from qsim.input.job_series import JobSeries

    jobs = JobSeries("j.csv", T0, np.arange(20.0), np.zeros(20),
                     np.array([20.0, 40.0] * 10), True)
    bound = Estimate(span_s=3600.0, pending0=0, pauses=[], service_s=100.0, service_cv=1.0,
                     busy_blocks=3, arrival_rate=0.01, dispersion=2.0, burst_mean=1.5)
    taken = service_from_jobs(bound, jobs, lambda _: None)
    assert (taken.service_s, taken.service_cv) == (30.0, pytest.approx(1 / 3))
    tight = replace(bound, service_s=25.0)  # the series' bound is below the jobs' mean
    assert service_from_jobs(tight, jobs, lambda _: None).service_s == 25.0
    read = replace(bound, busy_blocks=10)  # enough busy blocks: the series' own reading
    assert service_from_jobs(read, jobs, lambda _: None) == read


def test_jobs_outside_the_series_keep_their_time_of_day() -> None:
    from qsim.experiments.fit_jobs import place_jobs
    from qsim.input.job_series import JobSeries

    jobs = JobSeries("j.csv", T0, np.array([0.0, 3600.0, 2 * 86400.0]), np.zeros(3),
                     np.ones(3), False)
    inside, why = place_jobs(jobs, 600.0, 3 * 86400.0)
    assert inside.tolist() == [600.0, 4200.0, 2 * 86400.0 + 600] and "own instants" in why
    # a week later, in a 2.5-day series: shifted by whole days (10 min after the series'
    # time of day), then wrapped over its 2 whole days
    later, why = place_jobs(jobs, 7 * 86400.0 + 600.0, 2.5 * 86400.0)
    assert later.tolist() == [600.0, 4200.0, 600.0] and "wrapped over 2 days" in why


def test_a_period_too_long_for_its_jobs_is_refused_before_any_run(tmp_path: Path) -> None:
    # a year of 1-s jobs: the background searched would be 30 million jobs a replication
    days = np.linspace(0.0, 365 * 86400.0, 30)
    path = write_jobs(tmp_path / "year.csv", days, days + 5, days + 6)
    with pytest.raises(JobsError, match=r"year.csv: 365 days of jobs of 1 s: .* give a "
                                        r"shorter period"):
        fit_jobs_only(read_jobs(path))


# ---- the command ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jobs_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jobs(tmp_path_factory.mktemp("jobs") / "mine.csv", *known_jobs(20))


def test_qsim_fit_jobs_alone_writes_the_folder(jobs_csv: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fitted"
    assert main(["fit", "--jobs", str(jobs_csv), "--out", str(out)]) == 0
    shown = capsys.readouterr()
    assert "wait_p90" in shown.out and "cannot" in shown.out
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "fit.json", "fit.png", "scenario.yaml"]
    report = json.loads((out / "fit.json").read_text())
    assert set(report["waits"]["wait_p50"]) == {"data", "model", "met", "target"}
    assert main(["validate", str(out / "scenario.yaml")]) == 0


@pytest.mark.parametrize("args, message", [
    (["fit", "--out", "OUT"], "give a SERIES, --jobs JOBS.csv, or both"),
    (["fit", "--jobs", "MISSING.csv", "--out", "OUT"], "MISSING.csv: no such file"),
])
def test_fit_without_input_or_with_a_missing_jobs_file_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        message: str) -> None:
    out = tmp_path / "out"
    args = [str(out) if a == "OUT" else str(tmp_path / a) if a.endswith(".csv") else a
            for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


@pytest.mark.parametrize("with_series", [False, True])
def test_a_bad_jobs_file_writes_nothing_even_beside_a_good_series(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], with_series: bool) -> None:
    bad = write_text(tmp_path, "created,running,finished\n" + TWENTY[:-len(GOOD) - 1])
    series = tmp_path / "s.csv"
    series.write_text("timestamp,pending_jobs\n" + "".join(
        f"{iso(60 * m)},{m % 7}\n" for m in range(120)))
    out = tmp_path / "out"
    args = ["fit", *([str(series)] if with_series else []), "--jobs", str(bad), "--out",
            str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "19 jobs" in err and "nothing was written" in err
    assert not out.exists()
