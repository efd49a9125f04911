"""The timeline's queue panel (issue 26): a backend's queue level under the rows, on its own
axis sharing the time axis, one step line per backend.

The level is what ``backend.status().pending_jobs`` shows: jobs submitted and not yet
dispatched (the background's, with the foreground's few), counted at ``BINS + 1`` evenly
spaced instants of the view (``qsim.analysis.queue_level``: linear in the jobs, no sort), so
a million jobs cost no more than a few hundred points to draw. It is drawn only for a run
with a background workload: elsewhere the queue is the foreground's own and the lanes show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes

from qsim.analysis.queue_level import left_queue_at, queue_level_at
from qsim.present.plot_timeline import BINS, label

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult

__all__ = ["draw_queue_panel", "has_background", "queue_levels"]

PANEL_INCHES = 1.0  # the panel's height, whatever the rows above take
PAD_INCHES = 0.35


def has_background(result: RunResult) -> bool:
    return any(w.kind == "background" for w in result.info.scenario.workloads)


def queue_levels(result: RunResult, start: float, end: float, bins: int = BINS
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per backend (by name; "" for a one-backend scenario): the instants (seconds, ``bins
    + 1`` from ``start`` to ``end``) and the jobs queued there."""
    arrays = result.job_arrays
    instants = np.linspace(start, end, bins + 1)
    left = left_queue_at(arrays, result.info.end_s)
    submit = arrays["submit_at"]
    scenario = result.info.scenario
    if not scenario.backends:
        return {"": (instants, queue_level_at(submit, left, instants))}
    on = result.jobs["backend"].to_numpy(object)
    return {b.name: (instants, queue_level_at(submit[on == b.name], left[on == b.name],
                                              instants))
            for b in scenario.backends}


def draw_queue_panel(ax: Axes, result: RunResult, start: float, end: float,
                     scale: float) -> Axes:
    """Append the panel under ``ax`` (which gives up its time labels to it); return it."""
    # (matplotlib's own toolkit; it ships no type hints): it takes the panel's height from
    # the axes, whatever the figure, so a caller's own ``ax`` works too
    from mpl_toolkits.axes_grid1 import make_axes_locatable  # type: ignore[import-untyped]

    panel: Axes = make_axes_locatable(ax).append_axes("bottom", size=PANEL_INCHES, pad=PAD_INCHES,
                                                sharex=ax)
    levels = queue_levels(result, start, end)
    for k, (name, (instants, level)) in enumerate(levels.items()):
        panel.step(instants / scale, level, where="post", linewidth=0.9, color=f"C{k % 10}",
                   gid=f"queue/{name}" if name else "queue",
                   label=label(name, 24) if name else None)
    panel.set_ylim(bottom=0)
    panel.set_ylabel("queued", fontsize=8)
    panel.tick_params(labelsize=7)
    panel.set_xlabel(ax.get_xlabel())
    panel.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    panel.set_title("jobs submitted, not yet dispatched (pending_jobs)", loc="left",
                    fontsize=7.5, color="#555555")
    if len(levels) > 1:  # above the panel, right: the rows' legend may reach down beside it
        panel.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=min(len(levels), 6),
                     fontsize=7, frameon=False, handlelength=1.2, borderaxespad=0.2)
    else:
        _shade_outages(panel, result, start, end, scale)
    ax.set_xlabel("")
    ax.tick_params(labelbottom=False)
    return panel


def _shade_outages(panel: Axes, result: RunResult, start: float, end: float,
                   scale: float) -> None:
    """The backend's outages as the rows show them (a queue grows during one), binned on the
    panel's instants: bounded cost whatever the number of outages."""
    from qsim.present.plot_timeline import OUTAGE_COLOUR

    outages = result.outage_arrays
    if not len(outages["start_at"]):
        return
    instants = np.linspace(start, end, BINS + 1)
    down = queue_level_at(outages["start_at"], outages["end_at"], instants) > 0
    if down.any():
        panel.fill_between(instants / scale, 0, 1, where=down, step="post", color=OUTAGE_COLOUR,
                           alpha=0.35, linewidth=0, transform=panel.get_xaxis_transform(),
                           gid="queue/outage")
