"""The per-run tables of ``--out`` as file contents: CSV (the default) and Parquet, both
written by pyarrow (pandas' ``to_csv`` took most of a million-job ``qsim run --out``).

The CSV keeps the DataFrame's header and column order. Floats are written in their shortest
form that reads back as the same float (pyarrow's: ``0`` for 0.0, ``0.00001`` or ``1e-7``
where Python writes ``1e-05``, ``1e-07``), missing values as empty cells, strings in double
quotes (a quote inside doubled), booleans as ``true`` and ``false``: any CSV reader reads
them back as the same values (``tests/test_out_tables.py`` checks the floats bit for bit).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["csv_bytes", "parquet_bytes", "parquet_files", "run_files"]


def _arrow(frame: pd.DataFrame) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    # NaN becomes null (an empty CSV cell, a Parquet null), as pandas' to_csv writes it.
    return pa.Table.from_pandas(frame, preserve_index=False)


def csv_bytes(frame: pd.DataFrame, table: Any = None) -> bytes:
    """``frame`` (or its pyarrow ``table``, if made already) as CSV: a plain header line (the
    column names), then pyarrow's rows."""
    import pyarrow.csv as pcsv  # type: ignore[import-untyped]

    header = ",".join(_header_cell(str(name)) for name in frame.columns) + "\n"
    buffer = io.BytesIO()
    buffer.write(header.encode("utf-8"))
    pcsv.write_csv(_arrow(frame) if table is None else table, buffer,
                   pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buffer.getvalue()


def _header_cell(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def parquet_bytes(frame: pd.DataFrame, table: Any = None) -> bytes:
    """``frame`` (or its pyarrow ``table``) as a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    table = _arrow(frame) if table is None else table
    # Dictionaries for the text columns only: on a million distinct floats a dictionary is
    # four times the writing time for a larger file.
    text = [f.name for f in table.schema if not (pa.types.is_floating(f.type)
                                                 or pa.types.is_integer(f.type))]
    buffer = io.BytesIO()
    pq.write_table(table, buffer, use_dictionary=text)
    return buffer.getvalue()


def run_files(jobs: pd.DataFrame, contexts: pd.DataFrame) -> dict[str, str | bytes]:
    """``jobs.csv`` and ``contexts.csv``."""
    return {"jobs.csv": csv_bytes(jobs), "contexts.csv": csv_bytes(contexts)}


def parquet_files(jobs: pd.DataFrame, contexts: pd.DataFrame) -> dict[str, str | bytes]:
    """``jobs.parquet`` and ``contexts.parquet``: the same tables, typed, smaller, and read
    back at once (``pandas.read_parquet``)."""
    return {"jobs.parquet": parquet_bytes(jobs), "contexts.parquet": parquet_bytes(contexts)}
