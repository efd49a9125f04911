"""Hostile inputs of issue 25 (items 1 to 9: crashes and hangs): each reproduces what a user
hit, and asserts the one ``qsim: error:`` line (exit 2; 130 for Ctrl-C, 143 for SIGTERM),
nothing written half-way and nothing left running. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_hostile import cli, one_error_line, write

ROOT = Path(__file__).resolve().parents[1]
ONE_JOB = "name: x\nworkloads:\n  - name: {name}\n    kind: iterative\n    iterations: 3\n" \
          "    quantum: 10s\n"


# ---------------------------------------------------------------------------------------------
# Item 8: a lone surrogate (a YAML escape can write one) is no UTF-8 text: refused at
# validation, not by a UnicodeEncodeError in the random streams


@pytest.mark.parametrize(("text", "field"), [
    (ONE_JOB.format(name='"v\\ud800x"'), "workloads[0].name"),
    (ONE_JOB.format(name="a").replace("name: x", 'name: "\\udfff"'), "name"),
    (ONE_JOB.format(name="a") + '    instance: "i\\ud800"\n', "workloads[0].instance"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_lone_surrogate_in_a_name_is_refused_at_validation(text: str, field: str,
                                                             command: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path, text)
    code, out, err = cli(command, path)
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert f"{field}: " in line and "lone surrogate" in line, line


# ---------------------------------------------------------------------------------------------
# Item 6: a FIFO (or any file that is not a regular one) as the scenario or a recorded trace:
# refused at once; opening a FIFO to read it would wait for a writer for ever


def _fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _qsim(*args: str | Path, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, text=True, cwd=cwd, timeout=timeout, capture_output=True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["validate", "run", "compare"])
def test_a_fifo_as_the_scenario_is_refused_at_once(command: str, tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "s.yaml")
    done = _qsim(command, fifo, cwd=tmp_path, timeout=30)  # a hang fails here, not for ever
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == (
        f"{fifo}: is a FIFO (named pipe), not a scenario file (qsim reads regular files only)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_a_recorded_trace_is_refused_at_once(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "t.json")
    path = write(tmp_path, "name: x\nworkloads:\n  - {name: r, kind: recorded, trace: t.json}\n")
    done = _qsim("validate", path, cwd=tmp_path, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == (
        f"{path}:3: workloads[0].trace: {fifo}: is a FIFO (named pipe), not a trace file "
        "(qsim reads regular files only)")


def test_a_device_is_refused_rather_than_read(tmp_path: Path) -> None:
    code, _, err = cli("validate", "/dev/zero")
    assert code == 2 and one_error_line(err) == (
        "/dev/zero: is a character device, not a scenario file (qsim reads regular files only)")


# ---------------------------------------------------------------------------------------------
# Item 3: the work estimate counts the jobs a run builds, not only those it runs: a batch
# submits all its jobs at once, and those past its max_time are built too (then cancelled)

BATCH = ("name: x\nworkloads:\n  - name: a\n    kind: independent\n    mode: {mode}\n"
         "    jobs: {jobs}\n    quantum: 10s\n")


def test_a_billion_job_batch_is_refused_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, BATCH.format(mode="batch", jobs=1_000_000_000))
    done = _qsim("run", path, cwd=tmp_path, timeout=60)  # it built jobs for ever before
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr).startswith(
        "x: about 1e+09 jobs expected (a: 1e+09), more than the limit of 5,000,000 jobs")


def test_the_estimate_counts_what_a_closed_batch_still_builds() -> None:
    import qsim
    from qsim.input.scenario import parse_scenario
    from qsim.input.work import estimate

    # max_time 10 s passes after about 10 of the 100 jobs; the other 90 are built, cancelled
    text = BATCH.format(mode="{kind: batch, max_time: 10s}", jobs=100).replace(
        "quantum: 10s", "quantum: 1s\n    submit_interval: 1s")
    scenario = parse_scenario(__import__("yaml").safe_load(text))
    built = len(qsim.simulate(scenario).jobs)
    assert built == 100 and estimate(scenario).jobs == built
    # a horizon stops the submissions: 10 of them before t = 10 s (t = 0, 1, ..., 9)
    short = parse_scenario({**__import__("yaml").safe_load(text), "horizon": "10s"})
    assert estimate(short).jobs == len(qsim.simulate(short).jobs) == 10


# ---------------------------------------------------------------------------------------------
# Item 2: the record log's end-of-run pass kept a numpy view of its growing array in a local;
# a profiler (Dask's worker samples every 10 ms) or a debugger holding the frame made the
# next extend fail with BufferError. Reproduced with a thread that holds every frame


def test_no_view_of_the_growing_log_outlives_its_statement() -> None:
    import threading

    from qsim.records.log import Kind, Trace

    stop = threading.Event()

    def hold_frames() -> None:  # what a sampling profiler does: keep the frames a moment
        while not stop.is_set():
            frames = sys._current_frames()
            time.sleep(0.001)
            del frames

    holder = threading.Thread(target=hold_frames, daemon=True)
    holder.start()
    failures = 0
    try:
        for _ in range(300):  # bounded; 0 fail once no view outlives its call
            trace = Trace()
            for job in range(50):
                trace.add(float(job), Kind.JOB_SUBMIT, job)
            try:
                for t in range(20):
                    trace.add_incomplete(100.0 + t)  # the extend after the pass
            except BufferError:
                failures += 1
    finally:
        stop.set()
        holder.join(timeout=5)
    assert failures == 0


# ---------------------------------------------------------------------------------------------
# Item 1: `qsim trace` in the plain install (no qiskit extra): one line naming the extra

_WITHOUT_RUNTIME = """\
import sys

