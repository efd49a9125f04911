"""Recorded workloads (SPEC §13) from hand-written traces: exact replay timelines in each
mode, the trace format's round trip, and bad trace files as one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import qsim
from qsim.present.cli import main
from qsim.records import trace_file as recording

# 2 s + (250 us + 50 us) x 2 executions x 10 000 shots = 8 s on the default backend
CIRCUITS = [{"name": "ansatz", "num_qubits": 2, "duration_s": 50e-6, "executions": 2,
             "shots": 10000}]


def job(i: int, context: int | None = 0, **extra: Any) -> dict[str, Any]:
    return {"id": i, "primitive": "estimator", "context": context, "circuits": CIRCUITS,
            "quantum_s": 8.0, **extra}


def trace(steps: list[dict[str, Any]], jobs: int = 2, kind: str | None = "session",
          **extra: Any) -> dict[str, Any]:
    context = None if kind is None else 0
    return {"format": "qsim-trace", "version": 1, "mode": kind or "job",
            "contexts": [] if kind is None else [{"id": 0, "kind": kind}],
            "jobs": [job(i, context) for i in range(jobs)], "steps": steps, **extra}


def think(s: float) -> dict[str, Any]:
    return {"op": "think", "seconds": s}


def submit(j: int) -> dict[str, Any]:
    return {"op": "submit", "job": j}


def wait(j: int) -> dict[str, Any]:
    return {"op": "wait", "job": j}


OPEN, CLOSE = {"op": "open", "context": 0}, {"op": "close", "context": 0}
# A two-round loop: think 3 s, open a session, think 1 s, job, think 5 s, job, close.
LOOP = [think(3), OPEN, think(1), submit(0), wait(0), think(5), submit(1), wait(1), CLOSE]


def write(folder: Path, data: dict[str, Any] | str, top: dict[str, Any] | None = None,
          **workload: Any) -> Path:
    (folder / "trace.json").write_text(data if isinstance(data, str) else json.dumps(data))
    spec = {"name": "p", "kind": "recorded", "trace": "trace.json", **workload}
    scenario = folder / "s.yaml"
    # trace: is on line 5 (errors name it)
    scenario.write_text(yaml.safe_dump({"name": "t", "workloads": [spec], **(top or {})},
                                       sort_keys=False))
    return scenario


def replay(tmp_path: Path, data: dict[str, Any], mode: str | None = None, **workload: Any
           ) -> qsim.RunResult:
    scenario = qsim.load_scenario(write(tmp_path, data, **workload))
    if mode is not None:
        scenario = scenario.with_mode("p", mode)
    return qsim.simulate(scenario)


def spans(result: qsim.RunResult, *columns: str) -> list[tuple[float, ...]]:
    jobs = result.jobs
    return list(zip(*(jobs[c].tolist() for c in columns)))


def windows(result: qsim.RunResult) -> list[tuple[float, float]]:
    w = result.windows
    return list(zip(w["start_at"].tolist(), w["end_at"].tolist()))


def entry(result: qsim.RunResult) -> dict[str, Any]:
    return result.summary()["workloads"][0]


# ---------------------------------------------------------------------------------------------
# Exact timelines


def test_the_loop_replays_as_recorded_in_its_session(tmp_path: Path) -> None:
    # Thinks 4 s before its first job (quantum 4-12) and 5 s after its result (job 2 at 17),
    # closes at its last result: one window from the first dispatch to the close.
    result = replay(tmp_path, trace(LOOP))
    assert spans(result, "submit_at", "quantum_start_at", "end_at") == [
        (4.0, 4.0, 12.0), (17.0, 17.0, 25.0)]
    assert windows(result) == [(4.0, 25.0)]
    p = entry(result)
    assert (p["kind"], p["mode"], p["usage_s"], p["quantum_s"], p["idle_s"]) == (
        "recorded", "session", 21.0, 16.0, 5.0)
    assert (p["wall_time_s"], p["complete"], p["planned_jobs"]) == (21.0, True, 2)
    states = result.contexts[["at", "change"]].to_records(index=False).tolist()
    assert states == [(0.0, "open"), (4.0, "activate"), (25.0, "drain"), (25.0, "close")]


def test_the_mode_override_replays_the_same_program_in_job_and_batch_mode(tmp_path: Path
                                                                          ) -> None:
    job_mode = replay(tmp_path, trace(LOOP), "job")
    assert spans(job_mode, "submit_at", "end_at") == [(4.0, 12.0), (17.0, 25.0)]
    assert (windows(job_mode), entry(job_mode)["usage_s"]) == ([], 16.0)
    batch = replay(tmp_path, trace(LOOP), "batch")
    assert spans(batch, "submit_at", "end_at") == [(4.0, 12.0), (17.0, 25.0)]
    # the 1 s ITTL ends the first window; the close ends the second at the last result
    assert windows(batch) == [(4.0, 13.0), (17.0, 25.0)]
    assert (entry(batch)["mode"], entry(batch)["usage_s"]) == ("batch", 16.0)


def test_given_compile_and_post_replace_the_recorded_ones(tmp_path: Path) -> None:
    data = trace(LOOP)
    data["jobs"][0]["compile_s"] = 9.0  # as recorded, but the workload's compile wins
    result = replay(tmp_path, data, compile="1s", post="500ms")
    assert spans(result, "submit_at", "quantum_start_at", "quantum_end_at", "end_at") == [
        (4.0, 5.0, 13.0, 13.5), (18.5, 19.5, 27.5, 28.0)]
    assert windows(result) == [(4.0, 28.0)]
    recorded = replay(tmp_path, data)  # no compile given: job 0 compiles 9 s, job 1 0 s
    assert spans(recorded, "submit_at", "quantum_start_at", "end_at") == [
        (4.0, 13.0, 21.0), (26.0, 26.0, 34.0)]


def test_jobs_submitted_together_then_waited_for(tmp_path: Path) -> None:
    # A batch: both jobs submitted at 0, the batch closed at once, results fetched after.
    steps = [OPEN, submit(0), submit(1), CLOSE, wait(0), wait(1)]
    result = replay(tmp_path, trace(steps, kind="batch"))
    assert spans(result, "submit_at", "quantum_start_at", "end_at") == [
        (0.0, 0.0, 8.0), (0.0, 8.0, 16.0)]
    assert windows(result) == [(0.0, 16.0)]
    assert (entry(result)["usage_s"], entry(result)["wall_time_s"]) == (16.0, 16.0)


def test_a_program_that_never_closed_its_session_pays_the_ittl_tail(tmp_path: Path) -> None:
    unclosed = replay(tmp_path, trace(LOOP[:-1]))
    assert windows(unclosed) == [(4.0, 85.0)]  # 60 s after its last job
    assert entry(unclosed)["usage_s"] == 81.0
    kept = replay(tmp_path, trace(LOOP[:-1]), "session")  # compare keeps close: false
    assert windows(kept) == [(4.0, 85.0)]
    written = {"mode": "session"}  # a mode written in the file closes at the last result
    closing = qsim.simulate(qsim.load_scenario(write(tmp_path, trace(LOOP[:-1]), **written)))
    assert windows(closing) == [(4.0, 25.0)]


def test_a_job_after_the_last_close_keeps_the_merged_context_open(tmp_path: Path) -> None:
    # A session (job 0), closed; then a job-mode job (1). Replayed in one batch (a mode other
    # than the recorded one puts every job in it): it closes at the workload's end, not at
    # the session's close, so job 1 is not refused.
    data = trace([OPEN, submit(0), wait(0), CLOSE, think(2), submit(1), wait(1)])
    data["jobs"][1]["context"] = None
    result = replay(tmp_path, data, "batch")
    assert spans(result, "submit_at", "end_at") == [(0.0, 8.0), (10.0, 18.0)]
    assert result.jobs["status"].tolist() == ["done", "done"]
    assert result.jobs["context"].tolist() == [0, 0]
    assert windows(result) == [(0.0, 9.0), (10.0, 18.0)]  # a batch's interactive TTL: 1 s
    assert recording.parse_trace(data).modes == ("job", "session")


def test_a_program_that_mixed_modes_replays_each_job_in_its_own(tmp_path: Path) -> None:
    """Issue 25 item 11 (the QAOA tutorial: a session, then a job-mode Sampler). As recorded
    (the mode left out, or written as the recorded one), job 1 runs in job mode: the session
    closes at its recorded close (8), its window 0-8; job 1 queues as any job-mode job
    (behind the others' job, submitted at 9 on the one lane: 9-19, then job 1 19-27) and is
    charged its own quantum time, not the session's. The bug: job 1 ran in the session,
    window 0-18 (the others' job waited for it), billed to it, never queued."""
    data = trace([OPEN, submit(0), wait(0), CLOSE, think(2), submit(1), wait(1)])
    data["jobs"][1]["context"] = None
    others = {"workloads": [{"name": "p", "kind": "recorded", "trace": "trace.json"},
                            {"name": "o", "kind": "independent", "jobs": 1, "quantum": "10s",
                             "start": "9s"}], "backend": {"lanes": 1}}
    for mode in (None, "session"):
        spec = others if mode is None else {
            **others, "workloads": [{**others["workloads"][0], "mode": mode},
                                    others["workloads"][1]]}
        (tmp_path / "trace.json").write_text(json.dumps(data))
        (tmp_path / "s.yaml").write_text(yaml.safe_dump({"name": "t", **spec}))
        result = qsim.simulate(qsim.load_scenario(tmp_path / "s.yaml"))
        jobs = result.jobs
        assert list(zip(jobs["workload"], jobs["context"], jobs["submit_at"],
                        jobs["quantum_start_at"], jobs["end_at"])) == [
            ("p", 0, 0.0, 0.0, 8.0), ("o", -1, 9.0, 9.0, 19.0),
            ("p", -1, 10.0, 19.0, 27.0)], mode
        assert windows(result) == [(0.0, 8.0)]
        p = entry(result)
        assert (p["usage_s"], p["complete"], p["wall_time_s"]) == (16.0, True, 27.0)


def test_a_cancelled_session_stops_the_program(tmp_path: Path) -> None:
    steps = [OPEN, submit(0), submit(1), think(1), {"op": "close", "context": 0, "cancel": True},
             wait(0), wait(1)]
    # One lane: job 0 runs 0-8, job 1 is still queued when the program cancels at 1.
    result = qsim.simulate(qsim.load_scenario(write(tmp_path, trace(steps),
                                                    {"backend": {"lanes": 1}})))
    assert result.jobs["status"].tolist() == ["done", "cancelled"]
    p = entry(result)
    assert (p["complete"], p["jobs"]["cancelled"], p["planned_jobs"]) == (False, 1, 2)


def test_a_recorded_loop_replays_like_the_iterative_workload_it_is(tmp_path: Path) -> None:
    # Five rounds of "submit, wait, think 7 s": the iterative workload with the same phases.
    steps: list[dict[str, Any]] = [OPEN]
    for i in range(5):
        steps += [submit(i), wait(i)] + ([think(7)] if i < 4 else [])
    steps.append(CLOSE)
    others = {"name": "others", "kind": "background", "arrivals": {"dist": "exponential",
              "mean": "20s"}, "quantum": {"dist": "exponential", "mean": "10s"}}
    loop = {"name": "p", "kind": "iterative", "iterations": 5, "classical": "7s",
            "quantum": {"circuits": 2, "shots": 10000, "circuit_duration": "50us"},
            "compile": "2s", "post": "1s"}
    write(tmp_path, trace(steps, jobs=5), compile="2s", post="1s")
    scenario_file = tmp_path / "both.yaml"
    for mode in ("job", "batch", "session"):
        recorded = {"name": "p", "kind": "recorded", "trace": "trace.json", "compile": "2s",
                    "post": "1s", "mode": mode}
        scenario_file.write_text(json.dumps({"name": "t", "workloads": [recorded, others]}))
        a = qsim.simulate(qsim.load_scenario(scenario_file))
        b = qsim.simulate(qsim.parse_scenario(
            {"name": "t", "workloads": [{**loop, "mode": mode}, others]}))
        assert a.jobs.drop(columns="workload").equals(b.jobs.drop(columns="workload")), mode
        assert entry(a)["usage_s"] == entry(b)["usage_s"]


def test_compare_replications_plots_and_the_cli_take_it_like_any_workload(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write(tmp_path, trace(LOOP))
    comparison = qsim.compare(qsim.load_scenario(scenario), "p", ["job", "batch", "session"],
                              replications=2)
    usage = {m: comparison.figure(m, "usage_s") for m in comparison.modes}
    assert usage == {"job": 16.0, "batch": 16.0, "session": 21.0}
    reps = qsim.replicate(qsim.load_scenario(scenario), 3)
    assert reps.to_dict()["workloads"][0]["jobs"]["done"]["mean"] == 2
    assert main(["run", str(scenario), "--plot", str(tmp_path / "t.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["workloads"][0]["usage_s"] == 21.0
    assert (tmp_path / "t.png").stat().st_size > 0
    assert main(["validate", str(scenario)]) == 0
    assert "p (recorded, session)" in capsys.readouterr().out


def test_a_resolved_scenario_loads_again_equal(tmp_path: Path) -> None:
    scenario = qsim.load_scenario(write(tmp_path, trace(LOOP)))
    again = qsim.parse_scenario(qsim.input.scenario.dump_resolved(scenario))
    assert again == scenario


# ---------------------------------------------------------------------------------------------
# The format


def test_a_trace_round_trips_and_says_what_it_used(tmp_path: Path) -> None:
    rec = recording.parse_trace(trace(LOOP))
    assert (rec.modes, rec.closed, rec.think_s, rec.quantum_s()) == (("session",), True,
                                                                      9.0, 16.0)
    assert rec.jobs[0].quantum_seconds(500e-6) == 2 + (550e-6 * 2 * 10000)
    assert recording.parse_trace(json.loads(recording.dump_trace(rec))) == rec


def test_the_scenario_text_loads_and_its_background_switches_on(tmp_path: Path) -> None:
    rec = recording.parse_trace(trace(LOOP))
    text = recording.scenario_text(rec, name="my vqe: run 1", command="qsim trace vqe.py")
    (tmp_path / "trace.json").write_text(recording.dump_trace(rec))
    (tmp_path / "scenario.yaml").write_text(text)
    scenario = qsim.load_scenario(tmp_path / "scenario.yaml")
    assert [(w.name, w.kind, w.mode.kind) for w in scenario.workloads] == [
        ("my vqe: run 1", "recorded", "session")]
    switched = "\n".join(line.replace("  # ", "  ", 1) if i > text.splitlines().index(
        "  # - name: others") - 1 else line for i, line in enumerate(text.splitlines()))
    (tmp_path / "scenario.yaml").write_text(switched + "\n")
    loaded = qsim.load_scenario(tmp_path / "scenario.yaml")
    assert [w.kind for w in loaded.workloads] == ["recorded", "background"]


BAD = [
    ("not json", "not valid JSON: Expecting value (line 1, column 1)"),
    ({"format": "other"}, "format: not a qsim trace (expected 'qsim-trace') (got 'other')"),
    ({**trace(LOOP), "version": 3},
     "version: written by a newer qsim (trace version 3; this qsim reads version 2): "
     "upgrade qsim to replay it"),
    ({**trace(LOOP), "jobs": [job(0, circuits=[{**CIRCUITS[0], "shots": 0}]), job(1)]},
     "jobs[0].circuits[0].shots: must be at least 1 (got 0)"),
    ({**trace(LOOP), "steps": [think(1), {"op": "sleep"}]},
     "steps[1].op: unknown step; expected one of think, submit, wait, open, close "
     "(got 'sleep')"),
    ({**trace([OPEN, wait(0), submit(0), submit(1), CLOSE])},
     "steps[1].job: waits for job 0 before it is submitted"),
    ({**trace([OPEN, submit(0), CLOSE])}, "jobs[1]: is never submitted (no submit step names it)"),
    ({**trace(LOOP), "jobs": [job(0, quantum_s=9.0), job(1)]},
     "jobs[0].quantum_s: does not match the job's circuits by SPEC §2's formula (they give "
     "8.0 s) (got 9.0)"),
    ({**trace(LOOP), "jobs": [job(0), job(2)]}, "jobs[1].id: must be 1: ids are positions in "
     "the list (got 2)"),
    ({**trace(LOOP), "mode": "sesion"},
     "mode: must be 'job', 'batch' or 'session' (got 'sesion')"),
]


@pytest.mark.parametrize("data,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_a_bad_trace_is_one_line_naming_the_file_and_the_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, message: str) -> None:
    scenario = write(tmp_path, data)
    assert main(["run", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err == (f"qsim: error: {scenario}:5: workloads[0].trace: {tmp_path}/trace.json: "
                   f"{message}\n")


def test_a_missing_trace_and_keys_a_recorded_workload_does_not_take(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: t\nworkloads:\n  - name: p\n    kind: recorded\n"
                        "    trace: gone/trace.json\n")
    assert main(["run", str(scenario)]) == 2
    assert capsys.readouterr().err == (f"qsim: error: {scenario}:5: workloads[0].trace: "
                                       f"{tmp_path}/gone/trace.json: no such file\n")
    write(tmp_path, trace(LOOP), quantum="3s")
    assert main(["run", str(scenario)]) == 2
    assert capsys.readouterr().err == (
        f"qsim: error: {scenario}:6: workloads[0].quantum: not used by a recorded workload: "
        "each job's quantum time comes from its recorded circuits\n")
    with pytest.raises(recording.TraceError, match=r"^x\.json: no such file$"):
        recording.read_trace(tmp_path / "x.json", "x.json")


@pytest.mark.slow
def test_out_never_replaces_the_folder_of_the_trace_it_replays(tmp_path: Path) -> None:
    # A folder written by `qsim trace` (trace.json and scenario.yaml, with qsim's manifest) is
    # one qsim may replace, and `qsim run DIR/scenario.yaml --out DIR` would lose the
    # recording itself: the command's own inputs are refused as --out.
    from qsim.present.files import write_out_dir

    folder = tmp_path / "my-vqe"
    write_out_dir(folder, {"trace.json": json.dumps(trace(LOOP)),
                           "scenario.yaml": "name: t\nworkloads:\n"
                                            "  - {name: p, kind: recorded, trace: trace.json}\n"})
    before = sorted(p.name for p in folder.iterdir())
    for command in (["run"], ["compare"]):
        done = subprocess.run([sys.executable, "-m", "qsim", *command,
                               str(folder / "scenario.yaml"), "--out", str(folder)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        assert done.stderr.startswith(f"qsim: error: --out {folder}: holds ")
        assert len(done.stderr.splitlines()) == 1
        assert sorted(p.name for p in folder.iterdir()) == before
