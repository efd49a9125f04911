"""Durations at the boundary: ``"250us"``, ``"5m"`` or ``30`` -> float seconds.

Inside qsim every time is a float number of seconds; units exist only in scenario files and
in what is shown to people. :func:`parse_duration` is the one way in and
:func:`format_duration` the one way out.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from typing import Final

from qsim.input.limits import MAX_DURATION_S

__all__ = ["UNITS", "format_duration", "parse_duration"]

UNITS: Final[dict[str, Decimal]] = {
    "us": Decimal("1e-6"),
    "ms": Decimal("1e-3"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
}

_UNIT_LIST: Final = ", ".join(UNITS)
_EXPECTED: Final = f"expected seconds or a number with a unit {_UNIT_LIST}"

# A signed decimal number (optionally with exponent), optional spaces, then letters.
# The sign is captured so that "-3s" gets "must not be negative" rather than "not a duration".
_PATTERN: Final = re.compile(
    r"""^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
        \s*(?P<unit>[^\d\s.+-][^\s]*(?:\s+[^\s]+)*)?\s*$""",
    re.VERBOSE,
)


def parse_duration(value: object) -> float:
    """Return ``value`` as float seconds.

    A real number (int or float, not bool) is seconds; a string is a number optionally
    followed by a unit from :data:`UNITS` (``"1.5ms"``, ``"5 m"``, ``"12"``), or a sum of
    such parts written together, largest first, each with its unit (``"1h30m"``, ``"1d10h"``,
    ``"2m30s"``; SPEC §8). ``"1h30"`` is an error: the last part has no unit.

    Raises:
        ValueError: for negatives, nan/inf, more than ``MAX_DURATION_S`` (1e12 s), bools,
            None, unknown units and anything else, with a message that says which of these
            it is.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a duration: {_EXPECTED}")
    if isinstance(value, numbers.Real):
        try:
            return _checked(float(value))
        except OverflowError:  # an int too large for a float
            raise ValueError("a duration must be a finite number") from None
    if isinstance(value, str):
        return _checked(_parse_text(value))
    raise ValueError(f"not a duration: {_EXPECTED}")


# A compound duration (SPEC §8): parts with a unit each, written together, largest first.
_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(us|ms|s|m|h|d)")
_COMPOUND: Final = re.compile(r"^\s*\+?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:us|ms|s|m|h|d)){2,}\s*$")
# A compound whose last part lacks a unit, such as "1h30".
_UNITLESS_TAIL: Final = re.compile(r"^\s*\+?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:us|ms|s|m|h|d))+"
                                   r"(?:\d+(?:\.\d*)?|\.\d+)\s*$")


def _parse_text(text: str) -> float:
    """Parse ``"<number>[ ]<unit>"`` (the unit defaults to seconds) or a compound such as
    ``"1h30m"``."""
    # Python reads any Unicode digit ("１h" was 1 h): a file means 0-9, anything else was
    # pasted from elsewhere.
    odd = next((c for c in text if c.isdigit() and not c.isascii()), None)
    if odd is not None:
        raise ValueError(f"write its digits as 0-9 (it has {odd!r})")
    if _COMPOUND.match(text):
        return _parse_compound(text)
    if _UNITLESS_TAIL.match(text):
        raise ValueError("every part of a compound duration needs a unit, e.g. 1h30m "
                         "(us, ms, s, m, h, d)")
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"not a duration: {_EXPECTED}")
    unit = match["unit"] or "s"
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: expected one of {_UNIT_LIST}")
    # Decimal arithmetic, so "80us" is the float nearest 80e-6 (float 80 * 1e-6 is not).
    try:
        return float(Decimal(match["number"]) * UNITS[unit])
    except ArithmeticError:  # an exponent beyond what Decimal's context allows
        raise ValueError("a duration must be a finite number") from None


def _parse_compound(text: str) -> float:
    """Sum the parts of ``"1d10h"``; each unit smaller than the one before it."""
    total = Decimal(0)
    previous: Decimal | None = None
    parts = _PART.findall(text)
    if any("." in number for number, _ in parts[:-1]):
        # "1.5h30m" is a typo for 1h30m or 1.5h far more often than a way to write 2h
        raise ValueError("only the last part of a compound duration may have a fraction, "
                         "e.g. 1h30.5m")
    for number, unit in parts:
        size = UNITS[unit]
        if previous is not None and size >= previous:
            raise ValueError("the parts of a compound duration go largest first, each unit "
                             "once, e.g. 1d10h or 2m30s")
        previous = size
        total += Decimal(number) * size
    return float(total)


def _checked(seconds: float) -> float:
    """Reject values no duration can have."""
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError("a duration must be a finite number")
    if seconds < 0:
        raise ValueError("must not be negative")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"must be at most {MAX_DURATION_S:g} s (about 31,700 years, qsim's "
                         "limit for any duration)")
    return seconds + 0.0  # turn -0.0 into 0.0 so it prints as "0s"


def format_duration(seconds: float) -> str:
    """A short human rendering of ``seconds``, such as ``"250us"``, ``"12.5s"``, ``"1h 2m"``.

    Below a minute it keeps up to four significant digits; from a minute up it shows the two
    largest units (``"5m 30s"``, ``"2d 3h"``), rounding to whole seconds. Meant for display
    only: it is not guaranteed to parse back to the same float.
    """
    if math.isnan(seconds) or math.isinf(seconds):
        return str(seconds)
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds == 0:
        return "0s"
    if seconds < 1e-3:
        return f"{_num(seconds / 1e-6)}us"
    if seconds < 1:
        return f"{_num(seconds / 1e-3)}ms"
    if seconds < 59.5:  # 59.5 and above round to a whole minute
        return f"{_num(seconds)}s"
    return _two_units(round(seconds))


def _num(x: float) -> str:
    """Up to four significant digits, no trailing zeros, no exponent."""
    text = f"{x:.4g}"
    return text if "e" not in text else f"{x:.0f}"


def _two_units(total: int) -> str:
    """Whole seconds (>= 60) as the two largest units, the second left out when zero."""
    sizes = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    parts: list[tuple[int, str]] = []
    for name, size in sizes:
        count, total = divmod(total, size)
        parts.append((count, name))
    first = next(i for i, (count, _) in enumerate(parts) if count)
    major, minor = parts[first], parts[first + 1] if first + 1 < len(parts) else (0, "")
    text = f"{major[0]}{major[1]}"
    return f"{text} {minor[0]}{minor[1]}" if minor[0] else text
