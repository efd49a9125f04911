"""Issue 15: the plan in the user's own terms (SPEC §8, §12, §14): compound durations,
background by target load, plans, allocations, repeats, warm-up, phases that scale.

Each new key has its bad-input line here: one ``qsim: error:`` line naming the file, the line,
the field and the value, exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ONE_LOOP_YAML

from qsim.input.errors import ScenarioError
from qsim.input.scenario import load_scenario
from qsim.input.units import parse_duration
from qsim.present.window import parse_window

ROOT = Path(__file__).resolve().parents[1]


def qsim_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, expected: str) -> None:
    """``qsim validate`` prints exactly one error line, ``FILE:expected``, and exits 2."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}{expected}"
    proc = qsim_cli("validate", path)
    assert proc.returncode == 2
    assert proc.stderr == f"qsim: error: {path}{expected}\n"


# --- durations (SPEC §8) ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("1h30m", 5400.0), ("1d10h", 122400.0), ("2m30s", 150.0), ("1d", 86400.0),
    ("1m30s500ms", 90.5), ("1h30.5m", 5430.0), ("1d1s", 86401.0),
])
def test_compound_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("1h30", "every part of a compound duration needs a unit, e.g. 1h30m (us, ms, s, m, h, d)"),
    ("30m1h", "the parts of a compound duration go largest first, each unit once, e.g. 1d10h "
              "or 2m30s"),
    ("1m1m", "the parts of a compound duration go largest first, each unit once, e.g. 1d10h "
             "or 2m30s"),
    # issue 25: read as 2h, it is a typo for 1h30m or 1.5h far more often
    ("1.5h30m", "only the last part of a compound duration may have a fraction, e.g. 1h30.5m"),
])
def test_compound_duration_mistakes(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == message


def test_window_reads_compound_durations() -> None:
    assert parse_window("1h30m:1d10h") == (5400.0, 122400.0)


BASE = ONE_LOOP_YAML


def test_a_compound_duration_in_a_file(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE + "    start: 1d10h\n"))
    assert scenario.workloads[0].start == 122400.0


@pytest.mark.slow
def test_a_unitless_part_is_one_error_line(tmp_path: Path) -> None:
    refused(tmp_path, BASE + "    start: 1h30\n",
            ":7: workloads[0].start: every part of a compound duration needs a unit, e.g. "
            "1h30m (us, ms, s, m, h, d) (got '1h30')")


# --- background by target load (SPEC §12) -----------------------------------------------------

LOADED = """\
name: t
horizon: 1d
workloads:
  - name: others
    kind: background
    load: 0.7
    quantum: {dist: lognormal, mean: 21s, cv: 1}
"""


def test_load_gives_exponential_arrivals_of_mean_quantum_over_load(tmp_path: Path) -> None:
    from qsim.input import plans
    from qsim.input.dists import Exponential
    from qsim.input.scenario import dump_resolved, parse_scenario

    scenario = load_scenario(write(tmp_path, LOADED))
    assert scenario.workloads[0].arrivals.mean == pytest.approx(30.0)
    assert isinstance(scenario.workloads[0].arrivals, Exponential)
    assert parse_scenario(dump_resolved(scenario)) == scenario  # the dump loads back
    (load,) = plans.offered_load(scenario)
    assert load.mean_interarrival_s == pytest.approx(30.0) and load.rho == pytest.approx(0.7)
    assert scenario.warnings == ()


