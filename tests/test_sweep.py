"""qsim.sweep and `qsim sweep`: the grid and its paths, the table, the same answer from every
executor (serial, the local pool, a Dask cluster on the loopback), agreement with
qsim.replicate and with queueing theory, and the command line as a user meets it."""

from __future__ import annotations

import io
import math
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL_YAML, scenario

import qsim
from qsim.analysis.sweeps import point_estimates, sweep_frame
from qsim.experiments import Estimate, executors
from qsim.experiments.sweep import SweepError, grid, parse_vary, points, with_fields

LOOP = {"name": "vqe", "kind": "iterative", "mode": "session", "iterations": 3,
        "compile": "2s", "quantum": {"circuits": 10, "shots": 1000}, "post": "1s",
        "classical": {"dist": "exponential", "mean": "5s"}}
OTHERS = {"name": "others", "kind": "background",
          "arrivals": {"dist": "exponential", "mean": "20s"},
          "quantum": {"dist": "lognormal", "mean": "8s", "cv": 1}}
VARY = {"workloads.others.arrivals.mean": ["40s", "20s"], "workloads.vqe.mode": ["job", "session"]}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sc() -> qsim.Scenario:
    return scenario(OTHERS, LOOP, seed=5)


def message(sc: qsim.Scenario, vary: dict[str, list[Any]]) -> str:
    with pytest.raises(SweepError) as caught:
        points(sc, vary)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# The options and the grid


@pytest.mark.parametrize("option, parsed", [
    ("backend.lanes=1,2,5", ("backend.lanes", [1, 2, 5])),
    ("workloads.others.arrivals.mean=10s, 1m30s,25", ("workloads.others.arrivals.mean",
                                                      ["10s", "1m30s", 25])),
    ("workloads.vqe.mode=job,session", ("workloads.vqe.mode", ["job", "session"])),
    ("workloads.vqe.mode={kind: session, interactive_ttl: 5s},batch",
     ("workloads.vqe.mode", [{"kind": "session", "interactive_ttl": "5s"}, "batch"])),
    ("pricing.usd_per_second=1.6,0.96", ("pricing.usd_per_second", [1.6, 0.96])),
    ("backend.calibration='{every: 1h}'", ("backend.calibration", ["{every: 1h}"])),
])
def test_values_read_as_a_file_reads_them(option: str, parsed: tuple[str, list[Any]]) -> None:
    assert parse_vary(option) == parsed


@pytest.mark.parametrize("option, error", [
    ("backend.lanes", "--vary backend.lanes: expected PATH=V1,V2,... (e.g. backend.lanes=1,2,5)"),
    ("=1,2", "--vary =1,2: expected PATH=V1,V2,... (e.g. backend.lanes=1,2,5)"),
    ("backend.lanes=[1,", "--vary backend.lanes: cannot read the values '[1,' as YAML: "
                          "expected ',' or ']', but got '<stream end>'"),
])
def test_bad_options(option: str, error: str) -> None:
    with pytest.raises(SweepError) as caught:
        parse_vary(option)
    assert str(caught.value) == error


