"""Scenario files (SPEC §10): frozen models with every default resolved.

``load_scenario(path)`` reads YAML and returns a :class:`Scenario` whose durations are float
seconds and whose defaults are filled in (mode TTLs, ``instance``, the circuit form's
``rep_delay``). Every problem raises :class:`~qsim.input.errors.ScenarioError` naming the file, the
line, the field path and the offending value. Loading has no side effects.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeVar, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Strict,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from qsim.input import counts, dists, limits, plans
from qsim.input.counts import Iterations, Jobs, JobsPerIteration
from qsim.input.dists import (
    DIST_NAMES,
    Circuits,
    Distribution,
    Duration,
    Exponential,
    Fixed,
    StrictModel,
    WholeDistribution,
    as_number,
    as_whole_number,
    check_circuit_seconds,
)
from qsim.input.errors import (
    FieldError,
    QsimError,
    ScenarioError,
    explain_validation_error,
    format_path,
)
from qsim.input.outages import OUTAGE_TAGS, FixedOutage, Outage
from qsim.input.reader import read_yaml
from qsim.input.traffic import ArrivalTrace, Profile, Regimes, read_arrival_trace
from qsim.input.units import format_duration, parse_duration

if TYPE_CHECKING:  # the trace file's models are imported only to read a recorded workload
    from qsim.records.trace_file import Recording

__all__ = [
    "DEFAULT_INTERACTIVE_TTL", "MAX_EXECUTION_TIME", "Accounting", "Backend",
    "BackgroundWorkload", "Calibration", "Failure", "IndependentWorkload", "IterativeWorkload",
    "RecordedWorkload", "WORKLOAD_KINDS", "Instance", "Mode", "Pricing", "Scenario", "Workload",
    "WorkloadBase", "dump_resolved",
    "load_scenario",
    "parse_scenario",
]

#: Interactive TTL when a file gives none (SPEC §3.2, §3.3); job mode has no context.
DEFAULT_INTERACTIVE_TTL: Final[dict[str, float]] = {"batch": 1.0, "session": 60.0}
#: The service maximum of the per-job quantum-time cap (3 h), also its default.
MAX_EXECUTION_TIME: Final = 10800.0
_DEFAULT_MAX_TIME: Final = 28800.0


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    lone = _SURROGATE.search(text)
    if lone:  # a YAML escape ("\\ud800") can write one; no file, CSV or stream key can hold it
        raise ValueError(f"holds a lone surrogate (U+{ord(lone.group()):04X}), which is not "
                         "text: names must be valid Unicode")
    return text


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _probability(p: float) -> float:
    if not 0 <= p <= 1:  # also rejects nan
        raise ValueError("must be between 0 and 1")
    return p


def _within_service_max(seconds: float) -> float:
    if not 0 < seconds <= MAX_EXECUTION_TIME:
        raise ValueError("must be greater than 0 and at most 3h (10800 s, the service maximum)")
    return seconds


# ``warmup: auto`` until the Scenario resolves it (no duration is negative).
_AUTO_WARMUP: Final = -1.0


def _warmup_or_auto(value: Any) -> float:
    return _AUTO_WARMUP if value == "auto" else parse_duration(value)


def _load_fraction(x: float) -> float:
    if not 0 < x < 1:  # also rejects nan
        raise ValueError("must be greater than 0 and less than 1: the fraction of the time the "
                         "background alone keeps the QPU busy")
    return x


Name = Annotated[str, Strict(), AfterValidator(_not_blank)]
# A count: ``1e6`` and ``"1e6"`` (YAML 1.1 reads it as a string) are whole numbers too; each
# count field is bounded by its limit in qsim.input.limits.
WholeNumber = Annotated[int, BeforeValidator(as_whole_number), Strict()]
Count = Annotated[WholeNumber, Field(ge=1, le=limits.MAX_JOBS_FIELD)]
PositiveDuration = Annotated[Duration, Field(gt=0)]
Weight = Annotated[float, BeforeValidator(as_number), Strict(),
                   Field(gt=0, le=limits.MAX_SHARE, allow_inf_nan=False)]
CappedDuration = Annotated[Duration, AfterValidator(_within_service_max)]


class Mode(StrictModel):
    """How a workload's jobs reach the backend (SPEC §3). A file may give just the kind."""

    kind: Literal["job", "batch", "session"] = "job"
    interactive_ttl: Duration | None = None  # resolved: batch 1 s, session 60 s, job None
    max_time: PositiveDuration = _DEFAULT_MAX_TIME
    close: Annotated[bool, Strict()] = True
    cancel_at: Duration | None = None
    # Added key: when the batch or session is created (absolute time; default: the
    # workload's start). A session opened long before its first job auto-closes (SPEC §3.3).
    open_at: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        """Accept ``"session"`` for ``{kind: session}``; fill in the kind's default TTL."""
        if isinstance(data, str):
            data = {"kind": data}
        if isinstance(data, Mode):
            return data
        if not isinstance(data, dict):
            raise ValueError("must be job, batch or session, or a mapping with kind:")
        kind = data.get("kind", "job")
        if kind == "job":
            _reject_context_keys(data)
        elif data.get("interactive_ttl") is None and isinstance(kind, str):
            # An unknown kind gets no default here; the kind's own check reports it.
            data = {**data, "interactive_ttl": _default_ttl(kind, data.get("max_time"))}
        return data

    @model_validator(mode="after")
    def _ttl_within_max_time(self) -> Mode:
        if self.interactive_ttl is not None and self.interactive_ttl > self.max_time:
            limit = format_duration(self.max_time)
            raise FieldError(f"must not be longer than max_time ({limit})", ("interactive_ttl",),
                             self.interactive_ttl)
        return self


def _default_ttl(kind: str, max_time: object) -> float | None:
    """The kind's default interactive TTL, yielding to a shorter ``max_time`` the file gives
    (SPEC §11: only two values the user wrote can conflict). A ``max_time`` that is not a
    valid duration is left for its own field to report."""
    ttl = DEFAULT_INTERACTIVE_TTL.get(kind)
    if ttl is None or max_time is None:
        return ttl
    try:
        limit = parse_duration(max_time)
    except ValueError:
        return ttl
    return limit if 0 < limit < ttl else ttl


def _reject_context_keys(data: dict[str, Any]) -> None:
    """Job mode has no context, so TTLs and cancel make no sense there (``close`` is harmless).

    ``max_time`` at its default is allowed so that a dumped job-mode Mode loads again.
    """
    for key in ("interactive_ttl", "cancel_at", "max_time", "open_at"):
        given = data.get(key)
        if given is not None and not (key == "max_time" and given == _DEFAULT_MAX_TIME):
            raise FieldError(f"{key} applies only to batch and session modes", (key,))


class Failure(StrictModel):
    """Random job failures (SPEC §6)."""

    probability: Annotated[float, BeforeValidator(as_number), Strict(),
                           AfterValidator(_probability)]
    kind: Literal["system", "user"] = "system"
    stage: Literal["compile", "quantum"] = "quantum"


