"""qsim.qiskit with the real libraries (the `qiskit` extra, installed in CI): the published
estimate against hand-computed values, the recorder on a small VQE, and `qsim trace`.

Small and quick: 5-qubit fake backends, few shots, and noiseless simulation (Aer built from
the fake backend's target, so durations stay real) where results do not matter."""

from __future__ import annotations

import json
import math
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402
from qiskit_ibm_runtime.fake_provider import FakeManilaV2  # noqa: E402

import qsim  # noqa: E402
from qsim.present.cli import main  # noqa: E402
from qsim.qiskit import DurationWarning, estimate_quantum_seconds  # noqa: E402

REP = 250e-6  # FakeManilaV2's default rep_delay


@pytest.fixture(scope="module")
def backend() -> FakeManilaV2:
    return FakeManilaV2()


def durations(backend: FakeManilaV2, name: str, *qubits: int) -> float:
    return backend.target[name][tuple(qubits)].duration


def test_a_sampler_job_is_overhead_plus_rep_delay_and_circuit_per_shot(backend) -> None:
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    circuit_s = durations(backend, "x", 0) + durations(backend, "measure", 0)
    est = estimate_quantum_seconds([qc], backend, primitive="sampler", shots=1000)
    assert est.quantum_s == pytest.approx(2 + (REP + circuit_s) * 1 * 1000, rel=1e-12)
    assert (est.rep_delay_from, est.multiplier, est.shots) == ("backend", 1.0, 1000)
    # three parameter sets: three executions; default shots 4096
    theta = Parameter("t")
    pqc = QuantumCircuit(1, 1)
    pqc.rz(theta, 0)
    pqc.sx(0)
    pqc.measure(0, 0)
    sx_meas = durations(backend, "sx", 0) + durations(backend, "measure", 0)
    est = estimate_quantum_seconds([(pqc, [[0.1], [0.2], [0.3]])], backend, primitive="sampler")
    assert est.quantum_s == pytest.approx(2 + (REP + sx_meas) * 3 * 4096, rel=1e-12)
    assert est.circuits[0].executions == 3


def test_an_estimator_job_counts_its_measurement_bases_and_its_precision(backend) -> None:
    qc = QuantumCircuit(5)
    qc.sx(0)
    qc.sx(1)
    # ZZ and ZI share a basis, XX needs its own: 2 bases; precision 0.01: 10 000 shots
    observables = ["IIIZZ", "IIIXX", "IIIIZ", "IIIII"]
    per_qubit = [2 * durations(backend, "sx", q) + durations(backend, "measure", q)
                 for q in (0, 1)]
    est = estimate_quantum_seconds([(qc, observables)], backend, primitive="estimator",
                                   precision=0.01, options={"resilience_level": 0})
    assert est.circuits[0].executions == 2
    assert est.circuits[0].shots == 10000
    assert est.quantum_s == pytest.approx(2 + (REP + max(per_qubit)) * 2 * 10000, rel=1e-12)
    # resilience 2: ZNE x3 (noise factors 1, 3, 5), gate and measure twirling round 10 000
    # shots up to 32 randomizations of max(64, ceil(10000 / 32)) = 313 shots: 10 016
    est2 = estimate_quantum_seconds([(qc, observables)], backend, primitive="estimator",
                                    precision=0.01, options={"resilience_level": 2})
    assert (est2.multiplier, est2.circuits[0].shots) == (3.0, 10016)
    assert est2.quantum_s == pytest.approx(2 + (REP + max(per_qubit)) * 2 * 3 * 10016,
                                           rel=1e-12)
    assert any(a.startswith("zne: x3") for a in est2.assumptions)


