"""Pictures of runs, drawn from the same tables the numbers come from (matplotlib, no pyplot).

- ``timeline(result)``: the execution-mode picture of the service's docs, for any run: a row
  per batch or session (active windows, ITTL tails, deactivation, re-activation), the QPU
  (jobs, calibrations, reserved-but-idle gaps) and one row per execution lane (each job split
  into compile, wait, quantum, post, coloured by workload). ``timeline_from_tables`` draws it
  from plain DataFrames, so hand-written tables can be drawn and checked.
- ``compare(comparison)``: usage, cost, wall time and idle per mode, with whiskers when the
  figures come with confidence intervals.
- ``save_timeline`` / ``save_compare``: write a PNG through the Agg canvas (headless).

Every function takes ``ax=None`` and then makes its own ``Figure``: nothing here touches
pyplot's global state or calls ``show()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from qsim.input.units import format_duration
from qsim.present import plot_timeline as pt
from qsim.present import timeline_tables as tt
from qsim.present.plot_timeline import (
    BINS,
    MAX_BARS,
    MAX_LANE_ROWS,
    MAX_ROWS_TALL,
    assign_lanes,
    ittl_tails,
    label,
    occupancy,
    phase_spans,
    time_unit,
)
from qsim.present.window import parse_window  # re-exported: part of the plotting API

if TYPE_CHECKING:
    import pandas as pd

    from qsim.analysis.result import RunResult

__all__ = ["timeline", "timeline_from_tables", "compare", "save_timeline", "save_compare",
           "parse_window", "assign_lanes", "ittl_tails", "occupancy", "time_unit", "MAX_BARS"]

MODE_ORDER = ("job", "batch", "session")
MODE_COLOURS = {"job": "#4c72b0", "batch": "#dd8452", "session": "#55a868"}
# (key in the comparison, panel title, what the figure is): seconds are shown in s/min/h
PANELS = (("usage_s", "usage (billed)", "time"), ("cost_usd", "cost", "usd"),
          ("wall_time_s", "wall time", "time"), ("billed_idle_s", "idle, billed", "time"))
DPI = 120


def timeline(result: RunResult, ax: Axes | None = None, start: float | None = None,
             end: float | None = None, *, max_bars: int = MAX_BARS) -> Axes:
    """The timeline of one run between ``start`` and ``end`` (seconds; default the whole
    run). Past ``max_bars`` visible jobs, lanes and QPU are drawn as occupancy bands."""
    scenario = result.info.scenario
    if scenario.backends:
        return fleet_timeline(result, ax, start, end, max_bars=max_bars)
    # Drawn from the run's numpy columns, not its DataFrames: the same picture, without
    # pandas' import and a million-row jobs and intervals table to build first.
    tables = tt.from_result(result)
    end = result.info.end_s if end is None else end
    ax = _draw_timeline(tables, scenario.backend.lanes,
                        {w.name: w.mode.kind for w in scenario.workloads}, ax, start, end,
                        max_bars, result.outage_arrays)
    ax.set_title(f"{label(scenario.name, 80)} · seed {result.info.seed}", loc="left",
                 fontsize=10)
    _queue_panel(ax, result, *_view(start, end, tables))  # (the view _draw_timeline chose)
    return ax


def _queue_panel(ax: Axes, result: RunResult, t0: float, t1: float) -> None:
    """The background's queue level under the rows (issue 26), when there is a background."""
    from qsim.present.plot_queue import draw_queue_panel, has_background

    if has_background(result):
        draw_queue_panel(ax, result, t0, t1, time_unit(t1 - t0)[1])