def test_the_grid_is_every_combination_first_path_slowest() -> None:
    assert grid({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        (("a", 1), ("b", "x")), (("a", 1), ("b", "y")), (("a", 1), ("b", "z")),
        (("a", 2), ("b", "x")), (("a", 2), ("b", "y")), (("a", 2), ("b", "z"))]


def test_points_set_the_fields_by_path(sc: qsim.Scenario) -> None:
    grid_points = points(sc, VARY)
    assert [p.label() for p in grid_points] == [
        "workloads.others.arrivals.mean=40s, workloads.vqe.mode=job",
        "workloads.others.arrivals.mean=40s, workloads.vqe.mode=session",
        "workloads.others.arrivals.mean=20s, workloads.vqe.mode=job",
        "workloads.others.arrivals.mean=20s, workloads.vqe.mode=session"]
    means = [p.scenario.workload("others").arrivals.mean for p in grid_points]
    modes = [p.scenario.workload("vqe").mode.kind for p in grid_points]
    assert (means, modes) == ([40.0, 40.0, 20.0, 20.0], ["job", "session"] * 2)


def test_defaults_that_depend_on_a_varied_field_follow_it(sc: qsim.Scenario) -> None:
    # As a file would: `mode: batch` takes batch's TTL, and circuits without their own
    # rep_delay take the backend's.
    batch = with_fields(sc, [("workloads.vqe.mode", "batch")]).workload("vqe")
    assert (batch.mode.kind, batch.mode.interactive_ttl) == ("batch", 1.0)
    slow = with_fields(sc, [("backend.rep_delay", "500us")])
    assert slow.workload("vqe").quantum.rep_delay == 500e-6
    assert slow.workload("vqe").quantum.mean > sc.workload("vqe").quantum.mean
    # a kind, then refined by a longer path; a section the scenario leaves out
    ttl = with_fields(sc, [("workloads.vqe.mode", "batch"),
                           ("workloads.vqe.mode.interactive_ttl", "30s")])
    assert ttl.workload("vqe").mode.interactive_ttl == 30.0
    cal = with_fields(sc, [("backend.calibration.every", "1h"),
                           ("backend.calibration.duration", "5m")])
    assert cal.backend.calibration is not None and cal.backend.calibration.every == 3600.0
    # everything else unchanged
    assert with_fields(sc, [("backend.lanes", 5)]) == sc


@pytest.mark.parametrize("vary, error", [
    ({"workloads.nope.mode": ["job"]},
     "--vary workloads.nope.mode: no workload named 'nope' (workloads: others, vqe)"),
    ({"backend.lane": [1]},
     "--vary backend.lane: backend has no field 'lane' (it has lanes, queue, job_lock, "
     "session_entry, rep_delay, calibration, fair_share_window, outages)"),
    ({"workloads.vqe.post.mean": ["1s"]},
     "--vary workloads.vqe.post.mean: workloads.vqe.post has no field 'mean' (it has dist, "
     "value)"),
    ({"backend.lanes.max": [1]},
     "--vary backend.lanes.max: backend.lanes is a plain value (5), with no field 'max'"),
    ({"workloads.vqe": [{}]},
     "--vary workloads.vqe: name a field of a workload, e.g. workloads.NAME.mode"),
    ({"seed": [1, 2]}, "--vary seed: the seed is the sweep's (--seed), not a field to sweep"),
    ({"workloads.vqe.name": ["x"]},
     "--vary workloads.vqe.name: workload names address the workloads; they cannot be varied"),
    ({"backend..lanes": [1]},
     "--vary backend..lanes: a PATH is field names joined by dots, e.g. workloads.vqe.mode"),
    ({"backend.lanes": []}, "--vary backend.lanes: no values; expected PATH=V1,V2,..."),
    ({"backend.lanes": [1, 1]}, "--vary backend.lanes: the value 1 is listed twice"),
    ({}, "nothing to vary: give at least one --vary PATH=V1,V2,..."),
])
def test_bad_paths_are_one_line_naming_the_option(sc: qsim.Scenario, vary: dict[str, Any],
                                                  error: str) -> None:
    assert message(sc, vary) == error


@pytest.mark.parametrize("vary, error", [
    ({"backend.lanes": [2, 0]},
     "--vary backend.lanes: point 2 of 2 (backend.lanes=0): backend.lanes: must be at least 1 "
     "(got 0)"),
    ({"workloads.vqe.mode": ["session", "sesion"]},
     "--vary workloads.vqe.mode: point 2 of 2 (workloads.vqe.mode=sesion): "
     "workloads.vqe.mode: must be 'job', 'batch' or 'session' (got 'sesion')"),
    ({"workloads.vqe.mode": ["job", "batch"], "workloads.vqe.mode.interactive_ttl": ["5s"]},
     "--vary workloads.vqe.mode.interactive_ttl: point 1 of 2 (workloads.vqe.mode=job, "
     "workloads.vqe.mode.interactive_ttl=5s): workloads.vqe.mode.interactive_ttl: "
     "interactive_ttl applies only to batch and session modes (got '5s')"),
    ({"workloads.others.arrivals.mean": ["10s", "soon"]},
     "--vary workloads.others.arrivals.mean: point 2 of 2 (workloads.others.arrivals.mean=soon): "
     "workloads.others.arrivals.mean: not a duration: expected seconds or a number with a unit "
     "us, ms, s, m, h, d (got 'soon')"),
])
def test_a_bad_value_names_the_option_and_the_point(sc: qsim.Scenario, vary: dict[str, Any],
                                                    error: str) -> None:
    assert message(sc, vary) == error


# ---------------------------------------------------------------------------------------------
# The table


def test_one_row_per_point_replication_and_workload(sc: qsim.Scenario) -> None:
    table = qsim.sweep(sc, VARY, replications=2, workers=1)
    assert len(table) == 4 * 2 * 2
    assert list(table.columns[:6]) == [*VARY, "replication", "workload", "kind", "mode"]
    for column in ("usage_s", "wall_time_s", "queue_wait_s", "cost_usd", "idle_s",
                   "jobs.submitted", "jobs.done", "jobs.incomplete", "complete",
                   "backend.utilization", "end_s"):
        assert column in table.columns
    assert table["workloads.others.arrivals.mean"].tolist()[:8] == ["40s"] * 8
    assert table["replication"].tolist()[:4] == [0, 0, 1, 1]
    assert table.attrs == {"scenario": "test", "seed": 5, "replications": 2,
                           "vary": list(VARY)}
    assert set(table.loc[table["workload"] == "vqe", "mode"]) == {"job", "session"}


def test_label_columns_hold_one_type(sc: qsim.Scenario) -> None:
    vary = {"backend.lanes": [1, 5], "pricing.usd_per_second": [1, 1.6],
            "workloads.vqe.mode": ["job", {"kind": "session", "interactive_ttl": "5s"}]}
    table = qsim.sweep(sc, vary, workers=1)
    assert table["backend.lanes"].dtype == np.int64
    assert table["pricing.usd_per_second"].tolist()[::4] == [1.0, 1.6, 1.0, 1.6]
    assert set(table["workloads.vqe.mode"]) == {"job", "{kind: session, interactive_ttl: 5s}"}
    table.to_parquet(io.BytesIO())  # one type per column: Parquet takes it


def test_a_point_equals_qsim_replicate_of_its_scenario(sc: qsim.Scenario) -> None:
    table = qsim.sweep(sc, VARY, replications=3, seed=11, workers=1)
    point = points(sc, VARY)[3]
    reps = qsim.replicate(point.scenario, 3, seed=11, workers=1)
    expected = sweep_frame([({**dict(point.settings), "replication": r}, s)
                            for r, s in enumerate(reps.summaries)])
    mine = table.iloc[len(table) - len(expected):].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected, check_dtype=False)


