"""Issue 25 item 12: qiskit-ibm-runtime's executor-based primitives
(``qiskit_ibm_runtime.executor_sampler``, ``executor_estimator``; 0.51), whose options leave
``execution.rep_delay`` unset as None, recorded on a fake backend; and the options reader's
None, with or without the qiskit extra."""

from __future__ import annotations

import warnings

import pytest

from qsim.qiskit.estimate import _Options


def test_an_unset_option_reads_as_none_not_as_an_empty_mapping() -> None:
    """The bug: a None anywhere below the top was read as {} (float({}) then raised)."""
    options = _Options({"execution": {"rep_delay": None, "init_qubits": True},
                        "twirling": None, "default_shots": 4096})
    assert options.get("execution.rep_delay") is None
    assert options.get("execution.init_qubits") is True
    assert options.get("twirling") is None
    assert options.get("twirling.enable_gates") is None
    assert options.get("default_shots") == 4096
    assert _Options(None).get("execution.rep_delay") is None


def test_the_executor_sampler_is_recorded() -> None:
    executor_sampler = pytest.importorskip("qiskit_ibm_runtime.executor_sampler")
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qsim.qiskit.recorder import Recorder

    backend = FakeManilaV2()
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Recorder() as recorder:
            sampler = executor_sampler.Sampler(mode=backend)
            assert sampler.options.execution.rep_delay is None  # what crashed the recorder
            sampler.run([isa], shots=100).result()
        rec = recorder.recording()
    assert [(j.primitive, j.context) for j in rec.jobs] == [("executor", None)]
    assert rec.mode == "job" and rec.backend.rep_delay_s == 250e-6  # FakeManilaV2's default
    job = rec.jobs[0]
    assert (job.circuits[0].shots, job.rep_delay_s) == (100, None)
    assert job.quantum_s == pytest.approx(job.quantum_seconds(250e-6))