class Calibration(StrictModel):
    """A calibration of ``duration`` due every ``every`` seconds (SPEC §1)."""

    every: PositiveDuration
    duration: Duration

    @model_validator(mode="after")
    def _leaves_time_for_jobs(self) -> Calibration:
        if self.duration >= self.every:
            raise FieldError(f"must be shorter than every ({format_duration(self.every)}): "
                             "calibrations alone would take the QPU for ever", ("duration",),
                             self.duration)
        return self


class Backend(StrictModel):
    """One QPU and its classical lanes (SPEC §1, §4)."""

    lanes: Annotated[WholeNumber, Field(ge=1, le=limits.MAX_LANES)] = 5
    queue: Literal["fifo", "fair_share"] = "fifo"
    job_lock: Literal["quantum", "all"] = "quantum"
    # How a session enters a shared backend (SPEC §3.3): ``drain`` waits for others' jobs
    # to leave compile and the QPU first; ``overlap`` (what-if) activates at once.
    session_entry: Literal["drain", "overlap"] = "drain"
    # Which dispatched job the free QPU serves (SPEC §1, §19): ``context_first``, the active
    # batch's or session's jobs first; ``ready`` (what-if), first ready whatever the context.
    # Dumped only when given.
    qpu_order: Literal["context_first", "ready"] = "context_first"
    rep_delay: Duration = 250e-6
    calibration: Calibration | None = None
    fair_share_window: PositiveDuration = 28 * 86400.0
    # SPEC §16: periods when the backend dispatches and starts nothing (qsim.input.outages).
    outages: Annotated[tuple[Outage, ...], Field(max_length=limits.MAX_OUTAGES)] = ()

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``qpu_order`` when it is the default: a file that does not give it dumps
        as it did before it."""
        data: dict[str, Any] = handler(self)
        if self.qpu_order == "context_first":
            data.pop("qpu_order", None)
        return data


#: A workload's ``backend:`` that routes instead of naming one (SPEC §18).
LEAST_BUSY: Final = "least_busy"


def _a_backend_name(name: str) -> str:
    if name == LEAST_BUSY:
        raise ValueError("least_busy routes between backends: not a backend's name")
    return name


class NamedBackend(Backend):
    """One backend of a ``backends:`` list (SPEC §18): a §1 backend with a name."""

    name: Annotated[Name, AfterValidator(_a_backend_name)]


class LeastBusy(StrictModel):
    """``{least_busy: [a, b]}``: the least busy of these backends (SPEC §18)."""

    least_busy: tuple[str, ...]


def _backend_choice(value: Any) -> Any:
    """A workload's ``backend``: a name, ``least_busy``, or ``{least_busy: [a, b]}``. Parsed
    here rather than by a pydantic union, whose errors would name its members."""
    if value is None or isinstance(value, LeastBusy):
        return value
    if isinstance(value, str):
        return _not_blank(value)
    if isinstance(value, dict) and set(value) == {LEAST_BUSY}:
        names = value[LEAST_BUSY]
        if not isinstance(names, (list, tuple)) or not names:
            raise FieldError("must name at least one backend", (LEAST_BUSY,), names)
        for name in names:
            if not isinstance(name, str):
                raise FieldError("must be a backend's name", (LEAST_BUSY,), name)
        return LeastBusy(least_busy=tuple(names))
    raise ValueError("must be a backend's name, least_busy, or {least_busy: [a, b]}")


BackendChoice = Annotated[Union[str, LeastBusy, None], BeforeValidator(_backend_choice)]


class Pricing(StrictModel):
    """What a second of usage costs (a what-if, not a quote)."""

    usd_per_second: Annotated[float, BeforeValidator(as_number), Strict(),
                              Field(ge=0, le=limits.MAX_USD_PER_SECOND,
                                    allow_inf_nan=False)] = 1.60


class Instance(StrictModel):
    """A fair-share instance (SPEC §12): its weight, its allocation for the period and what
    was already used of it (usage before t = 0: it counts toward fair share, and it is
    entered at t = 0, so it expires one ``fair_share_window`` later)."""

    share: Weight = 1.0
    allocation: Duration | None = None  # resolved: the open plan's 10 min, else none
    used: Duration = 0.0
    # SPEC §19: usage within the rolling ``limit_window`` (``used`` included) at which the
    # instance's jobs are held (the open plan's 10 min unless given: Scenario.usage_limits).
    limit: PositiveDuration | None = None
    limit_window: PositiveDuration = 28 * 86400.0
    # SPEC §19: the cost at which the instance's work is cancelled (pay-as-you-go), and the
    # what-if that lets running jobs finish.
    cost_limit: Annotated[float, BeforeValidator(as_number), Strict(),
                          Field(gt=0, le=limits.MAX_COST_LIMIT_USD, allow_inf_nan=False)
                          ] | None = None
    on_cost_limit: Literal["cancel", "finish"] = "cancel"

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The limits' keys only when given: dumps of instances without them stay as they
        were before SPEC §19."""
        data: dict[str, Any] = handler(self)
        for key, default in _LIMIT_DEFAULTS.items():
            if data.get(key) == default:
                data.pop(key, None)
        return data


_LIMIT_DEFAULTS: Final[dict[str, object]] = {
    "limit": None, "limit_window": 28 * 86400.0, "cost_limit": None, "on_cost_limit": "cancel"}


@dataclass(frozen=True)
class InstanceLimits:
    """An instance's limits in force (SPEC §19), resolved: usage ``limit_s`` (None: none)
    within ``window_s``, with ``used_s`` of it before t = 0; ``cost_limit_usd`` (None: none),
    and whether running jobs finish when it is reached."""

    limit_s: float | None
    window_s: float
    used_s: float
    cost_limit_usd: float | None
    on_cost_limit: str


class Accounting(StrictModel):
    """How session usage is counted (SPEC §3.3)."""

    session: Literal["active_windows", "first_start_to_end"] = "active_windows"


class Repeat(StrictModel):
    """``repeat: {every: D, times: N}`` (SPEC §12): N copies of a foreground workload, started
    ``every`` apart from its ``start``. A Scenario expands them into workloads ``NAME#1`` ..
    ``NAME#N``, each its own entry in the summary, all in the workload's instance."""

    every: PositiveDuration
    times: Annotated[WholeNumber, Field(ge=1, le=limits.MAX_WORKLOADS)]


