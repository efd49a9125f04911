"""Outages in scenario files (SPEC §16): fixed periods and random up/down processes.

``backend.outages`` is a list; each entry is either a fixed period (``start`` and ``end``, or
``start`` and ``duration``) or a random process (``every``: the up-time before each outage,
``duration``: its length, both distributions). ``kind`` says what the outage does to the job
on the QPU: ``pause`` lets it finish its phase, ``down`` fails it (reason ``outage``).
The model's side is ``qsim.model.availability``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Tag, model_validator

from .dists import Distribution, Duration, StrictModel
from .errors import FieldError
from .units import format_duration

OutageKind = Literal["pause", "down"]


class FixedOutage(StrictModel):
    """One period, ``start`` to ``end`` (absolute scenario time), or ``start`` plus
    ``duration``."""

    start: Duration
    end: Duration | None = None
    duration: Duration | None = None
    kind: OutageKind = "pause"

    @model_validator(mode="after")
    def _one_end(self) -> FixedOutage:
        if self.end is None and self.duration is None:
            raise FieldError("an outage needs its end: give end or duration", ("end",))
        if self.end is not None and self.duration is not None:
            raise FieldError("give end or duration, not both", ("duration",), self.duration)
        if self.duration is not None and self.duration <= 0:
            raise FieldError("must be greater than 0", ("duration",), self.duration)
        if self.end is not None and self.end <= self.start:
            raise FieldError(f"must be after start ({format_duration(self.start)}): an outage "
                             "ending before it starts", ("end",), self.end)
        return self

    @property
    def end_s(self) -> float:
        """When it ends, whichever form the file used."""
        if self.end is not None:
            return self.end
        assert self.duration is not None  # _one_end: one of the two is given
        return self.start + self.duration

    def shifted(self, offset: float) -> FixedOutage:
        """The same period ``offset`` seconds later (the warm-up's clock)."""
        return self.model_copy(update={
            "start": self.start + offset, "end": None if self.end is None else self.end + offset})


class RandomOutage(StrictModel):
    """Up for a draw of ``every``, then down for a draw of ``duration``, and so on; the first
    up-time is drawn at the run's start (SPEC §16)."""

    every: Distribution
    duration: Distribution
    kind: OutageKind = "pause"

    @model_validator(mode="after")
    def _takes_time(self) -> RandomOutage:
        for key in ("every", "duration"):
            dist = getattr(self, key)
            if not dist.mean > 0:
                raise FieldError("must have a mean greater than 0: outages that take no time "
                                 "(or come back at once) for ever", (key,), dist.mean)
        return self


#: The union's tags, which pydantic puts in error locations (not keys of the file).
OUTAGE_TAGS = frozenset(("fixed", "random"))


def _outage_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "random" if "every" in value else "fixed"
    return "random" if isinstance(value, RandomOutage) else "fixed"


Outage = Annotated[
    Union[Annotated[FixedOutage, Tag("fixed")], Annotated[RandomOutage, Tag("random")]],
    Discriminator(_outage_tag),
]
