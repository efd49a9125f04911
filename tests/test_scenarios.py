"""Every file in scenarios/ validates and runs, and the ones that teach a number teach it right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qsim
from qsim.input.scenario import dump_resolved
from qsim.present.cli import main

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml")) + sorted(SCENARIOS.glob("backends/*.yaml"))
# The library the README promises.
PROMISED = ("vqe.yaml", "sampling-sweep.yaml", "qaoa-two-optimisers.yaml",
            "job-mode-experiment.yaml", "session-open-vs-closed.yaml", "legacy-lock.yaml")


def test_the_promised_scenarios_exist() -> None:
    names = {f.name for f in FILES}
    assert set(PROMISED) <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(SCENARIOS).as_posix())
def test_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: ok: ")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(SCENARIOS).as_posix())
def test_runs_and_reports(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    # a shipped example warns about nothing (a finite sweep is no unbounded stream)
    assert captured.err == ""
    summary = json.loads(captured.out)
    for w in summary["workloads"]:
        jobs = w["jobs"]
        assert jobs["submitted"] == sum(jobs[s] for s in ("done", "failed", "cancelled",
                                                          "incomplete"))
        if w["kind"] != "background":
            assert jobs["done"] > 0, f"{w['name']} in {path.name} did no work"


@pytest.mark.parametrize("name", PROMISED)
def test_is_commented_for_readers(name: str) -> None:
    lines = (SCENARIOS / name).read_text().splitlines()
    assert lines[0].startswith("# ")
    assert sum(1 for line in lines if "#" in line) >= 5


@pytest.mark.parametrize("name", [*PROMISED, *(f"backends/{p.name}" for p in
                                               sorted(SCENARIOS.glob("backends/*.yaml")))])
def test_resolved_form_loads_back(name: str) -> None:
    sc = qsim.load_scenario(SCENARIOS / name)
    assert qsim.parse_scenario(dump_resolved(sc)) == sc


def _entry(result: qsim.RunResult, name: str) -> dict:
    return next(w for w in result.summary()["workloads"] if w["name"] == name)


def test_vqe_is_the_main_example() -> None:
    sc = qsim.load_scenario(SCENARIOS / "vqe.yaml")
    vqe = sc.workload("vqe")
    assert (vqe.kind, vqe.mode.kind, vqe.iterations) == ("iterative", "session", 100)
    assert any(w.kind == "background" for w in sc.workloads)
    entry = _entry(qsim.simulate(sc), "vqe")
    assert entry["jobs"]["done"] == 100
    assert entry["usage_s"] > entry["quantum_s"]  # the session bills its idle time too


def test_open_session_pays_exactly_the_ttl_tail() -> None:
    result = qsim.simulate(qsim.load_scenario(SCENARIOS / "session-open-vs-closed.yaml"))
    closed, left_open = _entry(result, "closed"), _entry(result, "left-open")
    assert closed["usage_s"] == 175.0  # 10 x (2 + 10 + 1) + 9 x 5, as the file says
    assert left_open["usage_s"] - closed["usage_s"] == 60.0


def test_legacy_lock_against_today() -> None:
    """The numbers the file's comments promise (SPEC §9 B): 270 s locked, 74 s today."""
    sc = qsim.load_scenario(SCENARIOS / "legacy-lock.yaml")
    assert _entry(qsim.simulate(sc), "batch")["wall_time_s"] == 270.0
    data = dump_resolved(sc)
    data["backend"]["job_lock"] = "quantum"
    today = _entry(qsim.simulate(qsim.parse_scenario(data)), "batch")
    assert today["wall_time_s"] == 74.0 and today["usage_s"] == 50.0


def test_qaoa_runs_two_optimisers_in_one_session() -> None:
    sc = qsim.load_scenario(SCENARIOS / "qaoa-two-optimisers.yaml")
    qaoa = sc.workload("qaoa")
    assert (qaoa.parallel, qaoa.mode.kind) == (2, "session")
    assert _entry(qsim.simulate(sc), "qaoa")["windows"] == 1


def test_batch_sweep_is_faster_than_job_mode_for_the_same_bill() -> None:
    sc = qsim.load_scenario(SCENARIOS / "sampling-sweep.yaml")
    result = qsim.compare(sc, modes=("job", "batch"), workers=1)
    assert result.figure("batch", "cost_usd") == pytest.approx(result.figure("job", "cost_usd"))
    assert result.figure("batch", "wall_time_s") < result.figure("job", "wall_time_s")


def test_the_fleet_sends_the_vqe_where_the_queue_was_shortest() -> None:
    sc = qsim.load_scenario(SCENARIOS / "fleet.yaml")
    assert qsim.parse_scenario(dump_resolved(sc)) == sc
    result = qsim.simulate(sc)
    summary = result.summary()
    names = [b["name"] for b in summary["backends"]]
    assert len(names) == 6 and "hand-written, not fitted" in (
        SCENARIOS / "fleet.yaml").read_text().replace("HAND-WRITTEN, NOT FITTED",
                                                     "hand-written, not fitted")
    vqe = _entry(result, "vqe")
    assert vqe["backend"] in names and vqe["complete"]
    # it ran on one backend, where it started
    assert set(result.jobs[result.jobs["workload"] == "vqe"]["backend"]) == {vqe["backend"]}