class WorkloadBase(StrictModel):
    """What every workload kind has (SPEC §5, §10)."""

    name: Name
    kind: str
    mode: Mode = Mode()
    start: Duration = 0.0
    compile: Distribution = Fixed(value=0.0)
    quantum: Distribution
    post: Distribution = Fixed(value=0.0)
    instance: Name = ""  # resolved to `name` (_default_instance)
    share: Weight = 1.0
    max_execution_time: CappedDuration = MAX_EXECUTION_TIME
    failure: Failure | None = None
    repeat: Repeat | None = None  # resolved: None, the workload expanded into its copies
    # SPEC §18: which backend (a name), or least_busy; None: the first (or only) one.
    backend: BackendChoice = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``backend`` when the file gives none, and without a recorded workload's
        ``per_circuit_overhead`` when 0: a file that does not give them dumps as it did."""
        data: dict[str, Any] = handler(self)
        if self.backend is None:
            data.pop("backend", None)
        if data.get("per_circuit_overhead") == 0:
            data.pop("per_circuit_overhead")
        return data

    @model_validator(mode="before")
    @classmethod
    def _hold_on_streams_only(cls, data: Any) -> Any:
        """SPEC §17's ``hold`` is a background stream's: say so rather than 'unknown key'."""
        if isinstance(data, dict) and "hold" in data and data.get("kind") != "background":
            raise FieldError("applies to background streams only: the service holds others' "
                             "jobs, which a background workload stands for", ("hold",),
                             show_value=False)
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_instance(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("instance") is None and "name" in data:
            data = {**data, "instance": data["name"]}
        return data

    @model_validator(mode="after")
    def _opened_before_start(self) -> WorkloadBase:
        if self.mode.open_at is not None and self.mode.open_at > self.start:
            raise FieldError("must not be after the workload's start "
                             f"({format_duration(self.start)})", ("mode", "open_at"),
                             self.mode.open_at)
        return self

    @property
    def opens_at(self) -> float:
        """When the workload's batch or session is created."""
        return self.start if self.mode.open_at is None else self.mode.open_at


class IterativeWorkload(WorkloadBase):
    """Rounds of jobs separated by classical optimisation (VQE, QAOA)."""

    kind: Literal["iterative"]
    # SPEC §20: a number, or a whole-number distribution each run draws (qsim.input.counts)
    iterations: Iterations
    jobs_per_iteration: JobsPerIteration = 1
    parallel: Annotated[WholeNumber, Field(ge=1, le=limits.MAX_PARALLEL)] = 1
    classical: Distribution = Fixed(value=0.0)
    on_failure: Literal["retry", "abort"] = "retry"
    max_retries: Annotated[WholeNumber, Field(ge=0, le=limits.MAX_RETRIES)] = 3


class IndependentWorkload(WorkloadBase):
    """``jobs`` jobs at once, or one every ``submit_interval``."""

    kind: Literal["independent"]
    jobs: Jobs  # SPEC §20: a number, or a whole-number distribution each run draws
    submit_interval: Duration = 0.0


#: Stands for "not given" until a Scenario resolves ``load`` (SPEC §12) into arrivals.
_ARRIVALS_FROM_LOAD: Final = Exponential(mean=1.0)
# Tags of the arrivals union (not keys of the file: left out of error paths).
_DIST_TAG: Final = "inter-arrival distribution"
_TRACE_TAG: Final = "arrival trace"


def _arrivals_tag(value: Any) -> str:
    trace = isinstance(value, ArrivalTrace) or (isinstance(value, dict) and "trace" in value)
    return _TRACE_TAG if trace else _DIST_TAG


#: A background's ``arrivals``: inter-arrival times, or a trace of measured instants (§17).
Arrivals = Annotated[
    Union[Annotated[Distribution, Tag(_DIST_TAG)], Annotated[ArrivalTrace, Tag(_TRACE_TAG)]],
    Discriminator(_arrivals_tag),
]
Pending = Annotated[WholeNumber, Field(ge=0, le=limits.MAX_JOBS_FIELD)]


class BackgroundWorkload(WorkloadBase):
    """Other users: an open stream of job-mode jobs, given by its inter-arrival times or by
    ``load: X``, which a Scenario resolves to exponential arrivals of mean
    E[burst] x E[quantum] / X. Traffic that varies (SPEC §17): ``burst`` jobs an arrival,
    a ``profile`` and ``regimes`` of the rate, ``arrivals: {trace: FILE}``, ``pending`` jobs
    at t = 0, a ``hold`` of each job before it may be dispatched."""

    kind: Literal["background"]
    arrivals: Arrivals = _ARRIVALS_FROM_LOAD
    load: Annotated[float, BeforeValidator(as_number), Strict(),
                    AfterValidator(_load_fraction)] | None = None
    burst: WholeDistribution | None = None
    profile: Profile | None = None
    regimes: Regimes | None = None
    pending: Pending = 0
    #: ``stop``: an arrival while the backend is in an outage submits nothing (users who see
    #: it is not `active` do not submit to it); ``keep`` (SPEC §16): the background keeps
    #: arriving and queues.
    during_outages: Literal["keep", "stop"] = "keep"
    #: SPEC §17: each job is held a draw of it after its submission (submitted, counted in
    #: pending_jobs, not dispatched): jobs the service holds that a FIFO would serve.
    hold: Distribution | None = None

    @model_validator(mode="before")
    @classmethod
    def _quantum_from_trace(cls, data: Any, info: ValidationInfo) -> Any:
        """A trace with quantum times needs no ``quantum``: its mean stands for it (in the
        offered load and the estimates), the trace's own times for its jobs."""
        if not isinstance(data, dict) or "quantum" in data:
            return data
        arrivals = data.get("arrivals")
        if not isinstance(arrivals, dict) or not isinstance(arrivals.get("trace"), str):
            return data
        base = (info.context or {}).get("base", "")
        try:
            mean = read_arrival_trace(os.path.join(base, arrivals["trace"])).mean_quantum
        except QsimError:
            return data  # the trace's own check reports it
        return data if mean is None else {**data, "quantum": mean}

    @model_validator(mode="after")
    def _job_mode_only(self) -> BackgroundWorkload:
        if self.mode.kind != "job":
            raise FieldError("background streams always run in job mode", ("mode",),
                             self.mode.kind)
        if self.repeat is not None:
            raise FieldError("applies to foreground workloads: a background stream runs for "
                             "the whole run", ("repeat",), show_value=False)
        if self.load is None and "arrivals" not in self.model_fields_set:
            raise FieldError("required: the inter-arrival times, or load: X instead (the "
                             "fraction of the time the background keeps the QPU busy)",
                             ("arrivals",), show_value=False)
        if isinstance(self.arrivals, ArrivalTrace):
            for key in ("burst", "profile", "regimes", "load"):
                if getattr(self, key) is not None:
                    raise FieldError("not used with an arrival trace: the trace gives each "
                                     "instant and its count of jobs", (key,), show_value=False)
        elif not self.arrivals.mean > 0:
            raise FieldError("must have a mean greater than 0: jobs 0 s apart would arrive "
                             "for ever without time moving on", ("arrivals",), show_value=True)
        if self.hold is not None and not self.hold.mean > 0:
            raise FieldError("has a mean of 0: a hold of 0 is no hold: leave the key out",
                             ("hold",), show_value=False)
        if self.burst is not None and not self.burst.mean <= limits.MAX_BURST:
            raise FieldError(f"has a mean of {self.burst.mean:.3g} jobs an arrival; at most "
                             f"{limits.MAX_BURST:,}", ("burst",), show_value=False)
        return self

    @model_serializer(mode="wrap")
    def _without_unset_traffic(self, handler: SerializerFunctionWrapHandler) -> Any:
        """SPEC §17's keys only where set: a plain stream dumps as it did before them."""
        data = handler(self)
        if isinstance(data, dict):
            for key in ("burst", "profile", "regimes", "hold"):
                if data.get(key, 0) is None:
                    del data[key]
            if data.get("pending") == 0:
                del data["pending"]
            if data.get("during_outages") == "keep":
                del data["during_outages"]
        return data

    @property
    def varies(self) -> bool:
        """True when any key of SPEC §17 is set (the stream needs its varying process)."""
        return (self.burst is not None or self.profile is not None or self.regimes is not None
                or self.pending > 0 or isinstance(self.arrivals, ArrivalTrace)
                or self.during_outages == "stop" or self.hold is not None)

    @property
    def mean_burst(self) -> float:
        """Jobs an arrival, on average (a trace: its jobs over its rows)."""
        if isinstance(self.arrivals, ArrivalTrace):
            data = self.arrivals.data
            return data.jobs / len(data.at)
        return 1.0 if self.burst is None else self.burst.mean

    @property
    def mean_gap(self) -> float:
        """Mean time between two jobs of the stream in the long run (inf: none go on)."""
        if isinstance(self.arrivals, ArrivalTrace):
            data = self.arrivals.data
            span = data.at[-1] - data.at[0]
            return span / data.jobs if span > 0 and data.jobs else math.inf
        return self.arrivals.mean / self.mean_burst

    @property
    def peak(self) -> float:
        """The largest rate multiplier: profile x regimes (1 when neither is set)."""
        peak = 1.0
        for varying in (self.profile, self.regimes):
            if varying is not None:
                peak *= max(varying.multipliers)
        return peak

    def expected_jobs(self, span: float) -> float:
        """Jobs the stream submits in its first ``span`` seconds, on average (with pending)."""
        if isinstance(self.arrivals, ArrivalTrace):
            return self.pending + self.arrivals.data.jobs_until(span)
        if span <= 0:
            return float(self.pending)
        gap = self.mean_gap
        return self.pending + (math.inf if math.isinf(span) else span / gap)