def test_a_simulated_load_keeps_the_qpu_busy_that_fraction(tmp_path: Path) -> None:
    import qsim

    text = LOADED.replace("1d", "20d").replace("{dist: lognormal, mean: 21s, cv: 1}", "21s")
    result = qsim.simulate(load_scenario(write(tmp_path, text)))
    jobs = result.jobs
    busy = jobs["quantum_s"].sum() if "quantum_s" in jobs else None
    assert busy is not None
    assert busy / (20 * 86400) == pytest.approx(0.7, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize(("line", "expected"), [
    ("    load: 1.2\n", ":6: workloads[0].load: must be greater than 0 and less than 1: the "
                        "fraction of the time the background alone keeps the QPU busy (got 1.2)"),
    ("    load: 0\n", ":6: workloads[0].load: must be greater than 0 and less than 1: the "
                      "fraction of the time the background alone keeps the QPU busy (got 0)"),
    ("    load: 0.5\n    arrivals: 3s\n", ":6: workloads[0].load: give arrivals or load, not "
                                          "both (got 0.5)"),
    ("", ":4: workloads[0].arrivals: required: the inter-arrival times, or load: X instead "
         "(the fraction of the time the background keeps the QPU busy)"),
])
def test_bad_loads(tmp_path: Path, line: str, expected: str) -> None:
    text = ("name: t\nhorizon: 1d\nworkloads:\n  - name: others\n    kind: background\n"
            + line + "    quantum: 20s\n")
    refused(tmp_path, text, expected)


# --- plans (SPEC §12) -------------------------------------------------------------------------

PLANNED = """\
name: t
plan: open
workloads:
  - name: vqe
    kind: iterative
    mode: session
    iterations: 3
    quantum: 10s
  - name: sweep
    kind: independent
    mode: batch
    jobs: 2
    quantum: 10s
"""


@pytest.mark.parametrize(("plan", "price"), [("payg", 1.60), ("flex", 1.20), ("premium", 1.60)])
def test_plan_price_presets(tmp_path: Path, plan: str, price: float) -> None:
    text = PLANNED.replace("plan: open", f"plan: {plan}")
    assert load_scenario(write(tmp_path, text)).pricing.usd_per_second == price
    given = text.replace("workloads:", "pricing: {usd_per_second: 2.5}\nworkloads:")
    assert load_scenario(write(tmp_path, given)).pricing.usd_per_second == 2.5  # given wins


def test_an_open_batch_longer_than_ten_minutes_warns(tmp_path: Path) -> None:
    text = PLANNED.replace("mode: batch", "mode: {kind: batch, max_time: 1h}").replace(
        "mode: session", "mode: job")
    assert "workloads[1].mode.max_time: above the open plan's maximum of 10m" in \
        load_scenario(write(tmp_path, text)).warnings[0]


REFUSED = ("the open plan refuses sessions (\"Open Plan users cannot submit session jobs\"); "
           "run this workload in job or batch mode, or set open_sessions: as_jobs for the "
           "older reading (\"Jobs will run in job mode instead\") (got 'session')")


def test_the_open_plan_refuses_a_session(tmp_path: Path) -> None:
    # SPEC §19: today's documentation says the service returns an error; so does qsim.
    refused(tmp_path, PLANNED, ":6: workloads[0].mode: " + REFUSED)


def test_the_open_plan_refuses_a_session_given_as_a_mapping(tmp_path: Path) -> None:
    text = PLANNED.replace("mode: session", "mode: {kind: session, ttl: 30s}")
    refused(tmp_path, text, ":6: workloads[0].mode.kind: " + REFUSED)


def test_open_sessions_must_be_as_jobs_or_refuse(tmp_path: Path) -> None:
    text = PLANNED.replace("plan: open", "plan: open\nopen_sessions: batch")
    refused(tmp_path, text, ":3: open_sessions: must be 'refuse' or 'as_jobs' (got 'batch')")


def test_open_sessions_as_jobs_keeps_the_older_reading(tmp_path: Path) -> None:
    text = PLANNED.replace("plan: open", "plan: open\nopen_sessions: as_jobs")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.workloads[0].mode.kind == "job"
    assert scenario.open_sessions == "as_jobs"
    assert scenario.warnings[0].endswith(
        ":7: workloads[0].mode: session mode is not supported on the open plan: this workload "
        "runs in job mode instead (open_sessions: as_jobs, a what-if) (got 'session')")


def test_open_sessions_is_left_out_of_the_dump_when_not_given(tmp_path: Path) -> None:
    from qsim.input.scenario import dump_resolved
    text = PLANNED.replace("mode: session", "mode: job")
    assert "open_sessions" not in dump_resolved(load_scenario(write(tmp_path, text)))
    given = text.replace("plan: open", "plan: open\nopen_sessions: as_jobs")
    assert dump_resolved(load_scenario(write(tmp_path, given)))["open_sessions"] == "as_jobs"


@pytest.mark.slow
def test_an_unknown_plan(tmp_path: Path) -> None:
    refused(tmp_path, PLANNED.replace("plan: open", "plan: free"),
            ":2: plan: must be 'payg', 'open', 'flex' or 'premium' (got 'free')")


# --- allocations (SPEC §12) -------------------------------------------------------------------

GROUP = """\
name: group
backend: {queue: fair_share, lanes: 1}
instances:
  chemistry: {share: 1, allocation: 10m, used: 2m}
workloads:
  - name: alice
    kind: independent
    instance: chemistry
    jobs: 3
    quantum: 60s
  - name: bob
    kind: independent
    jobs: 3
    quantum: 60s
"""


def test_the_summary_states_each_instance_against_its_allocation(tmp_path: Path) -> None:
    import qsim

    summary = qsim.simulate(load_scenario(write(tmp_path, GROUP))).summary()
    (chemistry,) = summary["instances"]
    assert chemistry == {"name": "chemistry", "share": 1.0, "usage_s": 180.0,
                         "allocation_s": 600.0, "used_s": 120.0, "remaining_s": 300.0,
                         "over_allocation": 0.0}


def test_prior_use_counts_toward_fair_share(tmp_path: Path) -> None:
    """With 2 min already used, chemistry waits until bob has used as much (two 60-s jobs);
    without, they alternate."""
    import qsim

    def qpu_order(text: str) -> list[str]:
        jobs = qsim.simulate(load_scenario(write(tmp_path, text))).jobs
        return list(jobs.sort_values(["dispatch_at", "job"])["workload"])

    assert qpu_order(GROUP.replace("used: 2m", "used: 0s"))[:2] == ["alice", "bob"]
    assert qpu_order(GROUP)[:4] == ["bob", "bob", "alice", "bob"]


def test_replications_give_the_share_that_go_over(tmp_path: Path) -> None:
    import qsim

    text = GROUP.replace("jobs: 3\n    quantum: 60s\n  - name: bob",
                         "jobs: 3\n    quantum: {dist: exponential, mean: 100s}\n  - name: bob")
    reps = qsim.replicate(load_scenario(write(tmp_path, text)), 40, seed=1)
    over = reps.to_dict()["instances"][0]["over_allocation"]["mean"]
    # usage of 3 exponential jobs of mean 100 s exceeds 480 s with P(Gamma(3, 100) > 480)
    expected = sum(4.8 ** k / __import__("math").factorial(k) for k in range(3)) \
        * __import__("math").exp(-4.8)
    assert abs(over - expected) < 0.2
    assert 0 < over < 1


@pytest.mark.slow
@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.replace("instance: chemistry\n", "instance: chemstry\n"),
     ":8: workloads[0].instance: no such instance; instances: chemistry (got 'chemstry')"),
    (lambda t: t.replace("    instance: chemistry\n", ""),
     ":4: instances.chemistry: no workload uses this instance (a workload names it with "
     "instance:)"),
    (lambda t: t.replace("used: 2m", "used: 1h30"),
     ":4: instances.chemistry.used: every part of a compound duration needs a unit, e.g. "
     "1h30m (us, ms, s, m, h, d) (got '1h30')"),
    (lambda t: t.replace("share: 1,", "share: 0,"),
     ":4: instances.chemistry.share: must be greater than 0 (got 0)"),
    (lambda t: t.replace("instance: chemistry\n", "instance: chemistry\n    share: 2\n"),
     ":9: workloads[0].share: instance 'chemistry' has share 1: give the share on the "
     "instance (got 2)"),
])
def test_bad_instances(tmp_path: Path, change: object, expected: str) -> None:
    refused(tmp_path, change(GROUP), expected)  # type: ignore[operator]


