"""Every shipped scenario's report reads at 80 and 120 columns: no line wider than the
terminal and no cell cut short (rich marks a cut with an ellipsis), with and without
replications; many workloads become one line each."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import qsim
from qsim.present import report

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def rendered(summary: dict, width: int) -> list[str]:
    buffer = io.StringIO()
    report.print_summary(Console(file=buffer, width=width, highlight=False), summary)
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_the_report_fits_the_terminal(path: Path, width: int) -> None:
    lines = rendered(qsim.simulate(qsim.load_scenario(path)).summary(), width)
    assert max(len(line) for line in lines) <= width
    assert not [line for line in lines if "…" in line]


@pytest.mark.parametrize("width", [80, 120])
def test_a_replicated_report_fits_too(width: int) -> None:
    summary = qsim.replicate(qsim.load_scenario(SCENARIOS[0].parent / "vqe.yaml"), 3,
                             workers=1).to_dict()
    lines = rendered(summary, width)
    assert max(len(line) for line in lines) <= width
    assert not [line for line in lines if "…" in line]


def test_many_workloads_are_one_line_each() -> None:
    summary = qsim.simulate(qsim.load_scenario(SCENARIOS[0].parent / "group-month.yaml")
                            ).summary()
    lines = rendered(summary, 80)
    names = [w["name"] for w in summary["workloads"]]
    assert len(names) > 4
    for name in names:  # each workload's figures stand on the line that names it
        line = next(line for line in lines if f"│ {name} " in line)
        assert "$" in line


def rendered_comparison(comparison: qsim.experiments.Comparison, width: int) -> list[str]:
    buffer = io.StringIO()
    report.print_comparison(Console(file=buffer, width=width, highlight=False), comparison)
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name,replications", [("vqe.yaml", 1), ("vqe.yaml", 3),
                                               ("sampling-sweep.yaml", 1),
                                               ("qaoa-two-optimisers.yaml", 1)])
def test_the_comparison_table_fits_the_terminal(name: str, replications: int,
                                                width: int) -> None:
    scenario = qsim.load_scenario(SCENARIOS[0].parent / name)
    lines = rendered_comparison(qsim.compare(scenario, replications=replications, workers=1),
                                width)
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= width
    assert not [line for line in table if "…" in line]
    # a cell that would wrap is a row whose first column is blank
    assert not [line for line in table if line.startswith("│    ")]
