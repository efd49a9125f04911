"""The per-circuit counts of a recorded job (issue 29, SPEC §19): a trace of version 2 says how
many circuits each job ran (``circuit_count``), ``qsim trace`` prints them with the shots per
circuit so that a user can set ``per_circuit_overhead``, and a recorded workload takes that
charge. Traces of version 1 (without the count) still read and replay as before."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from test_recorded import CIRCUITS, LOOP, entry, job, replay, spans, trace, write

import qsim
from qsim.present.trace_command import summary
from qsim.records import trace_file as recording


def test_a_version_1_trace_reads_and_counts_its_circuits(tmp_path: Path) -> None:
    rec = recording.parse_trace(trace(LOOP))
    assert rec.version == 1
    assert [j.circuit_count for j in rec.jobs] == [2, 2]  # 2 executions of one circuit
    replayed = replay(tmp_path, trace(LOOP))  # as before: 8 s a job
    assert spans(replayed, "submit_at", "quantum_start_at", "end_at") == [
        (4.0, 4.0, 12.0), (17.0, 17.0, 25.0)]


def test_version_2_writes_the_count_and_reads_it_back() -> None:
    data = {**trace(LOOP), "version": 2,
            "jobs": [job(i, circuit_count=2) for i in range(2)]}
    rec = recording.parse_trace(data)
    assert recording.VERSION == 2
    written = json.loads(recording.dump_trace(rec))
    assert [j["circuit_count"] for j in written["jobs"]] == [2, 2]
    assert recording.parse_trace(written) == rec


def test_a_count_that_does_not_match_the_circuits_is_refused() -> None:
    data = {**trace(LOOP), "version": 2, "jobs": [job(0, circuit_count=3), job(1)]}
    with pytest.raises(recording.TraceError) as err:
        recording.parse_trace(data, "t.json")
    assert str(err.value) == ("t.json: jobs[0].circuit_count: must be the executions of its "
                              "circuits (2) (got 3)")


def test_a_recorded_workload_takes_a_charge_per_circuit(tmp_path: Path) -> None:
    # 8 s + 0.5 s x 2 circuits = 9 s a job: quantum 4-13, then 18-27 (think 5 s between).
    result = replay(tmp_path, trace(LOOP), per_circuit_overhead="500ms")
    assert spans(result, "submit_at", "quantum_start_at", "end_at") == [
        (4.0, 4.0, 13.0), (18.0, 18.0, 27.0)]
    assert (entry(result)["quantum_s"], entry(result)["usage_s"]) == (18.0, 23.0)
    loaded = qsim.load_scenario(write(tmp_path, trace(LOOP), per_circuit_overhead="500ms"))
    assert loaded.workloads[0].model_dump()["per_circuit_overhead"] == 0.5
    plain = qsim.load_scenario(write(tmp_path, trace(LOOP)))
    assert "per_circuit_overhead" not in plain.workloads[0].model_dump()


def test_the_multiplier_multiplies_the_circuits_charged(tmp_path: Path) -> None:
    # x3 (ZNE): 2 + 0.3 ms x 2 x 3 x 10 000 = 20 s, and 0.5 s x 6 circuits = 3 s more.
    tripled: dict[str, Any] = {**trace(LOOP), "jobs": [
        job(i, multiplier=3.0, quantum_s=20.0) for i in range(2)]}
    result = replay(tmp_path, tripled, per_circuit_overhead="500ms")
    assert entry(result)["quantum_s"] == pytest.approx(46.0)


def test_the_summary_shows_the_circuits_and_shots_a_job() -> None:
    mixed = {**trace(LOOP, jobs=2), "jobs": [
        job(0), job(1, circuits=[{**CIRCUITS[0], "executions": 4, "shots": 1000}],
                    quantum_s=2 + 300e-6 * 4 * 1000)]}
    text = summary(recording.parse_trace(mixed), "vqe.py", Path("out"), 1.0)
    assert ("  circuits a job: 2 to 4 (6 in all), of 1,000 to 10,000 shots each: set "
            "per_circuit_overhead: D on the workload to charge D a circuit") in text.splitlines()


def test_the_recorder_writes_each_jobs_circuit_count() -> None:
    pytest.importorskip("qiskit_ibm_runtime")
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qsim.qiskit import Recorder

    theta = Parameter("t")
    qc = QuantumCircuit(1, 1)
    qc.rz(theta, 0)
    qc.sx(0)
    qc.measure(0, 0)
    with Recorder() as rec, warnings.catch_warnings():  # 3 parameter sets, then 2 circuits
        warnings.simplefilter("ignore", DeprecationWarning)
        sampler = SamplerV2(mode=FakeManilaV2())
        sampler.run([(qc, [[0.1], [0.2], [0.3]])], shots=64).result()
        sampler.run([(qc, [[0.1]]), (qc, [[0.2]])], shots=32).result()
    traced = rec.recording()
    assert [j.circuit_count for j in traced.jobs] == [3, 2]
    assert [j["circuit_count"] for j in json.loads(recording.dump_trace(traced))["jobs"]] \
        == [3, 2]
    assert traced.version == 2 and traced.shots_range() == (32, 64)


def test_show_states_a_recorded_workloads_charge_per_circuit(tmp_path: Path) -> None:
    from test_hostile import cli

    path = write(tmp_path, trace(LOOP), per_circuit_overhead="500ms")
    code, out, _ = cli("validate", str(path), "--show")
    assert code == 0
    assert ("# p: per_circuit_overhead 500ms x 4 recorded circuits (x multiplier) = 2s more "
            "quantum time in all") in out.splitlines()
    plain = cli("validate", str(write(tmp_path, trace(LOOP))), "--show")[1]
    assert "per_circuit_overhead" not in plain
