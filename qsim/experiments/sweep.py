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

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qsim.experiments.comparison import OPEN_SESSIONS_LEFT_OUT
from qsim.experiments.fields import (
    Setting,
    SweepError,
    check_path,
    raw_workloads,
    show,
    with_fields,
)
from qsim.experiments.replications import check_count, check_workers
from qsim.experiments.runner import Progress, run_many
from qsim.experiments.together import Axis, Together, axes, combinations
from qsim.input.errors import QsimError, ScenarioError
from qsim.input.limits import DEFAULT_MAX_JOBS, MAX_SWEEP_POINTS
from qsim.input.reader import read_yaml_text
from qsim.input.scenario import OPEN_SESSIONS_REFUSED, Scenario
from qsim.input.text import shown
from qsim.input.work import WorkLimitError, check_work, estimate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Point", "Refusal", "SweepError", "grid", "parse_vary", "points", "run_points", "sweep",
           "with_fields"]

Vary = Mapping[str, Sequence[Any]]  # PATH -> the values it takes, in order


@dataclass(frozen=True)
class Refusal:
    """Why the service would refuse a point's program (SPEC §19: the open plan refuses
    sessions), and its workloads as ``(name, kind, mode)``: the rows that stand for it."""

    reason: str
    workloads: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Point:
    """One point of the grid: its settings in the order varied, and the validated scenario;
    or, for a point the service would refuse, None and the refusal (nothing runs there)."""

    index: int
    settings: tuple[Setting, ...]
    scenario: Scenario | None
    refused: Refusal | None = None
    # SPEC §20: the PATHs varied together (``--vary-together``), one tuple a group
    together: tuple[tuple[str, ...], ...] = ()

    def label(self) -> str:
        """``PATH=VALUE, PATH=VALUE``: the point as the options wrote it."""
        return ", ".join(f"{path}={show(value)}" for path, value in self.settings)


# ---------------------------------------------------------------------------------------------
# The options and the grid


def parse_vary(option: str, name: str = "--vary") -> tuple[str, list[Any]]:
    """``"PATH=V1,V2,..."`` -> ``(PATH, [V1, V2, ...])``, each value read as YAML reads a
    value in a file (``10s`` a string, ``5`` a number, ``{kind: batch}`` a mapping; commas
    inside brackets or quotes do not split). SweepError if it is not of that form."""
    path, equals, text = option.partition("=")
    path = path.strip()
    if not equals or not path:
        raise SweepError(f"{name} {option}: expected PATH=V1,V2,... "
                         "(e.g. backend.lanes=1,2,5)")
    try:
        # The values as the items of a YAML flow sequence: exactly how a file reads them, and
        # with a file's limits (no 5,000 levels of brackets, no alias bomb).
        values, _ = read_yaml_text(f"[{text}]", "--vary")
    except ScenarioError as exc:
        problem = exc.message.removeprefix("YAML syntax error: ")
        raise SweepError(f"{name} {path}: cannot read the values {shown(repr(text), 80)} as "
                         f"YAML: {problem}") from None
    assert isinstance(values, list)  # a flow sequence, whatever its items
    if text.rstrip().endswith(","):  # a YAML flow list allows it, and drops the value
        raise SweepError(f"{name} {path}: ends with a comma: a value missing? write "
                         f"V1,V2,... (got {shown(repr(text), 80)})")
    return path, values


def check_vary(vary: Vary, together: Sequence[Together] = ()) -> dict[str, list[Any]]:
    """``vary`` as a dict of lists; SweepError for no PATH, a PATH without values, or a value
    listed twice (two equal points would merge in every table)."""
    if not vary and not together:
        raise SweepError("nothing to vary: give at least one --vary PATH=V1,V2,...")
    out: dict[str, list[Any]] = {}
    for path, values in vary.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SweepError(f"--vary {path}: expected a list of values (got {values!r})")
        if not values:
            raise SweepError(f"--vary {path}: no values; expected PATH=V1,V2,...")
        _check_distinct(path, values)
        out[path] = list(values)
    return out


