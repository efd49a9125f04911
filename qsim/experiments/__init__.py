"""Experiments: a run (model + analysis), replications, and one workload compared per mode.

The public names resolve on first use, each from its own module, so that a single run
(``qsim run``: ``experiments.simulate``) does not import the comparison, the decision rules,
the estimates and the runner of many (with ``concurrent.futures``) it does not use: 48 M
instructions of every ``qsim run``'s start (docs/performance.md).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    **dict.fromkeys(("MODES", "Comparison", "Verdict", "allowed_modes", "check_backends",
                     "check_modes", "compare", "resolve_workload"),
                    "qsim.experiments.comparison"),
    "Estimate": "qsim.experiments.estimates", "aggregate": "qsim.experiments.estimates",
    "Replications": "qsim.experiments.replications",
    "replicate": "qsim.experiments.replications",
    "simulate": "qsim.experiments.run",
}

__all__ = ["MODES", "Comparison", "Estimate", "Replications", "Verdict", "aggregate",
           "allowed_modes", "check_backends", "check_modes", "compare", "replicate",
           "resolve_workload", "simulate"]


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'qsim.experiments' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
