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
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from qsim.analysis.result import RunResult
    from qsim.present.files import OutFolder

__all__ = ["context_arrow", "csv_bytes", "job_arrow", "parquet_bytes", "run_files"]


def _arrow(frame: pd.DataFrame) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    # NaN becomes null (an empty CSV cell, a Parquet null), as pandas' to_csv writes it.
    return pa.Table.from_pandas(frame, preserve_index=False)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV: a plain header line (the column names), then pyarrow's rows."""
    return _csv(list(frame.columns), _arrow(frame))


def _csv(columns: list[Any], table: Any) -> bytes:
    buffer = io.BytesIO()
    _write_csv(columns, table, buffer)
    return buffer.getvalue()


def _write_csv(columns: list[Any], table: Any, sink: Any) -> None:
    """The header line, then pyarrow's rows, into ``sink`` (a file object or Arrow's own)."""
    import pyarrow.csv as pcsv  # type: ignore[import-untyped]

    sink.write(_header(columns))
    pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style="needed"))


def _header(columns: list[Any]) -> bytes:
    return (",".join(_header_cell(str(name)) for name in columns) + "\n").encode("utf-8")


def _header_cell(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as a Parquet file."""
    return _parquet(_arrow(frame))


def _parquet(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    # Dictionaries for the text columns only: on a million distinct floats a dictionary is
    # four times the writing time for a larger file.
    text = [f.name for f in table.schema if not (pa.types.is_floating(f.type)
                                                 or pa.types.is_integer(f.type))]
    buffer = io.BytesIO()
    pq.write_table(table, buffer, use_dictionary=text)
    return buffer.getvalue()


def job_arrow(result: RunResult) -> Any:
    """The run's jobs table as an Arrow table made from its numpy columns, without pandas:
    the columns and values of ``result.jobs`` (``job_table.job_columns``), so the same CSV,
    but not the pandas metadata a Parquet file keeps (Parquet is written from the DataFrame).
    """
    import pyarrow as pa

    from qsim.analysis.job_table import arrow_column, job_columns

    columns = job_columns(result.job_arrays, result.job_text)
    return pa.Table.from_arrays([c if isinstance(c, pa.Array) else arrow_column(c)
                                 for c in columns.values()], names=list(columns))


def context_arrow(result: RunResult) -> Any:
    """The run's contexts table as an Arrow table, without pandas (``context_table``): the
    columns and values of ``result.contexts``, so the same CSV."""
    from qsim.analysis.context_table import context_arrow as arrow

    return arrow(result.context_arrays, result.meta)


Writer = Callable[["OutFolder"], None]


def run_files(result: RunResult, parquet: bool = False) -> Iterator[Writer]:
    """The per-run files of ``--out``, one writer each, to run in order on a thread of their
    own: ``jobs.csv`` and ``contexts.csv``, and with ``parquet`` ``jobs.parquet`` and
    ``contexts.parquet`` (the same tables, typed, smaller, and read back at once by
    ``pandas.read_parquet``). Each writer writes straight into the folder.

    Arrow lets go of the GIL while it formats and writes, so the writers can run while this
    thread draws the timeline (jobs.csv took 1.1 s of CPU at a million jobs, formatting
    floats). The CSVs need no pandas: made from the run's numpy columns, they start at once,
    and without ``parquet`` pandas is never imported (a fifth of a second holding the GIL).
    The Parquet files keep the DataFrames' pandas metadata, so they are made from them."""
    # Arrow registers its compute functions (the CSV writer's casts among them) when
    # pyarrow.compute is first imported. Imported while a writer ran on its thread (as the
    # contexts' table did), the writer now and then found no "cast" and failed: import it
    # before any writer starts (27 ms, which --out paid anyway).
    import pyarrow.compute  # type: ignore[import-untyped]  # noqa: F401

    jobs = job_arrow(result)
    yield _csv_file("jobs", jobs.column_names, jobs)
    contexts = context_arrow(result)
    yield _csv_file("contexts", contexts.column_names, contexts)
    if parquet:  # from the DataFrames, whose pandas metadata a Parquet file keeps
        yield _parquet_file("jobs", _arrow(result.jobs))
        yield _parquet_file("contexts", _arrow(result.contexts))


def _csv_file(name: str, columns: list[Any], table: Any) -> Writer:
    def write(folder: OutFolder) -> None:
        import pyarrow as pa

        with pa.OSFile(str(folder.path(f"{name}.csv")), "wb") as sink:
            _write_csv(columns, table, sink)  # Arrow's own file: written without the GIL
        folder.adopt(f"{name}.csv")

    return write


def _parquet_file(name: str, table: Any) -> Writer:
    def write(folder: OutFolder) -> None:
        folder.add(f"{name}.parquet", _parquet(table))

    return write