def _check_distinct(path: str, values: Sequence[Any]) -> None:
    """SweepError for a value listed twice (equal as ``==`` says: 1 and 1.0 are). Hashable
    values are looked up in a set, so that thousands of them take no quadratic time."""
    seen: set[Any] = set()
    unhashable: list[Any] = []  # mappings and lists, compared one by one
    for value in values:
        try:
            twice = value in seen
            seen.add(value)
        except TypeError:
            twice = value in unhashable
            unhashable.append(value)
        if twice:
            raise SweepError(f"--vary {path}: the value {show(value)} is listed twice")


def check_grid_size(vary: Vary | Sequence[Axis]) -> int:
    """The grid's number of points; SweepError if it is more than ``MAX_SWEEP_POINTS``,
    counted from the value lists (or the axes) alone, before any point is built."""
    lists = vary.values() if isinstance(vary, Mapping) else [p for _, p in vary]
    sizes = [len(values) for values in lists]
    total = math.prod(sizes)
    if total > MAX_SWEEP_POINTS:
        product = " × ".join(f"{n:,}" for n in sizes)
        shape = f" ({product})" if len(sizes) > 1 else ""
        raise SweepError(f"--vary: the grid has {total:,} points{shape}, more than qsim's "
                         f"limit of {MAX_SWEEP_POINTS:,}; vary fewer values, or split the "
                         "sweep into several")
    return total


def grid(vary: Vary, together: Sequence[Together] = ()) -> list[tuple[Setting, ...]]:
    """Every combination of the values, the first PATH varying slowest; each group of
    ``together`` (SPEC §20) one axis of its zipped values, before the ``vary`` PATHs."""
    return combinations(axes(check_vary(vary, together), together))


def points(scenario: Scenario, vary: Vary, *, replications: int = 1,
           max_jobs: int | None = None, together: Sequence[Together] = ()) -> list[Point]:
    """Every point of the grid, each validated as a scenario file would be.

    The grid's size is checked first (``qsim.input.limits.MAX_SWEEP_POINTS``), and with
    ``max_jobs`` the expected work of ``replications`` runs of each point as the points are
    built (WorkLimitError as soon as the points so far pass it), so that no grid is built
    whole only to be refused.

    The paths are checked first against the scenario; then each point's scenario is built.
    The first problem raises SweepError naming the option (``--vary PATH``), the point and
    what is wrong, so nothing runs on a grid with a bad point in it.
    """
    grid_axes = axes(check_vary(vary, together), together)
    total = check_grid_size(grid_axes)
    full = scenario.model_dump(by_alias=True)
    for paths, _ in grid_axes:
        for path in paths:
            check_path(full, path)
    groups = tuple(paths for paths in (a[0] for a in grid_axes[:len(together)]))
    out: list[Point] = []
    expected = 0.0
    for i, settings in enumerate(combinations(grid_axes)):  # as grid() orders them
        built, refused = _point_scenario(scenario, settings, i, total)
        out.append(Point(i, settings, built, refused, groups))
        if max_jobs is not None and built is not None:  # the work so far: refused as soon
            expected += replications * estimate(built).units  # as it is too much
            if expected > max_jobs:
                _check_work_so_far(out, total, replications, max_jobs)
    if all(p.scenario is None for p in out):
        raise SweepError(f"--vary: every point of the grid is refused, nothing to run: "
                         f"{out[0].label()}: {_refusal(out[0])}")
    return out


def _refusal(point: Point) -> str:
    return point.refused.reason if point.refused is not None else ""


def _runs(grid_points: Sequence[Point]) -> list[Scenario]:
    """The scenarios of the points that run (a refused point runs nothing)."""
    return [p.scenario for p in grid_points if p.scenario is not None]


def _check_work_so_far(built: list[Point], total: int, replications: int,
                       max_jobs: int) -> None:
    try:
        check_work(_runs(built), replications, max_jobs)
    except WorkLimitError as exc:
        if len(built) == total:
            raise
        raise WorkLimitError(f"--vary: the first {len(built):,} of the grid's {total:,} "
                             f"points already ask too much: {exc}") from None


