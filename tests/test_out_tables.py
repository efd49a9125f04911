"""The tables of ``--out``, written by pyarrow: the same header, the same floats (issue 18)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qsim
from qsim.present.out_tables import csv_bytes, parquet_bytes


def qsim_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


SCENARIO = {
    "name": "tables", "horizon": "3h",
    "backend": {"queue": "fair_share", "calibration": {"every": "1h", "duration": "5m"}},
    "workloads": [
        {"name": 'odd, "quoted"\nname', "kind": "background", "instance": "open",
         "arrivals": {"dist": "exponential", "mean": "20s"},
         "compile": {"dist": "exponential", "mean": "3s"},
         "quantum": {"dist": "lognormal", "mean": "4s", "cv": 1.0}, "post": "1s"},
        {"name": "vqe", "kind": "iterative", "mode": "session", "iterations": 10,
         "start": "30m", "quantum": "5s", "classical": {"dist": "exponential", "mean": "9s"},
         "failure": {"probability": 0.2, "kind": "system", "stage": "quantum"},
         "on_failure": "retry", "max_retries": 3},
    ]}


@pytest.fixture(scope="module")
def result() -> qsim.RunResult:
    return qsim.simulate(qsim.parse_scenario(SCENARIO, "tables"))


def _bits(column: pd.Series) -> np.ndarray:
    return column.to_numpy(np.float64).view(np.int64)


@pytest.mark.parametrize("table", ["jobs", "contexts"])
def test_csv_reads_back_the_same_floats_bit_for_bit(result: qsim.RunResult, table: str) -> None:
    frame = getattr(result, table)
    text = csv_bytes(frame)
    assert text.decode().splitlines()[0] == ",".join(frame.columns)  # header as before
    back = pd.read_csv(io.BytesIO(text), keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    floats = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    assert floats
    for column in floats:
        assert np.array_equal(_bits(back[column]), _bits(frame[column])), column  # NaN too
    for column in frame.columns:
        if column not in floats and frame[column].notna().any():
            assert back[column].tolist() == frame[column].tolist(), column


def test_csv_quotes_every_string_and_escapes_quotes_and_newlines(result: qsim.RunResult
                                                                  ) -> None:
    text = csv_bytes(result.jobs).decode()
    assert '"odd, ""quoted""\nname"' in text
    assert ',"vqe",' in text


@pytest.mark.parametrize("backends", [0, 2], ids=["one backend", "fleet"])
def test_out_writes_jobs_csv_from_the_numpy_columns_as_the_jobs_table_reads(
        backends: int) -> None:
    # --out's jobs.csv is made without pandas (job_arrow), to start before pandas is loaded:
    # it must be the CSV of the jobs DataFrame, byte for byte (names, NaN, reasons, backends).
    from qsim.present.out_tables import _csv, job_arrow

    data = dict(SCENARIO)
    if backends:
        one = data.pop("backend")
        data["backends"] = [{**one, "name": f"b{k}"} for k in range(backends)]
    result = qsim.simulate(qsim.parse_scenario(data, "tables"))
    assert result.jobs["reason"].notna().any() and result.jobs["post_end_at"].isna().any()
    assert ("backend" in result.jobs) == bool(backends)
    table = job_arrow(result)
    assert table.column_names == list(result.jobs.columns)
    assert _csv(table.column_names, table) == csv_bytes(result.jobs)


@pytest.mark.parametrize("backends", [0, 2], ids=["one backend", "fleet"])
def test_out_writes_contexts_csv_from_the_numpy_columns_as_the_contexts_table_reads(
        backends: int) -> None:
    # --out's contexts.csv is made without pandas (context_arrow), so that a plain --out
    # never imports it: it must be the CSV of the contexts DataFrame, byte for byte (every
    # change, state and accepting flag, names that need quoting, the floats).
    from qsim.present.out_tables import _csv, context_arrow

    data = {**SCENARIO, "workloads": [
        *SCENARIO["workloads"],
        {"name": 'sweep, "b"', "kind": "independent", "mode": "batch", "jobs": 8,
         "start": "40m", "quantum": "20s"},
        {"name": "slow", "kind": "iterative", "iterations": 4, "start": "1h", "quantum": "5s",
         "mode": {"kind": "session", "interactive_ttl": "10s"}, "classical": "30s"}]}
    if backends:
        one = data.pop("backend")
        data["backends"] = [{**one, "name": f"b{k}"} for k in range(backends)]
    result = qsim.simulate(qsim.parse_scenario(data, "contexts"))
    frame = result.contexts
    assert {"open", "activate", "deactivate", "drain", "close"} <= set(frame["change"])
    assert {"session", "batch"} <= set(frame["mode"]) and not frame["accepting_jobs"].all()
    table = context_arrow(result)
    assert table.column_names == list(frame.columns)
    assert _csv(table.column_names, table) == csv_bytes(frame)


def test_contexts_csv_of_a_run_without_contexts_is_its_header() -> None:
    from qsim.present.out_tables import _csv, context_arrow

    data = {**SCENARIO, "workloads": SCENARIO["workloads"][:1]}  # type: ignore[index]
    result = qsim.simulate(qsim.parse_scenario(data, "none"))
    table = context_arrow(result)
    assert _csv(table.column_names, table) == csv_bytes(result.contexts) == (
        b"context,workload,mode,at,change,state,accepting_jobs\n")


def test_jobs_csv_is_made_without_importing_pandas() -> None:
    # So that --out's jobs.csv starts on its thread before pandas' import (a fifth of a
    # second holding the GIL): pa.array imports pandas, job_arrow must not use it.
    code = ("import sys, qsim; from tests_data import SCENARIO; "
            "from qsim.present.out_tables import job_arrow; "
            "t = job_arrow(qsim.simulate(qsim.parse_scenario(SCENARIO, 's'))); "
            "assert t.num_rows > 0; print(sorted(m for m in ('pandas', 'matplotlib') "
            "if m in sys.modules))")
    code = code.replace("from tests_data import SCENARIO", f"SCENARIO = {SCENARIO!r}")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "[]\n"), proc.stderr


def test_parquet_holds_the_same_table(result: qsim.RunResult) -> None:
    for frame in (result.jobs, result.contexts):
        back = pd.read_parquet(io.BytesIO(parquet_bytes(frame)))
        assert list(back.columns) == list(frame.columns)
        for column in frame.columns:
            if frame[column].dtype.kind == "f":
                assert np.array_equal(_bits(back[column]), _bits(frame[column])), column


@pytest.mark.slow
def test_run_out_parquet_writes_them_beside_the_csvs(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nhorizon: 20m\nworkloads:\n  - {name: others, kind: "
                        "background, arrivals: {dist: exponential, mean: 30s}, quantum: 5s}\n")
    out = tmp_path / "out"
    proc = qsim_cli("run", scenario, "--json", "--out", out, "--parquet")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert {"jobs.csv", "contexts.csv", "jobs.parquet", "contexts.parquet"} <= set(names)
    jobs = pd.read_parquet(out / "jobs.parquet")
    csv = pd.read_csv(out / "jobs.csv", keep_default_na=False, na_values=[""])
    assert np.array_equal(_bits(jobs["end_at"]), _bits(csv["end_at"]))
    # A second run into the same folder replaces it: the Parquet files are qsim's own.
    assert qsim_cli("run", scenario, "--json", "--out", out).returncode == 0
    refused = qsim_cli("run", scenario, "--parquet")
    assert refused.returncode == 2 and "--parquet" in refused.stderr
