"""Sweeps: one scenario run at every point of a grid of field values, each point replicated.

A PATH names a scenario field as the file spells it, with workloads by name:
``workloads.others.arrivals.mean``, ``workloads.vqe.mode``, ``workloads.vqe.mode.interactive_ttl``,
``backend.lanes``. Values are what a file would hold there (``10s``, ``5``, ``session``, a
mapping). Several PATHs make a full grid, the first varying slowest.

Every point runs with the same seed and replications: replication r of a point is exactly
``simulate(point.scenario, seed, replication=r)``, so a point equals ``qsim.replicate`` of its
scenario, and points share their random streams (common random numbers: what differs between
two points is the parameter, not the noise). Nothing depends on which worker ran what.
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from collections.abc import Mapping, Sequence

import yaml

from qsim.errors import QsimError, ScenarioError
from qsim.experiments.replications import check_count
from qsim.experiments.runner import Progress, run_many
from qsim.scenario import DEFAULT_INTERACTIVE_TTL, Scenario, parse_scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Point", "SweepError", "grid", "parse_vary", "points", "run_points", "sweep",
           "with_fields"]

Vary = Mapping[str, Sequence[Any]]  # PATH -> the values it takes, in order
Setting = tuple[str, Any]  # (PATH, value)

# What a path may not vary, and why: the sweep's own seed drives every point, and workload
# names are how paths address workloads.
_FIXED: Final = {"seed": "the seed is the sweep's (--seed), not a field to sweep",
                 "name": "the scenario's name is a label, not a field to sweep"}


class SweepError(QsimError):
    """A bad ``--vary`` option or a grid point that does not validate."""


@dataclass(frozen=True)
class Point:
    """One point of the grid: its settings in the order varied, and the validated scenario."""

    index: int
    settings: tuple[Setting, ...]
    scenario: Scenario

    def label(self) -> str:
        """``PATH=VALUE, PATH=VALUE``: the point as the options wrote it."""
        return ", ".join(f"{path}={show(value)}" for path, value in self.settings)


def show(value: Any) -> str:
    """A value as a file (or ``--vary``) writes it: ``10s``, ``5``, ``{kind: session}``."""
    if isinstance(value, str):
        return value
    text: str = yaml.safe_dump(value, default_flow_style=True, width=math.inf, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


# ---------------------------------------------------------------------------------------------
# The options and the grid


def parse_vary(option: str) -> tuple[str, list[Any]]:
    """``"PATH=V1,V2,..."`` -> ``(PATH, [V1, V2, ...])``, each value read as YAML reads a
    value in a file (``10s`` a string, ``5`` a number, ``{kind: batch}`` a mapping; commas
    inside brackets or quotes do not split). SweepError if it is not of that form."""
    path, equals, text = option.partition("=")
    path = path.strip()
    if not equals or not path:
        raise SweepError(f"--vary {option}: expected PATH=V1,V2,... "
                         "(e.g. backend.lanes=1,2,5)")
    try:
        # The values as the items of a YAML flow sequence: exactly how a file reads them.
        values = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or exc
        raise SweepError(f"--vary {path}: cannot read the values {text!r} as YAML: "
                         f"{problem}") from None
    return path, values


def check_vary(vary: Vary) -> dict[str, list[Any]]:
    """``vary`` as a dict of lists; SweepError for no PATH, a PATH without values, or a value
    listed twice (two equal points would merge in every table)."""
    if not vary:
        raise SweepError("nothing to vary: give at least one --vary PATH=V1,V2,...")
    out: dict[str, list[Any]] = {}
    for path, values in vary.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SweepError(f"--vary {path}: expected a list of values (got {values!r})")
        if not values:
            raise SweepError(f"--vary {path}: no values; expected PATH=V1,V2,...")
        for i, value in enumerate(values):
            if value in values[:i]:
                raise SweepError(f"--vary {path}: the value {show(value)} is listed twice")
        out[path] = list(values)
    return out


def grid(vary: Vary) -> list[tuple[Setting, ...]]:
    """Every combination of the values, the first PATH varying slowest."""
    paths = list(vary)
    return [tuple(zip(paths, combo)) for combo in itertools.product(*vary.values())]


def points(scenario: Scenario, vary: Vary) -> list[Point]:
    """Every point of the grid, each validated as a scenario file would be.

    The paths are checked first against the scenario; then each point's scenario is built.
    The first problem raises SweepError naming the option (``--vary PATH``), the point and
    what is wrong, so nothing runs on a grid with a bad point in it.
    """
    vary = check_vary(vary)
    full = scenario.model_dump(by_alias=True)
    for path in vary:
        check_path(full, path)
    combos = grid(vary)
    return [Point(i, settings, _point_scenario(scenario, settings, i, len(combos)))
            for i, settings in enumerate(combos)]


def _point_scenario(scenario: Scenario, settings: tuple[Setting, ...], index: int,
                    total: int) -> Scenario:
    try:
        return with_fields(scenario, settings)
    except QsimError as exc:
        label = ", ".join(f"{p}={show(v)}" for p, v in settings)
        blamed, message = _blame(exc, settings)
        raise SweepError(f"--vary {blamed}: point {index + 1} of {total} ({label}): "
                         f"{message}") from None


# ---------------------------------------------------------------------------------------------
# Paths


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
    for w in workloads:
        if w["name"] == name:
            return w
    names = ", ".join(w["name"] for w in workloads)
    raise SweepError(f"--vary {path}: no workload named {name!r} (workloads: {names})")


def with_fields(scenario: Scenario, settings: Sequence[Setting]) -> Scenario:
    """A copy of ``scenario`` with each ``(PATH, value)`` set in turn, validated as a file.

    The settings apply to the scenario as a file would write it: defaults that depend on
    other fields (a mode's interactive TTL, a circuit's rep_delay) are worked out again, so
    ``workloads.vqe.mode=batch`` gets batch's 1 s TTL and ``backend.rep_delay`` reaches
    circuits that did not give their own. A mode set to a kind name (``session``) may then
    be refined by a longer PATH (``workloads.vqe.mode.interactive_ttl``).
    Raises ScenarioError (fields named as paths) or SweepError for a bad path.
    """
    data = editable_dump(scenario)
    for path, value in settings:
        _set(data, _steps(path), value, path)
    try:
        return parse_scenario(data, "")
    except ScenarioError as exc:
        raise _named(exc, data) from None


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

    A mode's interactive TTL at its kind's default (or at a ``max_time`` shorter than it) and
    a circuit form's ``rep_delay`` equal to the backend's are left out. The cost: a file that
    wrote exactly the default TTL gets the new kind's default when the sweep switches kinds.
    """
    data = scenario.model_dump(by_alias=True)
    rep_delay = data["backend"]["rep_delay"]
    for w in data["workloads"]:
        mode = w["mode"]
        default = DEFAULT_INTERACTIVE_TTL.get(mode["kind"])
        if default is not None and mode["interactive_ttl"] in (default, min(default,
                                                                            mode["max_time"])):
            del mode["interactive_ttl"]
        for value in w.values():
            if isinstance(value, dict) and "circuits" in value \
                    and value.get("rep_delay") == rep_delay:
                value["rep_delay"] = None
    return data


