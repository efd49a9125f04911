"""Scenario files: defaults resolved, the SPEC example loads, and every mistake is reported
with file, line, field path and value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import ONE_LOOP_YAML
from pydantic import ValidationError

from qsim.input.dists import Circuits, Exponential, Fixed, Lognormal
from qsim.input.errors import MISSING, QsimError, ScenarioError
from qsim.input.scenario import (
    BackgroundWorkload,
    IndependentWorkload,
    IterativeWorkload,
    Mode,
    Scenario,
    dump_resolved,
    load_scenario,
    parse_scenario,
)

# SPEC §10, verbatim.
SPEC_EXAMPLE = """\
name: vqe-under-load             # required
seed: 0                          # default 0: runs are deterministic unless asked otherwise
horizon: 30d                     # optional; default: the run ends as §11 says
backend:
  lanes: 5
  queue: fifo                    # fifo | fair_share
  job_lock: quantum              # quantum | all (legacy what-if)
  session_entry: drain           # drain | overlap (what-if, §3.3)
  rep_delay: 250us
  calibration: {every: 1h, duration: 5m}   # optional; absent = none
pricing: {usd_per_second: 1.60}
accounting: {session: active_windows}      # active_windows | first_start_to_end
workloads:
  - name: others                 # unique
    kind: background             # iterative | independent | background
    arrivals: {dist: exponential, mean: 60s}   # inter-arrival time; the first job arrives
                                               # one inter-arrival after `start`
    compile: 1s                  # any distribution (§8); default 0
    quantum: {dist: lognormal, mean: 20s, cv: 1}
    post: 0.5s                   # default 0
    instance: others             # fair_share only; default: the workload's name
    share: 1                     # fair_share weight; default 1
  - name: vqe
    kind: iterative
    mode: session                # job | batch | session, or a mapping:
    # mode: {kind: session, interactive_ttl: 60s, max_time: 8h, close: true, cancel_at: 2h}
    #   interactive_ttl default: batch 1s, session 60s; max_time default 8h;
    #   close default true (closed at the workload's last result); cancel_at optional
    iterations: 100
    jobs_per_iteration: 1
    parallel: 1
    classical: {dist: exponential, mean: 10s}
    compile: 3s
    quantum: {circuits: 4, shots: 4096, circuit_duration: 80us}
    #   circuit form: circuits, shots, circuit_duration (default 100us),
    #   rep_delay (default: the backend's), overhead (default 2s), multiplier (default 1)
    post: 1s
    start: 0s
    max_execution_time: 3h       # per-job cap on quantum time (service maximum 3h)
    failure: {probability: 0.02, kind: user, stage: quantum}   # optional
    on_failure: retry            # retry | abort
    max_retries: 3
  - name: sweep
    kind: independent
    mode: batch
    jobs: 50
    submit_interval: 0s          # 0: all at `start`; else one every interval from `start`
    quantum: 12s
