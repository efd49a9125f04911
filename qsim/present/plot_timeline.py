"""The timeline's geometry and row painters (used by ``qsim.plots.timeline_from_tables``).

Geometry: pure functions of the run's tables that only the picture needs (lanes, phases,
ITTL tails, occupancy); the idle gaps are the analysis' (``accounting.idle_gap_arrays``), the
same the summary sums. Painters: each draws one kind of thing onto a :class:`Canvas` as one
collection per workload and phase, never one patch per job, so 100 000 jobs stay quick.

Rows (y grows downwards): one per batch or session, then the QPU, then one per lane. Every
artist carries a ``gid`` so tests can find what was drawn: ``jobs/<workload>/<phase>``,
``jobs/wait``, ``qpu/<workload>``, ``window/<workload>`` (the band behind all rows),
``context/<workload>``, ``ittl``, ``inactive``, ``mark/<change>``, ``idle``, ``calibration``,
``calibration/deferred``, ``outage``, ``end/<status>``, ``occupancy/...``.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qsim.analysis.accounting import GAP_EPS_S
from qsim.input.text import NAME_LIMIT, shown
from qsim.present.timeline_tables import CHANGES, STATUSES, Columns, take

if TYPE_CHECKING:
    import pandas as pd

# A table the geometry reads by column name: a DataFrame (the public functions' callers) or
# numpy columns (``timeline_tables``). No pandas here: ``qsim run --out`` never imports it.
Table = Union["pd.DataFrame", Mapping[str, np.ndarray]]

MAX_BARS = 2000  # beyond this many visible jobs, bars turn to mush: draw occupancy instead
MAX_MARKED_WINDOWS = 150  # beyond this many windows in a row, markers and edges smear
BINS = 500  # occupancy bins across the view: fine enough to see change, coarse enough
# that counting noise does not turn each band into grass
PHASES = ("compile", "wait", "quantum", "post")
# A hatch on a bar narrower than this share of the view (about 3 pixels) cannot be seen, yet
# Agg draws it: 1,400 hatched calibrations of a 58-day view took 0.8 s to render.
HATCH_MIN_SHARE = 1 / 500
IDLE_COLOUR, CAL_COLOUR, WAIT_COLOUR = "#e06666", "#4d4d4d", "#9e9e9e"
OUTAGE_COLOUR = "#b0b0b0"
IDLE_STYLE: dict[str, Any] = {"facecolor": "white", "edgecolor": IDLE_COLOUR, "hatch": "xx"}
IDLE_LABEL, WAIT_LABEL = "reserved, QPU idle", "lane held, waiting for the QPU"
_UNITS = (("s", 1.0, 300.0), ("min", 60.0, 3 * 3600.0), ("h", 3600.0, 3 * 86400.0),
          ("d", 86400.0, np.inf))
MAX_LANE_ROWS = 40  # lanes drawn; jobs on lanes past them are counted in a note, not drawn
MAX_ROWS_TALL = 60  # the picture grows with its rows up to this many, then rows get thinner


def label(text: object, limit: int = NAME_LIMIT) -> str:
    """User text (a name, a value) as a picture shows it: escaped and shortened as the
    terminal shows it (a 10,000-character name would make a picture 260,000 pixels wide),
    with ``$`` escaped (matplotlib reads ``$...$`` as a formula, and a bad one fails the
    whole picture), and every character the picture's font has no glyph for (CJK, emoji
    with the default DejaVu Sans) written as its escape: a box, and a warning on stderr per
    glyph, would say nothing."""
    glyphs = _glyphs()
    drawable = "".join(c if ord(c) in glyphs or c.isspace() else
                       c.encode("unicode_escape").decode("ascii") for c in str(text))
    return shown(drawable, limit).replace("$", r"\$")


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """The code points the default sans-serif font draws (read once)."""
    from matplotlib import font_manager, ft2font

    path = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    return frozenset(ft2font.FT2Font(path).get_charmap())


# ---------------------------------------------------------------------------------------------
# Geometry


def time_unit(span_s: float) -> tuple[str, float]:
    """The unit a span of ``span_s`` seconds reads best in, and its length in seconds."""
    return next((name, scale) for name, scale, limit in _UNITS if span_s <= limit)


def assign_lanes(jobs: Table) -> np.ndarray:
    """Lane (0-based) each job held, from dispatch to its end; -1 if never dispatched.

    Greedy interval colouring in (dispatch_at, job) order, taking the lowest-numbered free
    lane; a lane freed at t is free for a job dispatched at t (ends come first, SPEC §10).
    """
    start = np.asarray(jobs["dispatch_at"], float)
    end = np.nan_to_num(np.asarray(jobs["end_at"], float), nan=np.inf)  # running: holds it
    lane = np.full(len(start), -1, dtype=np.int64)
    order = np.lexsort((np.asarray(jobs["job"]), start))
    order = order[~np.isnan(start[order])]
    starts, ends = start[order], np.maximum(end[order], start[order])
    # A million jobs go through the loop: it reads them through memoryviews (one Python
    # float at a time, not two lists of a million made first) and writes the lanes into an
    # array numpy takes as it is (not a list to convert): 0.21 s -> 0.13 s at 910,404 jobs.
    taken = _lanes_by_scan(memoryview(starts), memoryview(ends))
    lane[order] = (np.frombuffer(taken, np.int64) if taken is not None
                   else _lanes_by_heap(starts.tolist(), ends.tolist()))
    return lane


SCAN_LANES = 16  # up to this many lanes, a scan of their ends beats a heap of them


def _lanes_by_scan(starts: Iterable[float], ends: Iterable[float]) -> array[int] | None:
    """The greedy colouring by looking at each lane's end in turn (a third faster than the
    heap at five lanes); None once more than ``SCAN_LANES`` lanes are in use at a time, as
    the scan grows with the lanes."""
    # When each lane is next free; -inf: not used yet. The lanes in use come first, so the
    # first free one found is the lowest free lane, or the next new one.
    until = [-math.inf] * (SCAN_LANES + 1)
    taken = array("q")
    take = taken.append
    for s, e in zip(starts, ends):
        k = 0
        for u in until:
            if u <= s:
                break
            k += 1
        if k == SCAN_LANES:
            return None
        until[k] = e
        take(k)
    return taken


def _lanes_by_heap(starts: list[float], ends: list[float]) -> list[int]:
    """The same colouring with a heap of busy lanes and one of free lanes: any number of
    lanes at O(log lanes) a job."""
    push, pop = heapq.heappush, heapq.heappop
    free: list[int] = []
    busy: list[tuple[float, int]] = []
    taken: list[int] = []
    take = taken.append
    for s, e in zip(starts, ends):
        while busy and busy[0][0] <= s:
            push(free, pop(busy)[1])
        k = pop(free) if free else len(busy)
        take(k)
        push(busy, (e, k))
    return taken


def phase_spans(jobs: Table, open_end: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(start, end) of each phase per job; NaN start where a job never reached the phase.

    A phase whose end was not recorded lasts until the job's end (a failure ends a job at
    once), and a job with no end yet lasts until ``open_end``.
    """
    def col(name: str) -> np.ndarray:
        return np.asarray(jobs[name], float)

    end = np.where(np.isnan(col("end_at")), open_end, col("end_at"))
    ready, q0, q1 = col("compile_end_at"), col("quantum_start_at"), col("quantum_end_at")

    def until(t: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(t), end, t)

    return {"compile": (col("dispatch_at"), until(ready)), "wait": (ready, until(q0)),
            "quantum": (q0, until(q1)), "post": (q1, end)}


