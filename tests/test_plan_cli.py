"""Issue 15 on the command line: the ``qsim: warning:`` lines a plan or a load earns, and
what ``validate --show`` says qsim derived."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan_terms import LOADED, PLANNED, qsim_cli, write

from qsim.input.scenario import load_scenario


def test_validate_show_states_what_qsim_derived(tmp_path: Path) -> None:
    proc = qsim_cli("validate", write(tmp_path, LOADED), "--show")
    assert proc.returncode == 0, proc.stderr
    assert "# others: mean inter-arrival 30s, offered load 0.700\n" in proc.stdout
    assert "# expected utilisation: 0.700 from open streams" in proc.stdout


def test_an_offered_load_of_one_warns(tmp_path: Path) -> None:
    text = LOADED + ("  - name: more\n    kind: background\n    load: 0.4\n    quantum: 5s\n")
    path = write(tmp_path, text)
    proc = qsim_cli("validate", path)
    assert proc.returncode == 0
    assert proc.stderr == (f"qsim: warning: {path}: the open streams offer a load of 1.100 >= 1:"
                           " the queue grows without bound and the figures depend on the "
                           "horizon\n")


@pytest.mark.slow
def test_the_open_plan_runs_sessions_in_job_mode_and_is_free(tmp_path: Path) -> None:
    path = write(tmp_path, PLANNED)
    scenario = load_scenario(path)
    assert scenario.workloads[0].mode.kind == "job"
    assert scenario.workloads[1].mode.max_time == 600.0  # batch max_time at most 10 min
    assert scenario.pricing.usd_per_second == 0.0
    proc = qsim_cli("validate", path)
    assert proc.returncode == 0
    assert proc.stderr == (f"qsim: warning: {path}:6: workloads[0].mode: session mode is not "
                           "supported on the open plan: this workload runs in job mode instead "
                           "(got 'session')\n")


def test_max_time_above_the_plan_runs_with_a_warning(tmp_path: Path) -> None:
    text = PLANNED.replace("plan: open", "plan: payg").replace(
        "mode: session", "mode: {kind: session, max_time: 10h}")
    path = write(tmp_path, text)
    assert load_scenario(path).workloads[0].mode.max_time == 36000.0
    proc = qsim_cli("validate", path)
    assert proc.returncode == 0
    assert proc.stderr == (f"qsim: warning: {path}:6: workloads[0].mode.max_time: above the "
                           "payg plan's maximum of 8h: run as a what-if (got '10h')\n")


@pytest.mark.slow
def test_compare_and_sweep_warn_too(tmp_path: Path) -> None:
    path = write(tmp_path, PLANNED)
    for args in (("compare", path, "--workload", "vqe"),
                 ("sweep", path, "--vary", "workloads.vqe.iterations=2,3")):
        proc = qsim_cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(f"qsim: warning: {path}:6: workloads[0].mode: session mode "
                                      "is not supported on the open plan"), args
