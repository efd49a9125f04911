"""Experiments: a run (model + analysis), replications, and one workload compared per mode."""

from qsim.experiments.comparison import (
                                         MODES,
                                         Comparison,
                                         Verdict,
                                         allowed_modes,
                                         check_backends,
                                         check_modes,
                                         compare,
                                         resolve_workload,
)
from qsim.experiments.estimates import Estimate, aggregate
from qsim.experiments.replications import Replications, replicate
from qsim.experiments.run import simulate

__all__ = ["MODES", "Comparison", "Estimate", "Replications", "Verdict", "aggregate",
           "allowed_modes", "check_backends", "check_modes", "compare", "replicate",
           "resolve_workload", "simulate"]
