"""Distributions of phase durations, as written in scenario files (SPEC §2, §8).

Each distribution is a frozen pydantic model with

* ``mean`` -- the analytic mean, in seconds, of what ``sample`` produces;
* ``sample(rng, size)`` -- a float64 array of ``size`` draws, all >= 0, taken only from the
  given ``numpy.random.Generator`` (no global randomness, so runs are reproducible).

:data:`Distribution` is the type scenario fields use. It accepts

* a plain duration (``3s``, ``3``) -> :class:`Fixed`;
* a mapping with ``dist:`` naming one of :data:`DIST_NAMES`;
* the circuit form, a mapping with ``circuits:`` and no ``dist:`` -> :class:`Circuits`.
  It is accepted wherever a distribution is, though it only makes sense for ``quantum``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    Tag,
    model_serializer,
    model_validator,
)

from qsim.input.errors import FieldError
from qsim.input.limits import (
    MAX_CIRCUITS,
    MAX_CV,
    MAX_DURATION_S,
    MAX_MULTIPLIER,
    MAX_SHOTS,
    MAX_WHOLE_MEAN,
)
from qsim.input.units import format_duration, parse_duration

# numpy is imported by the functions that draw (once per block of draws): reading and
# checking a scenario (``qsim validate``) never needs it, and it costs more than a third of
# that command's start.
if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DISTRIBUTIONS", "DIST_NAMES", "Circuits", "Distribution", "DistributionBase", "Duration",
    "Empirical", "Exponential", "Fixed", "Geometric", "Lognormal", "Normal", "PerCircuit",
    "Rounded", "StrictModel", "Sum", "Uniform", "UniformInt", "WholeCount", "WholeDistribution",
    "HIGH_COUNT_TAIL",
    "as_number", "as_whole_number", "dist_tag",
]

#: A duration in scenario files: seconds, or a string with a unit; never negative, at most
#: ``qsim.input.limits.MAX_DURATION_S``.
Duration = Annotated[float, BeforeValidator(parse_duration)]

# A number as YAML 1.2 writes one. YAML 1.1 (PyYAML) reads ``2e-3`` and ``1e6`` -- an exponent
# without a dot, or without a sign -- as strings, not numbers.
# ASCII digits only: Python reads "１０" (full-width) as 10, which no file means to write.
_NUMBER_TEXT: Final = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*",
                                 re.ASCII)


def as_number(value: Any) -> Any:
    """A number field's value: a string that reads as a number (``"2e-3"``, which YAML 1.1
    leaves a string) becomes that number, as YAML 1.2 would read it; anything else is left
    for the field's own check."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    return value


