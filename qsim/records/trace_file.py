"""Recorded client programs (SPEC §13): the trace format that ``qsim trace`` writes and a
``kind: recorded`` workload replays.

A trace is one JSON document (docs/TRACE.md describes every key)::

    {"format": "qsim-trace", "version": 2, "qsim_version": "0.3.0",
     "program": {"script": "vqe.py", "args": []},
     "backend": {"name": "fake_manila", "rep_delay_s": 0.00025, "num_qubits": 5},
     "mode": "session", "modes": ["session"],
     "contexts": [{"id": 0, "kind": "session"}],
     "jobs": [{"id": 0, "primitive": "estimator", "context": 0, "circuit_count": 3,
               "circuits": [{"name": "circuit-170", "num_qubits": 5, "duration_s": 5.7e-06,
                             "duration_from": "target", "executions": 3, "shots": 1024}],
               "multiplier": 1.0, "overhead_s": 2.0, "rep_delay_s": null,
               "quantum_s": 2.78, "assumptions": ["..."]}],
     "steps": [{"op": "think", "seconds": 0.41}, {"op": "open", "context": 0},
               {"op": "submit", "job": 0}, {"op": "wait", "job": 0},
               {"op": "close", "context": 0}]}

A job's quantum time is SPEC §2's formula over its circuits::

    quantum_s = overhead_s + sum((rep_delay + duration_s) * executions * multiplier * shots)

plus, when a replay gives ``per_circuit_overhead`` (SPEC §19), that times ``circuit_count``
(the executions) times ``multiplier``.

with ``rep_delay`` the job's own ``rep_delay_s`` (set by the program's options) or else the
backend's: the recording backend's in the trace (``quantum_s`` is checked against it), the
scenario's when replayed. This module is core: it never imports qiskit.
"""

from __future__ import annotations

import json
import math
import os
from typing import Annotated, Any, Final, Literal, Union

from pydantic import Field, Strict, ValidationError, model_validator

from qsim.input.dists import StrictModel
from qsim.input.errors import MISSING, FieldError, ScenarioError, explain_validation_error
from qsim.input.reader import read_bounded_text
from qsim.input.units import format_duration

__all__ = [
    "FORMAT", "MODES", "OPS", "VERSION", "Close", "Context", "ContextKind", "DurationFrom",
    "ModeName", "Open", "PrimitiveName", "RecordedCircuit",
    "RecordedJob", "Recording", "Submit", "Think", "TraceError", "Wait", "dump_trace",
    "parse_trace", "read_trace", "scenario_text",
]

FORMAT: Final = "qsim-trace"
# The newest trace version this qsim reads (and the one it writes). 2 adds each job's
# ``circuit_count`` (SPEC §19); a version 1 trace has none, and it is derived on reading.
VERSION: Final = 2
MODES: Final = ("job", "batch", "session")
OPS: Final = ("think", "submit", "wait", "open", "close")
#: The per-job overhead of SPEC §2 (seconds, per sub-job).
OVERHEAD_S: Final = 2.0
# quantum_s as written against the formula: a relative tolerance for JSON round trips of
# hand-computed values (the recorder writes floats exactly).
_QUANTUM_RTOL: Final = 1e-6


class TraceError(ScenarioError):
    """A trace file that cannot be read or is invalid: ``file: field: message (got value)``."""


ModeName = Literal["job", "batch", "session"]
ContextKind = Literal["batch", "session"]
PrimitiveName = Literal["sampler", "estimator", "executor"]
DurationFrom = Literal["target", "default"]  # default: SPEC §2's 100 us

Index = Annotated[int, Strict(), Field(ge=0)]
Count = Annotated[int, Strict(), Field(ge=1)]
Seconds = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str, Strict()]


class RecordedCircuit(StrictModel):
    """One circuit of a job as it runs on the QPU: ``executions`` bound circuits (parameter
    sets x measurement bases), each run ``shots`` times."""

    name: Text = ""
    num_qubits: Annotated[int, Strict(), Field(ge=0)] = 0
    duration_s: Seconds
    duration_from: DurationFrom = "target"
    executions: Count = 1
    shots: Count


