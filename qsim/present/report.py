"""Terminal rendering (rich): the run summary, replications, mode comparisons, progress.

Everything here reads the plain summary dicts (SPEC §7, or their replicated form where each
figure is ``{"mean": m, "ci95": [low, high]}``), so what is shown is exactly what ``--json``
prints. No simulation logic lives here.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from qsim.input.text import shown
from qsim.input.units import format_duration

if TYPE_CHECKING:
    from qsim.experiments.comparison import Comparison, Verdict

__all__ = ["DelayedProgress", "console", "print_comparison", "print_summary", "shown",
           "verdict_line"]

Summary = Mapping[str, Any]
Figure = Any  # a float, or {"mean": float, "ci95": [low, high] | None}

# Wider than rich's 80-column default for pipes, so that a report saved to a file does not
# wrap cells that a terminal window would show whole.
MIN_WIDTH: Final = 100


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that never interprets names as markup by accident."""
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and out.width < MIN_WIDTH:
        out = Console(stderr=stderr, highlight=False, width=MIN_WIDTH)
    return out


# ---------------------------------------------------------------------------------------------
# Cells


def _mean(x: Figure) -> float:
    return float(x["mean"]) if isinstance(x, dict) else float(x)


def _half_width(x: Figure) -> float | None:
    """The interval's half-width; None when there is none or it is only float noise (a
    figure every replication agrees on, summed in a different order)."""
    if not (isinstance(x, dict) and x.get("ci95")):
        return None
    low, high = x["ci95"]
    half = (high - low) / 2
    return half if half > 1e-9 * max(1.0, abs(x["mean"])) else None


# Whether cells also show the spread of the replications, p10–p90 (``--percentiles``). A
# context variable rather than a parameter of every cell: it is set for one report at a time.
SHOW_SPREAD: ContextVar[bool] = ContextVar("SHOW_SPREAD", default=False)
# Whether cells show the mean alone (a comparison too wide for the terminal with intervals).
MEANS_ONLY: ContextVar[bool] = ContextVar("MEANS_ONLY", default=False)


@contextmanager
def _spread(shown_: bool) -> Iterator[None]:
    """Cells show the replications' spread (or not) while the block runs."""
    token = SHOW_SPREAD.set(shown_)
    try:
        yield
    finally:
        SHOW_SPREAD.reset(token)


@contextmanager
def _means_only() -> Iterator[None]:
    token = MEANS_ONLY.set(True)
    try:
        yield
    finally:
        MEANS_ONLY.reset(token)


def _with_interval(x: Figure, fmt: Callable[[float], str]) -> str:
    """``fmt(mean)``, and ``± fmt(half-width)`` when ``x`` is an estimate that varies; with
    ``SHOW_SPREAD``, also the replications' 10th to 90th percentile."""
    if x is None:
        return "-"
    half = None if MEANS_ONLY.get() else _half_width(x)
    text = fmt(_mean(x))
    if half is not None:
        text = f"{text} ± {fmt(half)}"
    if SHOW_SPREAD.get() and isinstance(x, dict) and "p10" in x and \
            x["p90"] - x["p10"] > 1e-9 * max(1.0, abs(x["mean"])):
        text += f"\n[{fmt(x['p10'])}–{fmt(x['p90'])}]"  # a line of its own: no wider cells
    return text


def _seconds(value: float) -> str:
    # Differences of sums leave float dust (1e-13 s) where the answer is zero.
    return format_duration(0.0 if abs(value) < 1e-9 else value)


def duration(x: Figure) -> str:
    return _with_interval(x, _seconds)


def money(x: Figure) -> str:
    return _with_interval(x, _dollars)


def _dollars(value: float) -> str:
    # A difference of equal sums leaves float dust (-1e-12): that is no money at all.
    return f"-${-value:,.2f}" if value <= -0.005 else f"${max(value, 0.0):,.2f}"


def percent(x: Figure) -> str:
    return _with_interval(x, lambda v: f"{100 * v:.1f}%")