def as_whole_number(value: Any) -> Any:
    """A count field's value: as :func:`as_number`, and a float that is a whole number
    (``1e6``, ``1000.0``) becomes that int; ``2.5`` and ``true`` are left to be refused."""
    value = as_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class StrictModel(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are errors that list the
    allowed ones (pydantic's own ``extra="forbid"`` message does not). Built on first use
    (``defer_build``): a model used only inside a scenario is built once, as part of the
    scenario's validator, rather than on its own at import as well (``qsim validate``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True,
                              validate_by_alias=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            names = set(cls.model_fields) | set(cls.allowed_keys())
            for key in data:
                if key not in names:
                    allowed = ", ".join(cls.allowed_keys())
                    raise FieldError(f"unknown key {key!r}; allowed: {allowed}",
                                     (key,), show_value=False)
        return data

    @classmethod
    def allowed_keys(cls) -> list[str]:
        """The keys a file may use for this model, in declaration order."""
        return [f.alias or name for name, f in cls.model_fields.items()]


class DistributionBase(StrictModel):
    """Common helpers; subclasses define ``mean`` and ``sample``."""

    TAG: ClassVar[str]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Return ``size`` independent draws (float64, all >= 0)."""
        raise NotImplementedError

    def draw(self, rng: np.random.Generator) -> float:
        """One draw, as a Python float."""
        return float(self.sample(rng, 1)[0])


class Fixed(DistributionBase):
    """Always ``value`` seconds."""

    TAG: ClassVar[str] = "fixed"
    dist: Literal["fixed"] = "fixed"
    value: Duration

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.value, dtype=np.float64)


class Exponential(DistributionBase):
    """Exponential with the given mean (the field is also the analytic mean)."""

    TAG: ClassVar[str] = "exponential"
    dist: Literal["exponential"] = "exponential"
    mean: Duration

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.exponential(self.mean, size).astype(np.float64)


class Uniform(DistributionBase):
    """Uniform on ``[low, high]``; ``low <= high``."""

    TAG: ClassVar[str] = "uniform"
    dist: Literal["uniform"] = "uniform"
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise FieldError(f"must not be less than low ({format_duration(self.low)})", ("high",),
                             self.high)
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.uniform(self.low, self.high, size).astype(np.float64)


class Lognormal(DistributionBase):
    """Lognormal given by its mean and coefficient of variation (sd / mean).

    sigma^2 = ln(1 + cv^2) and mu = ln(mean) - sigma^2 / 2, so the mean is exactly ``mean``.
    ``cv == 0`` is a fixed value; ``mean == 0`` gives zeros.
    """

    TAG: ClassVar[str] = "lognormal"
    dist: Literal["lognormal"] = "lognormal"
    mean: Duration
    cv: Annotated[float, BeforeValidator(as_number), Strict(),
                  Field(ge=0, le=MAX_CV, allow_inf_nan=False)]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        if self.mean == 0 or self.cv == 0:
            return np.full(size, self.mean, dtype=np.float64)
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size).astype(np.float64)


class Normal(DistributionBase):
    """Normal(``mu``, ``sd``) truncated at 0: negative draws are redrawn.

    In files the location is written ``mean`` (the field is ``mu`` because ``mean`` is the
    analytic mean of the *truncated* distribution, which is larger than ``mu``).
    """

    TAG: ClassVar[str] = "normal"
    dist: Literal["normal"] = "normal"
    mu: Duration = Field(alias="mean")
    sd: Duration

    @property
    def mean(self) -> float:
        """mu + sd * phi(a) / (1 - Phi(a)) with a = -mu / sd."""
        if self.sd == 0:
            return self.mu
        a = -self.mu / self.sd
        pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        upper_tail = 0.5 * math.erfc(a / math.sqrt(2))  # 1 - Phi(a), accurate in the tail
        return self.mu + self.sd * pdf / upper_tail

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        if self.sd == 0:
            return np.full(size, self.mu, dtype=np.float64)
        out = rng.normal(self.mu, self.sd, size)
        bad = out < 0
        # Redraw only the rejected entries; with mu >= 0 at least half are accepted each round,
        # and the sequence of draws depends only on the generator, so it is reproducible.
        while bad.any():
            out[bad] = rng.normal(self.mu, self.sd, int(bad.sum()))
            bad = out < 0
        return out.astype(np.float64)


class Empirical(DistributionBase):
    """Resample the given durations uniformly, with replacement."""

    TAG: ClassVar[str] = "empirical"
    dist: Literal["empirical"] = "empirical"
    values: Annotated[tuple[Duration, ...], Field(min_length=1)]

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.choice(np.asarray(self.values, dtype=np.float64), size)


class Circuits(DistributionBase):
    """The quantum phase from the circuits it runs (SPEC §2), a deterministic value:

        seconds = overhead + per_circuit_overhead * circuits * multiplier
                  + (rep_delay + circuit_duration) * circuits * multiplier * shots

    ``per_circuit_overhead`` (SPEC §19, default 0) is the fixed charge per circuit the service
    names without publishing its size; the multiplier counts the circuits mitigation adds.
    ``rep_delay=None`` means "the backend's"; a Scenario resolves it, so every Circuits in a
    loaded scenario has a float ``rep_delay``. Written in files without ``dist:``; a dump
    carries ``per_circuit_overhead`` only when it is not 0.
    """

    # Not a `dist:` name, and unlike any key, so it cannot be mistaken for one in error paths.
    TAG: ClassVar[str] = "circuit form"
    circuits: Annotated[int, BeforeValidator(as_whole_number), Strict(),
                        Field(ge=1, le=MAX_CIRCUITS)]
    shots: Annotated[int, BeforeValidator(as_whole_number), Strict(), Field(ge=1, le=MAX_SHOTS)]
    circuit_duration: Duration = 100e-6
    rep_delay: Duration | None = None
    overhead: Duration = 2.0
    multiplier: Annotated[float, BeforeValidator(as_number), Strict(),
                          Field(gt=0, le=MAX_MULTIPLIER, allow_inf_nan=False)] = 1.0
    per_circuit_overhead: Duration = 0.0

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``per_circuit_overhead`` when 0: a file that does not give it dumps as it
        did before it."""
        data: dict[str, Any] = handler(self)
        if self.per_circuit_overhead == 0:
            data.pop("per_circuit_overhead", None)
        return data

    @model_validator(mode="after")
    def _a_duration(self) -> Circuits:
        """The quantum time it gives is a duration, bounded as every duration is (with the
        backend's ``rep_delay`` when it has none, checked again once that is known)."""
        check_circuit_seconds(self, 0.0 if self.rep_delay is None else self.rep_delay)
        return self

    @property
    def seconds(self) -> float:
        """The quantum time; raises ValueError while ``rep_delay`` is unresolved."""
        if self.rep_delay is None:
            raise ValueError("Circuits.rep_delay is unresolved: load it through a Scenario "
                             "or give rep_delay")
        per_shot = self.rep_delay + self.circuit_duration
        # In this order, so that a form without the per-circuit charge (+ 0.0) gives the
        # same float as before it.
        return (self.overhead + self.per_circuit_overhead * self.circuits * self.multiplier
                + per_shot * self.circuits * self.multiplier * self.shots)

    @property
    def mean(self) -> float:
        return self.seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.seconds, dtype=np.float64)


def check_circuit_seconds(circuits: Circuits, rep_delay: float) -> None:
    """FieldError unless the circuit form's quantum time, with ``rep_delay``, is at most
    ``MAX_DURATION_S``."""
    per_shot = rep_delay + circuits.circuit_duration
    runs = circuits.circuits * circuits.multiplier * circuits.shots
    per_circuit = circuits.per_circuit_overhead * circuits.circuits * circuits.multiplier
    seconds = circuits.overhead + per_circuit + per_shot * runs
    if not seconds <= MAX_DURATION_S:
        raise FieldError(f"gives {seconds:.3g} s of quantum time a job; at most "
                         f"{MAX_DURATION_S:g} s (qsim's limit for any duration)")


class PerCircuit(DistributionBase):
    """A phase that scales with the job (SPEC §14): ``base + per_circuit * circuits``, for
    ``compile`` and ``post`` when ``quantum`` has the circuit form (its ``circuits``; the
    multiplier is not applied: compilation sees the circuits once). ``circuits=None`` means
    "the quantum's"; a Scenario resolves it. Written in files without ``dist:``."""

    TAG: ClassVar[str] = "per-circuit form"
    base: Duration = 0.0
    per_circuit: Duration
    circuits: Annotated[int, BeforeValidator(as_whole_number), Strict(),
                        Field(ge=1, le=MAX_CIRCUITS)] | None = None

    @property
    def mean(self) -> float:
        if self.circuits is None:
            raise ValueError("PerCircuit.circuits is unresolved: load it through a Scenario")
        return self.base + self.per_circuit * self.circuits

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.mean, dtype=np.float64)


