"""A scenario with fields set by PATH, as a file would set them: the paths of ``qsim sweep``.

A PATH names a field as the scenario file spells it, with workloads by name
(``workloads.others.arrivals.mean``, ``workloads.vqe.mode``, ``backend.lanes``). Setting one
works on the scenario's dump and validates the result with the scenario's own checks, so a
bad value reads like an error in a file (``workloads.vqe.mode: must be ...``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

from qsim.input.errors import QsimError, ScenarioError
from qsim.input.plans import PLANS
from qsim.input.scenario import DEFAULT_INTERACTIVE_TTL, Scenario, parse_scenario
from qsim.input.units import parse_duration

__all__ = ["Setting", "SweepError", "check_path", "editable_dump", "raw_workloads", "show",
           "with_fields"]

Setting = tuple[str, Any]  # (PATH, value)

_COPY: Final = re.compile(r"(.+)#(\d+)")  # a repeat's copy NAME#k (qsim.input.scenario)

# What a path may not vary, and why: the sweep's own seed drives every point, and workload
# names are how paths address workloads.
_FIXED: Final = {"seed": "the seed is the sweep's (--seed), not a field to sweep",
                 "name": "the scenario's name is a label, not a field to sweep"}


class SweepError(QsimError):
    """A bad ``--vary`` option or a grid point that does not validate."""


def show(value: Any) -> str:
    """A value as a file (or ``--vary``) writes it: ``10s``, ``5``, ``{kind: session}``."""
    if isinstance(value, str):
        return value
    text: str = yaml.safe_dump(value, default_flow_style=True, width=math.inf, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _steps(path: str) -> list[str]:
    steps = path.split(".")
    if any(not s.strip() for s in steps):
        raise SweepError(f"--vary {path}: a PATH is field names joined by dots, "
                         "e.g. workloads.vqe.mode")
    return steps


def check_path(full: Mapping[str, Any], path: str) -> None:
    """SweepError unless ``path`` names a field of the scenario dumped as ``full``.

    A section the scenario leaves out (``backend.calibration`` when there is none) may be
    entered: validation then says what the section needs.
    """
    steps = _steps(path)
    if steps[0] in _FIXED and len(steps) == 1:
        raise SweepError(f"--vary {path}: {_FIXED[steps[0]]}")
    if steps[0] == "workloads" and len(steps) < 3:
        raise SweepError(f"--vary {path}: name a field of a workload, "
                         "e.g. workloads.NAME.mode")
    if steps[0] == "workloads" and steps[2] == "name":
        raise SweepError(f"--vary {path}: workload names address the workloads; they cannot "
                         "be varied")
    node: Any = full
    for i, step in enumerate(steps):
        if node is None:
            return
        node = _child(node, step, steps[:i], path)


def _child(node: Any, step: str, above: list[str], path: str) -> Any:
    """The field ``step`` of ``node`` (reached by ``above``), or SweepError."""
    where = ".".join(above) or "the scenario"
    if above == ["workloads"]:
        return _workload(node, step, path)
    if isinstance(node, dict):
        if step not in node:
            fields = ", ".join(node)
            raise SweepError(f"--vary {path}: {where} has no field {step!r} "
                             f"(it has {fields})")
        return node[step]
    if isinstance(node, list):
        if not step.isdigit() or int(step) >= len(node):
            raise SweepError(f"--vary {path}: {where} is a list of {len(node)}; expected an "
                             f"index 0 to {len(node) - 1} (got {step!r})")
        return node[int(step)]
    raise SweepError(f"--vary {path}: {where} is a plain value ({show(node)}), "
                     f"with no field {step!r}")


def _workload(workloads: list[dict[str, Any]], name: str, path: str) -> dict[str, Any]:
    """The workload named ``name``, or the first copy of a repeated workload of that name."""
    for w in workloads:
        if w["name"] == name:
            return w
    copies = _copies(workloads, name)
    if copies:
        return copies[0]
    raise SweepError(f"--vary {path}: no workload named {name!r} "
                     f"(workloads: {_file_names(workloads)})")


def _copies(workloads: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """A repeated workload's copies ``NAME#1`` ... (SPEC §12), in order; [] if none."""
    return [w for w in workloads if _base(w["name"]) == name]


def _base(name: str) -> str | None:
    """The name in the file of a repeat's copy ``NAME#k``; None for any other name."""
    match = _COPY.fullmatch(name)
    return None if match is None else match.group(1)


def _file_names(workloads: list[dict[str, Any]]) -> str:
    """The workloads as the file names them: a repeated one once, with its copies."""
    out: list[str] = []
    for w in workloads:
        match = _COPY.fullmatch(w["name"])
        if match is None:
            out.append(w["name"])
        elif match.group(2) == "1":
            n = len(_copies(workloads, match.group(1)))
            out.append(f"{match.group(1)} ({n} copies {w['name']}..{match.group(1)}#{n})")
    return ", ".join(out)


def _targets(data: dict[str, Any], steps: list[str]) -> list[tuple[list[str], float]]:
    """Where a PATH sets its value: itself; or, for a repeated workload named as in its file
    (SPEC §20), each copy's path with the copy's start offset from the first copy."""
    if steps[0] != "workloads" or len(steps) < 3 \
            or any(w["name"] == steps[1] for w in data["workloads"]):
        return [(steps, 0.0)]
    copies = _copies(data["workloads"], steps[1])
    if not copies:
        return [(steps, 0.0)]
    first = float(copies[0]["start"])
    return [(["workloads", w["name"], *steps[2:]], float(w["start"]) - first) for w in copies]