class RecordedJob(StrictModel):
    """One primitive call: its circuits and the quantum time SPEC §2's formula gives them."""

    id: Index
    primitive: PrimitiveName
    context: Index | None = None  # the batch or session it ran in (None: job mode)
    circuits: Annotated[tuple[RecordedCircuit, ...], Field(min_length=1)]
    multiplier: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = 1.0
    overhead_s: Seconds = OVERHEAD_S
    rep_delay_s: Seconds | None = None  # set by the program (options); None: the backend's
    quantum_s: Seconds
    compile_s: Seconds | None = None  # the service's pre- and post-processing, when known
    post_s: Seconds | None = None
    assumptions: tuple[Text, ...] = ()
    # The bound circuits it ran (the executions of its circuits, before the multiplier): what
    # a per-circuit charge counts (SPEC §19). Written from version 2; derived when absent.
    circuit_count: Count | None = None

    @model_validator(mode="after")
    def _count(self) -> RecordedJob:
        executions = sum(c.executions for c in self.circuits)
        if self.circuit_count is None:
            object.__setattr__(self, "circuit_count", executions)  # resolved once
        elif self.circuit_count != executions:
            raise FieldError(f"must be the executions of its circuits ({executions})",
                             ("circuit_count",), self.circuit_count)
        return self

    def quantum_seconds(self, backend_rep_delay: float,
                        per_circuit_overhead: float = 0.0) -> float:
        """SPEC §2's quantum time on a backend whose default repetition delay is given, with
        a charge per circuit run (SPEC §19; none by default: the same float as without)."""
        rep_delay = backend_rep_delay if self.rep_delay_s is None else self.rep_delay_s
        count = self.circuit_count or 0  # resolved by validation
        return self.overhead_s + per_circuit_overhead * count * self.multiplier + math.fsum(
            (rep_delay + c.duration_s) * c.executions * self.multiplier * c.shots
            for c in self.circuits)


class Context(StrictModel):
    """A batch or session the program opened."""

    id: Index
    kind: ContextKind


class Think(StrictModel):
    """Classical time on the client (the program's own code, not time blocked on the
    service)."""

    op: Literal["think"]
    seconds: Seconds


class Submit(StrictModel):
    op: Literal["submit"]
    job: Index


class Wait(StrictModel):
    """The program asked for a job's result and could not go on without it."""

    op: Literal["wait"]
    job: Index


class Open(StrictModel):
    op: Literal["open"]
    context: Index


class Close(StrictModel):
    op: Literal["close"]
    context: Index
    cancel: Annotated[bool, Strict()] = False  # Session.cancel(): queued jobs are cancelled


Step = Annotated[Union[Think, Submit, Wait, Open, Close], Field(discriminator="op")]


class Program(StrictModel):
    script: Text = ""
    args: tuple[Text, ...] = ()
    # Why the recording ends before the program did (it was stopped: Ctrl-C, SIGTERM);
    # None for a whole program (and then not written).
    partial: Text | None = None


class BackendInfo(StrictModel):
    """The backend the program was recorded on."""

    name: Text = ""
    rep_delay_s: Seconds = 250e-6
    num_qubits: Annotated[int, Strict(), Field(ge=0)] | None = None