def timeline_from_tables(
    jobs: pd.DataFrame, windows: pd.DataFrame, intervals: pd.DataFrame,
    calibrations: pd.DataFrame, lanes: int, workloads: Sequence[str] | Mapping[str, str],
    ax: Axes | None = None, start: float | None = None, end: float | None = None, *,
    contexts: pd.DataFrame | None = None, idle: pd.DataFrame | None = None,
    max_bars: int = MAX_BARS, outages: Mapping[str, np.ndarray] | None = None,
) -> Axes:
    """Draw a run's timeline from its tables (columns as in ``RunResult``) and return the Axes.

    ``workloads``: names in scenario order (the colour order), or a name -> mode mapping.
    ``contexts`` (optional) places deactivations and closes exactly; without it, a window
    followed by another of the same context is taken to have ended in a deactivation.
    ``idle`` (optional): the idle gaps to hatch (``RunResult.idle_gaps``); without it, they
    are derived from ``windows`` and ``intervals`` as the summary derives them under the
    default ``active_windows`` accounting.
    ``start``/``end`` (seconds) default to the whole run.
    ``outages`` (optional): ``start_at``/``end_at`` of the backend's outages, drawn as bands
    across every row (``RunResult.outage_arrays``).
    """
    import pandas as pd

    modes = dict(workloads) if isinstance(workloads, Mapping) else dict.fromkeys(workloads, "")
    modes.update({w: m for w, m in zip(windows["workload"], windows.get("mode", ())) if w})
    modes.update({w: "" for w in pd.unique(jobs["workload"]) if w and w not in modes})
    if idle is None:
        idle = _idle_from_tables(windows, intervals, modes)
    tables = tt.from_frames(list(modes), jobs, windows, intervals, calibrations, contexts, idle)
    return _draw_timeline(tables, lanes, modes, ax, start, end, max_bars, outages)


def _draw_timeline(tables: tt.Tables, lanes: int, modes: Mapping[str, str], ax: Axes | None,
                   start: float | None, end: float | None, max_bars: int,
                   outages: Mapping[str, np.ndarray] | None) -> Axes:
    """``timeline_from_tables`` on the tables' numpy columns (``tables.names``: ``modes``'
    keys, in order)."""
    jobs, windows = tables.jobs, tables.windows
    colours = {name: f"C{i % 10}" for i, name in enumerate(modes)}
    t0, t1 = _view(start, end, tables)
    lane = assign_lanes(jobs)
    ctx_rows = tables.ctx_rows
    qpu_y = len(ctx_rows)
    used = max(lanes, int(lane.max(initial=-1)) + 1)
    hidden = _hide_lanes(lane, MAX_LANE_ROWS)
    n_rows = qpu_y + 1 + min(used, MAX_LANE_ROWS)
    height = 1.6 + 0.38 * min(n_rows, MAX_ROWS_TALL)
    ax = ax if ax is not None else Figure(figsize=(13, height)).add_subplot()
    unit, scale = time_unit(t1 - t0)
    cv = pt.Canvas(ax, t0, t1, scale)
    pt.draw_windows(cv, jobs, windows, tables.contexts, ctx_rows, colours, n_rows)
    _draw_work(cv, jobs, tables.idle, tables.intervals, lane, colours, qpu_y, n_rows, max_bars)
    pt.draw_calibrations(cv, tables.calibrations, qpu_y)
    if outages is not None:
        pt.draw_outages(cv, outages, n_rows)
    cv.notes.extend(_laneless(jobs, t0, t1))
    if used > MAX_LANE_ROWS:
        cv.notes.append(f"lanes {MAX_LANE_ROWS + 1}-{used:,} not drawn ({hidden:,} jobs ran "
                        "there)")
    labels = [f"{label(w)} ({modes.get(w) or 'context'})" for _, w in ctx_rows] + ["QPU"] + [
        f"lane {k + 1}" for k in range(n_rows - qpu_y - 1)]
    _finish(cv, labels, unit, _workload_entries(tables, modes, colours))
    return ax