def with_fields(scenario: Scenario, settings: Sequence[Setting]) -> Scenario:
    """A copy of ``scenario`` with each ``(PATH, value)`` set in turn, validated as a file.

    The settings apply to the scenario as a file would write it: defaults that depend on
    other fields (a mode's interactive TTL, a circuit's rep_delay) are worked out again, so
    ``workloads.vqe.mode=batch`` gets batch's 1 s TTL and ``backend.rep_delay`` reaches
    circuits that did not give their own. A mode set to a kind name (``session``) may then
    be refined by a longer PATH (``workloads.vqe.mode.interactive_ttl``).
    Raises ScenarioError (fields named as paths) or SweepError for a bad path.
    """
    data = _with_settings(scenario, settings)
    try:
        return parse_scenario(data, "")
    except ScenarioError as exc:
        raise _named(exc, data, {p.split(".")[1] for p, _ in settings
                                 if p.startswith("workloads.") and "." in p[10:]}) from None


# The absolute times of a workload: a repeat's copies keep theirs ``every`` apart (§12).
_TIMES: Final = (("start",), ("mode", "open_at"), ("mode", "cancel_at"))


def _shifted(steps: list[str], value: Any, offset: float) -> Any:
    """``value`` for a copy ``offset`` seconds after the first: its times moved by that."""
    if offset == 0 or value is None:
        return value
    field = tuple(steps[2:])
    if field in _TIMES:
        return _later(value, offset)
    if field == ("mode",) and isinstance(value, dict):
        return {k: _later(v, offset) if k in ("open_at", "cancel_at") and v is not None
                else v for k, v in value.items()}
    return value


def _later(value: Any, offset: float) -> Any:
    """A duration ``offset`` seconds later; a value that is no duration as it is (the
    validation of the first copy says what is wrong with it)."""
    try:
        return parse_duration(value) + offset
    except (ValueError, TypeError):
        return value


def _with_settings(scenario: Scenario, settings: Sequence[Setting]) -> dict[str, Any]:
    data = editable_dump(scenario)
    for path, value in settings:
        for steps, offset in _targets(data, _steps(path)):
            _set(data, steps, _shifted(steps, value, offset), path)
    return data


def raw_workloads(scenario: Scenario, settings: Sequence[Setting]
                  ) -> tuple[tuple[str, str, str], ...]:
    """Each workload's ``(name, kind, mode)`` as the settings write it, unvalidated: what a
    point that is refused (and so never validated) would have run."""
    out = []
    for w in _with_settings(scenario, settings)["workloads"]:
        mode = w.get("mode", "job")
        kind = mode.get("kind", "job") if isinstance(mode, dict) else mode
        out.append((str(w["name"]), str(w["kind"]), str(kind)))
    return tuple(out)


def _set(data: dict[str, Any], steps: list[str], value: Any, path: str) -> None:
    node: Any = data
    for i, step in enumerate(steps[:-1]):
        child = _child(node, step, steps[:i], path)
        if child is None or (isinstance(child, str) and step == "mode"):
            # Enter a section the scenario leaves out, or a mode written as its kind alone.
            child = {} if child is None else {"kind": child}
            _store(node, step, child)
        node = child
    if isinstance(node, list) and steps[-2:-1] != ["workloads"]:
        _child(node, steps[-1], steps[:-1], path)  # the index must exist
        node[int(steps[-1])] = value
    else:
        node[steps[-1]] = value


def _store(node: Any, step: str, child: Any) -> None:
    if isinstance(node, list):
        node[int(step)] = child
    else:
        node[step] = child


def editable_dump(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a file would write it: its dump, less the defaults that validation
    derives from other fields, so that changing those fields changes the defaults too.

    A mode's interactive TTL at its kind's default (or at a ``max_time`` shorter than it), a
    circuit form's ``rep_delay`` equal to the backend's, a per-circuit phase's ``circuits``,
    a background's arrivals derived from its ``load`` and a price at the plan's preset are
    left out. The cost: a file that
    wrote exactly the default TTL gets the new kind's default when the sweep switches kinds.
    """
    data = scenario.model_dump(by_alias=True)
    for index, w in enumerate(data["workloads"]):
        # its backend's (SPEC §18: of several, the first it may run on)
        rep_delay = scenario.fleet[scenario.candidates(index)[0]].rep_delay
        mode = w["mode"]
        default = DEFAULT_INTERACTIVE_TTL.get(mode["kind"])
        if default is not None and mode["interactive_ttl"] in (default, min(default,
                                                                            mode["max_time"])):
            del mode["interactive_ttl"]
        for value in w.values():
            if isinstance(value, dict) and "circuits" in value \
                    and value.get("rep_delay") == rep_delay:
                value["rep_delay"] = None
            if isinstance(value, dict) and "per_circuit" in value:  # the quantum's circuits
                value["circuits"] = None
        if w.get("load") is not None:  # arrivals derived from load (SPEC §12)
            del w["arrivals"]
    if data["pricing"]["usd_per_second"] == PLANS[data["plan"]].usd_per_second:
        del data["pricing"]["usd_per_second"]  # the plan's preset follows the plan
    return data


def _named(exc: ScenarioError, data: Mapping[str, Any], addressed: set[str]) -> ScenarioError:
    """``exc`` with its field as a PATH (``workloads[1].mode`` -> ``workloads.vqe.mode``); a
    copy of a repeated workload that a PATH named as in its file, by that name."""
    field = exc.field
    if field and field.startswith("workloads["):
        index, _, rest = field.removeprefix("workloads[").partition("]")
        if index.isdigit() and int(index) < len(data["workloads"]):
            name = data["workloads"][int(index)]["name"]
            match = _COPY.fullmatch(name)
            if match is not None and match.group(1) in addressed:
                name = match.group(1)
            field = f"workloads.{name}{rest}"
    return ScenarioError(exc.message, field=field, value=exc.value)