def test_the_report_has_an_instance_table(tmp_path: Path) -> None:
    import qsim
    from qsim.present import report

    reps = qsim.replicate(load_scenario(write(tmp_path, GROUP)), 3, seed=1)
    out = report.console()
    with out.capture() as captured:
        report.print_summary(out, reps.to_dict())
    text = captured.get()
    assert "Instances" in text and "chemistry" in text and "0% [0%–56%] of 3 runs" in text


# --- repeats (SPEC §12) -----------------------------------------------------------------------

NIGHTLY = """\
name: nightly
workloads:
  - name: sweep
    kind: independent
    mode: {kind: batch, cancel_at: 2h}
    jobs: 2
    quantum: 12s
    start: 1h
    repeat: {every: 1d, times: 3}
"""


def test_a_repeat_is_its_copies_started_every_apart(tmp_path: Path) -> None:
    import qsim
    from qsim.input.scenario import dump_resolved, parse_scenario

    scenario = load_scenario(write(tmp_path, NIGHTLY))
    assert [(w.name, w.start, w.mode.cancel_at, w.instance) for w in scenario.workloads] == [
        ("sweep#1", 3600.0, 7200.0, "sweep"), ("sweep#2", 90000.0, 93600.0, "sweep"),
        ("sweep#3", 176400.0, 180000.0, "sweep")]
    assert parse_scenario(dump_resolved(scenario)) == scenario
    summary = qsim.simulate(scenario).summary()
    assert [w["usage_s"] for w in summary["workloads"]] == [24.0, 24.0, 24.0]


