"""Issue 15 on the command line: the ``qsim: warning:`` lines a plan or a load earns, and
what ``validate --show`` says qsim derived."""

from __future__ import annotations

import json
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


AS_JOBS = PLANNED.replace("plan: open", "plan: open\nopen_sessions: as_jobs")


@pytest.mark.slow
def test_as_jobs_runs_open_sessions_in_job_mode_and_is_free(tmp_path: Path) -> None:
    path = write(tmp_path, AS_JOBS)
    scenario = load_scenario(path)
    assert scenario.workloads[0].mode.kind == "job"
    assert scenario.workloads[1].mode.max_time == 600.0  # batch max_time at most 10 min
    assert scenario.pricing.usd_per_second == 0.0
    proc = qsim_cli("validate", path)
    assert proc.returncode == 0
    assert proc.stderr == (f"qsim: warning: {path}:7: workloads[0].mode: session mode is not "
                           "supported on the open plan: this workload runs in job mode instead "
                           "(open_sessions: as_jobs, a what-if) (got 'session')\n")


def test_run_refuses_an_open_plan_session_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, PLANNED)
    proc = qsim_cli("run", path, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"qsim: error: {path}:6: workloads[0].mode: the open plan "
                                  "refuses sessions")
    assert not (tmp_path / "out").exists()


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
    path = write(tmp_path, AS_JOBS)
    for args in (("compare", path, "--workload", "vqe"),
                 ("sweep", path, "--vary", "workloads.vqe.iterations=2,3")):
        proc = qsim_cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(f"qsim: warning: {path}:7: workloads[0].mode: session mode "
                                      "is not supported on the open plan"), args


OPEN_JOB = PLANNED.replace("mode: session", "mode: job")
LEFT_OUT = ("the open plan refuses sessions (\"Open Plan users cannot submit session jobs\"); "
            "open_sessions: as_jobs runs them in job mode as a what-if")


@pytest.mark.slow
def test_compare_on_the_open_plan_leaves_session_mode_out_and_says_why(tmp_path: Path) -> None:
    path = write(tmp_path, OPEN_JOB)
    proc = qsim_cli("compare", path, "--workload", "vqe", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert list(result["modes"]) == ["job", "batch"]
    assert result["verdict"]["left_out"] == {"session": LEFT_OUT}
    text = qsim_cli("compare", path, "--workload", "vqe")
    assert text.returncode == 0, text.stderr
    assert "session: left out: " + LEFT_OUT in " ".join(text.stdout.split())


def test_compare_of_session_alone_on_the_open_plan_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, OPEN_JOB)
    proc = qsim_cli("compare", path, "--workload", "vqe", "--modes", "session")
    assert proc.returncode == 2
    assert proc.stderr == ("qsim: error: --modes: nothing left to compare: " + LEFT_OUT
                           + " (got 'session')\n")


def test_a_payg_comparison_has_no_left_out_key(tmp_path: Path) -> None:
    from qsim import experiments
    scenario = load_scenario(write(tmp_path, OPEN_JOB.replace("plan: open", "plan: payg")))
    result = experiments.compare(scenario, "vqe", ("job", "session"))
    assert "left_out" not in result.to_dict()["verdict"]
    assert list(result.modes) == ["job", "session"]


def test_a_sweep_onto_the_open_plan_refuses_a_session_point(tmp_path: Path) -> None:
    # Before 0.4 a sweep's points re-validated a dump whose workloads are a tuple, which the
    # plan's rules skipped: this point ran a session on the open plan, free. Now the point is
    # marked refused and the sweep goes on (tests/test_sweep_refused.py).
    path = write(tmp_path, PLANNED.replace("plan: open", "plan: payg"))
    proc = qsim_cli("sweep", path, "--vary", "plan=payg,open")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "1 of 2 points refused, not run (plan=open): workloads.vqe.mode.kind: the open " \
           "plan refuses sessions" in proc.stdout
