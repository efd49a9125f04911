"""The terminal report of ``qsim advise``: the candidates ranked in a table, the
recommendation in one sentence, and what was left out or left undecided. It reads the same
``Advice.to_dict()`` that ``--json`` prints, so the two cannot disagree."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qsim.input.text import shown
from qsim.input.units import format_duration

__all__ = ["advice_table", "print_advice"]

_CHANCES: Final = (("p_deadline", "by deadline"), ("p_budget", "within budget"),
                   ("p_both", "both"))
# The reason a candidate is out, in a word (the JSON's `why` says it in full).
_SHORT: Final = (("did not finish", "out: unfinished"), ("cannot reach", "out: unlikely"),
                 ("dearer", "out: dearer"), ("dominated", "out: dominated"))


def _chance(row: Mapping[str, Any], key: str, intervals: bool) -> str:
    p, ci = row[key], row[f"{key}_ci95"]
    if p is None:
        return "-"
    return f"{p:.0%} [{ci[0]:.0%}–{ci[1]:.0%}]" if intervals else f"{p:.0%}"


def _status(row: Mapping[str, Any]) -> str:
    if row["status"] != "out":
        return "meets" if row["status"] == "meets the goal" else str(row["status"])
    return next((word for start, word in _SHORT if row["why"].startswith(start)), "out")


def _settings(data: Mapping[str, Any]) -> list[tuple[str, Callable[[Mapping[str, Any]], str]]]:
    """The columns of the settings this search varied."""
    rows = data["candidates"]
    per = " an iteration" if data["jobs_field"] == "jobs_per_iteration" else ""
    columns: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
        ("mode", lambda r: str(r["mode"])),
        ("ITTL", lambda r: "-" if r["interactive_ttl_s"] is None
         else format_duration(r["interactive_ttl_s"])),
        ("close", lambda r: {None: "-", True: "yes", False: "no"}[r["close"]])]
    if rows and "circuits" in rows[0]:
        columns.append((f"circuits × jobs{per}", lambda r: f"{r['circuits']:,} × {r['jobs']:,}"))
    if rows and "backend" in rows[0]:
        columns.append(("backend", lambda r: shown(r["backend"], 40)))
    return columns


def advice_table(data: Mapping[str, Any], intervals: bool = True) -> Table:
    """One row per candidate, ranked: its settings, cost, p90 wall time, the shares meeting
    each limit and both (with their 95% intervals), the replications run, and its standing
    (◆: on the Pareto front)."""
    goal = data["goal"]
    table = Table()
    table.add_column("#", justify="right", no_wrap=True)
    settings = _settings(data)
    for title, _ in settings:
        table.add_column(title, no_wrap=True)
    for title in ("cost", "wall p90"):
        table.add_column(title, justify="right", no_wrap=True)
    limits = {"p_deadline": goal["deadline_s"], "p_budget": goal["budget_usd"], "p_both": 0}
    chances = [(k, t) for k, t in _CHANCES if limits[k] is not None]
    for _, title in chances:
        table.add_column(title, justify="right", no_wrap=True)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in data["candidates"]:
        style = "bold" if row["status"] == "recommended" else (
            "dim" if row["status"] == "out" else "")
        table.add_row(str(row["rank"]), *(cell(row) for _, cell in settings),
                      f"${row['cost_usd']:,.2f}", format_duration(row["wall_time_p90_s"]),
                      *(_chance(row, k, intervals) for k, _ in chances),
                      str(row["replications"]), _status(row) + (" ◆" if row["pareto"] else ""),
                      style=style)
    return table


def _fitted(out: Console, data: Mapping[str, Any]) -> tuple[Console, Table]:
    """The table, and the console to print it on: a pipe or a file gets it whole, however
    wide; a terminal too narrow for the intervals gets the shares alone (--json has them)."""
    table = advice_table(data)
    width = Console(width=100_000, file=io.StringIO()).measure(table).maximum
    if width <= out.width:
        return out, table
    if not out.is_terminal:
        return Console(file=out.file, highlight=False, width=width), table
    return out, advice_table(data, intervals=False)


def print_advice(out: Console, data: Mapping[str, Any]) -> None:
    """The report: a heading, the table, the recommendation, what was left out or not
    searched, and how many candidates the search left undecided."""
    goal = data["goal"]
    heading = Text()
    heading.append(shown(data["scenario"], 80), style="bold")
    heading.append(f"  seed {data['seed']} · workload {shown(repr(data['workload']))}: "
                   f"{len(data['candidates'])} choices, {data['runs']:,} runs (same random "
                   f"streams for each) · {goal['confidence'] * 100:g}% wanted")
    out.print(heading, soft_wrap=True)
    where, table = _fitted(out, data)
    where.print(table)
    out.print(Text("◆ on the Pareto front (no complete choice is both cheaper and faster at "
                   "the 90th percentile). out: no more replications spent on it (--json says "
                   "why); shares in brackets: 95% intervals."), soft_wrap=True)
    out.print()
    out.print(Text(data["recommendation"], style="bold"), soft_wrap=True)
    for mode, why in data.get("left_out", {}).items():  # SPEC §19: not searched, and why
        out.print(Text(f"{mode}: left out: {why}"), soft_wrap=True)
    for note in data["notes"]:
        out.print(Text(note), soft_wrap=True)
    if data["undecided"]:
        cap = data["max_replications"]
        why = ("the work limit stopped the search (--max-jobs)"
               if data["stopped_by"] == "work limit"
               else f"at the cap of {cap:,} replications (--max-replications)")
        n = data["undecided"]
        what = "1 choice" if n == 1 else f"{n} choices"
        out.print(Text(f"{what} left undecided: {why}; still close to the confidence, or in "
                       "cost to another choice."),
                  soft_wrap=True)