class RecordedWorkload(WorkloadBase):
    """A client program recorded by ``qsim trace`` (SPEC §13), replayed as it ran: its think
    times, its jobs (quantum time from their circuits by SPEC §2), its waits, its batches and
    sessions. ``trace`` is read and validated here, relative to the scenario file; ``mode``
    defaults to the recorded one, and ``compile``/``post`` to the recorded values (0 when
    the trace has none)."""

    kind: Literal["recorded"]
    trace: Name  # resolved: an absolute path
    quantum: Distribution | None = None  # type: ignore[assignment]  # from the trace
    compile: Distribution | None = None  # type: ignore[assignment]  # None: as recorded
    post: Distribution | None = None  # type: ignore[assignment]
    rep_delay: Duration | None = None  # resolved: the backend's
    # SPEC §19: a charge per circuit each job ran (its recorded circuit_count x multiplier).
    per_circuit_overhead: Duration = 0.0

    @model_validator(mode="before")
    @classmethod
    def _read_trace(cls, data: Any, info: ValidationInfo) -> Any:
        """Resolve ``trace`` against the scenario's folder, read it, and default the mode
        to the recorded one (closed at the end when the program closed its contexts)."""
        if not isinstance(data, dict) or not isinstance(data.get("trace"), str):
            return data  # the field's own check reports it
        base = (info.context or {}).get("base", "")
        written = data["trace"]
        shown = os.path.normpath(os.path.join(base, written))
        from qsim.records import trace_file  # its models: only for a recorded workload

        try:
            rec = trace_file.read_trace(shown, shown)
        except QsimError as err:
            raise FieldError(str(err), ("trace",), show_value=False) from None
        data = {**data, "trace": os.path.abspath(shown)}
        if data.get("mode") is None:
            data["mode"] = {"kind": rec.mode, "close": rec.closed}
        return data

    @model_validator(mode="after")
    def _replays_as_recorded(self) -> RecordedWorkload:
        if self.quantum is not None:
            raise FieldError("not used by a recorded workload: each job's quantum time "
                             "comes from its recorded circuits", ("quantum",), show_value=False)
        if self.failure is not None:
            raise FieldError("not used by a recorded workload: it replays the program as it "
                             "ran", ("failure",), show_value=False)
        return self

    @property
    def recording(self) -> Recording:
        """The trace (read once per file version; see
        :func:`qsim.records.trace_file.read_trace`)."""
        from qsim.records import trace_file

        return trace_file.read_trace(self.trace)

    def quantum_seconds(self) -> list[float]:
        """Each recorded job's quantum time on this workload's backend (SPEC §2)."""
        if self.rep_delay is None:
            raise ValueError("RecordedWorkload.rep_delay is unresolved: load it through a "
                             "Scenario")
        return [job.quantum_seconds(self.rep_delay, self.per_circuit_overhead)
                for job in self.recording.jobs]


Workload = Annotated[
    Union[IterativeWorkload, IndependentWorkload, BackgroundWorkload, RecordedWorkload],
    Field(discriminator="kind"),
]
WORKLOAD_KINDS: Final = ("iterative", "independent", "background", "recorded")