def fleet_timeline(result: RunResult, ax: Axes | None = None, start: float | None = None,
                   end: float | None = None, *, max_bars: int = MAX_BARS) -> Axes:
    """The timeline of a run on several backends (SPEC §18): the batches and sessions, then
    one QPU row per backend (its jobs, calibrations, reserved-idle gaps and outages). The
    lanes are left out: six backends' lanes would be thirty rows (each job's dispatch is in
    the jobs table)."""
    scenario = result.info.scenario
    jobs, intervals = result.jobs, result.intervals
    idle, cal, out = result.idle_gaps, result.calibrations, result.outage_arrays
    modes: dict[str, str] = {w.name: w.mode.kind for w in scenario.workloads}
    tables = tt.from_frames(list(modes), jobs, result.windows, intervals, cal, result.contexts,
                            idle)
    colours = {name: f"C{i % 10}" for i, name in enumerate(modes)}
    t0, t1 = _view(start, result.info.end_s if end is None else end, tables)
    ctx_rows = tables.ctx_rows
    names = [b.name for b in scenario.backends]
    qpu_y = len(ctx_rows)
    n_rows = qpu_y + len(names)
    ax = ax if ax is not None else Figure(figsize=(13, 1.6 + 0.38 * min(n_rows, MAX_ROWS_TALL))
                                          ).add_subplot()
    unit, scale = time_unit(t1 - t0)
    cv = pt.Canvas(ax, t0, t1, scale)
    pt.draw_windows(cv, tables.jobs, tables.windows, tables.contexts, ctx_rows, colours, n_rows)
    on = dict(zip(modes, result.trace.workload_backend))  # each workload's backend
    ended = np.nan_to_num(jobs["end_at"].to_numpy(float), nan=np.inf)
    visible = (jobs["dispatch_at"].to_numpy(float) < cv.end) & (ended > cv.start)
    dense = int(visible.sum()) > max_bars
    for k, name in enumerate(names):
        y = qpu_y + k
        mine = idle[idle["workload"].isin([w for w, b in on.items() if b == k])]
        gaps = (mine["start_at"].to_numpy(float), mine["end_at"].to_numpy(float))
        held = tt.take(tables.intervals, (intervals["backend"] == name).to_numpy(bool))
        if dense:
            own = (jobs["backend"] == name).to_numpy(bool)
            lane = np.full(int(own.sum()), -1, np.int64)
            part = tt.take(tables.jobs, own)
            pt.draw_occupancy(cv, part, held, gaps, lane, phase_spans(part, cv.end), colours,
                              y, y + 1)
        else:
            pt.draw_idle(cv, gaps, y)
            pt.draw_qpu_bars(cv, held, colours, y)
        pt.draw_calibrations(cv, cal[cal["backend"] == name], y)
        down = out["backend"] == k
        if cv.bars(out["start_at"][down], out["end_at"][down], y, 1.0, "outage",
                   facecolor=pt.OUTAGE_COLOUR, alpha=0.35, edgecolor="none", zorder=0.5):
            cv.note("outage", Patch(facecolor=pt.OUTAGE_COLOUR, alpha=0.35))
    if dense:
        cv.notes.insert(0, f"{int(visible.sum()):,} jobs: too many bars, drawn as occupancy "
                           f"(share of each {_duration((cv.end - cv.start) / BINS)} bin busy)")
    labels = [f"{label(w)} ({modes.get(w) or 'context'})" for _, w in ctx_rows] + [
        f"QPU {label(n, 24)}" for n in names]
    _finish(cv, labels, unit, _workload_entries(tables, modes, colours))
    ax.set_title(f"{label(scenario.name, 80)} · seed {result.info.seed}", loc="left",
                 fontsize=10)
    _queue_panel(ax, result, t0, t1)
    return ax


def _hide_lanes(lane: np.ndarray, rows: int) -> int:
    """Take jobs on lanes past ``rows`` off the lane rows (in place); how many there were."""
    beyond = lane >= rows
    lane[beyond] = -1
    return int(beyond.sum())


def _idle_from_tables(windows: pd.DataFrame, intervals: pd.DataFrame,
                      modes: dict[str, str]) -> pd.DataFrame:
    from qsim.analysis.tables import idle_gap_table

    names = tuple(modes)
    held = intervals[intervals["what"] == "job"].sort_values("start_at", kind="stable")
    index = {name: i for i, name in enumerate(names)}
    busy = {"start_at": held["start_at"].to_numpy(float), "end_at": held["end_at"].to_numpy(float),
            "workload": held["workload"].map(index).fillna(-1).to_numpy(int)}
    return idle_gap_table(windows, busy, names, tuple(modes.values()), "active_windows")


