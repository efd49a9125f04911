"""``RunResult``: the record log of one run, its info, and the tables derived from it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qsim import tables
from qsim.trace import Trace

if TYPE_CHECKING:
    from qsim.engine import RunInfo


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
    def jobs(self) -> pd.DataFrame:
        return tables.jobs_frame(self.trace, self.meta, self.job_arrays)

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

    def summary(self) -> dict[str, Any]:
        """The summary dict of SPEC §7."""
        from qsim.metrics import summarize

        return summarize(self)
