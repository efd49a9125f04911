"""The picture of a sweep (matplotlib, no pyplot): usage, cost, wall time and idle time of
the foreground workloads against the first varied PATH, one line per value of the other
PATHs (or per workload and mode), with the 95% interval as a band (or whiskers when the
PATH's values are not numbers).

It reads only the table of ``qsim.sweep`` (``sweep.parquet``), so a saved sweep can be
drawn again without running anything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any, Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qsim.analysis.sweeps import REFUSED, complete_shares, point_estimates
from qsim.input.units import parse_duration
from qsim.present.plot_timeline import label as picture_text
from qsim.present.plot_timeline import time_unit
from qsim.present.plots import DPI, MODE_COLOURS
from qsim.present.plots import PANELS as COMPARE_PANELS

# The comparison's panels, with idle time in windows (a column of the sweep table) in place
# of the billed idle the comparison derives per mode.
PANELS = (*COMPARE_PANELS[:3], ("idle_s", "idle in windows", "time"))

__all__ = ["save_sweep", "sweep_figure"]

# Offsets (in category widths) that keep whiskers of several lines apart on a category axis
_SPREAD: Final = 0.25
_MAX_VALUE_TICKS: Final = 10  # up to this many values swept, the ticks are the values


def sweep_figure(table: pd.DataFrame, vary: Sequence[str] | None = None) -> Figure:
    """One panel per main figure (usage, cost, wall time, idle), each against ``vary[0]``
    (default: the table's ``attrs["vary"]``, as ``qsim.sweep`` sets it)."""
    vary = list(vary if vary is not None else table.attrs.get("vary", []))
    if not vary:
        raise ValueError("sweep_figure: which columns were varied? pass vary=[PATH, ...]")
    shown = _foreground(table)
    estimates = point_estimates(shown, [*vary, "workload", "mode"],
                                [*(k for k, _, _ in PANELS), "windows"])
    # SPEC §20: PATHs varied together with the x axis's are on it too, not lines of their own
    group = next((g for g in table.attrs.get("together", []) if vary[0] in g), [vary[0]])
    x, ticks, unit = _x_axis(estimates[vary[0]]) if len(group) == 1 else _zipped_axis(
        estimates, group)
    complete = complete_shares(shown, [*vary, "workload", "mode"])
    estimates = estimates.assign(_x=x, _complete=complete)
    lines = _lines(estimates, [p for p in vary[1:] if p not in group],
                   multiple=shown["workload"].nunique() > 1)
    fig = Figure(figsize=(11, 7.2), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (key, title, kind) in zip(axes, PANELS):
        _panel(ax, lines, key, title, kind, categorical=ticks is not None)
    for ax in axes[2:]:
        ax.set_xlabel(picture_text(_x_label(group), 80) + (f" ({unit})" if unit else ""),
                      fontsize=9)
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), [picture_text(t) for t in ticks])
        elif len(set(x)) <= _MAX_VALUE_TICKS:  # a tick at each value swept, not 22.5, 27.5
            ax.set_xticks(sorted(set(x)), [f"{v:g}" for v in sorted(set(x))])
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(4, len(lines)), frameon=False, fontsize=9)
    title = _title(table, _x_label(group), categorical=ticks is not None) + _refused(table, vary)
    if min(complete, default=1.0) < 1.0:
        title += ("\nhollow markers: a workload did not finish its work there (in some run): "
                  "less work, not comparable")
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig


def save_sweep(table: pd.DataFrame, path: str | os.PathLike[str] | IO[bytes],
               vary: Sequence[str] | None = None) -> None:
    """Write the sweep's picture as a PNG (Agg, no display needed)."""
    fig = sweep_figure(table, vary)
    FigureCanvasAgg(fig)  # the PNG is rendered by Agg whatever backend is configured
    fig.savefig(path, dpi=DPI)


def _foreground(table: pd.DataFrame) -> pd.DataFrame:
    """The rows to draw: the foreground workloads' (everything when all are background), of
    the points that ran (a refused point has no figure to draw)."""
    if REFUSED in table:
        table = table[table[REFUSED] == ""]
    fore = table[table["kind"] != "background"]
    return fore if len(fore) else table


def _refused(table: pd.DataFrame, vary: Sequence[str]) -> str:
    """The title's line for the points the service would refuse (not drawn), or ""."""
    if REFUSED not in table:
        return ""
    rows = table[table[REFUSED] != ""].drop_duplicates(list(vary))
    if rows.empty:
        return ""
    points = "; ".join(", ".join(f"{p.rsplit('.', 1)[-1]} = {_value(row[p])}" for p in vary)
                       for _, row in rows.iterrows())
    why = str(rows[REFUSED].iloc[0]).split(";")[0].split(": ", 1)[-1]
    return f"\nnot drawn, refused: {picture_text(points, 120)} ({picture_text(why, 120)})"