def _draw_work(cv: pt.Canvas, jobs: tt.Columns, gaps: tuple[np.ndarray, np.ndarray],
               intervals: tt.Columns, lane: np.ndarray, colours: dict[str, str], qpu_y: int,
               n_rows: int, max_bars: int) -> None:
    """Jobs on the lanes and the QPU, and the QPU's reserved-idle gaps: as bars, or past
    ``max_bars`` jobs in view as occupancy bands (a bar per job would be a smear)."""
    ended = np.nan_to_num(jobs["end_at"], nan=np.inf)
    visible = (lane >= 0) & (jobs["dispatch_at"] < cv.end) & (ended > cv.start)
    spans = phase_spans(jobs, cv.end)
    if visible.sum() > max_bars:
        pt.draw_occupancy(cv, jobs, intervals, gaps, lane, spans, colours, qpu_y, n_rows)
        width = (cv.end - cv.start) / BINS
        cv.notes.insert(0, f"{int(visible.sum()):,} jobs: too many bars, drawn as occupancy "
                           f"(share of each {_duration(width)} bin busy)")
    else:
        # White edges separate bars that are wide enough to see; on bars a few pixels wide
        # they would wash the colour out.
        held = (ended - jobs["dispatch_at"])[visible]
        cv.edge = 0.4 if len(held) and np.median(held) > 0.004 * (cv.end - cv.start) else 0.0
        pt.draw_idle(cv, gaps, qpu_y)
        pt.draw_job_bars(cv, jobs, lane, visible, spans, colours, qpu_y)
        pt.draw_qpu_bars(cv, intervals, colours, qpu_y)


def _view(start: float | None, end: float | None, tables: tt.Tables) -> tuple[float, float]:
    """The time span to draw: as given, else from 0 (or earlier) to the last thing known."""
    bounds = [_finite_bounds(f[c]) for f, c in (
        (tables.jobs, "submit_at"), (tables.jobs, "end_at"), (tables.windows, "end_at"),
        (tables.intervals, "end_at"))]
    t0 = min(0.0, *(lo for lo, _ in bounds)) if start is None else float(start)
    t1 = max(t0 + 1.0, *(hi for _, hi in bounds)) if end is None else float(end)
    return t0, (t1 if t1 > t0 else t0 + 1.0)


def _finite_bounds(values: np.ndarray) -> tuple[float, float]:
    """The least and the greatest finite value (inf and -inf if there is none). NaN is
    skipped where it lies: copying the finite values out first took a tenth of a second at a
    million jobs."""
    lo, hi = np.fmin.reduce(values, initial=np.inf), np.fmax.reduce(values, initial=-np.inf)
    if np.isinf(lo) or np.isinf(hi):  # an infinity, or nothing finite: look closer
        finite = values[np.isfinite(values)]
        lo, hi = finite.min(initial=np.inf), finite.max(initial=-np.inf)
    return float(lo), float(hi)


def _laneless(jobs: tt.Columns, t0: float, t1: float) -> list[str]:
    """Jobs that never held a lane have no bar: say how many were waiting in the view, and
    how many in all were still queued when the run ended, so a starved queue shows."""
    undispatched = np.isnan(jobs["dispatch_at"])
    never = undispatched & (jobs["submit_at"] < t1) & (np.nan_to_num(jobs["end_at"],
                                                                      nan=np.inf) > t0)
    incomplete = jobs["status"] == tt.STATUSES.index("incomplete")
    waiting = int((never & incomplete).sum())
    cancelled = int((never & (jobs["status"] == tt.STATUSES.index("cancelled"))).sum())
    at_end = int((undispatched & incomplete).sum())
    parts = []
    if waiting:
        parts.append(f"{waiting:,} waiting here ({at_end:,} in all still queued "
                     "when the run ended)")
    if cancelled:
        parts.append(f"{cancelled:,} cancelled in the queue")
    return [f"not drawn, never given a lane: {', '.join(parts)}"] if parts else []


def _workload_entries(tables: tt.Tables, modes: Mapping[str, str],
                      colours: dict[str, str]) -> dict[str, object]:
    codes = np.union1d(tables.jobs["workload"], tables.windows["workload"])
    present = {tables.names[k] for k in codes.tolist() if k >= 0}
    entries: dict[str, object] = {
        f"{label(n)} · {modes[n]}" if modes.get(n) else label(n): Patch(facecolor=c)
        for n, c in colours.items() if n in present}
    for phase in ("compile", "quantum", "post"):
        entries[f"phase: {phase}"] = Patch(facecolor=pt.shade("#707070", phase), edgecolor="white")
    return entries


def _finish(cv: pt.Canvas, labels: list[str], unit: str, entries: dict[str, object]) -> None:
    ax = cv.ax
    ax.set_xlim(cv.start / cv.scale, cv.end / cv.scale)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first row on top
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel(f"time ({unit})")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    legend: dict[str, Any] = {**entries, **cv.legend}
    ax.legend(list(legend.values()), list(legend), loc="upper left", bbox_to_anchor=(1.005, 1),
              fontsize=7.5, frameon=False)
    ax.set_title("\n".join(cv.notes), loc="right", fontsize=8, color="#555555")


