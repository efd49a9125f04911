"""SPEC §18 in what a run shows: the report's row per backend, the timeline's QPU row per
backend, jobs.csv's backend column, ``qsim run --json``'s backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from helpers import job, run
from rich.console import Console

from qsim.present import cli
from qsim.present.report import print_summary

FLEET = """\
name: fleet-small
horizon: 1h
backends:
  - {name: ibm_a, calibration: {every: 20m, duration: 5m}}
  - {name: ibm_b, outages: [{start: 30m, end: 40m}]}
workloads:
  - {name: bg, kind: independent, backend: ibm_a, jobs: 100, quantum: 30s}
  - {name: vqe, kind: iterative, backend: least_busy, mode: session, iterations: 5,
     quantum: 5s, classical: 10s, start: 10m}
"""


def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    return path


def test_the_report_has_a_row_per_backend() -> None:
    result = run(job("w", 2, backend="b"), backends=[{"name": "a"}, {"name": "b"}])
    out = Console(width=120, file=io.StringIO(), color_system=None)
    print_summary(out, result.summary())
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "Backends (QPUs)" in text and "Backend (QPU)" not in text
    rows = [line for line in text.splitlines() if line.startswith("│ a ") or
            line.startswith("│ b ")]
    assert len(rows) == 2 and "20s" in rows[1] and "0s" in rows[0]


def test_run_json_and_out_carry_each_jobs_backend(tmp_path: Path, capsys: object) -> None:
    path = fleet_file(tmp_path)
    assert cli.main(["run", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert [b["name"] for b in summary["backends"]] == ["ibm_a", "ibm_b"]
    assert summary["backends"][1]["outages"] == 1 and summary["backends"][0]["calibrations"] == 2
    assert [w["backend"] for w in summary["workloads"]] == ["ibm_a", "ibm_b"]
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "jobs.csv").open(encoding="utf-8")))
    assert {r["backend"] for r in rows if r["workload"] == "vqe"} == {"ibm_b"}
    assert {r["backend"] for r in rows if r["workload"] == "bg"} == {"ibm_a"}
    assert (out / "timeline.png").stat().st_size > 0


def test_the_timeline_has_a_qpu_row_per_backend() -> None:
    from qsim.present.plots import timeline

    names = [f"ibm_{n}" for n in "abcdef"]
    result = run(*(job(f"w{n}", 3, backend=n) for n in names),
                 backends=[{"name": n} for n in names])
    ax = timeline(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"QPU {n}" for n in names]
    one = timeline(run(job("w", 3)))
    assert [t.get_text() for t in one.get_yticklabels()][:2] == ["QPU", "lane 1"]


COMPARE = """\
name: where
backends: [{name: busy}, {name: empty}]
workloads:
  - {name: others, kind: independent, backend: busy, jobs: 6, quantum: 100s}
  - {name: vqe, kind: iterative, iterations: 3, quantum: 10s, classical: 5s, backend: busy}
"""


def test_compare_backends_says_where_and_how(tmp_path: Path, capsys: object) -> None:
    import qsim

    path = tmp_path / "where.yaml"
    path.write_text(COMPARE, encoding="utf-8")
    c = qsim.compare(qsim.load_scenario(path), "vqe", ("job", "session"), workers=1,
                     backends=("busy", "empty"))
    assert list(c.modes) == ["job on busy", "session on busy", "job on empty",
                             "session on empty"]
    # on the empty backend: 3 x 10 s quantum + 2 x 5 s classical, in either mode
    assert c.modes["job on empty"]["wall_time_s"] == 40.0
    assert c.modes["job on busy"]["wall_time_s"] > 100.0  # behind the others' 100 s jobs
    assert c.verdict.fastest == ("job on empty", "session on empty")
    assert c.verdict.cheapest[0] == "job on busy"  # job mode costs the same everywhere
    assert cli.main(["compare", str(path), "-w", "vqe", "--backends", "busy,empty", "--modes",
                     "job,session"]) == 0
    said = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "in each mode on each backend" in said
    assert "Fastest: job mode on empty and session mode on empty" in " ".join(said.split())


def test_compare_backends_rejects_what_is_not_there(tmp_path: Path, capsys: object) -> None:
    path = tmp_path / "where.yaml"
    path.write_text(COMPARE, encoding="utf-8")
    assert cli.main(["compare", str(path), "--backends", "busy,nope"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err == "qsim: error: --backends: no backend named 'nope'; backends: busy, empty\n"
    one = tmp_path / "one.yaml"
    one.write_text("name: one\nworkloads:\n  - {name: w, kind: independent, jobs: 1, "
                   "quantum: 1s}\n", encoding="utf-8")
    assert cli.main(["compare", str(one), "--backends", "a"]) == 2
    assert "needs a backends: list" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_a_sweep_varies_a_workloads_backend(tmp_path: Path) -> None:
    import qsim

    path = tmp_path / "where.yaml"
    path.write_text(COMPARE, encoding="utf-8")
    table = qsim.sweep(qsim.load_scenario(path),
                       {"workloads.vqe.backend": ["busy", "empty", "least_busy"]}, workers=1)
    vqe = table[table["workload"] == "vqe"]
    assert vqe["workloads.vqe.backend"].tolist() == ["busy", "empty", "least_busy"]
    assert vqe["backend"].tolist() == ["busy", "empty", "empty"]  # least_busy: busy has 5
    assert vqe["wall_time_s"].tolist()[1:] == [40.0, 40.0]
    assert vqe["wall_time_s"].tolist()[0] > 100.0