@pytest.mark.slow
@pytest.mark.parametrize(("change", "expected"), [
    ("times: 3", ":9: workloads[0].repeat.times: must be at least 1 (got 0)"),
    ("every: 1d", ":9: workloads[0].repeat.every: must be greater than 0 (got '0s')"),
])
def test_bad_repeats(tmp_path: Path, change: str, expected: str) -> None:
    bad = {"times: 3": "times: 0", "every: 1d": "every: 0s"}[change]
    refused(tmp_path, NIGHTLY.replace(change, bad), expected)


@pytest.mark.slow
def test_a_background_stream_does_not_repeat(tmp_path: Path) -> None:
    text = NIGHTLY + ("  - name: others\n    kind: background\n    load: 0.2\n    quantum: 5s\n"
                      "    repeat: {every: 1d, times: 2}\n")
    refused(tmp_path, text, ":14: workloads[1].repeat: applies to foreground workloads: a "
            "background stream runs for the whole run")


# --- warm-up: start in steady state -----------------------------------------------------------

WARM = """\
name: warm
warmup: {warmup}
backend: {{lanes: 1}}
workloads:
  - name: others
    kind: background
    load: 0.5
    quantum: {{dist: exponential, mean: 20s}}
  - name: probe
    kind: independent
    jobs: 1
    quantum: 1s
"""


@pytest.mark.slow
def test_after_a_warmup_the_first_jobs_wait_is_the_long_run_wait(tmp_path: Path) -> None:
    """One lane, no compile or post: the backend is M/M/1 (see test_validation_queueing), whose
    long-run wait is Wq = rho / (mu - lambda) = 0.5 * 20 / 0.5 = 20 s. A job arriving at a fixed
    time into the stationary queue waits Wq on average (PASTA). After a warm-up of 1 h, some
    15 relaxation times E[S] / (1 - sqrt(rho))^2 = 233 s, the probe's wait over replications
    matches Wq within Z = 4 standard errors; without, the probe finds an empty backend."""
    import numpy as np

    import qsim

    def waits(warmup: str, replications: int) -> np.ndarray:
        scenario = load_scenario(write(tmp_path, WARM.format(warmup=warmup)))
        reps = qsim.replicate(scenario, replications, seed=20240501)
        return np.array([s["workloads"][1]["first_queue_wait_s"] for s in reps.summaries])

    warm = waits("1h", 600)
    se = warm.std(ddof=1) / np.sqrt(len(warm))
    assert abs(warm.mean() - 20.0) < 4 * se, (warm.mean(), se)
    assert se < 2.0  # the check has power: 20 s is ten standard errors from 0
    assert (waits("0s", 3) == 0).all()
    # The run's figures are from t = 0: the others' jobs before it are not counted.
    scenario = load_scenario(write(tmp_path, WARM.format(warmup="1h")))
    summary = qsim.simulate(scenario).summary()
    assert summary["workloads"][0]["jobs"]["submitted"] < 5


@pytest.mark.slow
def test_a_warmup_needs_a_background(tmp_path: Path) -> None:
    refused(tmp_path, "name: t\nwarmup: 1h30\n" + BASE.split("\n", 1)[1],
            ":2: warmup: every part of a compound duration needs a unit, e.g. 1h30m (us, ms, s, "
            "m, h, d) (got '1h30')")
    refused(tmp_path, "name: t\nwarmup: 1h\n" + BASE.split("\n", 1)[1],
            ":2: warmup: needs a background workload to warm the backend up (got '1h')")


# --- phases that scale, sums (SPEC §14) -------------------------------------------------------

SCALED = """\
name: sweep
workloads:
  - name: s
    kind: iterative
    iterations: 2
    compile: {base: 1s, per_circuit: 40ms}
    post: {base: 0.5s, per_circuit: 10ms}
    classical: {dist: sum, of: [5s, {dist: exponential, mean: 2s}]}
    quantum: {circuits: 50, shots: 1000, multiplier: 3}
"""