class Scenario(StrictModel):
    """A whole scenario file, validated and resolved."""

    name: Name
    seed: Annotated[WholeNumber, Field(ge=0, le=limits.MAX_SEED)] = 0
    horizon: PositiveDuration | None = None
    # Runs the background alone for this long before t = 0, so that the foreground starts on
    # a backend as busy as its background makes it; figures are from t = 0 (SPEC §12 reading).
    # ``auto`` (SPEC §17): long enough for the background's load (plans.auto_warmup).
    warmup: Annotated[float, BeforeValidator(_warmup_or_auto)] = 0.0
    plan: Literal["payg", "open", "flex", "premium"] = "payg"
    # SPEC §19: the open plan refuses sessions (today's documentation); ``as_jobs`` keeps the
    # seeds' older reading (a session runs in job mode) as a what-if. Dumped only when given.
    open_sessions: Literal["refuse", "as_jobs"] = "refuse"
    instances: dict[Name, Instance] = Field(default_factory=dict)
    backend: Backend = Backend()  # with `backends`: the first of them (what reads one)
    # SPEC §18: several backends instead of `backend` (the first is also `backend`).
    backends: Annotated[tuple[NamedBackend, ...], Field(max_length=limits.MAX_BACKENDS)] = ()
    pricing: Pricing = Pricing()
    accounting: Accounting = Accounting()
    workloads: tuple[Workload, ...]
    # What the service would not allow, or would make of the file (SPEC §12): one line each,
    # printed as ``qsim: warning:`` lines. Set when a file is loaded; not a key of the file.
    _warnings: tuple[str, ...] = PrivateAttr(default=())
    # How ``warmup: auto`` was resolved ("auto", or "auto, bounded by the work limit"); "" when
    # the file gave a duration.
    _warmup_auto: str = PrivateAttr(default="")

    @property
    def warmup_auto(self) -> str:
        """"auto" (and whether the work limit bounded it) when ``warmup: auto`` set it."""
        return self._warmup_auto

    @property
    def warnings(self) -> tuple[str, ...]:
        """The ``qsim: warning:`` lines this scenario earned when it was loaded."""
        return self._warnings

    def attach_warnings(self, lines: tuple[str, ...]) -> None:
        """Keep the warnings its loading found (not a field: the file does not give them)."""
        self._warnings = lines

    def __eq__(self, other: object) -> bool:
        """Equal fields: the warnings name the file they came from, not the scenario."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        """Consistent with ``__eq__`` (equal scenarios have equal names and seeds); the
        fields themselves hold dicts (``instances``), which do not hash."""
        return hash((self.name, self.seed))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``backend`` or ``backends``, as the file gave them: the dump loads back."""
        data: dict[str, Any] = handler(self)
        data.pop("backend" if self.backends else "backends", None)
        if self.open_sessions == "refuse":  # the default: dumps stay as they were before it
            data.pop("open_sessions", None)
        return data

    @model_validator(mode="before")
    @classmethod
    def _first_backend(cls, data: Any) -> Any:
        """With ``backends:``, ``backend`` is the first of them (and not given as well)."""
        if not isinstance(data, dict) or not data.get("backends"):
            return data
        if "backend" in data:
            raise FieldError("give backend: (one) or backends: (several), not both",
                             ("backends",), show_value=False)
        first = data["backends"]
        first = first[0] if isinstance(first, (list, tuple)) else None
        if isinstance(first, NamedBackend):
            first = first.model_dump(by_alias=True)
        if isinstance(first, dict):
            data = {**data, "backend": {k: v for k, v in first.items() if k != "name"}}
        return data

    @field_validator("backends")
    @classmethod
    def _one_ledger(cls, backends: tuple[NamedBackend, ...]) -> tuple[NamedBackend, ...]:
        seen: set[str] = set()
        for i, b in enumerate(backends):
            if b.name in seen:
                raise FieldError(f"duplicate backend name {b.name!r}", (i, "name"),
                                 show_value=False)
            seen.add(b.name)
            if b.job_lock != backends[0].job_lock:  # a job's charge is read the same way
                raise FieldError(f"must be the first backend's ({backends[0].job_lock}): "
                                 "qsim reads every backend's log with one lock",
                                 (i, "job_lock"), b.job_lock)
            window = backends[0].fair_share_window
            if b.fair_share_window != window:
                raise FieldError(f"must be the first backend's ({format_duration(window)}): "
                                 "fair share counts an instance's usage on every backend "
                                 "together", (i, "fair_share_window"),
                                 format_duration(b.fair_share_window))
        return backends

    @property
    def fleet(self) -> tuple[Backend, ...]:
        """Every backend, in file order: ``backends``, or the one ``backend``."""
        return self.backends or (self.backend,)

    @property
    def failure_charges(self) -> tuple[float, ...]:
        """Per workload, the least a user failure during its quantum phase is charged (SPEC
        §19: "any consumption up to that point, including the overhead incurred to prepare
        the QPU"): the circuit form's per-job ``overhead``, 0 for a quantum given as a
        duration (qsim knows no overhead there). Never more than the phase: a circuit form's
        phase includes its overhead."""
        return tuple(w.quantum.overhead if isinstance(w.quantum, Circuits) else 0.0
                     for w in self.workloads)

    @property
    def usage_limits(self) -> dict[str, InstanceLimits]:
        """SPEC §19: the limits in force, by instance (only those that have one): an
        instance's own, and on the open plan 10 min per ``limit_window`` for every instance
        a foreground workload bills that gives none (background streams are others')."""
        plan_limit = plans.PLANS[self.plan].allocation_s
        out: dict[str, InstanceLimits] = {}
        for w in self.workloads:
            if w.instance in out:
                continue
            spec = self.instances.get(w.instance, Instance())
            limit = spec.limit
            if limit is None and plan_limit is not None and w.kind != "background":
                limit = plan_limit
            if limit is not None or spec.cost_limit is not None:
                out[w.instance] = InstanceLimits(limit, spec.limit_window, spec.used,
                                                 spec.cost_limit, spec.on_cost_limit)
        return out

    def candidates(self, workload: int) -> tuple[int, ...]:
        """The backends (indices into ``fleet``) a workload's jobs may go to (SPEC §18)."""
        return _candidates(self.workloads[workload].backend, self.backends)

    def routed(self, workload: int) -> bool:
        """Whether a workload chooses among several backends (``least_busy``)."""
        return len(self.candidates(workload)) > 1

    @model_validator(mode="before")
    @classmethod
    def _apply_plan(cls, data: Any) -> Any:
        """The plan's price preset (``pricing.usd_per_second`` given wins) and, on ``open``,
        a 10-min default batch ``max_time`` (SPEC §12) and sessions refused, or run in job
        mode under ``open_sessions: as_jobs`` (SPEC §19)."""
        if not isinstance(data, dict) or data.get("plan", "payg") not in plans.PLANS:
            return data
        plan = plans.PLANS[data.get("plan", "payg")]
        pricing = data.get("pricing", {})
        if isinstance(pricing, dict) and "usd_per_second" not in pricing:
            data = {**data, "pricing": {**pricing, "usd_per_second": plan.usd_per_second}}
        workloads = data.get("workloads")
        # A tuple when a sweep or compare re-validates a dump (qsim.experiments.fields).
        if plan.sessions or not isinstance(workloads, (list, tuple)):
            return data
        if data.get("open_sessions", "refuse") == "refuse":
            _refuse_open_sessions(workloads)
        return {**data, "workloads": [_on_open_plan(w, plan) for w in workloads]}

    @field_validator("workloads")
    @classmethod
    def _check_workloads(cls, workloads: tuple[Workload, ...],
                         info: ValidationInfo) -> tuple[Workload, ...]:
        if not workloads:
            raise FieldError("must list at least one workload", show_value=False)
        if len(workloads) > limits.MAX_WORKLOADS:  # the record log has 12 bits for them
            raise FieldError(f"lists {len(workloads)} workloads; qsim simulates at most "
                             f"{limits.MAX_WORKLOADS} in one scenario", show_value=False)
        _reject_duplicate_names(workloads)
        backend = info.data.get("backend")
        fleet = info.data.get("backends")
        if backend is None or fleet is None:  # invalid, and reported on its own
            return workloads
        fleet = tuple(fleet)
        for i, w in enumerate(workloads):
            _check_choice(i, w.backend, fleet)
        resolved = tuple(
            _resolve_rep_delay(w, (fleet or (backend,))[_candidates(w.backend, fleet)[0]]
                               .rep_delay) for w in workloads)
        _check_circuit_seconds(resolved)
        resolved = tuple(_resolve_per_circuit(i, w) for i, w in enumerate(resolved))
        resolved = tuple(_resolve_load(i, w) for i, w in enumerate(resolved))
        resolved = _resolve_instances(resolved, info.data.get("instances") or {})
        return _expand_repeats(resolved)

    @field_validator("instances")
    @classmethod
    def _open_allocation(cls, instances: dict[str, Instance],
                         info: ValidationInfo) -> dict[str, Instance]:
        """On a plan with a fixed allocation (open: 10 min per 28 days), it is the default."""
        allocation = plans.PLANS[info.data.get("plan", "payg")].allocation_s
        if allocation is None:
            return instances
        return {name: i if i.allocation is not None else
                i.model_copy(update={"allocation": allocation}) for name, i in instances.items()}

    @model_validator(mode="after")
    def _warmup_has_a_background(self) -> Scenario:
        auto = self.warmup == _AUTO_WARMUP
        if self.warmup != 0 and not any(w.kind == "background" for w in self.workloads):
            raise FieldError("needs a background workload to warm the backend up",
                             ("warmup",), "auto" if auto else format_duration(self.warmup))
        if auto:
            try:
                seconds, bounded = plans.auto_warmup(self)
            except ValueError as err:
                raise FieldError(str(err), ("warmup",), "auto") from None
            # Set once, while validating: the frozen model's field takes its resolved value.
            self.__dict__["warmup"] = seconds
            self._warmup_auto = "auto, bounded by the work limit" if bounded else "auto"
        return self

    def warmed_up(self) -> Scenario:
        """The scenario as the engine runs it with a warm-up of D: every non-background
        workload (its start, open_at, cancel_at) and the horizon D later, the background from
        0. Not validated again: it is this scenario, shifted."""
        d = self.warmup
        if d == 0:
            return self

        def later(w: Workload) -> Workload:
            if w.kind == "background":
                return w
            mode = w.mode.model_copy(update={
                key: getattr(w.mode, key) + d for key in ("open_at", "cancel_at")
                if getattr(w.mode, key) is not None})
            return w.model_copy(update={"start": w.start + d, "mode": mode})

        def shifted(b: _B) -> _B:
            return b.model_copy(update={"outages": tuple(
                o.shifted(d) if isinstance(o, FixedOutage) else o for o in b.outages)})

        return self.model_copy(update={
            "workloads": tuple(later(w) for w in self.workloads),
            "backend": shifted(self.backend),
            "backends": tuple(shifted(b) for b in self.backends),
            "horizon": None if self.horizon is None else self.horizon + d})

    @model_validator(mode="after")
    def _limits_can_hold(self) -> Scenario:
        """SPEC §19: a cost limit needs a price; limits are built for one backend."""
        for name, spec in self.instances.items():
            if spec.cost_limit is not None and self.pricing.usd_per_second == 0:
                raise FieldError(f"needs a price: usage costs nothing on this scenario "
                                 f"(plan {self.plan}, pricing.usd_per_second 0), so the limit "
                                 "is never reached", ("instances", name, "cost_limit"),
                                 spec.cost_limit)
            if self.backends and (spec.limit is not None or spec.cost_limit is not None):
                raise FieldError("usage and cost limits are not built for several backends "
                                 "yet (SPEC §18, §19): give one backend", ("instances", name),
                                 show_value=False)
        limited = self.usage_limits
        for index, w in enumerate(self.workloads):
            if isinstance(w, BackgroundWorkload) and w.hold is not None \
                    and w.instance in limited:
                raise FieldError("not built beside a usage or cost limit on the stream's "
                                 f"instance ({w.instance!r}, SPEC §19) yet: give the stream "
                                 "an instance of its own", ("workloads", index, "hold"),
                                 show_value=False)
        if self.backends and self.plan == "open":
            raise FieldError("the open plan's usage limit is not built for several backends "
                             "yet (SPEC §18, §19): give one backend", ("plan",), self.plan)
        return self

    @model_validator(mode="after")
    def _every_instance_used(self) -> Scenario:
        used = {w.instance for w in self.workloads}
        for name in self.instances:
            if name not in used:
                raise FieldError("no workload uses this instance (a workload names it with "
                                 "instance:)", ("instances", name), show_value=False)
        return self

    @model_validator(mode="after")
    def _needs_an_end(self) -> Scenario:
        if self.horizon is None and all(w.kind == "background" for w in self.workloads):
            raise FieldError("required when every workload is background (else the run would "
                             "end at t=0)", ("horizon",), show_value=False)
        return self

    def workload(self, name: str) -> Workload:
        """The workload called ``name``; QsimError (listing the names) if there is none."""
        for w in self.workloads:
            if w.name == name:
                return w
        names = ", ".join(w.name for w in self.workloads)
        raise QsimError(f"no workload named {name!r} in scenario {self.name!r} "
                        f"(workloads: {names})")

    def with_mode(self, workload: str, mode: Mode | str) -> Scenario:
        """A copy with one workload's mode replaced (for `qsim compare`).

        A ``Mode`` is used as given. A kind name switches the kind and takes that kind's
        default interactive TTL, keeping the old mode's ``close`` and, unless the new kind is
        ``job``, its ``max_time``, ``cancel_at`` and ``open_at``.
        """
        target = self.workload(workload)
        raw_mode = mode.model_dump() if isinstance(mode, Mode) else _switch_kind(target.mode, mode)
        data = self.model_dump(by_alias=True)
        data["workloads"] = [
            {**w, "mode": raw_mode} if w["name"] == workload else w for w in data["workloads"]
        ]
        return _validate(data, file=None)

    def with_backend(self, workload: str, backend: str) -> Scenario:
        """A copy with one workload on the named backend (SPEC §18; for `qsim compare
        --backends`)."""
        self.workload(workload)  # QsimError if there is none
        data = self.model_dump(by_alias=True)
        data["workloads"] = [{**w, "backend": backend} if w["name"] == workload else w
                             for w in data["workloads"]]
        return _validate(data, file=None)

    def with_seed(self, seed: int) -> Scenario:
        """A copy with another seed."""
        return _validate({**self.model_dump(by_alias=True), "seed": seed}, file=None)


