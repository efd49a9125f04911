"""qsim: replay quantum workloads in job, batch and session mode before paying for QPU time.

    >>> import qsim
    >>> result = qsim.simulate(qsim.load_scenario("scenarios/vqe.yaml"))
    >>> result.summary()["workloads"][0]["usage_s"]

The public names resolve on first use, so ``import qsim`` (and ``qsim --help``) loads none of
pandas, matplotlib, SimPy or scipy until a name that needs one is touched.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from qsim.version import __version__

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.errors import QsimError, ScenarioError
    from qsim.experiments.comparison import compare
    from qsim.experiments.replications import replicate
    from qsim.experiments.run import simulate
    from qsim.experiments.sweep import sweep
    from qsim.experiments.fitting import fit
    from qsim.present import plots
    from qsim.scenario import Scenario, load_scenario, parse_scenario
    from qsim.trace import RunInfo

# name -> the module that defines it ("" after the module: the module itself)
_LAZY: dict[str, str] = {
    "QsimError": "qsim.errors", "ScenarioError": "qsim.errors",
    "Scenario": "qsim.scenario", "load_scenario": "qsim.scenario",
    "parse_scenario": "qsim.scenario",
    "simulate": "qsim.experiments", "replicate": "qsim.experiments",
    "compare": "qsim.experiments",
    "sweep": "qsim.experiments.sweep",  # the module's function (the package keeps the module)
    "fit": "qsim.experiments.fitting",
    "RunInfo": "qsim.trace", "RunResult": "qsim.analysis.result",
    "plots": "qsim.present.plots:",
}

__all__ = [
    "QsimError", "RunInfo", "RunResult", "Scenario", "ScenarioError", "__version__", "compare",
    "fit", "load_scenario", "parse_scenario", "plots", "replicate", "simulate", "sweep",
]


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'qsim' has no attribute {name!r}")
    module = import_module(where.rstrip(":"))
    value = module if where.endswith(":") else getattr(module, name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
