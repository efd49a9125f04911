"""User text made safe to show: what a scenario file names (workloads, keys, values) reaches
terminals, error lines and pictures only through these functions.

A name may hold anything YAML can write, control characters included (``"\\e[31m"`` in a
double-quoted string is an ANSI escape). :func:`escape` shows every character that is not
printable as its Python escape, so nothing the user wrote can move the cursor, recolour the
terminal or split a one-line error; :func:`shown` also shortens it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NAME_LIMIT", "escape", "shown"]

#: How many characters of a name a table or a picture shows.
NAME_LIMIT: Final = 40


def escape(text: str) -> str:
    """``text`` with every non-printable character (control characters, newlines, ANSI
    escapes, bidirectional overrides) written as its escape, e.g. ``\\x1b``, ``\\n``.
    Printable text, backslashes included, is left as it is, so escaping twice changes
    nothing more."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def shown(text: str, limit: int = NAME_LIMIT) -> str:
    """A name as it may be printed: :func:`escape`\\ d, and at most ``limit`` characters
    (the last one an ellipsis when it is cut)."""
    safe = escape(text)
    return safe if len(safe) <= limit else safe[:max(limit - 1, 0)] + "…"
