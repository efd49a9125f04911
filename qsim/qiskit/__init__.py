"""Real Qiskit programs in qsim (``pip install 'qsim-execution-modes[qiskit]'``): the quantum
time of circuits by the service's published estimate, and a recorder of a program's jobs,
batches, sessions and think times that writes a trace a ``kind: recorded`` workload replays.

This package alone imports qiskit, qiskit-ibm-runtime and qiskit-aer; nothing else in qsim
imports it except ``qsim trace``, when run.
"""

from qsim.qiskit.estimate import (
                                  DEFAULT_CIRCUIT_S,
                                  DurationWarning,
                                  QuantumEstimate,
                                  circuit_seconds,
                                  estimate_quantum_seconds,
)
from qsim.qiskit.recorder import PartialRecording, Recorder, import_runtime, trace_script

__all__ = ["DEFAULT_CIRCUIT_S", "DurationWarning", "PartialRecording", "QuantumEstimate",
           "Recorder", "circuit_seconds", "estimate_quantum_seconds", "import_runtime",
           "trace_script"]
