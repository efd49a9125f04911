"""``RunResult``: the record log of one run, its info, and the tables derived from it."""

from __future__ import annotations

from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from qsim.analysis import accounting, columns
from qsim.analysis.metrics import Summary, summarize
from qsim.records.log import RunInfo, Trace

if TYPE_CHECKING:
    import pandas as pd


def _tables() -> ModuleType:
    # pandas (a fifth of a second to import) only once a DataFrame is asked for: the summary
    # works on the numpy columns, so `qsim run --json` never loads it.
    from qsim.analysis import tables

    return tables


class RunResult:
    """One run. Tables are built on first use from the record log, the single source of truth:
    the numpy columns (``job_arrays``, ``window_arrays``, ``busy``, ``gap_arrays``) that the
    summary reads, and the DataFrames (``jobs``, ``windows``, ``intervals``, ...) built from
    them."""

    def __init__(self, trace: Trace, info: RunInfo) -> None:
        self.trace = trace
        self.info = info

    @cached_property
    def meta(self) -> columns.TraceMeta:
        scenario = self.info.scenario
        return columns.TraceMeta(
            workloads=tuple(w.name for w in scenario.workloads),
            modes=tuple(w.mode.kind for w in scenario.workloads),
            legacy_lock=scenario.backend.job_lock == "all",
            end_s=self.info.end_s,
            backends=tuple(b.name for b in scenario.backends),
            failure_charge=scenario.failure_charges,
        )

    # ---- numpy columns: what the summary reads ------------------------------------------

    @cached_property
    def job_arrays(self) -> dict[str, np.ndarray]:
        """The jobs table as numpy columns (see ``columns.job_arrays``)."""
        return columns.job_arrays(self.trace, self.meta)

    @cached_property
    def window_arrays(self) -> dict[str, np.ndarray]:
        """The active windows as numpy columns (see ``columns.window_arrays``)."""
        return columns.window_arrays(self.trace)

    @cached_property
    def calibration_arrays(self) -> dict[str, np.ndarray]:
        return columns.calibration_arrays(self.trace, self.info.end_s)

    @cached_property
    def outage_arrays(self) -> dict[str, np.ndarray]:
        return columns.outage_arrays(self.trace, self.info.end_s)

    @cached_property
    def context_arrays(self) -> dict[str, np.ndarray]:
        """Every change of every context as numpy columns (``context_table.context_arrays``):
        what ``contexts`` shows, made without pandas."""
        from qsim.analysis import context_table

        return context_table.context_arrays(self.trace)

    @cached_property
    def busy(self) -> dict[str, np.ndarray]:
        """What held the QPU, when (``columns.qpu_intervals``): the numpy form of ``intervals``."""
        cal = self.calibration_arrays
        return columns.qpu_intervals(self.job_arrays, cal["start_at"], cal["end_at"], self.meta,
                                     columns.qpu_order(self.trace, self.meta))

    @cached_property
    def busy_backend(self) -> np.ndarray:
        """Each row of ``busy``'s backend (SPEC §18; all 0 with one backend)."""
        if self.trace.job_backend is None:
            return np.zeros(len(self.busy["job"]), np.int64)
        return columns.interval_backends(self.busy, columns.job_backends(self.trace),
                                         self.calibration_arrays["backend"])

    @cached_property
    def gap_arrays(self) -> dict[str, np.ndarray]:
        """Every idle gap inside each workload's billed windows (``accounting.idle_gap_arrays``):
        what ``idle_s`` sums and what the timeline hatches."""
        return accounting.idle_gap_arrays(self.window_arrays, self.busy, self.meta.modes,
                                          self.info.scenario.accounting.session)

    def summary(self) -> Summary:
        """The summary dict of SPEC §7."""
        return summarize(self)

    # ---- DataFrames ---------------------------------------------------------------------

    @cached_property
    def records(self) -> pd.DataFrame:
        return _tables().records_frame(self.trace, self.meta)

    @cached_property
    def _job_columns(self) -> pd.DataFrame:
        # job_arrays as a DataFrame over the same memory, held as long as they are: the jobs
        # table shares it, so pandas copies a column a user writes to (copy on write) rather
        # than write into the arrays the summary reads.
        import pandas as pd

        return pd.DataFrame(self.job_arrays, copy=False)

    @cached_property
    def job_text(self) -> dict[str, Any]:
        """The jobs table's text columns as Arrow arrays (``job_table.job_text``): shared by
        ``jobs`` and ``--out``'s jobs.csv, which is written from Arrow without pandas."""
        from qsim.analysis import job_table  # pyarrow: only for the tables

        return job_table.job_text(self.trace, self.meta, self.job_arrays)

    @cached_property
    def jobs(self) -> pd.DataFrame:
        return _tables().jobs_frame(self.trace, self.meta, self._job_columns, self.job_text)

    @cached_property
    def contexts(self) -> pd.DataFrame:
        return _tables().contexts_frame(self.trace, self.meta, self.context_arrays)

    @cached_property
    def windows(self) -> pd.DataFrame:
        return _tables().windows_frame(self.trace, self.meta, self.window_arrays)

    @cached_property
    def intervals(self) -> pd.DataFrame:
        return _tables().intervals_frame(self.trace, self.meta, self.job_arrays, self.busy)

    @cached_property
    def calibrations(self) -> pd.DataFrame:
        return _tables().calibrations_frame(self.trace, self.meta)

    @cached_property
    def idle_gaps(self) -> pd.DataFrame:
        """``gap_arrays`` as a table: ``workload, start_at, end_at, length_s``."""
        return _tables().idle_gap_frame(self.gap_arrays, self.meta.workloads)