_B = TypeVar("_B", bound=Backend)


def _candidates(choice: str | LeastBusy | None, fleet: tuple[NamedBackend, ...]
                ) -> tuple[int, ...]:
    """Indices of the backends a workload's ``backend`` allows (checked: see _check_choice)."""
    if not fleet:
        return (0,)
    names = [b.name for b in fleet]
    if choice is None:
        return (0,)
    if choice == LEAST_BUSY:
        return tuple(range(len(fleet)))
    if isinstance(choice, LeastBusy):
        return tuple(sorted({names.index(n) for n in choice.least_busy}))  # file order
    return (names.index(choice),)


def _check_choice(i: int, choice: str | LeastBusy | None,
                  fleet: tuple[NamedBackend, ...]) -> None:
    """Every backend a workload names exists (SPEC §18)."""
    names = [b.name for b in fleet]
    if isinstance(choice, LeastBusy):
        for name in choice.least_busy:
            if name not in names:
                raise FieldError(f"no backend named {name!r}; backends: {', '.join(names)}",
                                 (i, "backend", LEAST_BUSY), name)
    elif choice is not None and choice != LEAST_BUSY and choice not in names:
        if not fleet:
            raise FieldError(f"no backend named {choice!r}; the scenario has one unnamed "
                             f"backend: name it in backends: [{{name: {choice}, ...}}]",
                             (i, "backend"), choice)
        raise FieldError(f"no backend named {choice!r}; backends: {', '.join(names)}, "
                         f"{LEAST_BUSY}, {{{LEAST_BUSY}: [...]}}", (i, "backend"), choice)