def count(x: Figure) -> str:
    """A count; a count averaged over replications says so (``90.95 avg``) unless every
    replication had the same."""
    value = _mean(x)
    text = f"{value:.0f}" if value == round(value) else f"{value:.2f}".rstrip("0")
    return f"{text} avg" if _varies(x) else text


def _varies(x: Figure) -> bool:
    return isinstance(x, dict) and x.get("p10") is not None and x["p10"] != x["p90"]


def jobs_cell(jobs: dict[str, Figure]) -> str:
    """``done/submitted done``, then any other outcome that happened: ``, 3 failed``; over
    replications that differ, ``done 29.5 of 29.6 on average``."""
    plain = {k: _plain_count(v) for k, v in jobs.items()}
    if any(_varies(v) for v in jobs.values()):
        text = f"done {plain['done']} of {plain['submitted']} on average"
    else:
        text = f"{plain['done']}/{plain['submitted']} done"
    for status in ("failed", "cancelled", "incomplete"):
        if _mean(jobs[status]) > 0:
            text += f", {plain[status]} {status}"
    return text


def _plain_count(x: Figure) -> str:
    value = _mean(x)
    return f"{value:.0f}" if value == round(value) else f"{value:.2f}".rstrip("0")


# ---------------------------------------------------------------------------------------------
# The run summary


def _heading(s: Summary) -> Text:
    text = Text()
    text.append(shown(str(s["scenario"]), 80), style="bold")
    text.append(f"  seed {s['seed']} · qsim {s['qsim_version']} · simulated {duration(s['end_s'])}")
    if "replications" in s:
        text.append(f" · {s['replications']} replications (mean ± 95% CI)")
    return text


def workload_table(s: Summary) -> Table:
    """Figures as rows, one column per workload: it reads best for a few workloads."""
    table = Table(title="Workloads", title_justify="left", title_style="bold")
    table.add_column("", no_wrap=True)
    for w in s["workloads"]:
        table.add_column(Text(shown(w["name"])), justify="right", no_wrap=True)
    for label, cell in _WORKLOAD_ROWS:
        table.add_row(label, *(cell(w) for w in s["workloads"]))
    if "backends" in s:  # SPEC §18: where each one ran
        table.add_row("backend", *(shown(str(w.get("backend", ""))) for w in s["workloads"]))
    return table


Column = tuple[str, Callable[[Summary], str], int]  # label, cell, the order it is left out


def workload_rows_table(s: Summary, width: int = 10_000) -> Table:
    """One line per workload with its key figures: for many workloads, or a narrow terminal
    (``--json`` has every figure)."""
    means = " (means)" if "replications" in s else ""
    return fitted_rows_table(f"Workloads{means}", s["workloads"], list(_COMPACT_COLUMNS),
                             width)


def fitted_rows_table(title: str, entries: Sequence[Summary], columns: list[Column],
                      width: int) -> Table:
    """One line per entry; columns are left out, least telling first (the highest third
    field), until the table fits ``width``. The first ``_ALWAYS_SHOWN`` always stay."""
    columns = list(columns)
    while True:
        table = Table(title=title or None, title_justify="left", title_style="bold")
        for label, _, _ in columns:
            table.add_column(label, justify="left" if label in ("workload", "mode", "backend") else
                             "right", no_wrap=True)
        for entry in entries:
            table.add_row(*(cell(entry) for _, cell, _ in columns))
        if len(columns) <= _ALWAYS_SHOWN or _natural_width(table) <= width:
            return table
        columns.pop(max(range(_ALWAYS_SHOWN, len(columns)), key=lambda i: columns[i][2]))


def _natural_width(table: Table) -> int:
    """The width the table takes with room to spare (a console's own measure stops at its
    width)."""
    wide = Console(width=100_000, file=io.StringIO())
    return wide.measure(table).maximum


def _in_windows(cell: Callable[[Summary], str]) -> Callable[[Summary], str]:
    """Idle figures only mean something inside active windows; job mode has none."""
    return lambda w: cell(w) if _mean(w["windows"]) > 0 else "-"