class NoRuntime:  # as if qiskit-ibm-runtime were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "qiskit_ibm_runtime":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoRuntime())
from qsim.present.cli import app
app()
"""


def test_trace_without_the_qiskit_extra_is_one_line(tmp_path: Path) -> None:
    script = write(tmp_path, "print('never run')\n", "prog.py")
    done = subprocess.run([sys.executable, "-c", _WITHOUT_RUNTIME, "trace", str(script),
                           "--out", str(tmp_path / "out")], text=True, cwd=tmp_path,
                          capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == (
        "qsim trace needs qiskit, qiskit-ibm-runtime and qiskit-aer (pip install "
        "'qsim-execution-modes[qiskit]'): No module named 'qiskit_ibm_runtime'; nothing was "
        "written")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# Item 4: a sweep's grid size, and its work, are checked before (or as) its points are built,
# not after a million of them have been

SMALL_SWEEP = ("name: small\nworkloads:\n  - name: loop\n    kind: iterative\n"
               "    iterations: 3\n    quantum: 10s\n")


def _values(n: int, start: int = 1) -> str:
    return ",".join(str(start + k) for k in range(n))


@pytest.mark.parametrize(("vary", "message"), [
    ([f"backend.lanes={_values(100)}", f"workloads.loop.iterations={_values(100)}",
      f"workloads.loop.quantum={_values(100)}"],
     "--vary: the grid has 1,000,000 points (100 × 100 × 100), more than qsim's limit of "
     "10,000; vary fewer values, or split the sweep into several"),
    ([f"workloads.loop.iterations={_values(20_000)}"],
     "--vary: the grid has 20,000 points, more than qsim's limit of 10,000; vary fewer "
     "values, or split the sweep into several"),
])
def test_a_grid_too_large_is_refused_before_any_point_is_built(vary: list[str], message: str,
                                                                 tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_SWEEP)
    args: list[str] = []
    for option in vary:
        args += ["--vary", option]
    done = _qsim("sweep", path, *args, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == message


def test_a_grid_whose_work_is_too_much_is_refused_as_its_points_are_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from qsim.experiments import sweep as sweeps
    from qsim.input.scenario import parse_scenario

    built: list[int] = []
    original = sweeps._point_scenario

    def counted(*args: Any) -> Any:
        built.append(1)
        return original(*args)

    monkeypatch.setattr(sweeps, "_point_scenario", counted)
    scenario = parse_scenario(__import__("yaml").safe_load(SMALL_SWEEP))
    vary = {"workloads.loop.iterations": list(range(1000, 6000))}  # 5,000 points
    # 1,000 iterations x 100 replications: the first point alone is 100,000 jobs
    with pytest.raises(sweeps.WorkLimitError) as caught:
        sweeps.points(scenario, vary, replications=100, max_jobs=250_000)
    assert len(built) == 3  # 100,000 + 100,100 + 100,200 jobs pass 250,000 at the third
    assert str(caught.value).startswith(
        "--vary: the first 3 of the grid's 5,000 points already ask too much: small: about "
        "300,300 jobs expected in 300 runs of up to about 1,002 each")


# ---------------------------------------------------------------------------------------------
# Item 7: --scheduler addresses that are not a Dask scheduler: one line each, within qsim's
# stated connect timeout (5 s), on the loopback only

class _Server:
    """A TCP server on 127.0.0.1 that accepts and then says nothing (``reply`` None) or
    replies once; it stops by itself after ``life`` s, or when the test ends."""

    def __init__(self, reply: bytes | None, life: float = 90.0) -> None:
        import socket
        import threading

        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self._reply, self._end = reply, time.monotonic() + life
        self._stop = threading.Event()
        self._held: list[Any] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._end:
            try:
                conn, _ = self.socket.accept()
            except OSError:  # the 0.2 s tick
                continue
            self._held.append(conn)  # held open, never closed by the server: it "hangs"
            if self._reply is not None:
                conn.sendall(self._reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.socket.close()


@pytest.mark.parametrize(("reply", "problem"), [
    (None, "no answer within 5 s (qsim's connect timeout); is a Dask scheduler listening "
           "there?"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4,
     "what answers there is not a Dask scheduler"),
])
def test_a_scheduler_address_that_is_not_dask_is_one_line(reply: bytes | None, problem: str,
                                                          tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = write(tmp_path, SMALL_SWEEP)
    server = _Server(reply)
    try:
        address = f"tcp://127.0.0.1:{server.port}"
        done = _qsim("sweep", path, "--vary", "backend.lanes=1,2", "--scheduler", address,
                     cwd=tmp_path, timeout=60)  # it hung past 60 s, or crashed, before
    finally:
        server.close()
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == f"--scheduler {address}: {problem}"


def test_a_closed_port_is_refused_at_once(tmp_path: Path) -> None:
    import socket

    pytest.importorskip("distributed")

    with socket.socket() as unused:  # a port nothing listens on: bound, never listening
        unused.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
        done = _qsim("sweep", write(tmp_path, SMALL_SWEEP), "--vary", "backend.lanes=1,2",
                     "--scheduler", address, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == f"--scheduler {address}: cannot connect: Connection " \
                                          "refused"


def test_the_probe_passes_a_real_scheduler() -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from qsim.experiments import executors

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        executors._probe(cluster.scheduler_address)  # no DaskError


# ---------------------------------------------------------------------------------------------
# Item 5: SIGTERM (a supervisor's `kill`, a CI timeout) on a command with a pool of workers:
# treated as Ctrl-C, the workers stopped, one line, exit 143, nothing written, nothing left
# running (the workers held the caller's stdout open, so `$(qsim ...)` blocked)

LONG = ("name: long\nhorizon: 3d\nworkloads:\n  - name: others\n    kind: background\n"
        "    arrivals: {dist: exponential, mean: 5s}\n    quantum: {dist: exponential, mean: 4s}\n"
        "  - {name: loop, kind: iterative, iterations: 3, quantum: 1s, start: 1d}\n")


def _group_is_gone(pgid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _terminate(args: list[str], cwd: Path, after: float = 2.5) -> tuple[int, str, str]:
    """Start ``qsim ARGS`` in a session of its own with its stdout a pipe (as ``$(...)``
    reads it), send SIGTERM to the main process alone after ``after`` s; (code, stdout,
    stderr). ``communicate`` returns only once every holder of the pipe has exited."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qsim.present.cli import app; app()", *args], cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(after)
        assert proc.poll() is None, "finished before the signal: make it longer"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert _group_is_gone(proc.pid), "processes of the group outlived it"
        return proc.returncode, out, err
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize(("args", "line"), [
    (["run", "long.yaml", "-r", "50", "--out", "out"], "qsim: terminated\n"),
    (["compare", "long.yaml", "-r", "20", "--out", "out"], "qsim: terminated\n"),
    (["sweep", "long.yaml", "--vary", "backend.lanes=1,2,3,4,5", "-r", "10", "--out", "out"],
     "qsim: terminated: the runs not yet done were cancelled; nothing was written\n"),
], ids=["run", "compare", "sweep"])
def test_sigterm_stops_the_workers_and_exits_143(args: list[str], line: str,
                                                 tmp_path: Path) -> None:
    write(tmp_path, LONG, "long.yaml")
    code, out, err = _terminate(args, tmp_path)
    assert (code, out, err) == (143, "", line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]


