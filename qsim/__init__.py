"""qsim: replay quantum workloads in job, batch and session mode before paying for QPU time.

    >>> import qsim
    >>> result = qsim.simulate(qsim.load_scenario("scenarios/vqe.yaml"))
    >>> result.summary()["workloads"][0]["usage_s"]
"""

__version__ = "0.1.0"

from qsim.errors import QsimError, ScenarioError  # noqa: E402
from qsim.scenario import Scenario, load_scenario, parse_scenario  # noqa: E402
from qsim.engine import RunInfo, simulate  # noqa: E402
from qsim.result import RunResult  # noqa: E402
from qsim.experiments import compare, replicate  # noqa: E402

__all__ = [
    "QsimError", "ScenarioError", "Scenario", "load_scenario", "parse_scenario",
    "simulate", "RunInfo", "RunResult", "__version__", "replicate", "compare",
]