class Recording(StrictModel):
    """A whole trace, validated: ids are positions, every job is submitted once, waits follow
    submissions, contexts are opened before their jobs and closed at most once."""

    format: Literal["qsim-trace"]
    version: Literal[1, 2]
    qsim_version: Text = ""
    program: Program = Program()
    backend: BackendInfo = BackendInfo()
    mode: ModeName
    modes: tuple[ModeName, ...] | None = None  # resolved: used ones
    contexts: tuple[Context, ...] = ()
    jobs: Annotated[tuple[RecordedJob, ...], Field(min_length=1)]
    steps: tuple[Step, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Recording:
        _check_ids(self.contexts, "contexts")
        _check_ids(self.jobs, "jobs")
        for i, job in enumerate(self.jobs):
            if job.context is not None and job.context >= len(self.contexts):
                raise FieldError(f"no such context (the trace has {len(self.contexts)})",
                                 ("jobs", i, "context"))
            expected = job.quantum_seconds(self.backend.rep_delay_s)
            if not math.isclose(job.quantum_s, expected, rel_tol=_QUANTUM_RTOL, abs_tol=1e-9):
                raise FieldError("does not match the job's circuits by SPEC §2's formula "
                                 f"(they give {expected!r} s)", ("jobs", i, "quantum_s"))
        _check_steps(self)
        used = self.used_modes()
        if self.modes is None:
            object.__setattr__(self, "modes", used)  # resolved once, as validation does
        elif tuple(sorted(self.modes, key=MODES.index)) != used:
            raise FieldError(f"must list the modes the jobs ran in: {list(used)}", ("modes",))
        return self

    def used_modes(self) -> tuple[str, ...]:
        """The execution modes the jobs ran in, in the order job, batch, session."""
        kinds = {"job" if j.context is None else self.contexts[j.context].kind
                 for j in self.jobs}
        return tuple(m for m in MODES if m in kinds)

    @property
    def closed(self) -> bool:
        """Whether the program closed every batch and session it opened."""
        closed = {s.context for s in self.steps if isinstance(s, Close)}
        return all(c.id in closed for c in self.contexts)

    def mixed_modes(self) -> str | None:
        """For a program that ran jobs in more than one mode, how a replay as recorded runs
        them (``1 in job mode, the rest in session mode``); else None."""
        if len(self.used_modes()) < 2:
            return None
        alone = sum(j.context is None for j in self.jobs)
        return (f"{alone} in job mode, the rest in {self.mode} mode" if alone
                else f"all in one {self.mode}")

    @property
    def think_s(self) -> float:
        return math.fsum(s.seconds for s in self.steps if isinstance(s, Think))

    def think_parts(self) -> tuple[float, float, float]:
        """The classical time before the first job (the set-up), between jobs, and after the
        last job's submission."""
        submits = [i for i, s in enumerate(self.steps) if isinstance(s, Submit)]
        first, last = submits[0], submits[-1]  # a trace submits every job, and has one
        parts: tuple[list[float], list[float], list[float]] = ([], [], [])
        for i, step in enumerate(self.steps):
            if isinstance(step, Think):
                parts[0 if i < first else 1 if i < last else 2].append(step.seconds)
        return math.fsum(parts[0]), math.fsum(parts[1]), math.fsum(parts[2])

    def circuit_counts(self) -> tuple[int, int, int]:
        """The fewest and most circuits a job ran, and all the jobs' together."""
        counts = [j.circuit_count or 0 for j in self.jobs]
        return min(counts), max(counts), sum(counts)

    def shots_range(self) -> tuple[int, int]:
        """The fewest and most shots a circuit of any job ran."""
        shots = [c.shots for j in self.jobs for c in j.circuits]
        return min(shots), max(shots)

    def quantum_s(self, backend_rep_delay: float | None = None) -> float:
        """The jobs' total quantum time (on the recording backend unless one is given)."""
        rep = self.backend.rep_delay_s if backend_rep_delay is None else backend_rep_delay
        return math.fsum(j.quantum_seconds(rep) for j in self.jobs)


def _check_ids(items: tuple[Any, ...], key: str) -> None:
    for i, item in enumerate(items):
        if item.id != i:
            raise FieldError(f"must be {i}: ids are positions in the list", (key, i, "id"),
                             item.id)


def _check_steps(rec: Recording) -> None:
    submitted: set[int] = set()
    opened: set[int] = set()
    closed: set[int] = set()
    for i, step in enumerate(rec.steps):
        if isinstance(step, (Submit, Wait)):
            if step.job >= len(rec.jobs):
                raise FieldError(f"no such job (the trace has {len(rec.jobs)})",
                                 ("steps", i, "job"))
            if isinstance(step, Submit):
                if step.job in submitted:
                    raise FieldError(f"job {step.job} is submitted twice", ("steps", i, "job"),
                                     show_value=False)
                context = rec.jobs[step.job].context
                if context is not None and (context not in opened or context in closed):
                    state = "after it was closed" if context in closed else "before it opened"
                    raise FieldError(f"job {step.job} runs in context {context}, submitted "
                                     f"{state}", ("steps", i, "job"), show_value=False)
                submitted.add(step.job)
            elif step.job not in submitted:
                raise FieldError(f"waits for job {step.job} before it is submitted",
                                 ("steps", i, "job"), show_value=False)
        elif isinstance(step, (Open, Close)):
            if step.context >= len(rec.contexts):
                raise FieldError(f"no such context (the trace has {len(rec.contexts)})",
                                 ("steps", i, "context"))
            if isinstance(step, Open):
                if step.context in opened:
                    raise FieldError(f"context {step.context} is opened twice",
                                     ("steps", i, "context"), show_value=False)
                opened.add(step.context)
            else:
                if step.context not in opened or step.context in closed:
                    said = "closed twice" if step.context in closed else "closed before it opened"
                    raise FieldError(f"context {step.context} is {said}",
                                     ("steps", i, "context"), show_value=False)
                closed.add(step.context)
    for j in range(len(rec.jobs)):
        if j not in submitted:
            raise FieldError("is never submitted (no submit step names it)", ("jobs", j),
                             show_value=False)


# ---------------------------------------------------------------------------------------------
# Reading and writing

_TAGS: Final = frozenset(OPS)
_HINTS: Final = {"'op'": ("op", "step; expected one of " + ", ".join(OPS))}


def parse_trace(data: object, source: str = "<trace>") -> Recording:
    """Validate an already-parsed trace; every problem is one :class:`TraceError`."""
    if not isinstance(data, dict):
        raise TraceError("not a qsim trace: the top level must be a JSON object", file=source)
    fmt = data.get("format", MISSING)
    if fmt != FORMAT:
        raise TraceError(f"not a qsim trace (expected {FORMAT!r})", file=source, field="format",
                         value=fmt)
    version = data.get("version", MISSING)
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise TraceError(f"written by a newer qsim (trace version {version}; this qsim reads "
                         f"version {VERSION}): upgrade qsim to replay it", file=source,
                         field="version")
    try:
        return Recording.model_validate(data)
    except ValidationError as exc:
        err = explain_validation_error(exc, data, file=source, lines={}, tags=_TAGS,
                                       hints=_HINTS)
        raise TraceError(err.message, file=source, field=err.field, value=err.value) from None


_CACHE: dict[str, tuple[tuple[int, int], Recording]] = {}


def read_trace(path: str | os.PathLike[str], shown: str | None = None) -> Recording:
    """Read and validate a trace file; errors name it as ``shown`` (default: ``path``).

    A file read once is kept while its size and modification time stay the same, so that a
    scenario re-validated for every mode of a comparison reads its trace once."""
    file = os.fspath(path)
    shown = file if shown is None else shown
    try:
        stat = os.stat(file)
        key = (stat.st_mtime_ns, stat.st_size)
        cached = _CACHE.get(os.path.abspath(file))
        if cached is not None and cached[0] == key:
            return cached[1]
    except FileNotFoundError:
        raise TraceError("no such file", file=shown) from None
    except OSError as exc:
        raise TraceError(f"cannot read: {exc.strerror or exc}", file=shown) from None
    # a trace is bounded as a scenario file is
    text = read_bounded_text(file, "trace file", "JSON", TraceError, shown)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         file=shown) from None
    except (RecursionError, ValueError) as exc:  # nesting, a number of 5,000 digits
        what = ("nested too deeply" if isinstance(exc, RecursionError)
                else "a number of more than 4,300 digits")
        raise TraceError(f"not a trace qsim can read: {what}", file=shown) from None
    recording = parse_trace(data, shown)
    _CACHE[os.path.abspath(file)] = (key, recording)
    return recording