# (label, cell) for each row of the workload table, in reading order: what ran, what it cost,
# how long it took, and where the time went.
_WORKLOAD_ROWS: Final[tuple[tuple[str, Callable[[Summary], str]], ...]] = (
    ("kind", lambda w: w["kind"]),
    ("mode", lambda w: w["mode"]),
    ("instance (share)", lambda w: f"{shown(str(w['instance']))} ({_mean(w['share']):g})"),
    ("jobs", lambda w: jobs_cell(w["jobs"])),
    ("usage (billed)", lambda w: duration(w["usage_s"])),
    ("cost", lambda w: money(w["cost_usd"])),
    ("quantum time", lambda w: duration(w["quantum_s"])),
    ("wall time", lambda w: duration(w["wall_time_s"])),
    ("queue wait, total", lambda w: duration(w["queue_wait_s"])),
    ("queue wait, 1st job", lambda w: duration(w["first_queue_wait_s"])),
    ("wait for the QPU", lambda w: duration(w.get("qpu_wait_s"))),
    ("until 1st quantum", lambda w: duration(w.get("first_qpu_start_s"))),
    ("complete", lambda w: _complete_cell(w)),
    ("active windows", lambda w: count(w["windows"])),
    ("idle in windows", _in_windows(lambda w: duration(w["idle_s"]))),
    ("idle gaps", _in_windows(lambda w: count(w["idle_gaps"]))),
    ("longest idle gap", _in_windows(lambda w: duration(w["longest_idle_gap_s"]))),
    ("others' QPU in windows", _in_windows(lambda w: duration(w.get("others_in_windows_s")))),
)


def _complete_cell(w: Summary) -> str:
    if w.get("planned_jobs") is None:
        return "-"  # an open stream has no plan to finish
    return "yes" if w.get("complete", True) else f"no, {_progress(w)}"


def _progress(w: Summary) -> str:
    """How much of its work an incomplete workload did: ``48/100 done (max_time)``; a mean
    over replications says so."""
    done, planned = _plain_count(w["jobs"]["done"]), w.get("planned_jobs")
    text = f"{done}/{_plain_count(planned)} done" if planned is not None else f"{done} done"
    if isinstance(w["jobs"]["done"], dict):
        text += " on average"
    stopped = w.get("stopped_by")
    return f"{text} ({_STOPPED.get(stopped, stopped)})" if stopped else text


# What stopped a workload, and what to change, where the summary's word alone would not say.
_STOPPED: Final = {"max_time": "stopped by its max_time: raise mode.max_time to let it finish",
                   "cancel_at": "stopped by its cancel_at"}


# The columns of the one-line-per-workload table: what ran, what it cost, how long it took;
# the number says which go first when the terminal is narrow (the highest first).
_COMPACT_COLUMNS: Final[tuple[Column, ...]] = (
    ("workload", lambda w: shown(w["name"], 24), 0),
    ("mode", lambda w: w["mode"], 0),
    ("cost", lambda w: money(_mean_of(w["cost_usd"])), 0),
    ("wall time", lambda w: duration(_mean_of(w["wall_time_s"])), 1),
    ("jobs done", lambda w: f"{_plain_count(w['jobs']['done'])}/"
                            f"{_plain_count(w['jobs']['submitted'])}", 3),
    ("usage", lambda w: duration(_mean_of(w["usage_s"])), 4),
    ("1st quantum", lambda w: duration(_mean_of(w.get("first_qpu_start_s"))), 5),
    ("complete", lambda w: _complete_cell(w).split(",")[0], 2),
)
_ALWAYS_SHOWN: Final = 3  # workload, mode and cost stay whatever the width


def _mean_of(x: Figure) -> float | None:
    """The mean alone: one line per workload has no room for intervals (``--json`` has)."""
    return None if x is None else _mean(x)


