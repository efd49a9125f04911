"""``RunResult``: the record log of one run, its info, and the tables derived from it."""

from __future__ import annotations

from functools import cached_property
import numpy as np
import pandas as pd

from qsim.analysis import accounting, tables
from qsim.analysis.metrics import Summary, summarize
from qsim.trace import RunInfo, Trace


class RunResult:
    """One run. Tables are built on first use from the record log, the single source of truth."""

    def __init__(self, trace: Trace, info: RunInfo) -> None:
        self.trace = trace
        self.info = info

    @cached_property
    def meta(self) -> tables.TraceMeta:
        scenario = self.info.scenario
        return tables.TraceMeta(
            workloads=tuple(w.name for w in scenario.workloads),
            modes=tuple(w.mode.kind for w in scenario.workloads),
            legacy_lock=scenario.backend.job_lock == "all",
            end_s=self.info.end_s,
        )

    @cached_property
    def records(self) -> pd.DataFrame:
        return tables.records_frame(self.trace, self.meta)

    @cached_property
    def job_arrays(self) -> dict[str, np.ndarray]:
        """The jobs table as numpy columns (see ``tables.job_arrays``)."""
        return tables.job_arrays(self.trace, self.meta)

    @cached_property
    def _job_columns(self) -> pd.DataFrame:
        # job_arrays as a DataFrame over the same memory, held as long as they are: the jobs
        # table shares it, so pandas copies a column a user writes to (copy on write) rather
        # than write into the arrays the summary reads.
        return pd.DataFrame(self.job_arrays, copy=False)

    @cached_property
    def jobs(self) -> pd.DataFrame:
        return tables.jobs_frame(self.trace, self.meta, self._job_columns)

    @cached_property
    def contexts(self) -> pd.DataFrame:
        return tables.contexts_frame(self.trace, self.meta)

    @cached_property
    def windows(self) -> pd.DataFrame:
        return tables.windows_frame(self.trace, self.meta)

    @cached_property
    def intervals(self) -> pd.DataFrame:
        return tables.intervals_frame(self.trace, self.meta, self.job_arrays)

    @cached_property
    def calibrations(self) -> pd.DataFrame:
        return tables.calibrations_frame(self.trace, self.meta)

    @cached_property
    def busy(self) -> dict[str, np.ndarray]:
        """What held the QPU, when (``tables.qpu_intervals``): the numpy form of ``intervals``."""
        cal = self.calibrations
        return tables.qpu_intervals(self.job_arrays, cal["start_at"].to_numpy(),
                                    cal["end_at"].to_numpy(), self.meta)

    @cached_property
    def idle_gaps(self) -> pd.DataFrame:
        """Every idle gap inside each workload's billed windows (``accounting.idle_gap_table``):
        what ``idle_s`` sums and what the timeline hatches."""
        meta = self.meta
        return accounting.idle_gap_table(self.windows, self.busy, meta.workloads, meta.modes,
                                         self.info.scenario.accounting.session)

    def summary(self) -> Summary:
        """The summary dict of SPEC §7."""
        return summarize(self)
