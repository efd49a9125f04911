"""Typer builds a parameter's parser only when a value needs parsing (issue 32, goal 4).

typer 0.2x parses each command-line value through a pydantic ``TypeAdapter``, built when the
parameter is first processed, before it looks at the value: so an option left out (value
None) and even the unused ``--help`` flag of every command build one, and any subcommand --
``qsim examples`` among them -- imports pydantic and its schema machinery (0.086 s of CPU,
40 % of ``qsim examples``' start, docs/performance.md). typer's own ``coerce`` returns
None (or ``()``) for a missing value without using the adapter; :func:`defer_parsers` makes
typer hand each parameter a ``Deferred`` stand-in that keeps that rule (it is typer's
``coerce``) and builds typer's own parser, unchanged, only when there is a value. What a
value parses to, and every message about a bad one, stay typer's; so the change, made for
the whole process, changes nothing another typer app in it could see but its speed.

It replaces a private function of typer, so it is made only for the typer it was written
and tested against (0.29.x, ``TESTED``); any other typer is left as it is: qsim then starts
slower, never wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

TESTED: Final = "0.29."  # the typer versions whose private build_runtime_param this replaces


def defer_parsers() -> None:
    """Make typer build each parameter's parser only for a value (called once, by
    ``qsim.present.cli``)."""
    import typer

    if not typer.__version__.startswith(TESTED):
        return  # a private function of another typer may differ: leave it alone
    try:
        from typer import core
        from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    except ImportError:  # pragma: no cover - a typer before 0.2x: click's types, no pydantic
        return

    @dataclass(frozen=True)
    class Deferred(RuntimeParam):
        """typer's ``RuntimeParam``, whose ``coerce`` answers a missing value itself; any
        other value goes to the parser typer would have built up front."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return build_runtime_param(self.descriptor).coerce(value, param=param, ctx=ctx)

    def deferred(descriptor: TypeDescriptor) -> RuntimeParam:
        return Deferred(descriptor.annotation, descriptor.parameter_info, descriptor)

    core.build_runtime_param = deferred  # type: ignore[attr-defined]
