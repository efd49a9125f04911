"""The errors qsim shows to its users.

Every user-facing failure is a :class:`QsimError`; the CLI prints ``str(err)`` and exits 2,
without a traceback. A bad scenario raises :class:`ScenarioError`, which reads as a breadcrumb
from the file to the field::

    scenarios/bad.yaml:7: workloads[0].quantum.mean: must not be negative (got '-3s')
"""

from __future__ import annotations

from typing import Any, Final

from qsim.input.text import escape

__all__ = [
    "MISSING", "FieldError", "QsimError", "ScenarioError", "explain_validation_error",
    "format_path",
]


class _Missing:
    """Sentinel type: "no value was given" (``None`` is a legitimate offending value)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        # A singleton, so `value is MISSING` holds even after copying or unpickling.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Offending values are echoed back; a whole mapping pasted into one line helps nobody.
_MAX_VALUE_CHARS: Final = 80


class QsimError(Exception):
    """Every user-facing failure."""


class ScenarioError(QsimError):
    """A scenario that cannot be loaded or is invalid.

    Attributes mirror the constructor: ``message`` (what is wrong), ``file`` (as the user
    named it), ``line`` (1-based), ``field`` (a path such as ``workloads[1].mode.kind``) and
    ``value`` (the raw offending value, or :data:`MISSING`). Unknown parts are left out of
    ``str(err)``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = MISSING,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self._render())

    def _render(self) -> str:
        """Build ``file:line: field: message (got value)``, omitting unknown parts. The file
        and the field are escaped (a key may hold a newline or an ANSI escape; the value is
        shown as its repr, which escapes them too): the message stays one plain line."""
        location = escape(self.file or "")
        if self.line is not None:
            location = f"{location}:{self.line}" if location else f"line {self.line}"
        parts = [p for p in (location, escape(self.field or "")) if p]
        text = self.message
        if self.value is not MISSING:
            text += f" (got {_short_repr(self.value)})"
        return ": ".join([*parts, text])

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments defeat Exception's default pickling (needed across processes);
        # the class travels too, so every subclass (a series', a trace's) pickles as itself.
        return (_rebuild, (type(self), self.message, self.file, self.line, self.field,
                           self.value))


def _rebuild(cls: type[ScenarioError], message: str, file: str | None, line: int | None,
             field: str | None, value: object) -> ScenarioError:
    """Unpickling helper for :class:`ScenarioError` and its subclasses."""
    return cls(message, file=file, line=line, field=field, value=value)


def _short_repr(value: object) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def format_path(path: tuple[str | int, ...]) -> str:
    """Render a field path the way it reads in YAML: ``("workloads", 1, "mode")`` ->
    ``workloads[1].mode``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class FieldError(ValueError):
    """A validation problem that belongs to a sub-field of the model raising it.

    Raised inside pydantic validators (it is a ValueError, which pydantic wraps and keeps) so
    that the reported path points at the field to fix: ``path`` is relative to the model.
    ``value`` is echoed back when the file has no value there (e.g. a resolved default);
    ``show_value=False`` suppresses the echo where it would be noise (unknown keys).
    """

    def __init__(self, message: str, path: tuple[str | int, ...] = (), value: object = MISSING,
                 *, show_value: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.value = value
        self.show_value = show_value


# ---------------------------------------------------------------------------------------------
# Turning pydantic's validation errors into one ScenarioError

Path = tuple[str | int, ...]  # a field path, as in the file

# Messages for pydantic's error types, phrased for people editing a YAML file.
_MESSAGES: Final[dict[str, str]] = {
    "missing": "required key missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "too_short": "must not be empty",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be {expected}",
}


def explain_validation_error(
    exc: Any, raw: object, *, file: str | None, lines: dict[Path, int],
    tags: frozenset[str], hints: dict[str, tuple[str, str]],
) -> ScenarioError:
    """The first problem in a pydantic ``ValidationError``, as a ScenarioError.

    ``raw`` is the data as read from the file (to echo values and map paths to ``lines``);
    ``tags`` are union tags pydantic puts in error locations, to be dropped from paths;
    ``hints`` maps a discriminator, as pydantic names it, to its key and what it selects,
    e.g. ``{"'kind'": ("kind", "workload kind; expected one of ...")}``.
    """
    err = exc.errors()[0]
    loc: Path = tuple(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    message = _message(err, cause)
    if isinstance(cause, FieldError):
        loc += cause.path
    hint = hints.get(str((err.get("ctx") or {}).get("discriminator")))
    if hint is not None and err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        key, what = hint
        loc += (key,)
        message = f"unknown {what}" if err["type"] == "union_tag_invalid" else f"missing {what}"
    path, found = _locate(raw, loc, tags)
    value = _echo(err, cause, found)
    return ScenarioError(message, file=file, line=_line(lines, path),
                         field=format_path(path) or None, value=value)


def _message(err: dict[str, Any], cause: object) -> str:
    if isinstance(cause, FieldError):
        return cause.message
    if isinstance(cause, Exception):
        return str(cause)
    template = _MESSAGES.get(err["type"])
    if template is None:
        return str(err["msg"])
    ctx = {k: _number(v) for k, v in (err.get("ctx") or {}).items()}
    return template.format(**ctx)


def _number(value: object) -> object:
    """A bound as a message shows it: ``1e+06``, ``100``, ``1,000,000,000``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return value


def _echo(err: dict[str, Any], cause: object, found: object) -> object:
    """The value to show: the file's own where there is one, else what the check saw."""
    if err["type"] in ("missing", "union_tag_not_found"):
        return MISSING
    if isinstance(cause, FieldError):
        if not cause.show_value:
            return MISSING
        return cause.value if found is MISSING else found
    return err.get("input", MISSING) if found is MISSING else found


def _locate(raw: object, loc: Path, tags: frozenset[str]) -> tuple[Path, object]:
    """Follow ``loc`` through the raw data: the path as the file reads and the value there.

    Union tags are skipped. A key absent from the file (a missing key, or a resolved default)
    ends the path with that key and no value. Where the file has a plain value but ``loc``
    goes deeper (e.g. ``mode: sesion`` checked as ``mode.kind``), the path stops at it.
    """
    path: list[str | int] = []
    here: object = raw
    for part in loc:
        if isinstance(here, dict):
            if part in here:
                path.append(part)
                here = here[part]
            elif part not in tags:
                return (*path, part), MISSING
        elif isinstance(here, (list, tuple)) and isinstance(part, int) and part < len(here):
            path.append(part)
            here = here[part]
        elif part not in tags:
            break
    return tuple(path), here


def _line(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor below the top level."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