class Sum(DistributionBase):
    """``{dist: sum, of: [DIST, ...]}`` (SPEC §14): the sum of independent draws of each
    part (an optimiser's step plus transpilation); its mean is the sum of the parts' means."""

    TAG: ClassVar[str] = "sum"
    dist: Literal["sum"] = "sum"
    of: Annotated[tuple[Distribution, ...], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _plain_parts(self) -> Sum:
        for i, part in enumerate(self.of):
            if isinstance(part, (Circuits, PerCircuit)):
                raise FieldError("a part of a sum is a distribution of durations, not the "
                                 f"{part.TAG}", ("of", i), show_value=False)
        if not self.mean <= MAX_DURATION_S:
            raise FieldError(f"has a mean of {self.mean:.3g} s; at most {MAX_DURATION_S:g} s "
                             "(qsim's limit for any duration)", ("of",), show_value=False)
        return self

    @property
    def mean(self) -> float:
        return math.fsum(part.mean for part in self.of)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        total = np.zeros(size, dtype=np.float64)
        for part in self.of:  # in order: each part draws its own numbers from the stream
            total += part.sample(rng, size)
        return total


#: Every distribution class, in the order of SPEC §8 (then the circuit form).
DISTRIBUTIONS: Final[tuple[type[DistributionBase], ...]] = (
    Fixed, Exponential, Uniform, Lognormal, Normal, Empirical, Sum, Circuits, PerCircuit)
#: The names accepted after ``dist:``.
DIST_NAMES: Final[tuple[str, ...]] = tuple(c.TAG for c in DISTRIBUTIONS
                                           if c not in (Circuits, PerCircuit))


def dist_tag(value: Any) -> str | None:
    """Which distribution a raw value describes (None: cannot tell).

    ``dist:`` must name one of :data:`DIST_NAMES`; anything else gets a tag that matches no
    member, so that pydantic reports an unknown name. The circuit form has no ``dist:``.
    """
    if isinstance(value, DistributionBase):
        return value.TAG
    if isinstance(value, dict):
        if "dist" in value:
            name = value["dist"]
            return name if name in DIST_NAMES else f"unknown dist {name!r}"
        if "per_circuit" in value or "base" in value:
            return PerCircuit.TAG
        return Circuits.TAG if "circuits" in value else None
    return None


def _plain_duration_is_fixed(value: Any) -> Any:
    """A plain duration (anything that is not a mapping or a model) means ``Fixed``."""
    if isinstance(value, (dict, DistributionBase)):
        return value
    return {"dist": "fixed", "value": value}


Distribution = Annotated[
    Union[
        Annotated[Fixed, Tag(Fixed.TAG)],
        Annotated[Exponential, Tag(Exponential.TAG)],
        Annotated[Uniform, Tag(Uniform.TAG)],
        Annotated[Lognormal, Tag(Lognormal.TAG)],
        Annotated[Normal, Tag(Normal.TAG)],
        Annotated[Empirical, Tag(Empirical.TAG)],
        Annotated[Sum, Tag(Sum.TAG)],
        Annotated[Circuits, Tag(Circuits.TAG)],
        Annotated[PerCircuit, Tag(PerCircuit.TAG)],
    ],
    Discriminator(dist_tag),
    BeforeValidator(_plain_duration_is_fixed),
]
# Sum's ``of`` names Distribution, defined after it: resolved when Sum is first built.


# ---------------------------------------------------------------------------------------------
# Whole-number distributions (SPEC §8, §17 `burst`, §20 `iterations`/`jobs`)

WholeInt = Annotated[int, BeforeValidator(as_whole_number), Strict(),
                     Field(ge=1, le=int(MAX_WHOLE_MEAN))]


class UniformInt(DistributionBase):
    """``{dist: uniform_int, low, high}``: each whole number of ``[low, high]`` equally likely."""

    TAG: ClassVar[str] = "uniform_int"
    dist: Literal["uniform_int"] = "uniform_int"
    low: WholeInt
    high: WholeInt

    @model_validator(mode="after")
    def _ordered(self) -> UniformInt:
        if self.high < self.low:
            raise FieldError(f"must not be less than low ({self.low})", ("high",), self.high)
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.integers(self.low, self.high, size, endpoint=True).astype(np.float64)

    def high_count(self) -> int:
        """Its upper bound (see :data:`HIGH_COUNT_TAIL`)."""
        return self.high


class Geometric(DistributionBase):
    """``{dist: geometric, mean: m}``: trials up to the first success at p = 1/m, so whole
    numbers >= 1 with mean m (m = 1: always 1). Memoryless: a client that, after each job,
    submits another with probability 1 - p."""

    TAG: ClassVar[str] = "geometric"
    dist: Literal["geometric"] = "geometric"
    mean: Annotated[float, BeforeValidator(as_number), Strict(),
                    Field(ge=1, le=MAX_WHOLE_MEAN, allow_inf_nan=False)]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.geometric(1 / self.mean, size).astype(np.float64)

    def high_count(self) -> int:
        """The least k with P(X > k) = (1 - p)^k <= HIGH_COUNT_TAIL (unbounded above)."""
        if self.mean <= 1:
            return 1
        return max(1, math.ceil(math.log(HIGH_COUNT_TAIL) / math.log1p(-1 / self.mean)))


#: What a count's work estimate reads of an unbounded whole-number distribution (SPEC §20):
#: the count it exceeds with at most this probability (its 99.9th percentile).
HIGH_COUNT_TAIL: Final = 1e-3

# Terms of the survival sum added one by one (see _rounded_mean); beyond them, its integral.
_SURVIVAL_TERMS: Final = 1 << 16


def _upper(z: np.ndarray | float) -> np.ndarray:
    """P(Z >= z) for a standard normal Z, accurate in the upper tail."""
    import numpy as np

    erfc = np.frompyfunc(math.erfc, 1, 1)
    return np.asarray(erfc(np.asarray(z, dtype=np.float64) / math.sqrt(2)), np.float64) / 2


def _survival(d: DistributionBase, x: np.ndarray) -> np.ndarray:
    """P(X >= x) of a continuous distribution of durations, for x > 0."""
    import numpy as np

    if isinstance(d, Exponential):
        return np.exp(-x / d.mean) if d.mean > 0 else np.zeros_like(x)
    if isinstance(d, Uniform):
        if d.high == d.low:
            return (x <= d.low).astype(np.float64)
        return np.clip((d.high - x) / (d.high - d.low), 0.0, 1.0)
    if isinstance(d, Lognormal):
        if d.mean == 0 or d.cv == 0:
            return (x <= d.mean).astype(np.float64)
        s2 = math.log1p(d.cv**2)
        mu = math.log(d.mean) - s2 / 2
        return _upper((np.log(x) - mu) / math.sqrt(s2))
    assert isinstance(d, Normal)
    if d.sd == 0:
        return (x <= d.mu).astype(np.float64)
    return _upper((x - d.mu) / d.sd) / float(_upper(-d.mu / d.sd))


def _excess(d: DistributionBase, a: float) -> float:
    """E[(X - a)+], the integral of the survival function from ``a`` on (a > 0)."""
    if isinstance(d, Exponential):
        return d.mean * math.exp(-a / d.mean) if d.mean > 0 else 0.0
    if isinstance(d, Uniform):
        if a >= d.high:
            return 0.0
        return d.mean - a if a <= d.low else (d.high - a) ** 2 / (2 * (d.high - d.low))
    if isinstance(d, Lognormal):
        if d.mean == 0 or d.cv == 0:
            return max(0.0, d.mean - a)
        s = math.sqrt(math.log1p(d.cv**2))
        d2 = (math.log(d.mean) - s * s / 2 - math.log(a)) / s
        return d.mean * float(_upper(-(d2 + s))) - a * float(_upper(-d2))
    assert isinstance(d, Normal)
    if d.sd == 0:
        return max(0.0, d.mu - a)
    z = (a - d.mu) / d.sd
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return ((d.mu - a) * float(_upper(z)) + d.sd * pdf) / float(_upper(-d.mu / d.sd))


@lru_cache(maxsize=256)
def _rounded_mean(d: DistributionBase) -> float:
    """E[max(1, floor(X + 1/2))] = 1 + sum_{k >= 2} P(X >= k - 1/2), exactly: the first
    ``_SURVIVAL_TERMS`` terms one by one, the rest as the integral of the survival function
    (the midpoint rule, whose error there is far below a float's: the function is smooth and
    nearly flat so far out)."""
    if isinstance(d, (Fixed, Empirical)):
        values = (d.value,) if isinstance(d, Fixed) else d.values
        return math.fsum(max(1.0, math.floor(v + 0.5)) for v in values) / len(values)
    import numpy as np

    k = np.arange(2, _SURVIVAL_TERMS + 2, dtype=np.float64)
    terms = _survival(d, k - 0.5)
    return 1.0 + math.fsum(terms.tolist()) + _excess(d, float(_SURVIVAL_TERMS + 1))


class Rounded(DistributionBase):
    """A distribution of durations read as whole numbers (SPEC §8): each draw rounded to the
    nearest whole number (halves up), and at least 1. A plain number, ``fixed`` and
    ``empirical`` must already be whole numbers >= 1 (a burst of 2.5 jobs is a mistake, not
    a rounding); ``sum`` and the circuit forms are refused. Written in files as the
    distribution itself (a whole-number field wraps it)."""

    TAG: ClassVar[str] = "rounded"
    of: Distribution

    @model_validator(mode="after")
    def _whole(self) -> Rounded:
        d = self.of
        if isinstance(d, (Sum, Circuits, PerCircuit)):
            raise FieldError(f"a whole number cannot be drawn from a {d.TAG}: give fixed, "
                             "exponential, uniform, lognormal, normal, empirical, uniform_int "
                             "or geometric", show_value=False)
        if isinstance(d, (Fixed, Empirical)):
            values = (d.value,) if isinstance(d, Fixed) else d.values
            for v in values:
                if not (v >= 1 and float(v).is_integer()):
                    raise FieldError(f"must be a whole number >= 1, not {v:g}",
                                     show_value=False)
        if not self.mean <= MAX_WHOLE_MEAN:
            raise FieldError(f"has a mean of {self.mean:.3g}; must be less than or equal to "
                             f"{MAX_WHOLE_MEAN:g}", show_value=False)
        return self

    @property
    def mean(self) -> float:
        return _rounded_mean(self.of)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.maximum(1.0, np.floor(self.of.sample(rng, size) + 0.5))

    def high_count(self) -> int:
        """Its upper bound where it has one (fixed, empirical, uniform), else the least whole
        number k with P(draw > k) <= HIGH_COUNT_TAIL: the rounded (1 - tail) quantile."""
        import numpy as np  # here, not at the top: validating a file need not load numpy

        d = self.of
        if isinstance(d, (Fixed, Empirical)):
            return int(max((d.value,) if isinstance(d, Fixed) else d.values))
        if isinstance(d, Uniform):
            return max(1, math.floor(d.high + 0.5))
        # P(X >= x) falls from 1 towards 0: bisect for the x where it is the tail; the
        # bracket doubles from the mean (a lognormal's tail can sit far above it).
        lo, hi = 0.0, max(1.0, 2 * d.mean)
        while float(_survival(d, np.asarray([hi]))[0]) > HIGH_COUNT_TAIL and hi < 1e300:
            lo, hi = hi, 2 * hi
        for _ in range(200):
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if float(_survival(d, np.asarray([mid]))[0]) > \
                HIGH_COUNT_TAIL else (lo, mid)
        return max(1, math.floor(hi + 0.5))


WHOLE_DIST_NAMES: Final = (UniformInt.TAG, Geometric.TAG, "fixed", "exponential", "uniform",
                           "lognormal", "normal", "empirical")


def whole_tag(value: Any) -> str | None:
    """Which whole-number distribution a (wrapped) value describes; an unknown ``dist:``
    name gets a tag that matches none, so that the error is about the name."""
    if isinstance(value, DistributionBase):
        return value.TAG
    if isinstance(value, dict):
        if "of" in value and "dist" not in value:
            inner = value["of"]
            name = inner.get("dist") if isinstance(inner, dict) else None
            known = name is None or name in WHOLE_DIST_NAMES or name in DIST_NAMES
            return Rounded.TAG if known else f"unknown dist {name!r}"
        return str(value.get("dist", Rounded.TAG))
    return None


def _wrap_whole(value: Any) -> Any:
    """A whole-number field's value: uniform_int, geometric or an already wrapped one as it
    is, anything else the distribution to round (``3`` is ``{of: {dist: fixed, value: 3}}``)."""
    if isinstance(value, (UniformInt, Geometric, Rounded)):
        return value
    if isinstance(value, dict) and (value.get("dist") in (UniformInt.TAG, Geometric.TAG)
                                    or ("of" in value and "dist" not in value)):
        return value
    return {"of": value}


#: One of the whole-number distributions, once validated.
WholeCount = Union[UniformInt, Geometric, Rounded]

#: A whole-number distribution (SPEC §8): draws are whole numbers >= 1 (as float64).
WholeDistribution = Annotated[
    Union[
        Annotated[UniformInt, Tag(UniformInt.TAG)],
        Annotated[Geometric, Tag(Geometric.TAG)],
        Annotated[Rounded, Tag(Rounded.TAG)],
    ],
    Discriminator(whole_tag),
    BeforeValidator(_wrap_whole),
]
