"""The tables of a sweep: many run summaries (SPEC §7) -> one tidy frame, and its means.

``sweep_frame`` makes one row per (labels, run, workload): the labels (a sweep's PATH
columns and ``replication``), then ``workload``, ``kind``, ``mode``, and every figure of the
workload's entry flattened with dots (``usage_s``, ``jobs.done``, ...), then the run's own
(``end_s``, ``backend.utilization``, ...). ``point_estimates`` averages it per point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from qsim.analysis.student_t import t_quantile

__all__ = ["CONFIDENCE", "REFUSED", "complete_shares", "flatten", "point_estimates",
           "refused_points", "refused_summary", "sweep_frame"]

CONFIDENCE: Final = 0.95  # the level of qsim.experiments.Estimate's intervals
# Entry keys that become the row's label columns rather than figures
_LABELS: Final = ("name", "kind", "mode")


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, keys joined with dots: ``{"jobs": {"done": 3}}`` ->
    ``{"jobs.done": 3}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _rows(labels: Mapping[str, Any], summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    run = {"end_s": summary["end_s"], **flatten(summary["backend"], "backend.")}
    return [{**labels, "workload": w["name"], "kind": w["kind"], "mode": w["mode"],
             **flatten({k: v for k, v in w.items() if k not in _LABELS}), **run}
            for w in summary["workloads"]]


#: The key of a summary that stands for a refused point's run (``refused_summary``).
REFUSED: Final = "refused"


def refused_summary(reason: str, workloads: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """What stands in the table for a run the service would refuse (SPEC §19): each
    workload ``(name, kind, mode)`` with no figure, not complete, and the reason."""
    return {REFUSED: reason, "workloads": [
        {"name": name, "kind": kind, "mode": mode} for name, kind, mode in workloads]}


def sweep_frame(runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> pd.DataFrame:
    """One row per (labels, summary) pair and workload of the summary, in order.

    A refused point's rows (``refused_summary``) have its labels, the workload's name, kind
    and mode, ``complete`` false and no figure; then, and only then, the table has a
    ``refused`` column, last: the reason, or "" for the points that ran."""
    rows = [row for labels, summary in runs for row in
            (_rows(labels, summary) if REFUSED not in summary else
             _refused_rows(labels, summary))]
    if not any(REFUSED in summary for _, summary in runs):
        return pd.DataFrame(rows)
    ran = [row for row in rows if REFUSED not in row]  # their columns first, as without
    columns = list(dict.fromkeys(key for row in [*ran, *rows] for key in row))
    columns = [c for c in columns if c != REFUSED] + [REFUSED]
    table = pd.DataFrame(rows, columns=columns)
    table[REFUSED] = table[REFUSED].fillna("")
    # The points that ran keep their cells as without a refused point: whole numbers as
    # nullable integers, and None (not NaN) where a run had none (``stopped_by``).
    ran_frame, ran_at = pd.DataFrame(ran), (table[REFUSED] == "").to_numpy()
    for column, kind in ran_frame.dtypes.items():
        if pd.api.types.is_integer_dtype(kind):
            table[column] = table[column].astype("Int64")
        elif pd.api.types.is_object_dtype(kind):
            values = table[column].astype(object).to_numpy(copy=True)
            values[ran_at] = ran_frame[column].to_numpy(object)
            table[column] = values
    return table


def _refused_rows(labels: Mapping[str, Any], summary: Mapping[str, Any]
                  ) -> list[dict[str, Any]]:
    return [{**labels, "workload": w["name"], "kind": w["kind"], "mode": w["mode"],
             "complete": False, REFUSED: summary[REFUSED]} for w in summary["workloads"]]


def refused_points(table: pd.DataFrame, by: Sequence[str]) -> list[str]:
    """Per group of ``by``, in the order of :func:`point_estimates`: why the point was
    refused, or "" (every group when the table has no refused point)."""
    if REFUSED not in table:
        return [""] * table.groupby(list(by), sort=False, dropna=False).ngroups
    groups = table.groupby(list(by), sort=False, dropna=False)[REFUSED]
    return [str(x) for x in groups.first()]


def point_estimates(table: pd.DataFrame, by: Sequence[str], figures: Sequence[str]
                    ) -> pd.DataFrame:
    """Per group of ``by`` (e.g. the PATH columns and ``workload``), in first-seen order: the
    number of runs (``n``), and for each figure its mean (``FIGURE``) and 95% t-interval
    (``FIGURE.low``, ``FIGURE.high``; NaN below two runs). Missing values (a run where no
    job reached the QPU) are left out of that figure's estimate."""
    groups = table.groupby(list(by), sort=False, dropna=False)
    out = groups.size().rename("n").reset_index()
    for figure in figures:
        values = groups[figure]
        mean, sd, n = (values.mean().to_numpy(float), values.std(ddof=1).to_numpy(float),
                       values.count().to_numpy(float))
        half = [_t(k) * s / math.sqrt(k) if k >= 2 else math.nan for s, k in zip(sd, n)]
        out[figure] = mean
        out[f"{figure}.low"] = mean - half
        out[f"{figure}.high"] = mean + half
    return out


def complete_shares(table: pd.DataFrame, by: Sequence[str]) -> list[float]:
    """Per group of ``by``, in the order of :func:`point_estimates`: the share of its runs in
    which the workload did all its work (``complete``)."""
    groups = table.groupby(list(by), sort=False, dropna=False)["complete"]
    return [float(x) for x in groups.mean().to_numpy(float)]


def _t(n: float) -> float:
    return t_quantile(0.5 + CONFIDENCE / 2, int(n) - 1)
