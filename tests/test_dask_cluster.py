"""docs/sweeps.md's recipe for a real cluster, tried as a user would (issue 32, goal 5): a
scheduler and workers started as processes of their own with Dask's command line (``dask
scheduler``, ``dask worker tcp://...``) on the loopback, then ``qsim sweep FILE --scheduler
tcp://...`` against them; its report and its files are the local run's byte for byte.

Every process the test starts is in a session of its own, and the whole session is ended
when the test ends, pass or fail (a worker's nanny and its worker processes included)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sweep import ARGS, SMALL, qsim_cli

pytest.importorskip("distributed", reason="the dask extra (pip install -e '.[dask]')")

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0  # a scheduler writes its address within seconds, even on a busy machine


def dask_command() -> list[str]:
    """``dask``, as a user types it: the console script installed beside this Python (else
    the same command line as ``python -m dask``)."""
    script = shutil.which("dask", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "dask"]


def start(args: list[str], log: Path, started: list[subprocess.Popen[bytes]]) -> None:
    """Start ``dask ARGS`` in a session of its own (its children inherit it), its output to
    ``log``; qsim importable there as it is here (a worker runs qsim's tasks)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    with open(log, "wb") as out:
        started.append(subprocess.Popen([*dask_command(), *args], stdout=out,
                                        stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True))


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the process's whole session: politely, then for sure."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the session is gone already
            break
        try:
            process.wait(grace)
            if sig == signal.SIGKILL:
                break
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()


def address_in(file: Path, scheduler: subprocess.Popen[bytes], log: Path) -> str:
    """The scheduler's address, from the file it writes once it listens."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            pytest.fail(f"dask scheduler exited ({scheduler.returncode}):\n{log.read_text()}")
        try:
            return str(json.loads(file.read_text())["address"])
        except (OSError, ValueError, KeyError):  # not written yet, or half
            time.sleep(0.2)
    pytest.fail(f"dask scheduler wrote no address in {START_TIMEOUT_S:g} s:\n{log.read_text()}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler on a free loopback port and a worker of two processes, one thread each, as
    docs/sweeps.md starts them; its address."""
    started: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(logs / "scheduler.json")], logs / "scheduler.log",
              started)
        address = address_in(logs / "scheduler.json", started[0], logs / "scheduler.log")
        assert address.startswith("tcp://127.0.0.1:")
        start(["worker", address, "--nthreads", "1", "--nworkers", "2", "--no-dashboard",
               "--host", "127.0.0.1"], logs / "worker.log", started)
        yield address
    finally:
        for process in reversed(started):
            stop(process)


@pytest.mark.slow
def test_a_sweep_on_a_cluster_started_with_dask_s_command_line_is_the_local_one(
        cluster: str, tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    local = qsim_cli("sweep", "small.yaml", *ARGS, "--out", "local", cwd=tmp_path)
    # qsim waits for the cluster's first worker (30 s at most) before it sends any work
    remote = qsim_cli("sweep", "small.yaml", *ARGS, "--out", "remote", "--scheduler", cluster,
                      cwd=tmp_path)
    assert (local.returncode, remote.returncode) == (0, 0), remote.stderr
    assert remote.stdout.replace("remote", "local") == local.stdout
    for name in ("sweep.csv", "sweep.parquet"):
        assert (tmp_path / "remote" / name).read_bytes() == (tmp_path / "local" / name
                                                            ).read_bytes()
    assert remote.stderr == local.stderr == ""