def test_shots_come_from_the_pub_then_default_shots_then_default_precision(backend) -> None:
    qc = QuantumCircuit(5)
    qc.sx(0)
    zero = {"resilience_level": 0}
    default = estimate_quantum_seconds([(qc, "IIIIZ")], backend, primitive="estimator",
                                       options=zero)
    assert default.circuits[0].shots == 4096  # default_precision 0.015625
    shots = estimate_quantum_seconds([(qc, "IIIIZ")], backend, primitive="estimator",
                                     options={**zero, "default_shots": 300,
                                              "default_precision": 0.5})
    assert shots.circuits[0].shots == 300
    pub = estimate_quantum_seconds([(qc, "IIIIZ", None, 0.1)], backend, primitive="estimator",
                                   options={**zero, "default_shots": 300})
    assert pub.circuits[0].shots == 100
    rep = estimate_quantum_seconds([qc.measure_all(inplace=False)], backend,
                                   primitive="sampler", options={"execution": {"rep_delay":
                                                                               1e-4}})
    assert (rep.rep_delay_s, rep.rep_delay_from) == (1e-4, "options")


def test_an_unknown_duration_falls_back_to_the_default_with_a_warning(backend) -> None:
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(1, 1)
    qc.h(0)  # no duration on an ideal simulator's target
    qc.measure(0, 0)
    with pytest.warns(DurationWarning, match=r"^circuit 'circuit-\d+': duration unknown "
                      r"\(Duration not found for h on qubits: \[Qubit\(0\)\]\); assuming "
                      r"100us \(SPEC §2's default\)$"):
        est = estimate_quantum_seconds([qc], AerSimulator(), primitive="sampler", shots=100)
    assert est.circuits[0].duration_from == "default"
    assert est.rep_delay_from == "default"
    assert est.quantum_s == pytest.approx(2 + (250e-6 + 100e-6) * 100)


def test_an_executor_program_runs_its_items_as_stated(backend) -> None:
    from qiskit_ibm_runtime.quantum_program import QuantumProgram

    theta = Parameter("t")
    qc = QuantumCircuit(1, 1)
    qc.rz(theta, 0)
    qc.sx(0)
    qc.measure(0, 0)
    program = QuantumProgram(shots=100)
    program.append_circuit_item(qc, circuit_arguments=np.zeros((4, 1)))
    est = estimate_quantum_seconds(program, backend)
    sx_meas = durations(backend, "sx", 0) + durations(backend, "measure", 0)
    assert est.quantum_s == pytest.approx(2 + (REP + sx_meas) * 4 * 100, rel=1e-12)


VQE = textwrap.dedent('''
    """A small VQE as the Qiskit docs write one, with a known pause between evaluations."""
    import sys, time
    import numpy as np
    from scipy.optimize import minimize
    from qiskit.circuit.library import efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import Batch, EstimatorV2, SamplerV2, Session
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    PAUSE = float(sys.argv[1])
    calls = []
    backend = AerSimulator.from_backend(FakeManilaV2(), noise_model=None)  # noiseless
    hamiltonian = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.4), ("IX", 0.4)])
    ansatz = efficient_su2(2, reps=1)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(ansatz)
    observable = hamiltonian.apply_layout(isa.layout)

    def cost(x, estimator):
        calls.append(x)
        energy = estimator.run([(isa, observable, x)]).result()[0].data.evs
        time.sleep(PAUSE)  # the classical side: what qsim trace must measure
        return float(energy)

    with Session(backend=backend) as session:
        estimator = EstimatorV2(mode=session)
        estimator.options.default_shots = 200
        minimize(cost, np.full(isa.num_parameters, 0.1), args=(estimator,),
                 method="COBYLA", options={"maxiter": 10})
    measured = isa.assign_parameters(np.zeros(isa.num_parameters)).measure_all(inplace=False)
    with Batch(backend=backend) as batch:
        jobs = [SamplerV2(mode=batch).run([measured], shots=100) for _ in range(2)]
    [job.result() for job in jobs]
    SamplerV2(mode=backend).run([measured], shots=100).result()  # job mode
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").write(str(len(calls)))  # the evaluations COBYLA made
''')


@pytest.fixture(scope="module")
def vqe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vqe") / "vqe.py"
    path.write_text(VQE)
    return path


