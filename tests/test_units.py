"""Durations: what users may write in scenario files, and how they are shown back."""

from __future__ import annotations

import math

import pytest

from qsim.input.units import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250us", 250e-6),
        ("1.5ms", 1.5e-3),
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("30d", 30 * 86400.0),
        ("12", 12.0),  # a bare numeric string is seconds
        ("0.5", 0.5),
        ("3 s", 3.0),  # whitespace between number and unit
        ("  2h  ", 7200.0),
        (".5s", 0.5),
        ("1e3", 1000.0),
        ("1e-3s", 1e-3),
        ("+4m", 240.0),
        ("0", 0.0),
        ("0us", 0.0),
    ],
)
def test_strings_with_every_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-15, abs=0)


@pytest.mark.parametrize(("value", "seconds"), [(3, 3.0), (2.5, 2.5), (0, 0.0), (10**6, 1e6)])
def test_numbers_are_seconds(value: float, seconds: float) -> None:
    result = parse_duration(value)
    assert result == seconds
    assert type(result) is float


def test_micro_and_milliseconds_are_the_nearest_float() -> None:
    # Decimal scaling: "80us" must be 8e-05 exactly, not 80 * 1e-6 (which is not).
    assert parse_duration("80us") == 8e-05
    assert parse_duration("100us") == 1e-4
    assert parse_duration("1.5ms") == 0.0015


def test_negative_zero_is_zero() -> None:
    assert math.copysign(1.0, parse_duration("-0s")) == 1.0


NOT_A_DURATION = "not a duration: expected seconds or a number with a unit us, ms, s, m, h, d"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-3s", "must not be negative"),
        (-1, "must not be negative"),
        (-0.5, "must not be negative"),
        ("12 parsecs", "unknown unit 'parsecs': expected one of us, ms, s, m, h, d"),
        ("5 min", "unknown unit 'min': expected one of us, ms, s, m, h, d"),
        ("3S", "unknown unit 'S': expected one of us, ms, s, m, h, d"),
        ("abc", NOT_A_DURATION),
        ("", NOT_A_DURATION),
        ("s", NOT_A_DURATION),
        ("1.2.3s", NOT_A_DURATION),
        ("nan", NOT_A_DURATION),
        ("inf", NOT_A_DURATION),
        (True, NOT_A_DURATION),
        (False, NOT_A_DURATION),
        (None, NOT_A_DURATION),
        ([1], NOT_A_DURATION),
        ({"s": 1}, NOT_A_DURATION),
        (float("nan"), "a duration must be a finite number"),
        (float("inf"), "a duration must be a finite number"),
        ("1e400s", "a duration must be a finite number"),
        (10**400, "a duration must be a finite number"),
    ],
)
def test_rejections_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (250e-6, "250us"),
        (1.5e-3, "1.5ms"),
        (12.5, "12.5s"),
        (30, "30s"),
        (60, "1m"),
        (90, "1m 30s"),
        (300, "5m"),
        (3600, "1h"),
        (3723, "1h 2m"),
        (7200, "2h"),
        (86400 * 30, "30d"),
        (86400 + 7200, "1d 2h"),
        (-90, "-1m 30s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["250us", "1.5ms", "12.5s", "5m", "2h", "30d"])
def test_format_of_a_simple_duration_parses_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
