"""Reading a queue-length series for ``qsim fit``: good files, and every bad one refused in one
line naming the file, the line, the column and the value."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from qsim.input import queue_series as series_module
from qsim.input.queue_series import SeriesError, read_series

HEADER = "timestamp,pending_jobs,status_msg,operational\n"


def hour_of_samples(start_minute: int = 0, status: str = "active") -> str:
    rows = [f"2023-11-16T{13 + (start_minute + m) // 60:02d}:{(start_minute + m) % 60:02d}:00Z,"
            f"{m},{status},true" for m in range(61)]
    return "\n".join(rows) + "\n"


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_series_reads_as_seconds_from_its_start_in_utc(tmp_path: Path) -> None:
    text = (HEADER + "2023-11-16T13:00:00+01:00,3,active,true\n"  # 12:00 UTC
            + "2023-11-16T12:30:00,4,dedicated,true\n"  # no zone: UTC
            + "2023-11-16T13:00:00Z,5,internal,true\n")
    got = read_series(write(tmp_path, text))
    assert got.start.isoformat() == "2023-11-16T12:00:00+00:00"
    assert got.t.tolist() == [0, 1800, 3600]
    assert got.pending.tolist() == [3, 4, 5]
    assert got.paused.tolist() == [False, True, True]


def test_gzip_and_no_status_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv.gz"
    rows = hour_of_samples().replace(",active,true", "")
    path.write_bytes(gzip.compress(("timestamp,pending_jobs\n" + rows).encode()))
    got = read_series(path)
    assert len(got.t) == 61 and not got.paused.any() and got.span_s == 3600


def test_the_shared_data_read_whole() -> None:
    path = Path(__file__).resolve().parents[2] / "shared/data/queues/ibm_hanoi.csv.gz"
    if not path.exists():
        pytest.skip("the shared data are not beside this checkout")
    got = read_series(path)
    assert len(got.t) == 85_345 and np.all(np.diff(got.t) >= 0)


@pytest.mark.parametrize("text, message", [
    ("", "s.csv: empty file: expected a CSV with columns timestamp, pending_jobs"),
    ("timestamp,pending\n2023-11-16T13:00:00Z,3\n",
     "s.csv:1: no 'pending_jobs' column (the header has timestamp, pending)"),
    (HEADER, "s.csv: no samples after the header"),
    (HEADER + "2023-11-16T13:00:00Z,3,active,true\n2023-11-16T12:59:00Z,3,active,true\n",
     "s.csv:3: timestamp: timestamps must not go back in time (sort the file by time) "
     "(got '2023-11-16T12:59:00Z')"),
    (HEADER + "yesterday,3,active,true\n",
     "s.csv:2: timestamp: not an ISO 8601 time (e.g. 2023-11-16T13:59:48Z) (got 'yesterday')"),
    (HEADER + "2023-11-16T13:00:00Z,-1,active,true\n",
     "s.csv:2: pending_jobs: must be between 0 and 10,000,000 (got '-1')"),
    (HEADER + "2023-11-16T13:00:00Z,2.5,active,true\n",
     "s.csv:2: pending_jobs: not a whole number of jobs (got '2.5')"),
    (HEADER + "2023-11-16T13:00:00Z,3\n", "s.csv:2: 2 fields where the header has 4"),
    (HEADER + "2023-11-16T13:00:00Z,3,active,true\n2023-11-16T13:59:59Z,3,active,true\n",
     "s.csv: timestamp: the samples span 3599 s: qsim fit needs at least an hour of them"),
])
def test_bad_series_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SeriesError) as info:
        read_series(write(tmp_path, text))
    assert str(info.value).replace(str(tmp_path) + os.sep, "") == message


def test_a_huge_file_is_refused_after_a_bounded_read(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(series_module, "MAX_SERIES_BYTES", 1000)
    path = write(tmp_path, HEADER + hour_of_samples())  # about 2 kB
    with pytest.raises(SeriesError, match="larger than 0.001 MB of text"):
        read_series(path)


def test_a_gzip_bomb_is_refused_after_a_bounded_read(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(series_module, "MAX_SERIES_BYTES", 10_000)
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(HEADER.encode() + b"0" * 10_000_000))  # 10 kB compressed
    with pytest.raises(SeriesError, match="larger than"):
        read_series(path)


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "no such file"),
    (lambda p: (p.mkdir(), p)[1], "is a directory, not a series file"),
    (lambda p: (p.write_bytes(b"\x1f\x8bnot gzip at all"), p)[1], "not a readable gzip file"),
    (lambda p: (p.write_bytes(b"\xff\xfe\x00bin"), p)[1], "not a text file"),
])
def test_unreadable_files(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path / "x.csv")  # type: ignore[operator]
    with pytest.raises(SeriesError, match=message):
        read_series(path)


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """A FIFO given as the series (issue 25's rule for every file qsim reads): opening it for
    reading would wait for a writer for ever; it is refused unread, naming what it is."""
    fifo = tmp_path / "series.csv"
    os.mkfifo(fifo)
    with pytest.raises(SeriesError, match=r"is a FIFO \(named pipe\), not a series file"):
        read_series(fifo)


@pytest.mark.parametrize("module, name", [("qsim.input.queue_series", "SeriesError"),
                                          ("qsim.input.job_series", "JobsError"),
                                          ("qsim.records.trace_file", "TraceError"),
                                          ("qsim.input.errors", "ScenarioError")])
def test_a_file_error_crosses_processes_as_itself(module: str, name: str) -> None:
    """A worker's error reaches the command as the same class with the same one line (the
    pool and Dask pickle it; keyword-only arguments defeat Exception's own pickling)."""
    import importlib
    import pickle

    cls = getattr(importlib.import_module(module), name)
    error = cls("not a number", file="f.csv", line=3, field="pending_jobs", value="x")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls and str(back) == str(error) == \
        "f.csv:3: pending_jobs: not a number (got 'x')"