def _reject_duplicate_names(workloads: tuple[Workload, ...]) -> None:
    seen: set[str] = set()
    for i, w in enumerate(workloads):
        if w.name in seen:
            raise FieldError(f"duplicate workload name {w.name!r}", (i, "name"), show_value=False)
        seen.add(w.name)


def _resolve_rep_delay(workload: Workload, rep_delay: float) -> Workload:
    """Give every circuit-form distribution without a ``rep_delay`` the backend's (and a
    recorded workload's jobs)."""
    updates: dict[str, Any] = {
        field: value.model_copy(update={"rep_delay": rep_delay})
        for field in type(workload).model_fields
        if isinstance(value := getattr(workload, field), Circuits) and value.rep_delay is None
    }
    if isinstance(workload, RecordedWorkload) and workload.rep_delay is None:
        updates["rep_delay"] = rep_delay
    return workload.model_copy(update=updates) if updates else workload


_COPY_SUFFIX: Final = re.compile(r"#\d+$")


def _expand_repeats(workloads: tuple[Workload, ...]) -> tuple[Workload, ...]:
    """Each workload with ``repeat`` as its copies ``NAME#k``, k = 1..N, in its place in the
    file (so same-instant order stays the file's), started ``(k - 1) * every`` after its
    ``start``; its absolute times (``open_at``, ``cancel_at``) move with each copy."""
    if all(w.repeat is None for w in workloads):
        return workloads
    total = sum(1 if w.repeat is None else w.repeat.times for w in workloads)
    if total > limits.MAX_WORKLOADS:  # checked before any copy is made
        raise FieldError(f"would hold {total:,} workloads with their repeats; qsim simulates "
                         f"at most {limits.MAX_WORKLOADS} in one scenario", show_value=False)
    names = {w.name for w in workloads}
    out: list[Workload] = []
    for i, w in enumerate(workloads):
        if w.repeat is None:
            out.append(w)
            continue
        for k in range(w.repeat.times):
            shift = k * w.repeat.every
            name = f"{w.name}#{k + 1}"
            if name in names:
                raise FieldError(f"its copy {name!r} has the name of another workload",
                                 (i, "repeat"), show_value=False)
            mode = w.mode.model_copy(update={
                key: getattr(w.mode, key) + shift for key in ("open_at", "cancel_at")
                if getattr(w.mode, key) is not None})
            out.append(w.model_copy(update={"name": name, "start": w.start + shift,
                                            "mode": mode, "repeat": None}))
    if len(out) > limits.MAX_WORKLOADS:
        raise FieldError(f"with their repeats, {len(out)} workloads; qsim simulates at most "
                         f"{limits.MAX_WORKLOADS} in one scenario", show_value=False)
    return tuple(out)


def _resolve_instances(workloads: tuple[Workload, ...],
                       instances: dict[str, Instance]) -> tuple[Workload, ...]:
    """A workload in a declared instance takes its share; one that names an instance must
    name a declared one when the file declares any (SPEC §12)."""
    if not instances:
        return workloads
    out = []
    for i, w in enumerate(workloads):
        declared = instances.get(w.instance)
        if declared is None:
            # its own instance by default (a repeat's copy NAME#k: its workload's)
            if w.instance != _COPY_SUFFIX.sub("", w.name):
                names = ", ".join(instances)
                raise FieldError(f"no such instance; instances: {names}", (i, "instance"),
                                 w.instance)
            out.append(w)
            continue
        if "share" in w.model_fields_set and w.share != declared.share:
            raise FieldError(f"instance {w.instance!r} has share {declared.share:g}: give the "
                             "share on the instance", (i, "share"), w.share)
        out.append(w.model_copy(update={"share": declared.share}))
    return tuple(out)


OPEN_SESSIONS_REFUSED: Final = (
    'the open plan refuses sessions ("Open Plan users cannot submit session jobs")')


def _refuse_open_sessions(workloads: Sequence[Any]) -> None:
    """The first session workload of an open-plan file, as the service refuses it (SPEC §19:
    "The following code block will return an error for users on the Open Plan")."""
    for i, raw in enumerate(workloads):
        mode = raw.get("mode") if isinstance(raw, dict) else None
        if (mode.get("kind") if isinstance(mode, dict) else mode) == "session":
            where = ("workloads", i, "mode") + (("kind",) if isinstance(mode, dict) else ())
            raise FieldError(f"{OPEN_SESSIONS_REFUSED}; run this workload in job or batch "
                             "mode, or set open_sessions: as_jobs for the older reading (\"Jobs "
                             "will run in job mode instead\")", where, "session")


def _on_open_plan(raw: Any, plan: plans.Plan) -> Any:
    """A raw workload as the open plan runs it: a session in job mode, a batch with the
    plan's ``max_time`` when it gives none."""
    if not isinstance(raw, dict):
        return raw
    mode = raw.get("mode")
    kind = mode.get("kind") if isinstance(mode, dict) else mode
    if kind == "session":
        return {**raw, "mode": "job"}
    if kind == "batch":
        given = dict(mode) if isinstance(mode, dict) else {"kind": "batch"}
        given.setdefault("max_time", plan.batch_max_time_s)
        return {**raw, "mode": given}
    return raw


def _resolve_per_circuit(i: int, workload: Workload) -> Workload:
    """``compile``/``post`` as ``{base, per_circuit}`` take the circuit form's ``circuits``
    (SPEC §14); anywhere else the form is an error."""
    updates: dict[str, Any] = {}
    for field in type(workload).model_fields:
        value = getattr(workload, field)
        if not isinstance(value, dists.PerCircuit):
            continue
        if field not in ("compile", "post") or not isinstance(workload.quantum, Circuits):
            raise FieldError("{base, per_circuit} applies to compile and post when quantum has "
                             "the circuit form (circuits:, shots:)", (i, field), show_value=False)
        resolved = value.model_copy(update={"circuits": workload.quantum.circuits})
        if not resolved.mean <= limits.MAX_DURATION_S:  # a duration, bounded as every one is
            raise FieldError(f"gives {resolved.mean:.3g} s a job with the quantum's "
                             f"{workload.quantum.circuits:,} circuits; at most "
                             f"{limits.MAX_DURATION_S:g} s (qsim's limit for any duration)",
                             (i, field), show_value=False)
        updates[field] = resolved
    return workload.model_copy(update=updates) if updates else workload