def ittl_tails(windows: Table, jobs: Table) -> tuple[np.ndarray, np.ndarray]:
    """The part of each window after the last end of its context's jobs inside it: the
    interactive TTL that ran out (or the whole window if no job ended in it)."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    context = np.asarray(windows["context"])
    start, end = np.asarray(windows["start_at"], float), np.asarray(windows["end_at"], float)
    job_context, job_end = np.asarray(jobs["context"]), np.asarray(jobs["end_at"], float)
    for ctx in dict.fromkeys(context.tolist()):  # each context in order of its first window
        if ctx != ctx:  # a missing context (NaN): no context's window
            continue
        ends = np.sort(job_end[(job_context == ctx) & ~np.isnan(job_end)])
        mine = context == ctx
        w0, w1 = start[mine], end[mine]
        idx = np.searchsorted(ends, w1, side="right") - 1
        last = ends[np.maximum(idx, 0)] if len(ends) else np.full(len(w1), -np.inf)
        last = np.maximum(np.where(idx >= 0, last, -np.inf), w0)
        keep = w1 - last > GAP_EPS_S
        out.append((last[keep], w1[keep]))
    return _concat(out)


def occupancy(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of each bin ``[edges[k], edges[k+1])`` (evenly spaced) covered by intervals
    ``[a, b)``, summed over intervals: O(n + bins), through the running integral of the
    overlap count at the edges. Sorting the intervals, as before, cost a third of a second
    on a million jobs."""
    return np.asarray(occupancies(a, b, np.zeros(len(a), np.int64), 1, edges)[0])


