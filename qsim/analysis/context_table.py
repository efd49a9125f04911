"""The contexts table's columns (every state change of every batch and session), as numpy
arrays and codes: what ``RunResult.contexts`` (a DataFrame), ``--out``'s contexts.csv (an
Arrow table) and the timeline's marks are made of, so the three cannot disagree, and a plain
``--out`` needs no pandas (a fifth of a second to import, holding the GIL).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qsim.analysis.columns import TraceMeta
from qsim.records.log import Kind, Trace

__all__ = ["CHANGES", "COLUMNS", "STATES", "context_arrays", "context_arrow"]

COLUMNS = ("context", "workload", "mode", "at", "change", "state", "accepting_jobs")
_KINDS = (Kind.CONTEXT_OPEN, Kind.CONTEXT_ACTIVATE, Kind.CONTEXT_DEACTIVATE,
          Kind.CONTEXT_DRAIN, Kind.CONTEXT_CLOSE)  # context.release ends a window
CHANGES = tuple(kind.label.split(".")[1] for kind in _KINDS)
STATES = ("open", "active", "inactive", "closed")
_STATE_AFTER = {Kind.CONTEXT_OPEN: 0, Kind.CONTEXT_ACTIVATE: 1, Kind.CONTEXT_DEACTIVATE: 2,
                Kind.CONTEXT_CLOSE: 3}  # drain leaves the state as it was


def context_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """One row per change, in log order: ``context``, ``workload`` (its index),
    ``at``, ``change`` (index into ``CHANGES``), ``state`` after it (index into
    ``STATES``) and ``accepting_jobs`` (false from a drain or close on)."""
    cols = trace.columns()
    rows = cols.rows_of(*_KINDS)
    kinds = cols.kind[rows].tolist()
    contexts = cols.field("context", rows)
    state: dict[int, int] = {}
    closed: set[int] = set()
    states, accepting = [], []
    for kind, ctx in zip(kinds, contexts.tolist()):  # a few per batch or session
        change = Kind(kind)
        state[ctx] = _STATE_AFTER.get(change, state.get(ctx, 0))
        if change in (Kind.CONTEXT_DRAIN, Kind.CONTEXT_CLOSE):
            closed.add(ctx)
        states.append(state[ctx])
        accepting.append(ctx not in closed)
    return {
        "context": contexts, "workload": cols.field("workload", rows), "at": cols.t[rows],
        "change": np.array([_KINDS.index(Kind(k)) for k in kinds], np.int64),
        "state": np.array(states, np.int64), "accepting_jobs": np.array(accepting, bool),
    }


def context_columns(arrays: dict[str, np.ndarray], meta: TraceMeta) -> dict[str, Any]:
    """The table's columns in order, text as Python strings (object arrays): the DataFrame's."""
    def text(index: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        return np.array(names, dtype=object)[index] if len(names) else np.empty(0, object)

    return {"context": arrays["context"], "workload": text(arrays["workload"], meta.workloads),
            "mode": text(arrays["workload"], meta.modes), "at": arrays["at"],
            "change": text(arrays["change"], CHANGES), "state": text(arrays["state"], STATES),
            "accepting_jobs": arrays["accepting_jobs"]}


def context_arrow(arrays: dict[str, np.ndarray], meta: TraceMeta) -> Any:
    """The table as an Arrow table made from its buffers, without pandas (``pa.array`` and
    ``pa.table`` import it): the same values as ``RunResult.contexts``, so the same CSV."""
    import pyarrow as pa  # type: ignore[import-untyped]

    from qsim.analysis.job_table import arrow_column, names

    flags = arrays["accepting_jobs"]
    bits = pa.py_buffer(np.packbits(flags, bitorder="little"))
    columns = [arrow_column(arrays["context"]), names(arrays["workload"], meta.workloads),
               names(arrays["workload"], meta.modes), arrow_column(arrays["at"]),
               names(arrays["change"], CHANGES), names(arrays["state"], STATES),
               pa.Array.from_buffers(pa.bool_(), len(flags), [None, bits])]
    return pa.Table.from_arrays(columns, names=list(COLUMNS))
