"""The picture of ``qsim advise`` (matplotlib, no pyplot): each candidate's mean cost against
its 90th-percentile wall time, coloured by mode; filled when it meets the deadline with the
wanted confidence, hollow when not, a cross when it left work unfinished; the Pareto front
of the complete candidates as a line; the deadline and the budget as dashed lines; the
recommended candidate ringed.

It reads only ``Advice.to_dict()`` (``advise.json``), so a saved advice draws again without
running anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from qsim.input.units import format_duration
from qsim.present.plot_timeline import label, time_unit
from qsim.present.plots import DPI, MODE_COLOURS

__all__ = ["advise_figure", "save_advise"]

_EPS: Final = 1e-9


def advise_figure(advice: Any) -> Figure:
    """The picture of an advice (an ``Advice`` or its ``to_dict()``)."""
    data = advice.to_dict() if hasattr(advice, "to_dict") else advice
    rows = data["candidates"]
    goal = data["goal"]
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.add_subplot()
    span = max([r["wall_time_p90_s"] for r in rows] + [goal["deadline_s"] or 0.0])
    unit, scale = time_unit(span)
    _points(ax, rows, goal, scale)
    _front(ax, rows, scale)
    _limits(ax, goal, scale)
    ax.set_xlabel(f"wall time, 90th percentile of the replications ({unit})")
    ax.set_ylabel("cost, mean of the replications (USD)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=_legend(ax, rows), fontsize=8, loc="best")
    ax.set_title(_title(data), loc="left", fontsize=10)
    return fig


def _on_time(row: Mapping[str, Any], goal: Mapping[str, Any]) -> bool:
    """Meets the deadline with at least the confidence (without a deadline: finished)."""
    p = row["p_deadline"]
    return bool(row["complete"]) and (p is None or p >= goal["confidence"] - _EPS)


def _points(ax: Axes, rows: list[dict[str, Any]], goal: Mapping[str, Any],
            scale: float) -> None:
    for r in rows:
        colour = MODE_COLOURS.get(r["mode"], "#8172b3")
        x, y = r["wall_time_p90_s"] / scale, r["cost_usd"]
        if not r["complete"]:
            ax.scatter([x], [y], marker="x", color=colour, s=36, linewidths=1.2,
                       gid=f"incomplete/{r['rank']}")
        elif _on_time(r, goal):
            ax.scatter([x], [y], marker="o", color=colour, s=36, gid=f"on-time/{r['rank']}")
        else:
            ax.scatter([x], [y], marker="o", facecolors="none", edgecolors=colour, s=36,
                       linewidths=1.2, gid=f"late/{r['rank']}")
        if r["status"] == "recommended":
            ax.scatter([x], [y], marker="o", facecolors="none", edgecolors="black", s=220,
                       linewidths=1.6, gid="recommended")
            ax.annotate("recommended", (x, y), xytext=(10, 8), textcoords="offset points",
                        fontsize=8)


def _front(ax: Axes, rows: list[dict[str, Any]], scale: float) -> None:
    front = sorted((r["wall_time_p90_s"] / scale, r["cost_usd"]) for r in rows if r["pareto"])
    if front:
        xs, ys = zip(*front)
        ax.step(xs, ys, where="post", color="black", linewidth=1, alpha=0.6, gid="pareto")


def _limits(ax: Axes, goal: Mapping[str, Any], scale: float) -> None:
    if goal["deadline_s"] is not None:
        ax.axvline(goal["deadline_s"] / scale, color="#c44e52", linestyle="--", linewidth=1,
                   gid="deadline")
    if goal["budget_usd"] is not None:
        ax.axhline(goal["budget_usd"], color="#c44e52", linestyle=":", linewidth=1,
                   gid="budget")


def _legend(ax: Axes, rows: list[dict[str, Any]]) -> list[Any]:
    from matplotlib.lines import Line2D

    modes = list(dict.fromkeys(r["mode"] for r in rows))
    handles: list[Any] = [Line2D([], [], marker="o", linestyle="", color=MODE_COLOURS.get(
        m, "#8172b3"), label=m) for m in modes]
    handles += [
        Line2D([], [], marker="o", linestyle="", color="grey", label="meets the deadline"),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="none", color="grey",
               label="misses it"),
        Line2D([], [], color="black", alpha=0.6, label="Pareto front (complete choices)")]
    if any(not r["complete"] for r in rows):
        handles.append(Line2D([], [], marker="x", linestyle="", color="grey",
                              label="did not finish the work"))
    return handles


def _title(data: Mapping[str, Any]) -> str:
    goal = data["goal"]
    limits = [f"deadline {format_duration(goal['deadline_s'])} (dashed)"
              if goal["deadline_s"] is not None else "",
              f"budget ${goal['budget_usd']:,.2f} (dotted)"
              if goal["budget_usd"] is not None else ""]
    wanted = f"{goal['confidence'] * 100:g}% of the replications"
    best = data["recommended"]
    said = (f"recommended: {label(best['label'], 100)}" if best is not None
            else "no choice meets it")
    return (f"{label(data['workload'])}: {len(data['candidates'])} choices, cost against wall "
            f"time\n{' and '.join(x for x in limits if x)}, in {wanted} → {said}")


def save_advise(advice: Any, path: str | os.PathLike[str]) -> None:
    """Write the advice's picture as a PNG (Agg, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = advise_figure(advice)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
