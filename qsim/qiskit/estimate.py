"""Quantum time of real Qiskit work, by the service's published estimate (SPEC §2)::

    quantum_s = overhead_s + sum over circuits of
                (rep_delay_s + circuit_s) * executions * multiplier * shots

- ``circuit_s``: ``circuit.estimate_duration(backend.target)`` of the ISA circuit (for an
  Estimator, with a basis change and a measurement appended on the observables' qubits, as
  the service runs it). A circuit whose duration the target cannot give (no durations,
  control flow, not ISA) counts SPEC §2's default, 100 us, with a :class:`DurationWarning`.
- ``rep_delay_s``: the options' ``execution.rep_delay``, else the backend's default, else
  SPEC §2's 250 us.
- ``executions``: a Sampler pub runs once per parameter set; an Estimator pub once per
  parameter set and measurement basis (qubit-wise commuting groups of the Pauli terms its
  observables need for that parameter set; identity terms need none).
- ``shots``: a Sampler pub's shots, else ``default_shots`` (4096); an Estimator pub's
  ``ceil(1 / precision**2)``, with its precision, else ``default_shots``, else
  ``default_precision`` (0.015625: 4096 shots). With twirling, shots are rounded up to whole
  randomizations as the service does.
- ``multiplier``: zero-noise extrapolation runs every execution once per noise factor (1, 3,
  5 by default: x3); probabilistic error cancellation counts its ``max_overhead`` (100 by
  default), an upper bound.
- ``overhead_s``: 2 s per job (one sub-job).

:func:`estimate_quantum_seconds` returns a :class:`QuantumEstimate` that lists the
assumptions it made, so a number never hides where it came from.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from qsim.input.units import format_duration
from qsim.records.trace_file import OVERHEAD_S, DurationFrom, RecordedCircuit

__all__ = [
    "DEFAULT_CIRCUIT_S", "DEFAULT_PRECISION", "DEFAULT_REP_DELAY_S", "DEFAULT_SHOTS",
    "DurationWarning", "QuantumEstimate", "circuit_seconds", "estimate_quantum_seconds",
]

DEFAULT_CIRCUIT_S: Final = 100e-6  # SPEC §2 (and §10's circuit_duration default)
DEFAULT_REP_DELAY_S: Final = 250e-6  # SPEC §2: the typical backend default
DEFAULT_SHOTS: Final = 4096  # SamplerV2's default_shots on the service
DEFAULT_PRECISION: Final = 0.015625  # EstimatorV2's default_precision (1/sqrt(4096))
DEFAULT_NOISE_FACTORS: Final = (1.0, 3.0, 5.0)
DEFAULT_PEC_OVERHEAD: Final = 100.0


class DurationWarning(UserWarning):
    """A circuit's duration was unknown and SPEC §2's default was assumed."""


@dataclass(frozen=True)
class QuantumEstimate:
    """The estimate and what it rests on."""

    quantum_s: float
    circuits: tuple[RecordedCircuit, ...]
    rep_delay_s: float
    rep_delay_from: str  # "options", "backend", "argument" or "default"
    multiplier: float
    overhead_s: float
    assumptions: tuple[str, ...]

    @property
    def executions(self) -> float:
        """Bound circuits run, mitigation included."""
        return sum(c.executions for c in self.circuits) * self.multiplier

    @property
    def shots(self) -> float:
        """Shots run in all, mitigation included."""
        return sum(c.executions * c.shots for c in self.circuits) * self.multiplier


def estimate_quantum_seconds(
    pubs: Any, backend: Any, *, primitive: Any = None, options: Any = None,
    shots: int | None = None, precision: float | None = None,
    rep_delay: float | None = None, overhead_s: float = OVERHEAD_S,
) -> QuantumEstimate:
    """The quantum time of one primitive job on ``backend`` (SPEC §2's formula).

    ``pubs``: what the job runs, as given to ``run()`` (Sampler or Estimator pubs), or a
    ``QuantumProgram`` of the Executor. ``primitive``: ``"sampler"``, ``"estimator"``, or
    the primitive object itself (then its options are used unless ``options`` is given);
    it may be left out when the pubs are already coerced ``SamplerPub``/``EstimatorPub``.
    ``shots``/``precision``: the arguments of ``run()``. ``rep_delay``: overrides the
    options' and the backend's.
    """
    kind, options = _primitive_kind(pubs, primitive, options)
    opts = _Options(options)
    target = getattr(backend, "target", None)
    notes: list[str] = []
    rep, rep_from = _rep_delay(backend, opts, rep_delay)
    notes.append(f"rep_delay {format_duration(rep)} ({_REP_FROM[rep_from]})")
    if kind == "executor":
        circuits = _program_circuits(pubs, target, notes)
        multiplier = 1.0
        notes.append("executor program: executions and shots as the program states them")
    elif kind == "sampler":
        circuits, multiplier = _sampler(pubs, target, opts, shots, notes)
    else:
        circuits, multiplier = _estimator(pubs, target, opts, precision, notes)
    notes.append(f"overhead {format_duration(overhead_s)} per job (one sub-job)")
    quantum = overhead_s + math.fsum((rep + c.duration_s) * c.executions * multiplier * c.shots
                                     for c in circuits)
    return QuantumEstimate(quantum, tuple(circuits), rep, rep_from, multiplier, overhead_s,
                           tuple(notes))


_REP_FROM: Final = {"options": "the options' execution.rep_delay",
                    "backend": "the backend's default", "argument": "as given",
                    "default": "SPEC §2's default: the backend gives none"}


# ---------------------------------------------------------------------------------------------
# What is run


def _primitive_kind(pubs: Any, primitive: Any, options: Any) -> tuple[str, Any]:
    if _is_program(pubs):
        return "executor", options if options is not None else getattr(primitive, "options",
                                                                         None)
    if isinstance(primitive, str):
        if primitive not in ("sampler", "estimator"):
            raise ValueError(f"primitive must be 'sampler' or 'estimator', not {primitive!r}")
        return primitive, options
    if primitive is not None:
        name = type(primitive).__name__.lower()
        kind = "estimator" if "estimator" in name else "sampler" if "sampler" in name else None
        if kind is None:
            raise ValueError(f"cannot tell whether {type(primitive).__name__} is a Sampler or "
                             "an Estimator: give primitive='sampler' or 'estimator'")
        return kind, options if options is not None else getattr(primitive, "options", None)
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    listed = list(pubs)
    if listed and all(isinstance(p, EstimatorPub) for p in listed):
        return "estimator", options
    if listed and all(isinstance(p, SamplerPub) for p in listed):
        return "sampler", options
    raise ValueError("give primitive='sampler' or 'estimator' (or the primitive itself): "
                     "the pubs do not say which")


def _is_program(pubs: Any) -> bool:
    return hasattr(pubs, "items") and hasattr(pubs, "shots") and not isinstance(pubs, Mapping)


def _sampler(pubs: Iterable[Any], target: Any, opts: _Options, shots: int | None,
             notes: list[str]) -> tuple[list[RecordedCircuit], float]:
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    default = opts.get("default_shots")
    out = []
    said: set[str] = set()
    twirl = _twirling(opts, estimator=False, level=0)
    for pub in pubs:
        pub = SamplerPub.coerce(pub, shots)
        n, why = (pub.shots, "shots") if pub.shots is not None else (
            (int(default), "default_shots") if default is not None else (DEFAULT_SHOTS,
                                                                          "the default"))
        run, twirl_note = _twirled(n, twirl)
        said.add(f"shots {n} ({why}){twirl_note}")
        seconds, source = circuit_seconds(pub.circuit, target)
        out.append(RecordedCircuit(
            name=pub.circuit.name, num_qubits=pub.circuit.num_qubits, duration_s=seconds,
            duration_from=source, executions=max(1, int(pub.parameter_values.size)),
            shots=run))
    notes.extend(sorted(said))
    notes.append("executions: one per parameter set")
    return out, 1.0


def _estimator(pubs: Iterable[Any], target: Any, opts: _Options, precision: float | None,
               notes: list[str]) -> tuple[list[RecordedCircuit], float]:
    from qiskit.primitives.containers.estimator_pub import EstimatorPub

    level = opts.get("resilience_level")
    level = 1 if level is None else int(level)
    default_shots = opts.get("default_shots")
    default_precision = opts.get("default_precision")
    twirl = _twirling(opts, estimator=True, level=level)
    said: set[str] = set()
    out = []
    for pub in pubs:
        pub = EstimatorPub.coerce(pub, precision)
        if pub.precision is not None:
            n, why = _precision_shots(pub.precision), f"precision {pub.precision:g}"
        elif default_shots is not None:
            n, why = int(default_shots), "default_shots"
        else:
            p = DEFAULT_PRECISION if default_precision is None else float(default_precision)
            n, why = _precision_shots(p), f"default_precision {p:g}"
        run, twirl_note = _twirled(n, twirl)
        said.add(f"shots {n} per basis ({why}){twirl_note}")
        executions, qubits = _estimator_executions(pub)
        seconds, source = circuit_seconds(pub.circuit, target, measure=qubits)
        out.append(RecordedCircuit(
            name=pub.circuit.name, num_qubits=pub.circuit.num_qubits, duration_s=seconds,
            duration_from=source, executions=max(1, executions), shots=run))
    notes.extend(sorted(said))
    notes.append("executions: parameter sets x measurement bases (qubit-wise commuting "
                 "groups); circuits timed with a basis change and measurement appended")
    multiplier = _mitigation(opts, level, notes)
    return out, multiplier


def _precision_shots(precision: float) -> int:
    return max(1, math.ceil(1 / precision**2 - 1e-9))


def _estimator_executions(pub: Any) -> tuple[int, list[int]]:
    """Bound circuits an Estimator pub runs (parameter sets x bases), and the qubits its
    observables measure."""
    from qiskit.quantum_info import PauliList

    obs = pub.observables
    params_shape = pub.parameter_values.shape
    shape = np.broadcast_shapes(obs.shape, params_shape)
    p_index = np.broadcast_to(np.arange(max(1, math.prod(params_shape))).reshape(params_shape),
                              shape).ravel()
    o_index = np.broadcast_to(np.arange(max(1, math.prod(obs.shape))).reshape(obs.shape),
                              shape).ravel()
    flat = obs.ravel()
    groups: dict[frozenset[int], int] = {}
    per_param: dict[int, set[int]] = {}
    for p, o in zip(p_index.tolist(), o_index.tolist()):
        per_param.setdefault(p, set()).add(o)
    measured: set[int] = set()
    total = 0
    for wanted in per_param.values():
        key = frozenset(wanted)
        if key not in groups:
            terms = sorted({label for i in key for label in flat[i]
                            if set(label) - {"I"}})
            for label in terms:  # Pauli labels are little-endian: qubit 0 is the last
                measured.update(q for q, c in enumerate(reversed(label)) if c != "I")
            groups[key] = len(PauliList(terms).group_qubit_wise_commuting()) if terms else 0
        total += groups[key]
    return total, sorted(measured)


def _program_circuits(program: Any, target: Any, notes: list[str]) -> list[RecordedCircuit]:
    out = []
    for item in program.items:
        seconds, source = circuit_seconds(item.circuit, target)
        out.append(RecordedCircuit(
            name=item.circuit.name, num_qubits=item.circuit.num_qubits, duration_s=seconds,
            duration_from=source, executions=max(1, int(math.prod(item.shape))),
            shots=int(program.shots)))
    return out


# ---------------------------------------------------------------------------------------------
# Circuit durations

_DURATIONS: dict[tuple[int, int, tuple[int, ...]], tuple[Any, tuple[float, DurationFrom]]] = {}
_DURATIONS_KEPT: Final = 512


def circuit_seconds(circuit: Any, target: Any, measure: Sequence[int] = ()
                    ) -> tuple[float, DurationFrom]:
    """One shot of ``circuit`` on ``target`` (seconds) and where it came from: ``"target"``,
    or ``"default"`` (SPEC §2's 100 us, with a :class:`DurationWarning`). ``measure``:
    qubits to append a basis change (one ``sx``) and a measurement on first."""
    key = (id(circuit), id(target), tuple(measure))
    hit = _DURATIONS.get(key)
    if hit is not None and hit[0] is circuit:
        return hit[1]
    result = _duration(circuit, target, measure)
    if len(_DURATIONS) >= _DURATIONS_KEPT:
        _DURATIONS.clear()
    _DURATIONS[key] = (circuit, result)  # the circuit is kept so that its id is not reused
    return result


def _duration(circuit: Any, target: Any, measure: Sequence[int]
              ) -> tuple[float, DurationFrom]:
    name = circuit.name
    if target is None:
        return _unknown(name, "the backend has no target")
    try:
        timed = circuit
        if measure:
            from qiskit.circuit import ClassicalRegister

            timed = circuit.copy()
            creg = ClassicalRegister(len(measure), "qsim_meas")
            timed.add_register(creg)
            for i, q in enumerate(measure):
                timed.sx(q)
                timed.measure(q, creg[i])
        seconds = float(timed.estimate_duration(target))
    except Exception as exc:  # QiskitError, and whatever an odd circuit raises
        return _unknown(name, str(exc).strip().strip("'\"") or type(exc).__name__)
    if not math.isfinite(seconds) or seconds < 0:
        return _unknown(name, f"the target gives {seconds!r}")
    if seconds == 0 and circuit.size() > 0 and all(
            not target.instruction_supported(op.operation.name) or _no_duration(target, op)
            for op in circuit.data):
        return _unknown(name, "the target has no instruction durations")
    return seconds, "target"


def _no_duration(target: Any, op: Any) -> bool:
    try:
        props = target[op.operation.name]
        return all(p is None or p.duration is None for p in props.values())
    except Exception:
        return True


def _unknown(name: str, why: str) -> tuple[float, DurationFrom]:
    warnings.warn(DurationWarning(
        f"circuit {name!r}: duration unknown ({why}); assuming "
        f"{format_duration(DEFAULT_CIRCUIT_S)} (SPEC §2's default)"), stacklevel=4)
    return DEFAULT_CIRCUIT_S, "default"


# ---------------------------------------------------------------------------------------------
# Options


class _Options:
    """Nested primitive options (a runtime options dataclass, a pydantic model or a dict),
    read by dotted path; unset values read as None."""

    def __init__(self, options: Any) -> None:
        self.data = {} if options is None else _plain(options)

    def get(self, path: str) -> Any:
        here: Any = self.data
        for part in path.split("."):
            if not isinstance(here, Mapping) or part not in here:
                return None
            here = here[part]
        return None if type(here).__name__ == "UnsetType" else here


def _plain(value: Any) -> Any:
    # An unset option stays None below the top (the executor-based primitives' options leave
    # execution.rep_delay None): read as {}, it reached float() as a dict.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return {k: _plain(getattr(value, k, v)) for k, v in value.model_dump().items()}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _rep_delay(backend: Any, opts: _Options, given: float | None) -> tuple[float, str]:
    if given is not None:
        return float(given), "argument"
    option = opts.get("execution.rep_delay")
    if option is not None:
        return float(option), "options"
    try:
        config = backend.configuration()
        default = getattr(config, "default_rep_delay", None)
    except Exception:
        default = None
    if default is None:
        default = getattr(backend, "default_rep_delay", None)
    if isinstance(default, (int, float)) and math.isfinite(default) and default >= 0:
        return float(default), "backend"
    return DEFAULT_REP_DELAY_S, "default"


@dataclass(frozen=True)
class _Twirl:
    on: bool
    randomizations: Any  # int or "auto"
    per_randomization: Any
    pec: bool


def _twirling(opts: _Options, *, estimator: bool, level: int) -> _Twirl:
    gates = opts.get("twirling.enable_gates")
    measure = opts.get("twirling.enable_measure")
    if estimator:  # the service's defaults by resilience level
        gates = level >= 2 if gates is None else gates
        measure = level >= 1 if measure is None else measure
    pec = bool(opts.get("resilience.pec_mitigation")) if estimator else False
    return _Twirl(bool(gates) or bool(measure) or pec,
                  opts.get("twirling.num_randomizations") or "auto",
                  opts.get("twirling.shots_per_randomization") or "auto", pec)


def _twirled(shots: int, twirl: _Twirl) -> tuple[int, str]:
    """Shots the service runs for ``shots`` with twirling: whole randomizations."""
    if not twirl.on:
        return shots, ""
    n, per = twirl.randomizations, twirl.per_randomization
    if n == "auto" and per == "auto":
        per = 64 if twirl.pec else max(64, math.ceil(shots / 32))
        n = math.ceil(shots / per)
    elif n == "auto":
        n = math.ceil(shots / int(per))
    elif per == "auto":
        per = math.ceil(shots / int(n))
    run = int(n) * int(per)
    return run, f", twirled: {n} randomizations x {per} = {run}" if run != shots else ""


def _mitigation(opts: _Options, level: int, notes: list[str]) -> float:
    zne = opts.get("resilience.zne_mitigation")
    zne = level >= 2 if zne is None else bool(zne)
    multiplier = 1.0
    if zne:
        factors = opts.get("resilience.zne.noise_factors")
        factors = DEFAULT_NOISE_FACTORS if factors in (None, "auto") else tuple(factors)
        multiplier *= len(factors)
        notes.append(f"zne: x{len(factors)} executions (noise factors "
                     f"{', '.join(f'{f:g}' for f in factors)}); folded circuits' extra length "
                     "not counted")
    if opts.get("resilience.pec_mitigation"):
        overhead = opts.get("resilience.pec.max_overhead")
        overhead = DEFAULT_PEC_OVERHEAD if overhead is None else float(overhead)
        multiplier *= overhead
        notes.append(f"pec: x{overhead:g} (max_overhead, an upper bound of its sampling "
                     "overhead); its noise learning not counted")
    measure = opts.get("resilience.measure_mitigation")
    if (level >= 1 if measure is None else bool(measure)):
        notes.append("measure_mitigation: the service's readout-learning circuits not counted")
    return multiplier