def _point_scenario(scenario: Scenario, settings: tuple[Setting, ...], index: int,
                    total: int) -> tuple[Scenario | None, Refusal | None]:
    """The point's scenario; or None and why, for a program the service would refuse (the
    sweep goes on with the other points, SPEC §19); SweepError for any other problem."""
    try:
        return with_fields(scenario, settings), None
    except QsimError as exc:
        if isinstance(exc, ScenarioError) and exc.message.startswith(OPEN_SESSIONS_REFUSED):
            reason = f"{exc.field}: {OPEN_SESSIONS_LEFT_OUT}" if exc.field else \
                OPEN_SESSIONS_LEFT_OUT
            return None, Refusal(reason, raw_workloads(scenario, settings))
        label = ", ".join(f"{p}={show(v)}" for p, v in settings)
        blamed, message = _blame(exc, settings)
        raise SweepError(f"--vary {blamed}: point {index + 1} of {total} ({label}): "
                         f"{message}") from None


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
          workers: int | None = None, *, max_jobs: int | None = DEFAULT_MAX_JOBS,
          together: Sequence[Together] = ()) -> pd.DataFrame:
    """Run ``scenario`` at every point of the grid ``vary`` ({PATH: [values]}), each point
    ``replications`` times, and return the tidy table of ``qsim.analysis.sweeps.sweep_frame``:
    one row per point, replication and workload.

    ``seed`` defaults to the scenario's. ``executor``: any ``concurrent.futures.Executor``
    (a Dask client's ``get_executor()`` included), checked to import this qsim before work
    is sent; without one, a process pool on this machine's cores (``workers`` of them).
    ``progress(done, total)`` is called as runs finish. The table is the same whatever ran it.
    ``max_jobs`` (None: no limit) bounds the jobs of all the runs together, estimated before
    any starts (``qsim.input.work``). ``together`` (SPEC §20): groups of {PATH: [values]}
    whose lists are zipped into points (all as long as each other), crossed with ``vary``.
    """
    check_count(replications)
    check_workers(workers)
    built = points(scenario, vary, replications=replications, max_jobs=max_jobs,
                   together=together)
    return run_points(built, replications,
                      scenario.seed if seed is None else seed, scenario.name,
                      executor=executor, progress=progress, workers=workers,
                      max_jobs=max_jobs)


def run_points(grid_points: Sequence[Point], replications: int, seed: int, name: str = "",
               executor: Executor | None = None, progress: Progress | None = None,
               workers: int | None = None, *, max_jobs: int | None = DEFAULT_MAX_JOBS
               ) -> pd.DataFrame:
    """The table of :func:`sweep` for points already built (the CLI builds them first, to
    report a bad one before it starts a cluster)."""
    from qsim.analysis.sweeps import (  # pandas: only once there are results
        refused_summary,
        sweep_frame,
    )
    from qsim.experiments import executors

    check_count(replications)
    check_workers(workers)
    check_work(_runs(grid_points), replications, max_jobs)
    if executor is not None:
        executors.check_executor(executor)
        workers = workers or executors.workers_of(executor)
    tasks = [(s, seed, r) for s in _runs(grid_points) for r in range(replications)]
    summaries = iter(run_many(tasks, workers, progress, executor=executor, max_jobs=max_jobs))
    columns = _label_columns(grid_points)
    runs: list[tuple[dict[str, Any], Mapping[str, Any]]] = []
    for p in grid_points:  # in grid order; a refused point's rows stand in for its runs
        for r in range(replications):
            labels = {**{path: columns[path][p.index] for path in columns}, "replication": r}
            runs.append((labels, next(summaries) if p.refused is None else
                         refused_summary(p.refused.reason, p.refused.workloads)))
    table = sweep_frame(runs)
    table.attrs.update({"scenario": name, "seed": seed, "replications": replications,
                        "vary": list(columns)})
    if grid_points and grid_points[0].together:  # SPEC §20; absent otherwise, as before
        table.attrs["together"] = [list(g) for g in grid_points[0].together]
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