# ---------------------------------------------------------------------------------------------
# Item 9: trace scripts that end qsim, keep it alive, open the real service, or are stopped
# after many jobs. Each runs in a process of its own (os._exit, threads and signals are the
# process's), with a bounded wait

PROGRAM = """\
import os, signal, sys, threading, time
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2, Session
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

backend = FakeManilaV2()
qc = QuantumCircuit(1)
qc.h(0)
qc.measure_all()
isa = generate_preset_pass_manager(backend=backend, optimization_level=0).run(qc)
with Session(backend=backend) as session:
    for k in range(int(sys.argv[1])):
        SamplerV2(mode=session).run([isa], shots=10).result()
{ending}
"""




def _default_sigint() -> None:
    """In the child: SIGINT as a terminal leaves it. A suite started with SIGINT ignored
    (``nohup ... &``, some CI runners) passes SIG_IGN on to its children, and Python then
    installs no KeyboardInterrupt handler: the program's own SIGINT would be lost and it would
    run all its 1000 jobs (the test failed so three times, twice by its timeout)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _qsim_w(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-W", "ignore", "-c",
               "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, text=True, cwd=cwd, timeout=timeout, capture_output=True,
                          preexec_fn=_default_sigint)  # noqa: PLW1509 - no threads started yet


def _trace_w(ending: str, jobs: int, tmp_path: Path
             ) -> tuple[subprocess.CompletedProcess[str], Path]:
    pytest.importorskip("qiskit_ibm_runtime")
    script = write(tmp_path, PROGRAM.format(ending=ending), "prog.py")
    done = _qsim_w("trace", script, str(jobs), "--out", tmp_path / "out", cwd=tmp_path,
                   timeout=120)  # a hang fails here
    return done, script


def test_os_exit_in_the_script_is_one_line(tmp_path: Path) -> None:
    done, script = _trace_w("    os._exit(4)", 1, tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr) == (
        f"{script} called os._exit(): exited with status 4; nothing was written")
    assert not (tmp_path / "out").exists()


def test_a_lingering_thread_does_not_keep_qsim_alive(tmp_path: Path) -> None:
    ending = ("stop = time.monotonic() + 300  # ends by itself, long after the test\n"
              "threading.Thread(target=lambda: [time.sleep(0.1) for _ in range(3000)\n"
              "                                 if time.monotonic() < stop],\n"
              "                 name='poller').start()\n"
              "raise RuntimeError('optimiser diverged')")
    done, script = _trace_w(ending, 1, tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"qsim: error: {script} raised RuntimeError: optimiser diverged (line 19); nothing was "
        f"written\nqsim: warning: {script} left 1 thread running (poller); qsim does not wait "
        "for them\n")


def test_a_script_that_opens_the_real_service_is_told_how_to_use_a_fake_backend(
        tmp_path: Path) -> None:
    ending = ("try:\n"
              "    from qiskit_ibm_runtime import QiskitRuntimeService\n"
              "    service = QiskitRuntimeService(channel='ibm_quantum_platform', token='x')\n"
              "except Exception:  # a script's own guard must not swallow qsim's refusal\n"
              "    pass")
    done, script = _trace_w(ending, 1, tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    line = one_error_line(done.stderr)
    assert line.startswith(f"{script} opens the real IBM Quantum service (QiskitRuntimeService, "
                           "line 17): qsim trace runs programs in local testing mode only. "
                           "Give the primitives a fake backend instead, e.g. ")
    assert "FakeManilaV2" in line and line.endswith("; nothing was written")


@pytest.mark.parametrize(("signum", "word", "code"), [
    ("SIGINT", "interrupted", 130), ("SIGTERM", "terminated", 143)])
def test_a_trace_stopped_after_many_jobs_writes_them_marked_partial(
        signum: str, word: str, code: int, tmp_path: Path) -> None:
    import json

    # the program stops itself after its 5th job: as a user's Ctrl-C or a kill would, but
    # at a known point (the stop lands inside the loop, in the open session)
    ending = ""
    script = PROGRAM.replace(
        "        SamplerV2(mode=session).run([isa], shots=10).result()\n",
        "        SamplerV2(mode=session).run([isa], shots=10).result()\n"
        f"        if k == 4:\n            os.kill(os.getpid(), signal.{signum})\n"
        "            time.sleep(5)\n")
    pytest.importorskip("qiskit_ibm_runtime")
    path = write(tmp_path, script.format(ending=ending), "prog.py")
    out = tmp_path / "out"
    done = _qsim_w("trace", path, "1000", "--out", out, cwd=tmp_path, timeout=120)
    assert (done.returncode, done.stdout) == (code, "")
    assert done.stderr == (f"qsim: {word}: wrote the 5 jobs recorded so far to {out}, marked "
                           "partial\n")
    trace = json.loads((out / "trace.json").read_text())
    stop = "SIGTERM" if signum == "SIGTERM" else "Ctrl-C"
    assert trace["program"]["partial"] == (f"stopped by {stop} after 5 jobs; the program did "
                                           "not run to its end")
    assert len(trace["jobs"]) == 5
    scenario = (out / "scenario.yaml").read_text()
    assert scenario.startswith(f"# PARTIAL RECORDING: {trace['program']['partial']}.\n")
    assert "    mode: session " in scenario  # closed as the with block left on the stop
    replay, _, err = cli("run", out / "scenario.yaml", "--json")
    assert (replay, err) == (0, "")


def test_a_worker_address_is_not_taken_for_the_scheduler() -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from qsim.experiments import executors

    with LocalCluster(n_workers=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        worker = next(iter(cluster.scheduler_info["workers"]))
        with pytest.raises(executors.DaskError) as caught:
            executors._probe(worker)
    assert str(caught.value) == (
        f"--scheduler {worker}: this is a Dask worker, not the scheduler: give the scheduler's "
        "address (dask scheduler prints it)")