def occupancies(a: np.ndarray, b: np.ndarray, group: np.ndarray, groups: int,
                edges: np.ndarray) -> np.ndarray:
    """``occupancy`` of each group's intervals (``group``: 0 to ``groups - 1``), one row per
    group, in one pass over all the intervals: a hundred lane-workload-phase bands, each
    picked out and binned on its own, took 0.4 s at a million jobs. Each bin still adds its
    own intervals in their order, so every row is the float ``occupancy`` gives that group."""
    n = len(edges)

    def below(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # how many of x lie below each edge, and their sum: x < edges[k] iff k >= at(x)
        at = _edges_at_or_below(x, edges) + group * (n + 1)
        count = np.bincount(at, minlength=groups * (n + 1)).reshape(groups, n + 1)
        total = np.bincount(at, weights=x, minlength=groups * (n + 1)).reshape(groups, n + 1)
        return np.cumsum(count, axis=1)[:, :n], np.cumsum(total, axis=1)[:, :n]

    (ka, sa), (kb, sb) = below(a), below(b)
    integral = (ka * edges - sa) - (kb * edges - sb)  # sum_i |[a_i, b_i] ∩ (-inf, edge]|
    return np.asarray(np.diff(integral, axis=1) / np.diff(edges))


def shares(a: np.ndarray, b: np.ndarray, group: np.ndarray, groups: int,
           edges: np.ndarray) -> np.ndarray:
    """``occupancies`` of the intervals that have both ends (a missing end is NaN) and a
    group (-1: none); an interval ending before it starts counts as empty."""
    keep = ~np.isnan(a) & ~np.isnan(b) & (group >= 0)
    return occupancies(a[keep], np.maximum(a[keep], b[keep]), group[keep], groups, edges)


def _edges_at_or_below(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, x, side="right")`` for evenly spaced edges, by arithmetic
    (twenty times faster than a binary search), then made exact at the edges themselves."""
    n = len(edges)
    width = (edges[-1] - edges[0]) / (n - 1)
    guess = x - edges[0]  # the same steps as floor((x - edges[0]) / width) + 1, in place
    guess /= width
    np.floor(guess, out=guess)
    guess += 1
    np.clip(guess, 0, n, out=guess)
    at = guess.astype(np.int64)
    # The edge above and below each guess, NaN past the ends (no comparison with NaN holds):
    # no clamping of the index, no test of the ends (a third of the time, at a million jobs).
    above, below = np.append(edges, np.nan), np.insert(edges, 0, np.nan)
    at += x >= above[at]  # rounding put it one too low
    at -= x < below[at]  # or one too high
    return np.asarray(at)


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0), np.empty(0)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# ---------------------------------------------------------------------------------------------
# Painters


def shade(colour: str, phase: str) -> tuple[float, float, float]:
    """A workload's colour per phase: compile light, quantum full, post dark."""
    rgb = np.array(to_rgb(colour))
    mixed = {"compile": rgb + (1 - rgb) * 0.55, "post": rgb * 0.6}.get(phase, rgb)
    return tuple(float(v) for v in mixed)  # type: ignore[return-value]


@dataclass
class Canvas:
    """The axes plus the view (seconds) and the axis unit; collects legend entries."""

    ax: Axes
    start: float
    end: float
    scale: float
    legend: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said on the figure, top right
    edge: float = 0.4  # white line between adjacent bars; 0 when bars are a few pixels wide

    @property
    def edges(self) -> np.ndarray:
        """Bin edges (seconds) for occupancy bands."""
        return np.linspace(self.start, self.end, BINS + 1)

    def bars(self, x0: np.ndarray, x1: np.ndarray, y: float | np.ndarray, height: float,
             gid: str, **style: object) -> PolyCollection | None:
        """One collection of rectangles: [x0, x1] clipped to the view, centred on row(s) y.
        Built straight from arrays: ``broken_barh`` loops in Python, one row at a time."""
        x0, x1 = np.asarray(x0, float), np.asarray(x1, float)
        keep = (x1 > x0) & (x1 > self.start) & (x0 < self.end)  # NaN compares false
        if not keep.any():
            return None
        left = np.clip(x0[keep], self.start, self.end) / self.scale
        right = np.clip(x1[keep], self.start, self.end) / self.scale
        mid = np.broadcast_to(np.asarray(y, float), x0.shape)[keep]
        low, high = mid - height / 2, mid + height / 2
        verts = np.empty((len(left), 4, 2))
        verts[:, :, 0] = np.stack([left, left, right, right], axis=1)
        verts[:, :, 1] = np.stack([low, high, high, low], axis=1)
        if style.get("hatch"):
            # Bars too narrow to show a hatch go in a second collection, without one.
            narrow = right - left < HATCH_MIN_SHARE * (self.end - self.start) / self.scale
            if narrow.any():
                unhatched: dict[str, Any] = {**style, "hatch": None}
                plain = PolyCollection(verts[narrow], gid=gid, **unhatched)
                self.ax.add_collection(plain, autolim=False)
                if narrow.all():
                    return plain
                verts = verts[~narrow]
        col = PolyCollection(verts, gid=gid, **style)  # type: ignore[arg-type]
        self.ax.add_collection(col, autolim=False)
        return col

    def note(self, label: str, handle: object) -> None:
        self.legend.setdefault(label, handle)


def draw_windows(cv: Canvas, jobs: Columns, windows: Columns, contexts: Columns | None,
                 ctx_rows: list[tuple[int, str]], colours: dict[str, str], n_rows: int) -> None:
    """Active windows: a faint band behind every row, and each context's own row."""
    for y, (ctx, name) in enumerate(ctx_rows):
        rows = np.flatnonzero(windows["context"] == ctx)
        own = take(windows, rows[np.argsort(windows["start_at"][rows], kind="stable")])
        w0, w1 = own["start_at"], own["end_at"]
        colour = colours.get(name, "C7")
        cv.note("active window (QPU reserved)", Patch(facecolor="#dddddd", edgecolor="#777777"))
        shown = int(((w1 > cv.start) & (w0 < cv.end)).sum())
        if shown > MAX_MARKED_WINDOWS:  # sub-pixel windows flicker and markers smear: show
            _stack(cv, y, [(f"context/{name}", {"facecolor": shade(colour, "compile")},
                            band_share(w0, w1, cv.edges))])
            cv.notes.append(f"{label(name)}: {shown:,} windows, drawn as share of time active")
        else:
            cv.bars(w0, w1, (n_rows - 1) / 2, n_rows, f"window/{name}", facecolor=colour,
                    alpha=0.10, linewidth=0, zorder=0)
            _draw_context(cv, y, ctx, name, own, jobs, contexts, colour)


def _draw_context(cv: Canvas, y: float, ctx: int, name: str, own: Columns, jobs: Columns,
                  contexts: Columns | None, colour: str) -> None:
    """One context's row: windows, ITTL tails hatched, inactive spells dashed, changes marked."""
    w0, w1 = own["start_at"], own["end_at"]
    cv.bars(w0, w1, y, 0.6, f"context/{name}", facecolor=shade(colour, "compile"),
            edgecolor=colour, linewidth=0.8, zorder=2)
    tails0, tails1 = ittl_tails(own, jobs)
    if cv.bars(tails0, tails1, y, 0.6, "ittl", facecolor="none",
               edgecolor=colour, hatch="////", linewidth=0, zorder=3) is not None:
        cv.note("ITTL tail (no job left)", Patch(facecolor="white", edgecolor="#777777",
                                                 hatch="////"))
    if cv.bars(w1[:-1], w0[1:], y, 0.0, "inactive", edgecolor="#777777", linewidth=1.0,
               linestyle=(0, (3, 2)), zorder=2) is not None:
        cv.note("inactive (paused)", Line2D([], [], color="#777777", linestyle=(0, (3, 2))))
    _draw_state_marks(cv, y, ctx, w0, w1, contexts)


def _draw_state_marks(cv: Canvas, y: float, ctx: int, w0: np.ndarray, w1: np.ndarray,
                      contexts: Columns | None) -> None:
    if contexts is not None:
        own = contexts["context"] == ctx
        deact = contexts["at"][own & (contexts["change"] == CHANGES.index("deactivate"))]
        closed = contexts["at"][own & (contexts["change"] == CHANGES.index("close"))]
    else:
        deact, closed = w1[:-1], np.empty(0)
    marks = (("deactivated (ITTL expired)", deact, y - 0.3, "v"),
             ("re-activated", w0[1:], y + 0.3, "^"), ("closed", closed, y, "s"))
    for label, at, ypos, marker in marks:
        at = at[(at >= cv.start) & (at <= cv.end)]
        if len(at):
            cv.ax.plot(at / cv.scale, np.full(len(at), ypos), linestyle="none", marker=marker,
                       markersize=5, color="black", gid=f"mark/{label.split()[0]}", zorder=4,
                       clip_on=False)  # a change at the view's edge is still a change
            cv.note(label, Line2D([], [], linestyle="none", marker=marker, color="black"))


def draw_idle(cv: Canvas, gaps: tuple[np.ndarray, np.ndarray], qpu_y: float) -> None:
    g0, g1 = gaps
    # Same height as the QPU bars and beneath them: others' jobs that run in a batch's window
    # cover it, so what shows is the QPU reserved and doing nothing.
    if cv.bars(g0, g1, qpu_y, 0.7, "idle", linewidth=0, zorder=1, **IDLE_STYLE) is not None:
        cv.note(IDLE_LABEL, Patch(**IDLE_STYLE))


def draw_job_bars(cv: Canvas, jobs: Columns, lane: np.ndarray, visible: np.ndarray,
                  spans: dict[str, tuple[np.ndarray, np.ndarray]], colours: dict[str, str],
                  qpu_y: float) -> None:
    """One collection per workload and phase; the wait for the QPU as a thin grey bar.
    ``jobs["workload"]``: codes of the workloads in ``colours``' order."""
    y = qpu_y + 1 + lane
    for code, (name, colour) in enumerate(colours.items()):
        own = visible & (jobs["workload"] == code)
        for phase in ("compile", "quantum", "post"):
            a, b = spans[phase]
            cv.bars(a[own], b[own], y[own], 0.7, f"jobs/{name}/{phase}",
                    facecolor=shade(colour, phase), edgecolor="white", linewidth=cv.edge,
                    zorder=3)
    a, b = spans["wait"]
    if cv.bars(a[visible], b[visible], y[visible], 0.12, "jobs/wait", facecolor=WAIT_COLOUR,
               zorder=2) is not None:
        cv.note(WAIT_LABEL, Patch(facecolor=WAIT_COLOUR))
    _draw_ends(cv, jobs, y, visible)


def _draw_ends(cv: Canvas, jobs: Columns, y: np.ndarray, visible: np.ndarray) -> None:
    end, status = jobs["end_at"], jobs["status"]
    for label, marker, colour in (("failed", "x", "#b00000"), ("cancelled", "x", "#555555"),
                                  ("incomplete", ">", "black")):
        mark = visible & (status == STATUSES.index(label)) & (end >= cv.start) & (end <= cv.end)
        if mark.any():
            cv.ax.plot(end[mark] / cv.scale, y[mark], linestyle="none", marker=marker,
                       color=colour, markersize=6, gid=f"end/{label}", zorder=5)
            cv.note(f"job {label}", Line2D([], [], linestyle="none", marker=marker, color=colour))


def draw_qpu_bars(cv: Canvas, intervals: Columns, colours: dict[str, str],
                  qpu_y: float) -> None:
    for code, (name, colour) in enumerate(colours.items()):
        own = intervals["held"] & (intervals["workload"] == code)
        cv.bars(intervals["start_at"][own], intervals["end_at"][own], qpu_y, 0.7,
                f"qpu/{name}", facecolor=colour, edgecolor="white", linewidth=cv.edge, zorder=3)


def draw_occupancy(cv: Canvas, jobs: Columns, intervals: Columns,
                   gaps: tuple[np.ndarray, np.ndarray], lane: np.ndarray,
                   spans: dict[str, tuple[np.ndarray, np.ndarray]], colours: dict[str, str],
                   qpu_y: int, n_rows: int) -> None:
    """Each lane row and the QPU row become stacked bands: the share of each bin that a
    workload's phase held the lane, or a workload (or reserved idleness) the QPU."""
    cv.note(WAIT_LABEL, Patch(facecolor=WAIT_COLOUR))
    names = list(colours)
    lane_rows = n_rows - qpu_y - 1
    code = jobs["workload"]
    # one group per (lane, workload): each phase's bands for every lane row at once
    group = np.where((lane >= 0) & (lane < lane_rows) & (code >= 0),
                     lane * len(names) + code, -1)
    share = {p: shares(*spans[p], group, lane_rows * len(names), cv.edges) for p in PHASES}
    for k in range(lane_rows):
        bands = [(f"occupancy/{n}/{p}", {"facecolor": shade(c, p) if p != "wait" else WAIT_COLOUR},
                  share[p][k * len(names) + j])
                 for j, (n, c) in enumerate(colours.items()) for p in PHASES]
        _stack(cv, qpu_y + 1 + k, bands)
    held = intervals["held"]
    on_qpu = shares(intervals["start_at"][held], intervals["end_at"][held],
                    intervals["workload"][held], len(names), cv.edges)
    bands = [(f"occupancy/qpu/{n}", {"facecolor": c}, on_qpu[j])
             for j, (n, c) in enumerate(colours.items())]
    idle = band_share(*gaps, cv.edges)
    # Others' jobs in a batch's window count as that batch's idle time: cap the stack at full.
    if _stack(cv, qpu_y, [*bands, ("occupancy/idle", IDLE_STYLE, idle)], cap=True):
        cv.note(IDLE_LABEL, Patch(**IDLE_STYLE))


def band_share(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``shares`` of one band's intervals."""
    return np.asarray(shares(a, b, np.zeros(len(a), np.int64), 1, edges)[0])


def _stack(cv: Canvas, y: float, bands: list[Any], cap: bool = False) -> bool:
    """Stack each band's occupancy (``shares``) upwards from the bottom of row ``y`` (one
    polygon per band); return whether the last band showed."""
    base = np.full(len(cv.edges) - 1, y + 0.35)  # rows grow downwards: y + 0.35 is the bottom
    shown = False
    for gid, style, occupied in bands:
        share = occupied * 0.7
        if cap:
            share = np.minimum(share, base - (y - 0.35))
        shown = bool(share.max(initial=0) > 0)
        if shown:
            band = PolyCollection([_steps(cv.edges / cv.scale, base, base - share)], gid=gid,
                                  linewidth=0, zorder=3, **style)
            cv.ax.add_collection(band, autolim=False)  # stairs() costs seconds in autoscale
            base = base - share
    return shown


def _steps(edges: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The outline of a band between two step functions over ``edges`` (one polygon)."""
    x = np.repeat(edges, 2)[1:-1]
    top = np.column_stack([x, np.repeat(high, 2)])
    bottom = np.column_stack([x[::-1], np.repeat(low, 2)[::-1]])
    return np.vstack([top, bottom])


def draw_outages(cv: Canvas, outages: Mapping[str, np.ndarray], n_rows: int) -> None:
    """Outages (SPEC §16) as grey bands over every row: nothing starts inside one."""
    if cv.bars(outages["start_at"], outages["end_at"], (n_rows - 1) / 2, n_rows, "outage",
               facecolor=OUTAGE_COLOUR, alpha=0.35, edgecolor="none", zorder=0.5):
        cv.note("outage", Patch(facecolor=OUTAGE_COLOUR, alpha=0.35))


def draw_calibrations(cv: Canvas, calibrations: Table, qpu_y: float) -> None:
    a = np.asarray(calibrations["start_at"], float)
    b = np.asarray(calibrations["end_at"], float)
    if cv.bars(a, b, qpu_y, 0.7, "calibration", facecolor=CAL_COLOUR, edgecolor="white",
               hatch="..", linewidth=0.4, zorder=4) is not None:
        cv.note("calibration", Patch(facecolor=CAL_COLOUR, edgecolor="white", hatch=".."))
    if "due_at" in calibrations:
        due = np.asarray(calibrations["due_at"], float)
        if cv.bars(due, a, qpu_y + 0.42, 0.0, "calibration/deferred", edgecolor=CAL_COLOUR,
                   linewidth=1.2, zorder=4) is not None:
            cv.note("calibration deferred (due → start)", Line2D([], [], color=CAL_COLOUR))