def backends_table(s: Summary, width: int = 10_000) -> Table:
    """Several backends (SPEC §18): a row per backend, columns left out, least telling
    first, until it fits ``width``."""
    columns: list[Column] = [
        ("backend", lambda b: shown(str(b["name"])), 0),
        ("busy", lambda b: duration(b["qpu_busy_s"]), 0),
        ("utilisation", lambda b: percent(b["utilization"]), 0),
        ("reserved idle", lambda b: duration(b["qpu_reserved_idle_s"]), 3),
        ("free", lambda b: duration(b["qpu_free_s"]), 2),
        ("calibrations", lambda b: f"{count(b.get('calibrations', 0))} "
                                   f"({duration(b.get('qpu_calibration_s', 0))})", 4),
        ("calibrations deferred", lambda b: f"{duration(b.get('calibration_deferred_s', 0))} "
         f"(max {duration(b.get('calibration_max_deferred_s', 0))})", 5),
    ]
    if any(_mean(b.get("outages", 0)) for b in s["backends"]):
        columns.append(("outages", lambda b: f"{count(b['outages'])} "
                                             f"({duration(b['outage_s'])})", 1))
    return fitted_rows_table("Backends (QPUs)", s["backends"], columns, width)


def backend_table(s: Summary, width: int = 10_000) -> Table:
    """The QPU's figures in one row, or one per line when that row would not fit ``width``;
    several backends: a row each (``backends_table``)."""
    if "backends" in s:
        return backends_table(s, width)
    b = s["backend"]
    cells = {
        "busy": duration(b["qpu_busy_s"]),
        "reserved idle": duration(b["qpu_reserved_idle_s"]),
        "free": duration(b["qpu_free_s"]),
        "utilisation": percent(b["utilization"]),
        "calibrations": f"{count(b.get('calibrations', 0))} "
                        f"({duration(b.get('qpu_calibration_s', 0))})",
        "calibrations deferred": f"{duration(b.get('calibration_deferred_s', 0))} "
                                 f"(max {duration(b.get('calibration_max_deferred_s', 0))})",
    }
    if _mean(b.get("outages", 0)):  # SPEC §16: shown only where the backend had any
        cells["outages"] = f"{count(b['outages'])} ({duration(b['outage_s'])})"
    table = Table(title="Backend (QPU)", title_justify="left", title_style="bold")
    for name in cells:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row(*cells.values())
    if _natural_width(table) <= width:
        return table
    table = Table(title="Backend (QPU)", title_justify="left", title_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    for name, cell in cells.items():
        table.add_row(name, cell)
    return table


def instance_table(s: Summary) -> Table:
    """The declared instances (SPEC §12): usage against the allocation; with replications, the
    share of them that went over it."""
    replicated = "replications" in s
    table = Table(title="Instances", title_justify="left", title_style="bold")
    columns = ["instance", "share", "used before", "usage", "allocation", "remaining"]
    for name in columns + (["over allocation"] if replicated else []):
        table.add_column(name, justify="left" if name == "instance" else "right")
    for i in s["instances"]:
        cells = [shown(i["name"]), f"{_mean(i['share']):g}", duration(i["used_s"]),
                 duration(i["usage_s"]), duration(i["allocation_s"]),
                 duration(i["remaining_s"])]
        if replicated:
            p = i.get("p_over_allocation")
            cells.append("-" if p is None else _over_cell(p, i["p_over_allocation_ci95"],
                                                          s["replications"]))
        table.add_row(*cells)
    return table


def limit_lines(s: Summary) -> list[str]:
    """What each instance's limits did (SPEC §19): when one was reached, the work it held
    or cancelled. A mean over replications when replicated."""
    lines: list[str] = []
    for i in s["instances"]:
        got: Mapping[str, Any] = i  # the limit keys are there only for instances with one
        name = shown(i["name"])
        if "limit_s" in got:
            reached = _mean_of(got["limit_reached_at"])
            when = "not reached" if reached is None else f"reached at {duration(reached)}"
            lines.append(
                f"{name}: usage limit {duration(_mean(got['limit_s']))} per "
                f"{duration(_mean(got['limit_window_s']))} {when}; "
                f"{_mean(got['held_jobs']):g} jobs held {duration(_mean(got['held_s']))} "
                f"(job-seconds); at most {duration(_mean(got['peak_window_usage_s']))} "
                "used in one window")
        if "cost_limit_usd" in got:
            reached = _mean_of(got["cost_limit_reached_at"])
            when = "not reached" if reached is None else f"reached at {duration(reached)}"
            lines.append(f"{name}: cost limit {_mean(got['cost_limit_usd']):g} USD {when}; "
                         f"{_mean(got['cost_cancelled']):g} jobs cancelled by it")
    return lines


def _over_cell(p: float, ci95: list[float], replications: int) -> str:
    """``80% [58–92%] of 20 runs``: the share of replications over the allocation, with its
    95 % Wilson interval (SPEC §20), as compare writes its chances."""
    return f"{p:.0%} [{ci95[0]:.0%}–{ci95[1]:.0%}] of {replications} runs"


def streams_line(s: Summary) -> str:
    """The open streams' mean inter-arrival times and the expected utilisation (SPEC §12)."""
    parts = [f"{shown(x['name'])} one job every {_seconds(_mean(x['mean_interarrival_s']))} "
             f"(load {_mean(x['offered_load']):.2f})" for x in s["streams"]]
    return (f"offered load: {', '.join(parts)}; expected utilisation "
            f"{_mean(s['expected_utilization']):.2f}")


def print_summary(out: Console, s: Summary, percentiles: bool = False) -> None:
    """The report of ``qsim run``: a heading, the workloads, the backend, and a note on
    incomplete jobs when there are any (they surprise people otherwise). ``percentiles``:
    cells of replicated figures also show the runs' 10th to 90th percentile."""
    with _spread(percentiles):
        _print_summary(out, s)


def _print_summary(out: Console, s: Summary) -> None:
    workloads = workload_table(s)
    if len(s["workloads"]) > 4 or _natural_width(workloads) > out.width:
        workloads = workload_rows_table(s, out.width)
    out.print(Group(_heading(s), Text(), workloads, Text(), backend_table(s, out.width)))
    if s.get("instances"):
        out.print(Group(Text(), instance_table(s)))
        for line in limit_lines(s):
            out.print(Text(line))
    if s.get("streams"):
        out.print(Text(streams_line(s), style="dim"))
    if any(_mean(w["jobs"]["incomplete"]) > 0 for w in s["workloads"]):
        out.print(Text(INCOMPLETE_NOTE, style="dim"))


INCOMPLETE_NOTE: Final = ("incomplete = queued or running when the run ended "
                           "(at the horizon, or when the foreground ended)")


# ---------------------------------------------------------------------------------------------
# Comparisons


def _ratio(r: float, variant: str | None = None, verdict: Verdict | None = None) -> str:
    """A ratio to the best; "-" for a ``variant`` the ``verdict`` lists as incomplete when
    the best is a complete mode (less work against all of it). With no complete mode the
    ratios are among unfinished modes alike, and shown."""
    if verdict is not None and variant in verdict.incomplete and verdict.cheapest:
        return "-"
    return "∞" if r == float("inf") else f"{r:.2f}×"


def comparison_table(c: Comparison) -> Table:
    """The modes side by side, one column each; figures as rows."""
    table = Table()
    table.add_column("", no_wrap=True)
    for mode in c.modes:
        incomplete = mode in c.verdict.incomplete
        table.add_column(f"{mode} (incomplete)" if incomplete else mode, justify="right",
                         no_wrap=True)
    v = c.verdict
    rows = [(label, cell) for label, cell in _WORKLOAD_ROWS if label not in ("kind", "mode")]
    for label, cell in rows:
        table.add_row(label, *(cell(e) for e in c.modes.values()))
    # Unfinished work has no ratio: cheaper because it did less, not comparable (the JSON
    # keeps the numbers, with the mode listed as incomplete).
    table.add_row("cost vs cheapest", *(_ratio(v.cost_ratio[m], m, v) for m in c.modes))
    table.add_row("time vs fastest", *(_ratio(v.time_ratio[m], m, v) for m in c.modes))
    if all("p_over_allocation" in e for e in c.modes.values()):  # SPEC §20
        table.add_row("over allocation", *(_over_chance(e) for e in c.modes.values()))
    if c.decision is not None:  # SPEC §20: only with --deadline or --budget
        for key, label in _CHANCE_ROWS:
            if c.decision.chances[next(iter(c.modes))][key] is not None:
                table.add_row(label, *(_chance(c.decision.chances[m][key]) for m in c.modes))
    return table


_CHANCE_ROWS: Final = (("p_deadline", "by the deadline"), ("p_budget", "within budget"),
                       ("p_both", "both"))


def _chance(chance: Any) -> str:
    """A share of replications with its 95 % Wilson interval: ``67% [21–94%]``."""
    return f"{chance.p:.0%} [{chance.low:.0%}–{chance.high:.0%}]"


def _over_chance(e: Summary) -> str:
    """The share of replications over the instance's allocation, as ``_chance`` writes it."""
    low, high = e["p_over_allocation_ci95"]
    return f"{e['p_over_allocation']:.0%} [{low:.0%}–{high:.0%}]"


def comparison_rows_table(c: Comparison, width: int) -> Table:
    """The modes as rows, with the key figures and the ratios: for a narrow terminal."""
    v = c.verdict
    entries = [{**e, "mode": f"{m} (incomplete)" if m in v.incomplete else m, "_variant": m,
                "cost_ratio": v.cost_ratio[m], "time_ratio": v.time_ratio[m]}
               for m, e in c.modes.items()]
    columns: list[Column] = [
        ("mode", lambda e: e["mode"], 0),
        *[col for col in _COMPACT_COLUMNS if col[0] not in ("workload", "mode")],
        ("cost ×", lambda e: _ratio(e["cost_ratio"], e["_variant"], v), 1),
        ("time ×", lambda e: _ratio(e["time_ratio"], e["_variant"], v), 1),
    ]
    if all("p_over_allocation" in e for e in c.modes.values()):  # SPEC §20
        columns.append(("over alloc.", lambda e: f"{e['p_over_allocation']:.0%}", 1))
    if c.decision is not None:  # SPEC §20: the share meeting both, its interval in the JSON
        both = {m: chances["p_both"] for m, chances in c.decision.chances.items()}
        for e, mode in zip(entries, c.modes):
            e["p_both"] = both[mode]
        columns.append(("both", lambda e: f"{e['p_both'].p:.0%}", 1))
    return fitted_rows_table("", entries, columns, width)


def verdict_line(c: Comparison) -> str:
    """The verdict in words a person reads at a glance: the cheapest and the fastest mode
    among those that did all the work, what the fastest costs, and what was not ranked."""
    v = c.verdict
    said: list[str] = []
    if v.cheapest:
        cost = money(c.figure(v.cheapest[0], "cost_usd"))
        said.append(f"Cheapest: {_modes(v.cheapest)}, {cost}.")
    if v.fastest:
        fast = v.fastest[0]
        time = duration(c.figure(fast, "wall_time_s"))
        if set(v.fastest) == set(v.cheapest):
            said.append(f"Fastest: the same, {time}.")
        elif fast in v.cheapest:
            said.append(f"Fastest: {_modes(v.fastest)}, {time}.")
        else:
            said.append(f"Fastest: {_modes(v.fastest)}, {time}, "
                        f"{v.cost_ratio[fast]:.2f}x the cost.")
    if v.incomplete:
        undone = "; ".join(f"{_said(m)} {_progress(c.modes[m])}" for m in v.incomplete)
        lead = "Not ranked, did not finish" if v.cheapest else "No mode finished the work"
        said.append(f"{lead}: {undone}.")
    return " ".join(said)


def _modes(modes: tuple[str, ...]) -> str:
    return " and ".join(_said(m) for m in modes)


def _said(variant: str) -> str:
    """``session`` as "session mode"; ``session on ibm_kyiv`` (``--backends``) as "session
    mode on ibm_kyiv"."""
    mode, _, backend = variant.partition(" on ")
    return f"{mode} mode" + (f" on {backend}" if backend else "")


def print_comparison(out: Console, c: Comparison, percentiles: bool = False) -> None:
    """The report of ``qsim compare``: the side-by-side table and the verdict; with
    replications, each mode's paired difference against the cheapest complete one.

    The verdict stays one line even when longer than the terminal (``soft_wrap``), so that
    it greps and pastes as one.
    """
    with _spread(percentiles):
        _print_comparison(out, c)


def _print_comparison(out: Console, c: Comparison) -> None:
    heading = Text()
    heading.append(shown(c.scenario, 80), style="bold")
    where = " on each backend" if any(" on " in m for m in c.modes) else ""
    heading.append(f"  seed {c.seed} · workload {shown(repr(c.workload))} in each mode{where}")
    table = comparison_table(c)
    if _natural_width(table) > out.width:
        with _means_only():  # the intervals would not fit: --json and --out keep them
            table = comparison_table(c)
            if _natural_width(table) > out.width:  # still too wide: a mode a line
                table = comparison_rows_table(c, out.width)
        if c.replications > 1:
            heading.append(f" · {c.replications} replications (means; --json for intervals)")
    elif c.replications > 1:
        heading.append(f" · {c.replications} replications (mean ± 95% CI)")
    out.print(heading, soft_wrap=True)
    out.print(table)
    out.print()
    out.print(Text(verdict_line(c), style="bold"), soft_wrap=True)
    for mode, why in c.verdict.left_out.items():  # SPEC §19: not run, and why
        out.print(Text(f"{mode}: left out: {why}"), soft_wrap=True)
    if c.decision is not None:
        out.print(Text(c.decision.sentence, style="bold"), soft_wrap=True)
    differences = c.paired_differences()
    if differences:
        against = c.verdict.cheapest[0]
        # One line a mode: a cell's spread goes on a line of its own (a table has room for
        # it), here after the interval, in the same line.
        lines = [f"  {m} mode: cost {money(d['cost_usd'].to_dict())}, wall time "
                 f"{duration(d['wall_time_s'].to_dict())}".replace("\n", " ")
                 for m, d in differences.items() if m != against]
        spread = " [p10–p90]" if SHOW_SPREAD.get() else ""
        out.print(Text(f"Paired difference against {against} mode (same random streams, "
                       f"mean ± 95% CI{spread}):\n" + "\n".join(lines)), soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Progress


class DelayedProgress:
    """A progress bar on ``out`` (stderr) that appears only once work has taken ``delay`` s.

    Use as a context manager; pass :meth:`update` as an experiments ``progress`` callback.
    On a console that is not a terminal it shows nothing: a pipe or a CI log gets no
    carriage-return noise. ``percent``: show the share done (a single run's progress, in
    thousandths) instead of ``done/total``.
    """

    def __init__(self, description: str, out: Console, delay: float = 1.0,
                 percent: bool = False) -> None:
        self._description = description
        self._percent = percent
        self._out = out
        self._delay = delay
        self._lock = threading.Lock()
        self._done: int = 0
        self._total: int | None = None
        self._bar: Progress | None = None
        self._task: Any = None
        self._finished = False
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def __enter__(self) -> DelayedProgress:
        if self._out.is_interactive:
            self._timer.start()
        return self

    def update(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self._total = done, total
            if self._bar is not None:
                self._bar.update(self._task, completed=done, total=total)

    def _show(self) -> None:
        with self._lock:
            if self._finished:
                return
            count = TaskProgressColumn() if self._percent else MofNCompleteColumn()
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), count,
                                 TimeRemainingColumn(), console=self._out, transient=True)
            self._task = self._bar.add_task(self._description, total=self._total,
                                            completed=self._done)
            self._bar.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            self._finished = True
            if self._bar is not None:
                self._bar.stop()