def _duration(seconds: float) -> str:
    unit, scale = time_unit(seconds)
    return f"{seconds / scale:.3g} {unit}"


def compare(comparison: Any, ax: Axes | None = None, *, spread: bool = False) -> Axes:
    """Usage, cost, wall time and billed idle time per mode, one small panel each, sharing
    the mode axis. Only a session is billed for idle time (its usage beyond its quantum
    time); batch and job mode are marked "not billed", whatever idle their windows had.

    ``comparison``: ``{"workload": name, "modes": {mode: {"usage_s": x, ...}}}`` (or an object
    whose ``to_dict()`` returns that, such as ``qsim.experiments.Comparison``), each figure a
    number, ``{"mean", "low", "high"}`` or ``{"mean", "ci95": [low, high]}``.
    The panels are drawn inside ``ax`` (its own frame hidden), reachable as ``ax.child_axes``.
    ``spread`` (``--percentiles``): the whiskers go from the runs' 10th to 90th percentile
    (``p10``, ``p90``) instead of the confidence interval.
    """
    data = comparison.to_dict() if hasattr(comparison, "to_dict") else comparison
    data = {"replications": getattr(comparison, "replications", None), **data}
    if ax is None:
        ax = Figure(figsize=(11, 3.6), layout="constrained").add_subplot()
    ax.set_axis_off()
    modes = _ordered(data["modes"])
    # A mode that did not finish the work is drawn hatched and named so: its bars are not
    # comparable with the others' (less work is cheaper).
    unfinished = {m for m in modes if not data["modes"][m].get("complete", True)}
    any_whiskers = False
    for i, (key, title, kind) in enumerate(PANELS):
        panel = ax.inset_axes((i * 0.26, 0.0, 0.19, 0.86))
        entries = [_with_billed_idle(m, data["modes"][m]) for m in modes]
        # Only a session pays for its idle time: batch and job mode's "0" is no virtue of
        # theirs, so say what it means.
        instead = ["not billed" if key == "billed_idle_s" and m.partition(" on ")[0] !=
                   "session" else None for m in modes]
        values = [_as_spread(e.get(key)) if spread else e.get(key) for e in entries]
        whiskers = _panel(panel, values, modes, title, kind, instead, unfinished)
        panel.set_gid(f"compare/{key}")
        any_whiskers = any_whiskers or whiskers
    title = _compare_title(data, any_whiskers, spread)
    if unfinished:
        title += "\nhatched: did not finish the work, not comparable (see the verdict)"
    if "recommended" in data.get("verdict", {}):  # SPEC §20: --deadline / --budget given
        title += "\n" + _decision_line(data["verdict"])
    ax.set_title(title, loc="left", fontsize=10)
    return ax


def _decision_line(verdict: Mapping[str, Any]) -> str:
    """The goal, each mode's share of replications meeting it, and the recommended mode."""
    goal = verdict["goal"]
    limits = [f"deadline {format_duration(goal['deadline_s'])}"
              if goal["deadline_s"] is not None else "",
              f"budget ${goal['budget_usd']:,.2f}" if goal["budget_usd"] is not None else ""]
    shares = ", ".join(f"{m} {c['p_both']:.0%}" for m, c in verdict["chances"].items())
    chosen = verdict["recommended"]
    said = f"recommended: {chosen}" if chosen is not None else "no mode meets it"
    return (f"{' and '.join(x for x in limits if x)} met in {shares} of the runs "
            f"({goal['confidence'] * 100:g}% wanted) → {said}")


