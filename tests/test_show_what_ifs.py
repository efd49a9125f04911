"""What ``validate --show`` says of the circuit form's per-circuit charge and of the QPU's
order (issue 29, SPEC §19): each is stated when the scenario uses it, and only then."""

from __future__ import annotations

from pathlib import Path

from test_hostile import cli, write

USED = """\
name: t
backend: {qpu_order: ready}
workloads:
  - name: vqe
    kind: iterative
    iterations: 3
    mode: batch
    quantum: {circuits: 4, shots: 1000, per_circuit_overhead: 50ms, multiplier: 3}
"""


def notes(out: str) -> list[str]:
    return [line for line in out.splitlines()
            if line.startswith(("# vqe: quantum", "# qpu_order", "# a:", "# b:"))]


def test_show_states_the_per_circuit_charge_and_the_qpu_order(tmp_path: Path) -> None:
    code, out, err = cli("validate", write(tmp_path, USED), "--show")
    assert (code, err) == (0, "")
    assert notes(out) == [
        "# vqe: quantum 6.8s a job = 2s + 50ms x 4 circuits x 3 (per_circuit_overhead) + "
        "(250us + 100us) x 4 circuits x 3 x 1,000 shots",
        "# qpu_order: ready (what-if): the QPU serves dispatched jobs first ready, first "
        "served, whatever their batch or session; by default the active batch's or session's "
        "jobs go first"]
    assert "  qpu_order: ready" in out and "per_circuit_overhead: 0.05" in out


def test_show_says_nothing_of_them_when_unused(tmp_path: Path) -> None:
    plain = USED.replace("backend: {qpu_order: ready}\n", "").replace(
        ", per_circuit_overhead: 50ms", "")
    code, out, _ = cli("validate", write(tmp_path, plain), "--show")
    assert code == 0
    assert notes(out) == ["# vqe: quantum 6.2s a job = 2s + (250us + 100us) x 4 circuits x 3 "
                          "x 1,000 shots"]
    assert "qpu_order" not in out and "per_circuit_overhead" not in out


def test_show_names_the_backend_of_a_fleet(tmp_path: Path) -> None:
    fleet = ("name: t\nbackends:\n  - {name: a}\n  - {name: b, qpu_order: ready}\n"
             "workloads:\n  - {name: x, kind: independent, jobs: 1, quantum: 10s}\n")
    out = cli("validate", write(tmp_path, fleet), "--show")[1]
    assert [line[:22] for line in notes(out)] == ["# b: qpu_order: ready "]
