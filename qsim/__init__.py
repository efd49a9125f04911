"""qsim: replay quantum workloads in job, batch and session mode before paying for QPU time.

    >>> import qsim
    >>> result = qsim.simulate(qsim.load_scenario("scenarios/vqe.yaml"))
    >>> result.summary()["workloads"][0]["usage_s"]

The public names resolve on first use, so ``import qsim`` (and ``qsim --help``) loads none of
pandas, matplotlib, SimPy or scipy until a name that needs one is touched.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

from qsim.version import __version__

if TYPE_CHECKING:
    from qsim.analysis.result import RunResult
    from qsim.experiments.advise import advise
    from qsim.experiments.comparison import compare
    from qsim.experiments.fitting import fit
    from qsim.experiments.replications import replicate
    from qsim.experiments.run import simulate
    from qsim.experiments.sweep import sweep
    from qsim.input.errors import QsimError, ScenarioError
    from qsim.input.scenario import Scenario, load_scenario, parse_scenario
    from qsim.present import plots
    from qsim.records.log import RunInfo

# name -> the module that defines it ("" after the module: the module itself)
_LAZY: dict[str, str] = {
    "QsimError": "qsim.input.errors", "ScenarioError": "qsim.input.errors",
    "Scenario": "qsim.input.scenario", "load_scenario": "qsim.input.scenario",
    "parse_scenario": "qsim.input.scenario",
    "simulate": "qsim.experiments", "replicate": "qsim.experiments",
    "compare": "qsim.experiments",
    "sweep": "qsim.experiments.sweep",  # the module's function (the package keeps the module)
    "fit": "qsim.experiments.fitting",
    "advise": "qsim.experiments.advise",  # the module's function, as for sweep
    "RunInfo": "qsim.records.log", "RunResult": "qsim.analysis.result",
    "plots": "qsim.present.plots:",
}

__all__ = [
    "QsimError", "RunInfo", "RunResult", "Scenario", "ScenarioError", "__version__", "advise",
    "compare",
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


# ---- old module paths (0.2), kept for users' imports -----------------------------------------
# 0.3 moved the top-level modules into packages (qsim.input, qsim.records, ...): ``import
# qsim.scenario`` and ``from qsim.trace import Kind`` go on working, as the same module objects.
_MOVED: dict[str, str] = {
    "qsim.dists": "qsim.input.dists",
    "qsim.errors": "qsim.input.errors",
    "qsim.limits": "qsim.input.limits",
    "qsim.loader": "qsim.input.reader",
    "qsim.plans": "qsim.input.plans",
    "qsim.scenario": "qsim.input.scenario",
    "qsim.text": "qsim.input.text",
    "qsim.units": "qsim.input.units",
    "qsim.work": "qsim.input.work",
    "qsim.outages": "qsim.input.outages",
    "qsim.trace": "qsim.records.log",
    "qsim.recording": "qsim.records.trace_file",
    "qsim.rng": "qsim.model.rng",
    "qsim.student_t": "qsim.analysis.student_t",
}


class _OldPaths(MetaPathFinder, Loader):
    """Finds ``qsim.<old name>`` and gives the module at its new place (the same object)."""

    def find_spec(self, name: str, path: object = None, target: object = None
                  ) -> ModuleSpec | None:
        return ModuleSpec(name, self) if name in _MOVED else None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return import_module(_MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        pass  # already executed at its new place


sys.meta_path.insert(0, _OldPaths())  # before any path: an old file left behind never wins