def _with_billed_idle(mode: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with ``billed_idle_s``: the usage beyond the quantum time, which a session
    pays for its reserved, idle QPU (a mean of the means with replications: no interval)."""
    usage, quantum = entry.get("usage_s"), entry.get("quantum_s")
    billed = None
    if usage is not None and quantum is not None:
        session = mode.partition(" on ")[0] == "session"  # `MODE on BACKEND` too (SPEC §18)
        billed = max(0.0, _stat(usage)[0] - _stat(quantum)[0]) if session else 0.0
    return {**entry, "billed_idle_s": billed}


def save_timeline(result: RunResult, path: str | os.PathLike[str], start: float | None = None,
                  end: float | None = None) -> None:
    """Write the run's timeline as a PNG (Agg, no display needed)."""
    _save(timeline(result, start=start, end=end).figure, path)


def save_compare(comparison: Any, path: str | os.PathLike[str], *, spread: bool = False
                 ) -> None:
    """Write the mode comparison as a PNG (Agg, no display needed); ``spread``: see
    :func:`compare`."""
    _save(compare(comparison, spread=spread).figure, path)


def _as_spread(value: Any) -> Any:
    """A figure whose interval is the runs' p10 to p90, when it has them."""
    if isinstance(value, Mapping) and "p10" in value and "p90" in value:
        return {"mean": value.get("mean"), "low": value["p10"], "high": value["p90"]}
    return value


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    FigureCanvasAgg(fig)  # attaches itself: the PNG is rendered by Agg whatever the backend
    fig.savefig(path, dpi=DPI, bbox_inches="tight")


def _ordered(modes: Mapping[str, Any]) -> list[str]:
    known = [m for m in MODE_ORDER if m in modes]
    return known + [m for m in modes if m not in known]


def _stat(value: Any) -> tuple[float, float, float]:
    """(mean, low, high) of a figure: a number, ``{"mean", "low", "high"}`` or
    ``{"mean", "ci95": [low, high]}`` (``qsim.experiments.Estimate``); NaN for what is missing
    (a single run has no interval)."""
    if not isinstance(value, Mapping):
        return (np.nan if value is None else float(value)), np.nan, np.nan
    low, high = value.get("ci95") or (value.get("low"), value.get("high"))
    return tuple(np.nan if v is None else float(v)  # type: ignore[return-value]
                 for v in (value.get("mean"), low, high))


def _panel(ax: Axes, values: Sequence[Any], modes: list[str], title: str, kind: str,
           instead: Sequence[str | None], unfinished: frozenset[str] | set[str] = frozenset()
           ) -> bool:
    """One figure per mode as bars, labelled, with whiskers where it has an interval;
    return whether any whisker was drawn."""
    stats = np.array([_stat(v) for v in values]).reshape(-1, 3)
    unit, scale = ("$", 1.0) if kind == "usd" else time_unit(np.nanmax(stats, initial=0.0))
    mean, low, high = (stats / scale).T
    x = np.arange(len(modes))
    bars = ax.bar(x, np.nan_to_num(mean), width=0.62, gid="bars",
                  color=[MODE_COLOURS.get(m, "#8172b3") for m in modes])
    for bar, mode in zip(bars, modes):
        if mode in unfinished:
            bar.set_alpha(0.45)
            bar.set_hatch("//")
            bar.set_gid(f"incomplete/{mode}")
    has_ci = ~np.isnan(low) & ~np.isnan(high)
    if has_ci.any():  # replications: the confidence interval as a whisker
        err = np.vstack([mean - low, high - mean])[:, has_ci].clip(min=0)
        ax.errorbar(x[has_ci], mean[has_ci], yerr=err, fmt="none", ecolor="black",
                    capsize=4, linewidth=1, gid="whiskers")
    top = np.fmax(np.nan_to_num(mean), np.nan_to_num(high))  # above the whisker, if any
    for xi, yi, value, text in zip(x, top, mean, instead):
        ax.annotate(text or _label(value, kind, unit), (xi, yi), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7.5)
    ax.set_xticks(x, [f"{m}\n(incomplete)" if m in unfinished else m for m in modes])
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("USD" if kind == "usd" else unit, fontsize=8)
    ax.margins(y=0.18)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return bool(has_ci.any())


def _label(value: float, kind: str, unit: str) -> str:
    """The figure written over its bar, in the panel's unit."""
    if np.isnan(value):
        return "n/a"
    if kind == "usd":
        return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"
    return f"{value:.3g} {unit}"


def _compare_title(data: Mapping[str, Any], whiskers: bool, spread: bool = False) -> str:
    title = f"{label(data.get('workload') or 'workload')}: execution modes compared"
    n = data.get("replications")
    runs = f"mean of {n} runs" if n and n > 1 else ""
    level = "95% " if any(isinstance(v, Mapping) and "ci95" in v
                          for entry in data["modes"].values() for v in entry.values()) else ""
    ci = f"whiskers: {level}confidence interval" if whiskers else ""
    if whiskers and spread:
        ci = "whiskers: 10th to 90th percentile of the runs"
    extra = ", ".join(p for p in (runs, ci) if p)
    return f"{title} ({extra})" if extra else title