@pytest.mark.slow
def test_the_recorder_recovers_think_times_jobs_and_modes(vqe: Path, tmp_path: Path) -> None:
    from qsim.qiskit import trace_script

    pause = 0.15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        rec, warned = trace_script(str(vqe), [str(pause), str(tmp_path / "n")])
    n = int((tmp_path / "n").read_text())  # the cost evaluations: one Estimator job each
    assert warned == [] and n >= 5
    assert [j.primitive for j in rec.jobs] == ["estimator"] * n + ["sampler"] * 3
    assert rec.modes == ("job", "batch", "session") and rec.mode == "session"
    assert [c.kind for c in rec.contexts] == ["session", "batch"] and rec.closed
    assert [j.context for j in rec.jobs] == [0] * n + [1, 1, None]
    ops = [s.op for s in rec.steps if s.op != "think"]
    assert ops == ["open"] + ["submit", "wait"] * n + ["close", "open", "submit", "submit",
                                                      "close", "wait", "wait", "submit", "wait"]
    # The think after each of the first four results is the pause plus COBYLA's step. The
    # tolerance: sleep() overshoots by the scheduler's latency (~1 ms here, tens of ms on a
    # loaded 2-core CI machine) and the optimiser's step takes well under 10 ms; 60 ms covers
    # both, while a leak of blocked time (the simulation of the next job, > 10 ms even
    # noiseless, plus the estimate) would still be caught by the upper bound below.
    thinks = _thinks_after_waits(rec)
    assert len(thinks) >= 4
    for t in thinks[:4]:
        assert pause <= t < pause + 0.06
    for job in rec.jobs[:n]:  # 2 bases (ZZ; XI and IX), 200 shots twirled to 4 x 64 = 256
        assert (job.circuits[0].executions, job.circuits[0].shots) == (2, 256)


def _thinks_after_waits(rec: qsim.records.trace_file.Recording) -> list[float]:
    out = []
    for before, step in zip(rec.steps, rec.steps[1:]):
        if before.op == "wait" and step.op == "think":
            out.append(step.seconds)
    return out


@pytest.mark.slow
def test_qsim_trace_writes_a_scenario_that_compares_in_all_modes(
        vqe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert main(["trace", str(vqe), "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Recorded {vqe}: " in printed
    assert " jobs (estimator, sampler) in job and batch and session mode (1 batch, 1 session)." \
        in printed
    assert f"qsim compare {out}/scenario.yaml" in printed
    assert {"scenario.yaml", "trace.json"} <= {p.name for p in out.iterdir()}
    trace = json.loads((out / "trace.json").read_text())
    assert (trace["format"], trace["version"]) == ("qsim-trace", 2)
    assert all(j["circuit_count"] == sum(c["executions"] for c in j["circuits"])
               for j in trace["jobs"])
    assert "  circuits a job: " in printed
    jobs = len(trace["jobs"])
    assert main(["compare", str(out / "scenario.yaml"), "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    quantum = sum(j["quantum_s"] for j in trace["jobs"])
    for mode in ("job", "batch", "session"):
        entry = compared["modes"][mode]
        assert entry["jobs"]["done"] == jobs and entry["complete"]
        assert math.isclose(entry["quantum_s"], quantum, rel_tol=1e-9)


@pytest.mark.parametrize("body,message", [
    ("raise ValueError('no  convergence')\n", "{s} raised ValueError: no convergence (line 1)"),
    ("import sys\nsys.exit(3)\n", "{s} exited with status 3"),
    ("print('hello')\n", "{s}: no qiskit-ibm-runtime job was run (qsim trace records SamplerV2, "
     "EstimatorV2, the executor-based Sampler and Estimator, and Executor): nothing to record"),
])
def test_a_script_that_fails_or_runs_no_job_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str) -> None:
    script = tmp_path / "p.py"
    script.write_text(body)
    out = tmp_path / "out"
    assert main(["trace", str(script), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"qsim: error: {message.format(s=script)}; nothing was written\n"
    assert not out.exists()
    assert main(["trace", str(tmp_path / "none.py"), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"qsim: error: {tmp_path}/none.py: no such file; "
                                       "nothing was written\n")
