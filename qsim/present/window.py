"""``--window START:END``: the part of a run a timeline shows."""

from __future__ import annotations

from qsim.input.errors import QsimError
from qsim.input.units import parse_duration

__all__ = ["parse_window"]


def parse_window(text: str | None) -> tuple[float | None, float | None]:
    """``"START:END"`` (durations, either side may be empty: ``"15m:"``) -> seconds, for
    ``--window``; ``None`` -> the whole run."""
    if text is None:
        return None, None
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError("expected START:END, e.g. 10m:25m or 600:1500")
        bounds = tuple(parse_duration(v) if v.strip() else None for v in (start, end))
    except ValueError as err:
        raise QsimError(f"--window: {err} (got {text!r})") from None
    if None not in bounds and bounds[1] <= bounds[0]:  # type: ignore[operator]
        raise QsimError(f"--window: END must be after START (got {text!r})")
    return bounds  # type: ignore[return-value]
