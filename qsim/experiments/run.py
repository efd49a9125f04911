"""A run: the model's record log, wrapped in the analysis that reads it."""

from __future__ import annotations

from qsim.analysis.result import RunResult
from qsim.model import engine
from qsim.scenario import Scenario

__all__ = ["simulate"]


def simulate(scenario: Scenario, seed: int | None = None, replication: int = 0) -> RunResult:
    """Run ``scenario`` once. ``seed`` defaults to the scenario's; ``replication`` picks
    an independent set of random streams from the same seed."""
    trace, info = engine.run(scenario, seed, replication)
    return RunResult(trace, info)