def _named(exc: ScenarioError, data: Mapping[str, Any]) -> ScenarioError:
    """``exc`` with its field as a PATH (``workloads[1].mode`` -> ``workloads.vqe.mode``)."""
    field = exc.field
    if field and field.startswith("workloads["):
        index, _, rest = field.removeprefix("workloads[").partition("]")
        if index.isdigit() and int(index) < len(data["workloads"]):
            field = f"workloads.{data['workloads'][int(index)]['name']}{rest}"
    return ScenarioError(exc.message, field=field, value=exc.value)


def _blame(exc: QsimError, settings: Sequence[Setting]) -> tuple[str, str]:
    """The PATH a point's error belongs to, and the error without a repeated ``--vary``.

    A field error belongs to the PATH sharing the longest prefix with its field (a bad TTL
    to ``mode.interactive_ttl``; a TTL that the new ``mode.max_time`` undercuts to that).
    """
    text = str(exc)
    paths = [p for p, _ in settings]
    if isinstance(exc, SweepError):
        path, _, message = text.removeprefix("--vary ").partition(": ")
        return path, message
    field = exc.field.replace("[", ".").replace("]", "") if isinstance(
        exc, ScenarioError) and exc.field else ""
    return max(paths, key=lambda p: _common(p.split("."), field.split("."))), text


def _common(a: list[str], b: list[str]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


# ---------------------------------------------------------------------------------------------
# Running


def sweep(scenario: Scenario, vary: Vary, replications: int = 1, seed: int | None = None,
          executor: Executor | None = None, progress: Progress | None = None,
          workers: int | None = None) -> pd.DataFrame:
    """Run ``scenario`` at every point of the grid ``vary`` ({PATH: [values]}), each point
    ``replications`` times, and return the tidy table of ``qsim.analysis.sweeps.sweep_frame``:
    one row per point, replication and workload.

    ``seed`` defaults to the scenario's. ``executor``: any ``concurrent.futures.Executor``
    (a Dask client's ``get_executor()`` included), checked to import this qsim before work
    is sent; without one, a process pool on this machine's cores (``workers`` of them).
    ``progress(done, total)`` is called as runs finish. The table is the same whatever ran it.
    """
    check_count(replications)
    return run_points(points(scenario, vary), replications,
                      scenario.seed if seed is None else seed, scenario.name,
                      executor=executor, progress=progress, workers=workers)


def run_points(grid_points: Sequence[Point], replications: int, seed: int, name: str = "",
               executor: Executor | None = None, progress: Progress | None = None,
               workers: int | None = None) -> pd.DataFrame:
    """The table of :func:`sweep` for points already built (the CLI builds them first, to
    report a bad one before it starts a cluster)."""
    from qsim.analysis.sweeps import sweep_frame  # pandas: only once there are results
    from qsim.experiments import executors

    check_count(replications)
    if executor is not None:
        executors.check_executor(executor)
        workers = workers or executors.workers_of(executor)
    tasks = [(p.scenario, seed, r) for p in grid_points for r in range(replications)]
    summaries = run_many(tasks, workers, progress, executor=executor)
    columns = _label_columns(grid_points)
    labels = [{**{path: columns[path][p.index] for path in columns}, "replication": r}
              for p in grid_points for r in range(replications)]
    table = sweep_frame(list(zip(labels, summaries)))
    table.attrs.update({"scenario": name, "seed": seed, "replications": replications,
                        "vary": list(columns)})
    return table


def _label_columns(grid_points: Sequence[Point]) -> dict[str, list[Any]]:
    """Each PATH's value at every point, of one type per column (a table column, and a
    Parquet one, holds one type): numbers, booleans or strings as given; anything else (or a
    mix) as the text the option wrote."""
    columns: dict[str, list[Any]] = {}
    for p in grid_points:
        for path, value in p.settings:
            columns.setdefault(path, []).append(value)
    return {path: _one_type(values) for path, values in columns.items()}


def _one_type(values: list[Any]) -> list[Any]:
    kinds = {type(v) for v in values}
    if kinds <= {int, float} and len(kinds) == 2:
        return [float(v) for v in values]
    if len(kinds) == 1 and kinds <= {int, float, bool, str}:
        return values
    return [show(v) for v in values]