def _x_axis(values: pd.Series) -> tuple[np.ndarray, list[str] | None, str]:
    """Positions on the x axis, the tick labels of a category axis (None: a number axis) and
    the unit. Durations written with units (``10s``, ``2m``) are placed by their length."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(float), None, ""
    seconds = _durations(values)
    if seconds is not None:
        unit, scale = time_unit(float(np.max(seconds)))
        return seconds / scale, None, unit
    categories = list(dict.fromkeys(str(v) for v in values))
    return np.array([categories.index(str(v)) for v in values], float), categories, ""


def _zipped_axis(estimates: pd.DataFrame, group: Sequence[str]
                 ) -> tuple[np.ndarray, list[str], str]:
    """A category axis of the points of a ``--vary-together`` group, in the order given, each
    labelled by all its values (``2000 / 1``)."""
    labels = [" / ".join(_value(v) for v in row)
              for row in estimates[list(group)].itertuples(index=False)]
    categories = list(dict.fromkeys(labels))
    return np.array([categories.index(t) for t in labels], float), categories, ""


def _x_label(group: Sequence[str]) -> str:
    """The x axis's PATH; a group's as ``workloads.s.jobs / quantum.circuits``."""
    rest = [".".join(p.split(".")[2:]) if p.startswith("workloads.") else p for p in group[1:]]
    return " / ".join([group[0], *rest])


def _durations(values: pd.Series) -> np.ndarray | None:
    try:
        return np.array([parse_duration(v) for v in values], float)
    except ValueError:
        return None


Line = tuple[str, str, pd.DataFrame]  # label, colour, its points sorted by x


def _lines(estimates: pd.DataFrame, others: Sequence[str], multiple: bool) -> list[Line]:
    """One line per value of the other PATHs (and per workload when several are drawn);
    without other PATHs, one per workload and mode."""
    keys = [*others, "workload"] if others else ["workload", "mode"]
    out: list[Line] = []
    for i, (key, part) in enumerate(estimates.groupby(keys, sort=False)):
        values = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        out.append((_label(values, others, multiple), _colour(values, i),
                    part.sort_values("_x", kind="stable")))
    return out


def _label(values: dict[str, Any], others: Sequence[str], multiple: bool) -> str:
    if not others:
        return f"{picture_text(values['workload'])} ({values['mode']})"
    said = ", ".join(f"{p.rsplit('.', 1)[-1]} = {picture_text(_value(values[p]))}" for p in others)
    return f"{picture_text(values['workload'])}: {said}" if multiple else said


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _colour(values: dict[str, Any], index: int) -> str:
    # A line per mode keeps the mode's colour of `qsim compare`'s picture.
    modes = [v for v in values.values() if isinstance(v, str) and v in MODE_COLOURS]
    return MODE_COLOURS[modes[0]] if len(modes) == 1 and len(values) <= 2 else f"C{index % 10}"


def _panel(ax: Axes, lines: list[Line], key: str, title: str, kind: str,
           categorical: bool) -> None:
    """One figure: a line per entry of ``lines``, its interval as a band (or whiskers)."""
    top = max(float(np.nanmax(part[[key, f"{key}.high"]].to_numpy(float), initial=0.0))
              for _, _, part in lines)
    unit, scale = ("USD", 1.0) if kind == "usd" else time_unit(top)
    windowless = []
    for i, (label, colour, part) in enumerate(lines):
        if key == "idle_s" and not (part["windows"] > 0).any():
            # Job mode has no window, so "0 idle" would read as a virtue: leave it out.
            windowless.append(label)
            continue
        x = part["_x"].to_numpy(float)
        mean, low, high = (part[c].to_numpy(float) / scale
                           for c in (key, f"{key}.low", f"{key}.high"))
        if categorical:  # whiskers, the lines side by side within each category
            x = x + _SPREAD * (i - (len(lines) - 1) / 2) / max(1, len(lines) - 1)
            # Markers only: categories (modes, names) have no order for a line to follow.
            ax.errorbar(x, mean, yerr=np.vstack([mean - low, high - mean]).clip(min=0),
                        fmt="o", color=colour, capsize=3, label=label, linewidth=1.2)
        else:
            ax.plot(x, mean, "o-", color=colour, label=label, linewidth=1.6, markersize=4)
            ax.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0)
        undone = part["_complete"].to_numpy(float) < 1.0
        if undone.any():  # did not finish: its figures are of less work, drawn hollow
            ax.plot(x[undone], mean[undone], "o", linestyle="none", markersize=8,
                    markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.6,
                    gid="incomplete")
    if windowless:
        title += f"  ({'; '.join(windowless)}: no window)"
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(unit, fontsize=9)
    ax.set_ylim(bottom=0)
    ax.grid(color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _title(table: pd.DataFrame, x_path: str, categorical: bool) -> str:
    name = picture_text(table.attrs.get("scenario") or "sweep", 80)
    n = int(table.attrs.get("replications") or table["replication"].nunique())
    shown = ", ".join(picture_text(w) for w in dict.fromkeys(_foreground(table)["workload"]))
    what = f"{name}: {picture_text(shown, 200)} against {picture_text(x_path, 80)}"
    if n < 2:
        return what
    interval = "whiskers" if categorical else "bands"
    return f"{what}\nmean of {n} runs per point; {interval}: 95% confidence interval"

