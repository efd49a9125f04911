"""The keys of SPEC §19's limits (``instances.NAME.limit``, ``limit_window``, ``cost_limit``,
``on_cost_limit``): bad values name the file, the field and the value, exit 2, and write
nothing; ``validate --show`` states each instance's limits and what the plan implies; the
report says what a limit did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_plan_terms import qsim_cli, refused, write

from qsim.input.scenario import load_scenario

ONE = """\
name: t
{top}instances:
  x: {instance}
workloads:
  - name: x
    kind: independent
    jobs: 3
    quantum: 300s
"""


def text(instance: str, top: str = "") -> str:
    return ONE.format(instance=instance, top=top)


@pytest.mark.parametrize(("instance", "error"), [
    ("{limit: -5s}", "instances.x.limit: must not be negative (got '-5s')"),
    ("{limit: 0s}", "instances.x.limit: must be greater than 0 (got '0s')"),
    ("{limit: 10s, limit_window: 0s}",
     "instances.x.limit_window: must be greater than 0 (got '0s')"),
    ("{cost_limit: -1}", "instances.x.cost_limit: must be greater than 0 (got -1)"),
    ("{cost_limit: .nan}", "instances.x.cost_limit: must be greater than 0 (got nan)"),
    ("{cost_limit: 10, on_cost_limit: later}",
     "instances.x.on_cost_limit: must be 'cancel' or 'finish' (got 'later')"),
])
def test_bad_limits_are_refused(tmp_path: Path, instance: str, error: str) -> None:
    refused(tmp_path, text(instance), f":3: {error}")


def test_a_cost_limit_needs_a_price(tmp_path: Path) -> None:
    refused(tmp_path, text("{cost_limit: 10}", "plan: open\n"),
            ":4: instances.x.cost_limit: needs a price: usage costs nothing on this scenario "
            "(plan open, pricing.usd_per_second 0), so the limit is never reached (got 10)")


def test_limits_are_refused_with_several_backends(tmp_path: Path) -> None:
    several = text("{limit: 10s}") + "backends:\n  - name: a\n  - name: b\n"
    path = write(tmp_path, several)
    proc = qsim_cli("validate", path)
    assert proc.returncode == 2
    assert "instances.x: usage and cost limits are not built for several backends" in \
        proc.stderr


def test_limit_keys_stay_out_of_the_dump_unless_given(tmp_path: Path) -> None:
    from qsim.input.scenario import dump_resolved

    plain = dump_resolved(load_scenario(write(tmp_path, text("{used: 1m}"))))
    assert plain["instances"]["x"] == {"share": 1.0, "allocation": None, "used": 60.0}
    given = dump_resolved(load_scenario(write(tmp_path, text("{limit: 1m, cost_limit: 5}"))))
    assert (given["instances"]["x"]["limit"], given["instances"]["x"]["cost_limit"]) == \
        (60.0, 5.0)


def test_validate_show_states_the_limits_and_the_plans(tmp_path: Path) -> None:
    path = write(tmp_path, text("{used: 5m}", "plan: open\n"))
    shown = qsim_cli("validate", "--show", path).stdout
    assert ("# instance x: usage limit 10m (the open plan's) per 28d, 5m of it used before: "
            "its jobs wait once it is reached, until usage leaves the window") in shown
    path = write(tmp_path, text("{cost_limit: 30, on_cost_limit: finish}"))
    shown = qsim_cli("validate", "--show", path).stdout
    assert ("# instance x: cost limit 30 USD (= 18.75s of usage at 1.6 USD/s): its queued "
            "work and batches or sessions are cancelled then, running jobs finish "
            "(on_cost_limit: finish)") in shown


def test_the_report_says_when_a_limit_was_reached_and_what_it_held(tmp_path: Path) -> None:
    """One lane, 300 s jobs, limit 5m per hour: job 0 reaches it at 300; jobs 1 and 2 are
    held to 3900, job 1 runs and reaches it again at 4200, job 2 is held to 7800: 3 x 1 h."""
    path = write(tmp_path, text("{limit: 5m, limit_window: 1h}").replace(
        "name: t\n", "name: t\nbackend: {lanes: 1}\n"))
    proc = qsim_cli("run", path, "--json")
    assert proc.returncode == 0, proc.stderr
    x = json.loads(proc.stdout)["instances"][0]
    assert (x["limit_reached_at"], x["held_jobs"], x["held_s"]) == (300.0, 2, 3 * 3600.0)
    report = qsim_cli("run", path).stdout
    assert "x: usage limit 5m per 1h reached at 5m; 2 jobs held 3h (job-seconds)" in \
        " ".join(report.split())
