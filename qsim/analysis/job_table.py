"""The jobs table's columns, in their order, as numpy arrays and Arrow text: what both
``RunResult.jobs`` (a DataFrame) and ``--out``'s ``jobs.csv`` (an Arrow table, written
before pandas is even imported) are made of, so the two cannot disagree.

The text columns are Arrow dictionary arrays (each row an index into the names): made at
no cost, and turned into text by Arrow where it is needed, for jobs.csv by the CSV writer on
the tables' thread, without the GIL (a take of a million names is 0.05 s per column), for
the DataFrame at once. pandas' own conversion of a million Python strings took a tenth of a
second per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from qsim.analysis.columns import STATUSES, TraceMeta, job_backends, reasons_given
from qsim.records.log import Trace

__all__ = ["arrow_column", "coded", "job_columns", "job_text", "names"]


def names(index: np.ndarray, names: Sequence[str]) -> Any:
    """``names[index]`` as an Arrow text array (-1: missing)."""
    return coded(index, names).dictionary_decode()


def coded(index: np.ndarray, names: Sequence[str]) -> Any:
    """``names[index]`` as an Arrow dictionary array (-1: missing), over ``index``'s memory:
    the same text as ``names`` once decoded."""
    encoded = [name.encode("utf-8") for name in names]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    dictionary = pa.Array.from_buffers(pa.large_string(), len(encoded), [
        None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])
    index = np.asarray(index, np.int64)
    return pa.DictionaryArray.from_arrays(arrow_column(index, missing=index < 0), dictionary)


def arrow_column(values: np.ndarray, missing: np.ndarray | None = None) -> Any:
    """A numpy column of numbers as an Arrow array over the same memory, null where
    ``missing`` (by default where a float is NaN, as pandas' NaN becomes null).

    Made from its buffers because ``pa.array`` imports pandas (a fifth of a second, spent
    holding the GIL) to check what it was given: --out starts writing jobs.csv before that."""
    values = np.ascontiguousarray(values)
    if values.dtype.kind not in "iuf":  # a bool is a byte in numpy and a bit in Arrow
        raise TypeError(f"not a column of numbers: {values.dtype}")
    if missing is None:
        missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    nulls = int(missing.sum())
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [valid, pa.py_buffer(values)], null_count=nulls)


def job_text(trace: Trace, meta: TraceMeta, arrays: Mapping[str, Any]) -> dict[str, Any]:
    """The jobs table's text columns, as dictionary arrays (``coded``): ``workload``,
    ``backend`` (only when the run has several backends, SPEC §18), ``status`` and
    ``reason``. ``arrays``: ``job_arrays``."""
    n = len(arrays["status"])
    backend = {} if not meta.backends else {
        "backend": coded(job_backends(trace), meta.backends)}
    return {
        "workload": coded(np.asarray(arrays["workload"]), meta.workloads),
        **backend,
        # -1 (no end record) reads as the last, incomplete
        "status": coded(np.asarray(arrays["status"]) % len(STATUSES), STATUSES),
        "reason": _reasons(trace, n),
    }


def _reasons(trace: Trace, n: int) -> Any:
    """The reason of every failed or cancelled job (missing for the others)."""
    jobs, reasons = reasons_given(trace, trace.columns())
    index: dict[str, int] = {}
    code = np.full(n, -1, np.int64)
    code[jobs] = [index.setdefault(reason, len(index)) for reason in reasons.tolist()]
    return coded(code, list(index))


def job_columns(arrays: Mapping[str, Any], text: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of the jobs table, in order: ``arrays`` (``job_arrays``, or a DataFrame
    of them) where the table shows them as they are, the rest derived, and ``text``
    (``job_text``). A column taken from ``arrays`` is that column itself, not a copy."""
    done = np.asarray(arrays["status"]) == 0
    return {
        "job": np.arange(len(done)),
        "workload": text["workload"],
        **({"backend": text["backend"]} if "backend" in text else {}),
        "context": arrays["context"],
        "submit_at": arrays["submit_at"],
        "dispatch_at": arrays["dispatch_at"],
        "compile_start_at": np.array(arrays["dispatch_at"]),  # its own: two names, one column
        "compile_end_at": arrays["ready_at"],
        "quantum_start_at": arrays["quantum_start_at"],
        "quantum_end_at": arrays["quantum_end_at"],
        "post_start_at": np.where(done, arrays["quantum_end_at"], np.nan),
        "post_end_at": np.where(done, arrays["end_at"], np.nan),
        "end_at": arrays["end_at"],
        "status": text["status"],
        "reason": text["reason"],
        "queue_wait_s": arrays["queue_wait_s"],
        "qpu_wait_s": arrays["qpu_wait_s"],
        "quantum_s": arrays["quantum_s"],
        "charged_s": arrays["charged_s"],
    }