def test_compile_and_post_scale_with_the_circuits(tmp_path: Path) -> None:
    import qsim
    from qsim.input.scenario import dump_resolved, parse_scenario

    scenario = load_scenario(write(tmp_path, SCALED))
    w = scenario.workloads[0]
    assert (w.compile.mean, w.post.mean) == (3.0, 1.0)  # no multiplier: seen once
    assert w.classical.mean == 7.0
    assert parse_scenario(dump_resolved(scenario)) == scenario
    jobs = qsim.simulate(scenario).jobs
    assert list(jobs["compile_end_at"] - jobs["compile_start_at"]) == [3.0, 3.0]


def test_a_sums_draws_average_to_its_analytic_mean() -> None:
    import numpy as np
    from pydantic import TypeAdapter

    from qsim.input.dists import Distribution

    dist = TypeAdapter(Distribution).validate_python(
        {"dist": "sum", "of": [{"dist": "uniform", "low": 1, "high": 3},
                               {"dist": "lognormal", "mean": "2s", "cv": 1}, "500ms"]})
    assert dist.mean == 4.5
    draws = dist.sample(np.random.default_rng(7), 200_000)
    assert abs(draws.mean() - 4.5) < 4 * draws.std() / np.sqrt(len(draws))


@pytest.mark.slow
@pytest.mark.parametrize(("old", "new", "expected"), [
    ("quantum: {circuits: 50, shots: 1000, multiplier: 3}", "quantum: 10s",
     ":6: workloads[0].compile: {base, per_circuit} applies to compile and post when quantum "
     "has the circuit form (circuits:, shots:)"),
    ("of: [5s, {dist: exponential, mean: 2s}]", "of: []",
     ":8: workloads[0].classical.of: must not be empty (got [])"),
    ("of: [5s, {dist: exponential, mean: 2s}]", "of: [5s, {circuits: 2, shots: 10}]",
     ":8: workloads[0].classical.of[1]: a part of a sum is a distribution of durations, not "
     "the circuit form"),
    ("per_circuit: 40ms", "per_circuit: 40", None),
    ("per_circuit: 40ms", "per_circuit: 1h30",
     ":6: workloads[0].compile.per_circuit: every part of a compound duration needs a unit, "
     "e.g. 1h30m (us, ms, s, m, h, d) (got '1h30')"),
])
def test_bad_phases(tmp_path: Path, old: str, new: str, expected: str | None) -> None:
    if expected is None:  # a number is seconds: accepted
        load_scenario(write(tmp_path, SCALED.replace(old, new)))
        return
    refused(tmp_path, SCALED.replace(old, new), expected)


def test_sweep_paths_reach_what_is_derived(tmp_path: Path) -> None:
    """Varying load, circuits or plan re-derives the arrivals, the per-circuit phases and the
    price, as editing the file would."""
    from qsim.experiments.fields import with_fields

    loaded = with_fields(load_scenario(write(tmp_path, LOADED)),
                         [("workloads.others.load", 0.3), ("plan", "flex")])
    assert loaded.workloads[0].arrivals.mean == pytest.approx(70.0)
    assert loaded.pricing.usd_per_second == 1.20
    scaled = with_fields(load_scenario(write(tmp_path, SCALED)),
                         [("workloads.s.quantum.circuits", 10)])
    assert scaled.workloads[0].compile.mean == pytest.approx(1.4)


def test_the_summary_and_report_state_the_offered_load(tmp_path: Path) -> None:
    import qsim
    from qsim.present import report

    summary = qsim.simulate(load_scenario(write(tmp_path, LOADED))).summary()
    (stream,) = summary["streams"]
    assert stream["name"] == "others" and stream["mean_interarrival_s"] == pytest.approx(30.0)
    assert summary["expected_utilization"] == pytest.approx(0.7)
    assert report.streams_line(summary) == ("offered load: others one job every 30s (load "
                                            "0.70); expected utilisation 0.70")


def test_an_open_plan_instance_has_ten_minutes_unless_told(tmp_path: Path) -> None:
    text = GROUP.replace("name: group\n", "name: group\nplan: open\n")
    assert load_scenario(write(tmp_path, text)).instances["chemistry"].allocation == 600.0
    unset = text.replace("allocation: 10m, ", "")
    assert load_scenario(write(tmp_path, unset)).instances["chemistry"].allocation == 600.0
    paid = GROUP.replace("allocation: 10m, ", "")
    assert load_scenario(write(tmp_path, paid)).instances["chemistry"].allocation is None
