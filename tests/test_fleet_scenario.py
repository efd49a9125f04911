"""SPEC §18, the scenario side: ``backends:`` instead of ``backend:``, each workload's
``backend`` (a name, ``least_busy``, ``{least_busy: [a, b]}``), and the errors naming the
field. One-backend files keep ``scenario.backend`` and load as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scenario import error_of
from test_scenario import write as write_file

from qsim.input.scenario import dump_resolved, load_scenario, parse_scenario

FLEET = """\
name: fleet
backends:
  - {name: a, lanes: 5, queue: fair_share}
  - {name: b, lanes: 3, rep_delay: 1ms}
workloads:
  - {name: bg, kind: background, backend: b, load: 0.5, quantum: 10s}
  - {name: vqe, kind: iterative, backend: least_busy, iterations: 2, quantum: 1s}
  - {name: pick, kind: independent, backend: {least_busy: [b, a]}, jobs: 2, quantum: 1s}
  - {name: first, kind: independent, jobs: 1, quantum: 1s}
horizon: 1h
"""


def write(tmp_path: Path, text: str) -> Path:
    return write_file(tmp_path, text, "fleet.yaml")


def test_a_fleet_loads_with_each_workloads_candidates(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, FLEET))
    assert [b.name for b in s.fleet] == ["a", "b"]
    assert (s.fleet[0].lanes, s.fleet[1].lanes) == (5, 3)
    # `backend` stays: the first backend, for what reads one
    assert s.backend.lanes == 5 and s.backend.queue == "fair_share"
    assert [s.candidates(i) for i in range(4)] == [(1,), (0, 1), (0, 1), (0,)]
    assert [s.routed(i) for i in range(4)] == [False, True, True, False]


def test_a_one_backend_file_has_a_fleet_of_one(tmp_path: Path) -> None:
    s = parse_scenario({"name": "t", "backend": {"lanes": 2},
                        "workloads": [{"name": "w", "kind": "independent", "jobs": 1,
                                       "quantum": "1s"}]})
    assert len(s.fleet) == 1 and s.fleet[0] is s.backend and s.backends == ()
    assert s.candidates(0) == (0,) and not s.routed(0)
    dumped = dump_resolved(s)
    assert "backends" not in dumped and "backend" not in dumped["workloads"][0]


def test_a_fleet_dumps_and_loads_back(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, FLEET))
    dumped = dump_resolved(s)
    assert "backend" not in dumped and [b["name"] for b in dumped["backends"]] == ["a", "b"]
    assert parse_scenario(dumped) == s
    assert s.with_seed(3).fleet == s.fleet


def test_rep_delay_comes_from_the_workloads_backend(tmp_path: Path) -> None:
    text = FLEET.replace("quantum: 10s}", "quantum: {circuits: 1, shots: 1000}}")
    s = load_scenario(write(tmp_path, text))
    assert s.workloads[0].quantum.rep_delay == 1e-3  # type: ignore[union-attr]


EXACT = [
    (FLEET.replace("name: fleet\n", "name: fleet\nbackend: {lanes: 2}\n"),
     ":3: backends: give backend: (one) or backends: (several), not both"),
    (FLEET.replace("{name: b, ", "{name: a, "),
     ":4: backends[1].name: duplicate backend name 'a'"),
    (FLEET.replace("{name: b, lanes: 3, rep_delay: 1ms}", "{lanes: 3}"),
     ":4: backends[1].name: required key missing"),
    (FLEET.replace("backend: b,", "backend: c,"),
     ":6: workloads[0].backend: no backend named 'c'; backends: a, b, least_busy, "
     "{least_busy: [...]} (got 'c')"),
    (FLEET.replace("[b, a]", "[b, z]"),
     ":8: workloads[2].backend.least_busy: no backend named 'z'; backends: a, b (got ['b', 'z'])"),
    (FLEET.replace("[b, a]", "[]"),
     ":8: workloads[2].backend.least_busy: must name at least one backend (got [])"),
    (FLEET.replace("{name: b, ", "{name: least_busy, "),
     ":4: backends[1].name: least_busy routes between backends: not a backend's name "
     "(got 'least_busy')"),
    (FLEET.replace("backends:", "backendz:"),
     ":2: backendz: unknown key 'backendz'; allowed: name, seed, horizon, warmup, plan, "
     "open_sessions, instances, backend, backends, pricing, accounting, workloads"),
    (FLEET.replace("{name: b, lanes: 3,", "{name: b, lanes: 3, fair_share_window: 7d,"),
     ":4: backends[1].fair_share_window: must be the first backend's (28d): fair share counts "
     "an instance's usage on every backend together (got '7d')"),
]


@pytest.mark.parametrize(("text", "expected"), EXACT)
def test_bad_fleets_give_the_exact_message(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert str(error_of(path)) == f"{path}{expected}"


def test_a_workload_naming_a_backend_in_a_one_backend_file(tmp_path: Path) -> None:
    text = ("name: t\nworkloads:\n  - {name: w, kind: independent, jobs: 1, quantum: 1s, "
            "backend: kyiv}\n")
    path = write(tmp_path, text)
    assert str(error_of(path)) == (
        f"{path}:3: workloads[0].backend: no backend named 'kyiv'; the scenario has one "
        "unnamed backend: name it in backends: [{name: kyiv, ...}] (got 'kyiv')")


def test_the_load_warning_is_per_backend() -> None:
    def fleet(a: float, b: float) -> list[str]:
        return list(parse_scenario({"name": "t", "horizon": "1h", "backends": [
            {"name": "a"}, {"name": "b"}], "workloads": [
            {"name": "x", "kind": "background", "load": a, "quantum": "1s", "backend": "a"},
            {"name": "y", "kind": "background", "load": b, "quantum": "1s",
             "backend": "least_busy"}]}, "t.yaml").warnings)

    assert fleet(0.6, 0.6) == []  # 1.2 in all, 0.9 on a
    assert fleet(0.8, 0.6) == ["t.yaml: the open streams offer one backend a load of 1.100 "
                               ">= 1: the queue grows without bound and the figures depend on "
                               "the horizon"]