def dump_trace(recording: Recording) -> str:
    """The trace as JSON text (what ``qsim trace`` writes); :func:`parse_trace` reads it back
    to an equal Recording."""
    data = recording.model_dump(mode="json")
    if data["program"]["partial"] is None:  # a whole program's trace reads as it always has
        del data["program"]["partial"]
    return json.dumps(data, indent=1) + "\n"


# ---------------------------------------------------------------------------------------------
# A scenario that replays a trace

def scenario_text(recording: Recording, *, name: str, trace_file: str = "trace.json",
                  command: str = "") -> str:
    """A ready scenario (YAML text) replaying ``recording`` on a default backend, with a
    background workload of other users commented out, for the user to switch on."""
    jobs = len(recording.jobs)
    modes = " and ".join(recording.modes or ())
    mode = recording.mode if recording.closed else f"{{kind: {recording.mode}, close: false}}"

    def row(text: str, note: str = "") -> str:
        return f"{text:<30}# {note}" if note else text

    partial = recording.program.partial
    lines = [
        *([f"# PARTIAL RECORDING: {partial}.", "#"] if partial else []),
        f"# {name}: the program recorded by `{command or 'qsim trace'}`, replayed by qsim:",
        f"# {jobs} job{'s' if jobs != 1 else ''} in {modes} mode, "
        f"{format_duration(recording.quantum_s())} of estimated quantum time, "
        f"{format_duration(recording.think_parts()[0])} of set-up before the first job and "
        f"{format_duration(recording.think_parts()[1])} of classical time between jobs.",
        "#",
        "#   qsim compare scenario.yaml    # the same program in job, batch and session mode",
        "#   qsim run scenario.yaml        # as recorded: usage, cost, wall time, waits",
        "#",
        "# (from this folder; else give this file's path). Edit freely: the trace stays as is.",
        "",
        f"name: {_yaml_str(name)}",
        "",
        row("backend:", "qsim's default backend, no other users yet"),
        row("  lanes: 5"),
        row(f"  rep_delay: {format_duration(recording.backend.rep_delay_s)}",
            f"as on {recording.backend.name or 'the recording backend'}"),
        "",
        "workloads:",
        row(f"  - name: {_yaml_str(name)}"),
        row("    kind: recorded"),
        row(f"    trace: {_yaml_str(trace_file)}", "relative to this file"),
        row(f"    mode: {mode}", "as recorded; qsim compare replays each mode"),
        *([f"    # The program mixes modes: each job replays in the mode it ran in "
           f"({recording.mixed_modes()});",
           "    # a mode of another kind puts them all in that one."]
          if recording.mixed_modes() else []),
        "    # The service's classical work per job, which local testing mode cannot show",
        "    # (0 unless given; typically a few seconds each):",
        "    # compile: {dist: lognormal, mean: 5s, cv: 0.3}",
        "    # post: 1s",
        "",
        "  # Other users on the same QPU: uncomment to see your program under load.",
        "  # - name: others",
        "  #   kind: background",
        "  #   arrivals: {dist: exponential, mean: 60s}",
        "  #   compile: {dist: lognormal, mean: 5s, cv: 0.5}",
        "  #   quantum: {dist: lognormal, mean: 20s, cv: 1.5}",
        "  #   post: 1s",
    ]
    return "\n".join(lines) + "\n"


def _yaml_str(text: str) -> str:
    """``text`` as a YAML scalar: plain when it reads back as itself, else JSON-quoted."""
    import yaml

    plain = str(text)
    try:
        if plain and yaml.safe_load(plain) == plain and ":" not in plain and "#" not in plain:
            return plain
    except yaml.YAMLError:
        pass
    return json.dumps(plain)
