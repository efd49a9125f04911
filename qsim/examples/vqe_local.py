"""A small VQE, written as the Qiskit docs write one, in local testing mode.

It finds the ground-state energy of a two-qubit Hamiltonian with an EstimatorV2 in a
Session on a fake backend (FakeManilaV2: a snapshot of a real 5-qubit QPU, simulated with
its noise on this machine), then samples the optimised circuit once with a SamplerV2.

    python vqe_local.py                              # run it
    qsim trace vqe_local.py --out my-vqe             # record it for qsim
    qsim compare my-vqe/scenario.yaml                # what each execution mode would cost

Needs: pip install 'qsim-execution-modes[qiskit]' (qiskit, qiskit-ibm-runtime, qiskit-aer; scipy).
"""

import numpy as np
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import EstimatorV2 as Estimator
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from scipy.optimize import minimize

# Step 1: map the problem to circuits and operators
hamiltonian = SparsePauliOp.from_list(
    [("YZ", 0.3980), ("ZI", -0.3980), ("ZZ", -0.0113), ("XX", 0.1810)]
)
ansatz = efficient_su2(hamiltonian.num_qubits, reps=1)

# Step 2: optimise for the target hardware
backend = FakeManilaV2()
pm = generate_preset_pass_manager(backend=backend, optimization_level=3)
ansatz_isa = pm.run(ansatz)
hamiltonian_isa = hamiltonian.apply_layout(layout=ansatz_isa.layout)

cost_history = {"prev_vector": None, "iters": 0, "cost_history": []}


def cost_func(params, ansatz, hamiltonian, estimator):
    """Return the energy estimate of the ansatz with these parameters."""
    pub = (ansatz, [hamiltonian], [params])
    result = estimator.run(pubs=[pub]).result()
    energy = result[0].data.evs[0]

    cost_history["iters"] += 1
    cost_history["prev_vector"] = params
    cost_history["cost_history"].append(energy)
    return energy


# Step 3: execute with the Qiskit primitives, in a session
x0 = 2 * np.pi * np.random.default_rng(7).random(ansatz_isa.num_parameters)
with Session(backend=backend) as session:
    estimator = Estimator(mode=session)
    estimator.options.default_shots = 2000

    res = minimize(
        cost_func, x0, args=(ansatz_isa, hamiltonian_isa, estimator),
        method="cobyla", options={"maxiter": 30},
    )

    # Sample the optimised circuit once
    sampler = Sampler(mode=session)
    optimised = ansatz_isa.assign_parameters(res.x)
    optimised.measure_all()
    counts = sampler.run([optimised], shots=2000).result()[0].data.meas.get_counts()

# Step 4: post-process
print(f"energy {res.fun:.4f} after {cost_history['iters']} evaluations")
print(f"most likely bitstring: {max(counts, key=counts.get)}")