def _resolve_load(i: int, workload: Workload) -> Workload:
    """A background ``load: X`` as exponential arrivals of mean E[quantum] / X (SPEC §12).
    Arrivals given as well must be those (as a resolved scenario dumps them)."""
    if not isinstance(workload, BackgroundWorkload) or workload.load is None:
        return workload
    burst = 1.0 if workload.burst is None else workload.burst.mean
    derived = Exponential(mean=burst * workload.quantum.mean / workload.load)
    if "arrivals" in workload.model_fields_set and workload.arrivals != derived:
        raise FieldError("give arrivals or load, not both", (i, "load"), workload.load)
    if not derived.mean > 0:
        raise FieldError("needs a quantum time with a mean greater than 0", (i, "load"),
                         workload.load)
    return workload.model_copy(update={"arrivals": derived})


def _check_circuit_seconds(workloads: tuple[Workload, ...]) -> None:
    """Each circuit form's quantum time, with the backend's rep_delay, is a bounded duration."""
    for i, w in enumerate(workloads):
        for field in type(w).model_fields:
            value = getattr(w, field)
            if isinstance(value, Circuits) and value.rep_delay is not None:
                try:
                    check_circuit_seconds(value, value.rep_delay)
                except FieldError as err:
                    raise FieldError(err.message, (i, field)) from None


def _switch_kind(old: Mode, kind: str) -> str | dict[str, Any]:
    """Raw YAML-like mode for ``kind`` carrying over ``old``'s non-default settings."""
    raw: dict[str, Any] = {"kind": kind}
    if not old.close:
        raw["close"] = False
    if kind != "job":
        if old.max_time != _DEFAULT_MAX_TIME:
            raw["max_time"] = old.max_time
        for key in ("cancel_at", "open_at"):
            if getattr(old, key) is not None:
                raw[key] = getattr(old, key)
    # A bare kind reads best in error messages ("got 'sesion'").
    return kind if len(raw) == 1 else raw


# ---------------------------------------------------------------------------------------------
# Loading


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed YAML (or a dict); ``source`` names it in errors."""
    return _validate(data, file=source)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a YAML scenario file; every problem raises ScenarioError."""
    file = os.fspath(path)
    data, lines = read_yaml(file)
    return _validate(data, file=file, lines=lines)


def dump_resolved(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain JSON/YAML-able data, every default filled in.

    Loading the result again gives an equal Scenario.
    """
    return scenario.model_dump(mode="json", by_alias=True)


def _validate(data: object, *, file: str | None,
              lines: dict[tuple[str | int, ...], int] | None = None) -> Scenario:
    lines = lines or {}
    if data is None:
        raise ScenarioError("the scenario is empty: it needs at least name: and workloads:",
                            file=file)
    if not isinstance(data, dict):
        raise ScenarioError(f"the top level must be a mapping (name:, workloads:, ...), "
                            f"not {_a(data)}", file=file, line=lines.get(()))
    try:
        # Files a scenario names (a recorded workload's trace) are relative to its folder.
        base = os.path.dirname(file) if file else ""
        scenario = Scenario.model_validate(data, context={"base": base})
    except ValidationError as exc:
        raise explain_validation_error(exc, data, file=file, lines=lines, tags=_TAGS,
                                       hints=_TAG_HINTS) from None
    scenario.attach_warnings(tuple(_plan_warnings(data, scenario, file, lines)))
    return scenario


def _plan_warnings(data: dict[str, Any], scenario: Scenario, file: str | None,
                   lines: dict[tuple[str | int, ...], int]) -> list[str]:
    """What the plan would not allow, as the file wrote it, and an offered load of 1 or
    more: one line each, ``FILE:LINE: FIELD: what happens``."""
    plan = plans.PLANS[scenario.plan]
    out: list[str] = []

    def say(message: str, path: tuple[str | int, ...], value: object) -> None:
        line = lines.get(path) or lines.get(path[:-1])
        out.append(str(ScenarioError(message, file=file, line=line, field=format_path(path),
                                     value=value)))

    raw = data.get("workloads")
    for i, w in enumerate(scenario.workloads):
        given = raw[i] if isinstance(raw, list) and i < len(raw) else {}
        mode = given.get("mode") if isinstance(given, dict) else None
        kind = mode.get("kind") if isinstance(mode, dict) else mode
        if kind == "session" and not plan.sessions:
            say(f"session mode is not supported on the {scenario.plan} plan: this workload "
                "runs in job mode instead (open_sessions: as_jobs, a what-if)",
                ("workloads", i, "mode"), "session")
        limit = plan.batch_max_time_s if w.mode.kind == "batch" else plan.max_time_s
        if w.mode.kind != "job" and w.mode.max_time > limit:
            say(f"above the {scenario.plan} plan's maximum of {format_duration(limit)}: "
                "run as a what-if", ("workloads", i, "mode", "max_time"),
                format_duration(w.mode.max_time))
    load = plans.open_stream_load(scenario)
    if load >= 1:
        where = " one backend" if scenario.backends else ""
        out.append(f"{file or '<scenario>'}: the open streams offer{where} a load of "
                   f"{load:.3f} >= 1: the queue grows without bound and the figures depend on "
                   "the horizon")
    return out


# Union tags pydantic inserts in error locations; they are not keys of the file.
_TAGS: Final = (frozenset(WORKLOAD_KINDS) | {c.TAG for c in dists.DISTRIBUTIONS}
                 | {_DIST_TAG, _TRACE_TAG, dists.UniformInt.TAG, dists.Geometric.TAG,
                    dists.Rounded.TAG} | OUTAGE_TAGS | counts.COUNT_TAGS)
# Discriminators as pydantic names them in errors -> (the key they read, what it selects).
_TAG_HINTS: Final[dict[str, tuple[str, str]]] = {
    "'kind'": ("kind", "workload kind; expected one of " + ", ".join(WORKLOAD_KINDS)),
    f"{dists.whole_tag.__name__}()": (
        "dist", "whole-number distribution; expected one of "
        + ", ".join(dists.WHOLE_DIST_NAMES)),
    f"{dists.dist_tag.__name__}()": (
        "dist", "distribution; expected one of " + ", ".join(DIST_NAMES)
        + ", or the circuit form (circuits:, shots:)"),
}


def _a(value: object) -> str:
    """'a list', 'a string', ... for messages about the wrong kind of value."""
    names = {list: "a list", str: "a string", int: "a number", float: "a number",
             bool: "a boolean"}
    return names.get(type(value), f"a {type(value).__name__}")