def test_point_estimates_are_the_replications_estimates(sc: qsim.Scenario) -> None:
    table = qsim.sweep(sc, {"backend.lanes": [1, 5]}, replications=4, workers=1)
    means = point_estimates(table, ["backend.lanes", "workload"], ["usage_s"])
    vqe = table[(table["workload"] == "vqe") & (table["backend.lanes"] == 1)]
    est = Estimate.of(vqe["usage_s"].tolist())
    assert means[["backend.lanes", "workload", "n"]].values.tolist() == [
        [1, "others", 4], [1, "vqe", 4], [5, "others", 4], [5, "vqe", 4]]  # first-seen order
    got = means.iloc[1]
    assert got["usage_s"] == pytest.approx(est.mean, rel=1e-12)
    assert got["usage_s.low"] == pytest.approx(est.low, rel=1e-9)
    assert got["usage_s.high"] == pytest.approx(est.high, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# The same table whatever runs it


def _parquet(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return qsim.sweep(scenario(OTHERS, LOOP, seed=5), VARY, replications=3, workers=1)


def test_the_local_pool_gives_the_serial_table_byte_for_byte(serial: pd.DataFrame) -> None:
    sc = scenario(OTHERS, LOOP, seed=5)
    pooled = qsim.sweep(sc, VARY, replications=3, workers=2)
    pd.testing.assert_frame_equal(pooled, serial)
    with ProcessPoolExecutor(max_workers=2) as pool:
        given = qsim.sweep(sc, VARY, replications=3, executor=pool)
    assert _parquet(pooled) == _parquet(serial) == _parquet(given)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_serial_table_byte_for_byte(serial: pd.DataFrame) -> None:
    pytest.importorskip("distributed", reason="the dask extra (pip install -e '.[dask]')")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1",
                      protocol="tcp", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        table = qsim.sweep(scenario(OTHERS, LOOP, seed=5), VARY, replications=3,
                           executor=client.get_executor())
        assert executors.workers_of(client.get_executor()) == 2
        with pytest.raises(executors.DaskError) as caught:
            executors.check_dask_workers(client, expected="9.9")
    assert _parquet(table) == _parquet(serial)
    said = str(caught.value)
    assert said.startswith("Dask workers cannot run this qsim: tcp://127.0.0.1:")
    assert f"has qsim {qsim.__version__}, this is qsim 9.9" in said
    assert said.endswith("; install qsim 9.9 on every worker")


@pytest.mark.slow
def test_the_probe_runs_where_qsim_cannot_be_imported() -> None:
    # It travels by value, so a worker without qsim answers instead of failing to unpickle.
    cloudpickle = pytest.importorskip("cloudpickle",
                                      reason="the dask extra (pip install -e '.[dask]')")

    data = cloudpickle.dumps(executors.version_probe())
    code = ("import pickle, sys; sys.modules['qsim'] = None; "
            "print(pickle.loads(sys.stdin.buffer.read())())")
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                          check=True)
    assert done.stdout.decode().startswith("cannot import qsim: ")
    assert pickle.loads(data)() == qsim.__version__


def test_an_executor_without_qsim_is_refused_before_work_is_sent() -> None:
    class Elsewhere(ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            # the probe's answer from a worker with another qsim
            return super().submit(_old_version if fn is executors.probe_version else fn,
                                  *args, **kwargs)

    with Elsewhere(max_workers=1) as pool, pytest.raises(executors.DaskError) as caught:
        qsim.sweep(scenario(OTHERS, LOOP), {"backend.lanes": [1]}, executor=pool)
    assert str(caught.value) == (f"the executor's worker has qsim 0.0.1, this is qsim "
                                 f"{qsim.__version__}")


def _old_version() -> str:
    return "0.0.1"


# ---------------------------------------------------------------------------------------------
# Queueing theory: an M/M/1 sweep of the arrival rate


MEAN_SERVICE = 6.0
ARRIVAL_MEANS = (20.0, 12.0, 10.0)  # rho = 0.3, 0.5, 0.6
JOBS, REPS, Z = 3000, 8, 4.0


def test_an_mm1_sweep_of_the_arrival_rate_follows_queueing_theory() -> None:
    # One lane, no compile or post: the backend is a FIFO M/M/1 queue and a job's queue wait
    # is its Wq. The run starts empty and ends with a few jobs still queued; over 3000
    # arrivals either bias is well under the tolerance (Z standard errors over replications).
    queue = {"name": "mm1", "backend": {"lanes": 1}, "horizon": JOBS * max(ARRIVAL_MEANS),
             "workloads": [{"name": "others", "kind": "background",
                            "arrivals": {"dist": "exponential", "mean": "20s"},
                            "quantum": {"dist": "exponential", "mean": MEAN_SERVICE}}]}
    sc = qsim.parse_scenario(queue, "mm1.yaml")
    table = qsim.sweep(sc, {"workloads.others.arrivals.mean": list(ARRIVAL_MEANS)},
                       replications=REPS, seed=2024)
    table = table.assign(wait=table["queue_wait_s"] / table["jobs.submitted"])
    for mean, part in table.groupby("workloads.others.arrivals.mean"):
        lam, mu = 1 / mean, 1 / MEAN_SERVICE
        theory = (lam / mu) / (mu - lam)  # Wq = rho / (mu - lambda)
        waits = part["wait"].to_numpy()
        se = waits.std(ddof=1) / math.sqrt(len(waits))
        assert abs(waits.mean() - theory) <= Z * se, (mean, waits.mean(), theory, se)
        assert Z * se < 0.25 * theory  # tight enough to mean something


# ---------------------------------------------------------------------------------------------
# The picture


def test_the_picture_has_a_panel_per_main_figure(serial: pd.DataFrame) -> None:
    from qsim.present import sweep_plots

    fig = sweep_plots.sweep_figure(serial)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    # job mode has no window: its idle time is left out, and the panel says why
    assert titles == ["usage (billed)", "cost", "wall time",
                      "idle in windows  (mode = job: no window)"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["mode = job", "mode = session"]
    buffer = io.BytesIO()
    sweep_plots.save_sweep(serial, buffer)
    assert buffer.getvalue().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------
# The command line


def qsim_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=180)


# The CLI tests' small scenario, its loop named vqe and its seed fixed.
SMALL = SMALL_YAML.replace("name: small\n", "name: small\nseed: 3\n", 1).replace(
    "- name: loop\n", "- name: vqe\n")
ARGS = ("--vary", "workloads.others.arrivals.mean=40s,20s", "--vary",
        "workloads.vqe.mode=job,session", "-r", "2")


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "small.yaml").write_text(SMALL)
    return tmp_path


@pytest.mark.slow
def test_sweep_writes_the_table_and_shows_the_means(small: Path) -> None:
    proc = qsim_cli("sweep", "small.yaml", *ARGS, "--out", "out", "--plot", "s.png", cwd=small)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert sorted(p.name for p in (small / "out").iterdir()) == [
        ".qsim-manifest.json", "sweep.csv", "sweep.parquet", "sweep.png"]
    assert (small / "s.png").read_bytes() == (small / "out" / "sweep.png").read_bytes()
    table = pd.read_parquet(small / "out" / "sweep.parquet")
    expected = qsim.sweep(qsim.load_scenario(small / "small.yaml"),
                          {"workloads.others.arrivals.mean": ["40s", "20s"],
                           "workloads.vqe.mode": ["job", "session"]}, replications=2)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    csv = pd.read_csv(small / "out" / "sweep.csv")
    assert list(csv.columns) == list(table.columns) and len(csv) == 16
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("small  seed 3 · 4 points × 2 replications (mean, ± 95% CI)")
    assert "varied: workloads.others.arrivals.mean × workloads.vqe.mode" in proc.stdout
    assert all(len(line) <= 100 for line in lines)


@pytest.mark.slow
def test_sweep_out_replaces_its_own_folder_and_refuses_others(small: Path) -> None:
    assert qsim_cli("sweep", "small.yaml", "--vary", "backend.lanes=1", "--out", "out",
                    cwd=small).returncode == 0
    again = qsim_cli("sweep", "small.yaml", "--vary", "backend.lanes=2,3", "--out", "out",
                     cwd=small)
    assert again.returncode == 0, again.stderr
    assert pd.read_parquet(small / "out" / "sweep.parquet")["backend.lanes"].tolist() == [
        2, 2, 3, 3]
    (small / "out" / "notes.txt").write_text("mine")
    refused = qsim_cli("sweep", "small.yaml", "--vary", "backend.lanes=1", "--out", "out",
                       cwd=small)
    assert (refused.returncode, refused.stderr) == (2, (
        "qsim: error: --out out: replacing it would lose notes.txt, which qsim did not write "
        "there; choose a new folder\n"))


@pytest.mark.slow
def test_sweep_on_a_local_dask_cluster_writes_the_same_table(small: Path) -> None:
    pytest.importorskip("distributed", reason="the dask extra (pip install -e '.[dask]')")
    plain = qsim_cli("sweep", "small.yaml", *ARGS, "--out", "plain", cwd=small)
    dask = qsim_cli("sweep", "small.yaml", *ARGS, "--out", "dask", "--scheduler", "local",
                    cwd=small)
    assert (plain.returncode, dask.returncode) == (0, 0), dask.stderr
    for name in ("sweep.parquet", "sweep.csv"):
        assert (small / "plain" / name).read_bytes() == (small / "dask" / name).read_bytes()
    assert plain.stdout.replace("plain", "dask") == dask.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args, error", [
    (("--vary", "workloads.nope.mode=job"),
     "--vary workloads.nope.mode: no workload named 'nope' (workloads: vqe, others)"),
    (("--vary", "backend.lanes=1,0"),
     "--vary backend.lanes: point 2 of 2 (backend.lanes=0): backend.lanes: must be at least 1 "
     "(got 0)"),
    (("--vary", "backend.lanes=1", "--vary", "backend.lanes=2"),
     "--vary backend.lanes: given twice; list all its values in one --vary"),
    (("--vary", "backend.lanes"),
     "--vary backend.lanes: expected PATH=V1,V2,... (e.g. backend.lanes=1,2,5)"),
    (("--vary", "backend.lanes=1", "--plot", "s.jpg"),
     "--plot s.jpg: pictures are PNG files; name it *.png"),
    ((), "nothing to vary: give at least one --vary PATH=V1,V2,..."),
])
def test_bad_options_write_nothing(small: Path, args: tuple[str, ...], error: str) -> None:
    proc = qsim_cli("sweep", "small.yaml", *args, "--out", "out", cwd=small)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"qsim: error: {error}\n")
    assert sorted(p.name for p in small.iterdir()) == ["small.yaml"]


@pytest.mark.slow
def test_sweep_has_help_with_examples(small: Path) -> None:
    proc = qsim_cli("sweep", "--help", cwd=small)
    assert proc.returncode == 0 and "qsim sweep scenarios/" in proc.stdout
    assert "--scheduler" in proc.stdout and "--vary" in proc.stdout
    assert "sweep" in qsim_cli("--help", cwd=small).stdout


def test_the_api_name_is_lazy_and_the_same_function() -> None:
    from qsim.experiments.sweep import sweep

    assert qsim.sweep is sweep and "sweep" in qsim.__all__


@pytest.mark.slow
def test_the_benchmark_runs_and_prints_its_table() -> None:
    # A smoke run: the figures are measured by hand (benchmarks/sweep.py), never asserted.
    done = subprocess.run([sys.executable, "benchmarks/sweep.py", "--points", "2",
                           "--replications", "2", "--run-ms", "5", "--repeats", "1"],
                          cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert "| 2 workers (local process pool) |" in done.stdout
    assert "every executor gave the same table" in done.stdout