"""

# Line numbers matter below: 1 name, 2 workloads, 3 "- name", 4 kind, 5 iterations, 6 quantum.
BASE = ONE_LOOP_YAML


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


# --- the SPEC example and resolved defaults -----------------------------------------------


def test_spec_example_loads_with_everything_resolved(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, SPEC_EXAMPLE, "spec.yaml"))
    assert s.name == "vqe-under-load"
    assert s.horizon == 30 * 86400.0
    assert s.backend.rep_delay == 250e-6
    assert s.backend.session_entry == "drain"
    assert s.backend.calibration is not None
    assert (s.backend.calibration.every, s.backend.calibration.duration) == (3600.0, 300.0)
    assert s.pricing.usd_per_second == 1.60
    others, vqe, sweep = s.workloads
    assert isinstance(others, BackgroundWorkload)
    assert others.arrivals == Exponential(mean=60.0)
    assert others.quantum == Lognormal(mean=20.0, cv=1.0)
    assert others.post == Fixed(value=0.5)
    assert isinstance(vqe, IterativeWorkload)
    assert vqe.mode == Mode(kind="session", interactive_ttl=60.0)
    assert isinstance(vqe.quantum, Circuits)
    assert vqe.quantum.rep_delay == 250e-6
    assert vqe.quantum.mean == pytest.approx(7.40672, abs=1e-9)
    assert vqe.failure is not None and vqe.failure.kind == "user"
    assert vqe.max_execution_time == 10800.0
    assert isinstance(sweep, IndependentWorkload)
    assert sweep.mode.kind == "batch" and sweep.mode.interactive_ttl == 1.0
    assert sweep.jobs == 50 and sweep.quantum == Fixed(value=12.0)


def test_defaults_are_filled_in() -> None:
    s = parse_scenario(yaml.safe_load(BASE))
    assert (s.seed, s.horizon) == (0, None)
    assert s.backend.model_dump() == {
        "lanes": 5, "queue": "fifo", "job_lock": "quantum", "session_entry": "drain",
        "rep_delay": 250e-6,
        "calibration": None, "fair_share_window": 2419200.0, "outages": ()}
    assert s.pricing.usd_per_second == 1.60
    assert s.accounting.session == "active_windows"
    w = s.workloads[0]
    assert w.mode == Mode(kind="job", interactive_ttl=None, max_time=28800.0, close=True)
    assert (w.start, w.share, w.max_execution_time, w.failure) == (0.0, 1.0, 10800.0, None)
    assert w.compile == Fixed(value=0.0) and w.post == Fixed(value=0.0)
    assert w.instance == "vqe"
    assert isinstance(w, IterativeWorkload)
    assert (w.jobs_per_iteration, w.parallel, w.on_failure, w.max_retries) == (1, 1, "retry", 3)
    assert w.classical == Fixed(value=0.0)


@pytest.mark.parametrize(("mode", "ttl"), [("job", None), ("batch", 1.0), ("session", 60.0)])
def test_interactive_ttl_default_depends_on_the_kind(mode: str, ttl: float | None) -> None:
    s = parse_scenario(yaml.safe_load(BASE + f"    mode: {mode}\n"))
    assert s.workloads[0].mode.interactive_ttl == ttl


@pytest.mark.parametrize(("mode", "ttl"), [
    ("{kind: session, max_time: 25s}", 25.0),  # the default 60 s yields to max_time
    ("{kind: session, max_time: 2m}", 60.0),  # no conflict: the default stays
    ("{kind: session, max_time: 25s, interactive_ttl: 10s}", 10.0),
    ("{kind: batch, max_time: 500ms}", 0.5),  # the batch default 1 s yields too
])
def test_a_default_interactive_ttl_yields_to_a_shorter_max_time(mode: str, ttl: float) -> None:
    """SPEC §11: only two values the user wrote can conflict."""
    s = parse_scenario(yaml.safe_load(BASE + f"    mode: {mode}\n"))
    assert s.workloads[0].mode.interactive_ttl == ttl
    assert parse_scenario(dump_resolved(s)) == s  # the resolved TTL loads back


def test_mode_mapping_form() -> None:
    text = BASE + "    mode: {kind: session, interactive_ttl: 30s, max_time: 2h, close: false, " \
                  "cancel_at: 1h}\n"
    mode = parse_scenario(yaml.safe_load(text)).workloads[0].mode
    assert mode == Mode(kind="session", interactive_ttl=30.0, max_time=7200.0, close=False,
                        cancel_at=3600.0)


def test_given_instance_is_kept() -> None:
    s = parse_scenario(yaml.safe_load(BASE + "    instance: team-a\n    share: 2\n"))
    assert (s.workloads[0].instance, s.workloads[0].share) == ("team-a", 2.0)


def test_circuit_rep_delay_comes_from_the_backend_unless_given() -> None:
    text = BASE.replace("quantum: 10s", "quantum: {circuits: 10, shots: 1000}")
    s = parse_scenario(yaml.safe_load(text + "backend: {rep_delay: 500us}\n"))
    assert s.workloads[0].quantum.mean == pytest.approx(2 + (500e-6 + 100e-6) * 10 * 1000)
    default = parse_scenario(yaml.safe_load(text))
    assert default.workloads[0].quantum.mean == pytest.approx(2 + 0.00035 * 10 * 1000)
    own = text.replace("shots: 1000}", "shots: 1000, rep_delay: 0s}")
    assert parse_scenario(yaml.safe_load(own)).workloads[0].quantum.rep_delay == 0.0


def test_every_circuit_form_in_a_scenario_is_resolved(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, SPEC_EXAMPLE))
    for w in s.workloads:
        for field in type(w).model_fields:
            value = getattr(w, field)
            if isinstance(value, Circuits):
                assert isinstance(value.rep_delay, float)


def test_scenario_is_frozen() -> None:
    s = parse_scenario(yaml.safe_load(BASE))
    with pytest.raises(ValidationError):
        s.seed = 3  # type: ignore[misc]


# --- copies -----------------------------------------------------------------------------


def test_with_mode_re_resolves_the_ttl() -> None:
    s = parse_scenario(yaml.safe_load(BASE + "    mode: session\n"))
    batch = s.with_mode("vqe", "batch")
    assert batch.workloads[0].mode == Mode(kind="batch", interactive_ttl=1.0)
    assert batch.with_mode("vqe", "session").workloads[0].mode.interactive_ttl == 60.0
    assert batch.with_mode("vqe", "job").workloads[0].mode.interactive_ttl is None
    assert s.workloads[0].mode.kind == "session"  # the original is untouched


def test_with_mode_keeps_close_and_limits_but_not_the_ttl() -> None:
    text = BASE + "    mode: {kind: session, interactive_ttl: 5s, max_time: 1h, close: false}\n"
    mode = parse_scenario(yaml.safe_load(text)).with_mode("vqe", "batch").workloads[0].mode
    assert mode == Mode(kind="batch", interactive_ttl=1.0, max_time=3600.0, close=False)


def test_with_mode_accepts_a_mode() -> None:
    s = parse_scenario(yaml.safe_load(BASE))
    mode = Mode(kind="session", interactive_ttl=10.0)
    assert s.with_mode("vqe", mode).workloads[0].mode == mode


def test_with_mode_errors() -> None:
    s = parse_scenario(yaml.safe_load(SPEC_EXAMPLE))
    with pytest.raises(QsimError, match=r"no workload named 'nope'.*others, vqe, sweep"):
        s.with_mode("nope", "batch")
    with pytest.raises(ScenarioError) as info:
        s.with_mode("others", "session")
    assert str(info.value) == (
        "workloads[0].mode: background streams always run in job mode (got 'session')")
    with pytest.raises(ScenarioError, match="must be 'job', 'batch' or 'session'"):
        s.with_mode("vqe", "sesion")


def test_with_seed() -> None:
    s = parse_scenario(yaml.safe_load(BASE))
    assert s.with_seed(42).seed == 42
    assert s.with_seed(42).workloads == s.workloads
    with pytest.raises(ScenarioError, match="seed: must be at least 0"):
        s.with_seed(-1)


def test_workload_lookup() -> None:
    s = parse_scenario(yaml.safe_load(SPEC_EXAMPLE))
    assert s.workload("sweep").name == "sweep"
    with pytest.raises(QsimError, match="workloads: others, vqe, sweep"):
        s.workload("x")


def test_dump_resolved_is_plain_data_that_loads_back(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, SPEC_EXAMPLE))
    dumped = dump_resolved(s)
    json.dumps(dumped)
    yaml.safe_dump(dumped)
    assert dumped["workloads"][1]["mode"]["interactive_ttl"] == 60.0
    assert dumped["workloads"][1]["quantum"]["rep_delay"] == 250e-6
    assert parse_scenario(dumped) == s
    assert load_scenario(write(tmp_path, yaml.safe_dump(dumped), "again.yaml")) == s


def test_loading_has_no_side_effects(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_EXAMPLE)
    data = yaml.safe_load(SPEC_EXAMPLE)
    before = json.dumps(data, sort_keys=True)
    parse_scenario(data)
    load_scenario(path)
    assert json.dumps(data, sort_keys=True) == before  # the input dict is not modified
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
    assert path.read_text(encoding="utf-8") == SPEC_EXAMPLE


# --- errors: the exact text users see -----------------------------------------------------

EXACT = [
    # (file content, what follows the file name)
    (BASE.replace("quantum: 10s", "quantum:\n      dist: exponential\n      mean: -3s"),
     ":8: workloads[0].quantum.mean: must not be negative (got '-3s')"),
    (BASE.replace("quantum: 10s", "quantum: 12 parsecs"),
     ":6: workloads[0].quantum: unknown unit 'parsecs': expected one of us, ms, s, m, h, d "
     "(got '12 parsecs')"),
    (BASE.replace("quantum: 10s", "quantum: lots"),
     ":6: workloads[0].quantum: not a duration: expected seconds or a number with a unit "
     "us, ms, s, m, h, d (got 'lots')"),
    (BASE + "    foo: 1\n",
     ":7: workloads[0].foo: unknown key 'foo'; allowed: name, kind, mode, start, compile, "
     "quantum, post, instance, share, max_execution_time, failure, repeat, backend, iterations, "
     "jobs_per_iteration, parallel, classical, on_failure, max_retries"),
    ("colour: blue\n" + BASE,
     ":1: colour: unknown key 'colour'; allowed: name, seed, horizon, warmup, plan, "
     "open_sessions, instances, backend, backends, pricing, accounting, workloads"),
    (BASE + "    mode: sesion\n",
     ":7: workloads[0].mode: must be 'job', 'batch' or 'session' (got 'sesion')"),
    (BASE + "    mode: {kind: sesion}\n",
     ":7: workloads[0].mode.kind: must be 'job', 'batch' or 'session' (got 'sesion')"),
    (BASE.replace("quantum: 10s", "quantum: {dist: gamma, mean: 3s}"),
     ":6: workloads[0].quantum.dist: unknown distribution; expected one of fixed, exponential, "
     "uniform, lognormal, normal, empirical, sum, or the circuit form (circuits:, shots:) "
     "(got 'gamma')"),
    (BASE + "  - name: vqe\n    kind: independent\n    jobs: 2\n    quantum: 1s\n",
     ":7: workloads[1].name: duplicate workload name 'vqe'"),
    ("name: t\nworkloads: []\n", ":2: workloads: must list at least one workload"),
    ("name: t\n", ": workloads: required key missing"),
    (BASE + "    mode:\n      kind: session\n      interactive_ttl: 2h\n      max_time: 1h\n",
     ":9: workloads[0].mode.interactive_ttl: must not be longer than max_time (1h) (got '2h')"),
    # Two values the file gives conflict; a default TTL yields instead (SPEC §11, see below).
    (BASE + "    mode: {kind: session, max_time: 25s, interactive_ttl: 30s}\n",
     ":7: workloads[0].mode.interactive_ttl: must not be longer than max_time (25s) "
     "(got '30s')"),
    (BASE + "backend: {session_entry: exclusive}\n",
     ":7: backend.session_entry: must be 'drain' or 'overlap' (got 'exclusive')"),
    (BASE + "    failure: {probability: 1.5}\n",
     ":7: workloads[0].failure.probability: must be between 0 and 1 (got 1.5)"),
    (BASE + "    failure: {probability: -0.1, kind: user}\n",
     ":7: workloads[0].failure.probability: must be between 0 and 1 (got -0.1)"),
    (BASE.replace("name: t\n", ""), ": name: required key missing"),
    (BASE.replace("    quantum: 10s\n", ""), ":3: workloads[0].quantum: required key missing"),
    (BASE.replace("    iterations: 3\n", ""), ":3: workloads[0].iterations: required key missing"),
    (BASE.replace("    kind: iterative\n", ""),
     ":3: workloads[0].kind: missing workload kind; expected one of iterative, independent, "
     "background, recorded"),
    (BASE.replace("kind: iterative", "kind: loop"),
     ":4: workloads[0].kind: unknown workload kind; expected one of iterative, independent, "
     "background, recorded (got 'loop')"),
    (BASE.replace("iterations: 3", "iterations: many"),
     ":5: workloads[0].iterations: must be a whole number (got 'many')"),
    (BASE.replace("iterations: 3", "iterations: 2.5"),
     ":5: workloads[0].iterations: must be a whole number (got 2.5)"),
    (BASE.replace("iterations: 3", "iterations: 0"),
     ":5: workloads[0].iterations: must be at least 1 (got 0)"),
    (BASE + "backend: {queue: lifo}\n",
     ":7: backend.queue: must be 'fifo' or 'fair_share' (got 'lifo')"),
    (BASE + "backend:\n  lanes: five\n", ":8: backend.lanes: must be a whole number (got 'five')"),
    (BASE + "    max_execution_time: 4h\n",
     ":7: workloads[0].max_execution_time: must be greater than 0 and at most 3h (10800 s, "
     "the service maximum) (got '4h')"),
    (BASE + "    mode: {kind: job, interactive_ttl: 5s}\n",
     ":7: workloads[0].mode.interactive_ttl: interactive_ttl applies only to batch and session "
     "modes (got '5s')"),
    ("name: t\nhorizon: 1h\nworkloads:\n  - name: o\n    kind: background\n    mode: session\n"
     "    arrivals: 60s\n    quantum: 1s\n",
     ":6: workloads[0].mode: background streams always run in job mode (got 'session')"),
    ("name: t\nworkloads:\n  - name: o\n    kind: background\n    arrivals: 60s\n"
     "    quantum: 1s\n",
     ": horizon: required when every workload is background (else the run would end at t=0)"),
    ("name: t\nworkloads:\n  - name: s\n    kind: independent\n    jobs: 3\n    quantum: 1s\n"
     "    on_failure: abort\n",
     ":7: workloads[0].on_failure: unknown key 'on_failure'; allowed: name, kind, mode, start, "
     "compile, quantum, post, instance, share, max_execution_time, failure, repeat, backend, jobs, "
     "submit_interval"),
    (BASE.replace("quantum: 10s", "quantum: {dist: uniform, low: 5s, high: 1s}"),
     ":6: workloads[0].quantum.high: must not be less than low (5s) (got '1s')"),
    (BASE + "    iterations: 4\n", ":7: workloads[0].iterations: duplicate key 'iterations'"),
    ("name: t\nworkloads:\n  - vqe\n", ":3: workloads[0]: must be a mapping (got 'vqe')"),
    ("name: t\nworkloads: {vqe: 1}\n", ":2: workloads: must be a list (got {'vqe': 1})"),
    ("name: t\nworkloads:\n  - name: [oops\n",
     ":4: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    ("name: t\n  nested: wrong\n", ":2: YAML syntax error: mapping values are not allowed here"),
    ("# nothing but a comment\n",
     ": the scenario is empty: it needs at least name: and workloads:"),
    ("", ": the scenario is empty: it needs at least name: and workloads:"),
    ("- name: t\n- name: u\n",
     ":1: the top level must be a mapping (name:, workloads:, ...), not a list"),
    ("just words\n", ":1: the top level must be a mapping (name:, workloads:, ...), not a string"),
]


@pytest.mark.parametrize(("text", "expected"), EXACT)
def test_bad_files_give_the_exact_message(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    message = str(error_of(path))
    assert message == f"{path}{expected}"
    assert "\n" not in message and "pydantic" not in message and "http" not in message


def test_error_attributes(tmp_path: Path) -> None:
    path = write(tmp_path, EXACT[0][0])
    err = error_of(path)
    assert isinstance(err, QsimError)
    assert (err.file, err.line, err.field, err.value) == (
        str(path), 8, "workloads[0].quantum.mean", "-3s")
    assert err.message == "must not be negative"


def test_missing_key_has_no_value(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "name: t\n"))
    assert err.value is MISSING and err.line is None and err.field == "workloads"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert str(error_of(path)) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert str(error_of(tmp_path)) == f"{tmp_path}: is a directory, not a scenario file"


def test_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    assert str(error_of(path)) == f"{path}: not a text file (expected UTF-8 YAML)"


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.system [echo hi]\n")
    assert "unsupported YAML" in str(error_of(path))


def test_parse_scenario_names_its_source() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"name": "t", "workloads": []}, source="inline")
    assert str(info.value) == "inline: workloads: must list at least one workload"
    with pytest.raises(ScenarioError, match="^<scenario>: the scenario is empty"):
        parse_scenario(None)


def test_scenario_error_format_omits_unknown_parts() -> None:
    assert str(ScenarioError("m", file="f.yaml", line=7, field="a[0].b", value="-3s")) == (
        "f.yaml:7: a[0].b: m (got '-3s')")
    assert str(ScenarioError("m", field="a[0].b", value=None)) == "a[0].b: m (got None)"
    assert str(ScenarioError("m", file="f.yaml", field="a")) == "f.yaml: a: m"
    assert str(ScenarioError("m", file="f.yaml")) == "f.yaml: m"


def test_scenario_model_is_usable_from_python() -> None:
    s = Scenario(name="py", workloads=[{"name": "w", "kind": "independent", "jobs": 2,
                                        "quantum": "5s", "mode": "batch"}])
    assert s.workloads[0].mode.interactive_ttl == 1.0
    assert s.workloads[0].quantum == Fixed(value=5.0)


def test_a_context_cannot_open_after_its_workload_starts(tmp_path: Path) -> None:
    path = write(tmp_path, """name: x
workloads:
  - name: v
    kind: iterative
    iterations: 1
    quantum: 1s
    start: 10m
    mode: {kind: session, open_at: 1h}
""")
    assert str(error_of(path)) == (
        f"{path}:8: workloads[0].mode.open_at: must not be after the workload's start "
        "(10m) (got '1h')")


def test_open_at_defaults_to_the_workload_start() -> None:
    sc = parse_scenario({"name": "x", "workloads": [
        {"name": "v", "kind": "iterative", "iterations": 1, "quantum": "1s", "start": "5m",
         "mode": "session"}]})
    assert (sc.workloads[0].mode.open_at, sc.workloads[0].opens_at) == (None, 300.0)


def test_with_mode_keeps_open_at_for_contexts() -> None:
    sc = parse_scenario({"name": "t", "workloads": [
        {"name": "v", "kind": "iterative", "iterations": 2, "quantum": "10s", "start": "10m",
         "mode": {"kind": "session", "open_at": "0s"}}]})
    assert sc.with_mode("v", "batch").workload("v").mode.open_at == 0.0
    assert sc.with_mode("v", "job").workload("v").mode.open_at is None
