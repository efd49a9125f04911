"""Where runs execute besides this machine's process pool: any ``concurrent.futures``
executor, and Dask clusters (the optional ``dask`` extra; ``distributed`` is imported only in
the functions that need it).

Before any work is sent, every worker must import this very qsim version: a worker without
qsim would otherwise fail to unpickle each task, and a Dask client can wait on such tasks for
ever. The check's probe travels by value (a closure, which cloudpickle sends whole), so it
runs even where ``import qsim`` does not.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from qsim.experiments.runner import available_cores
from qsim.input.errors import QsimError
from qsim.version import __version__

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["DASK_SETTINGS", "DaskError", "check_dask_workers", "check_executor", "dask_executor",
           "probe_version", "version_probe", "workers_of"]

#: How long to wait for a scheduler to answer, and for its first worker and the probe.
CONNECT_TIMEOUT_S: Final = 5.0
WORKER_TIMEOUT_S: Final = 30.0
#: Dask settings while qsim's client runs, passed on to the workers of a cluster qsim starts
#: (``--scheduler local``). A sweep's worker runs one long pure-Python task at a time, so the
#: worker's sampling profiler (100 samples a second, for a dashboard qsim does not open), each
#: process's 20 ms event-loop tick and 0.5 s system monitor and the worker's 0.1 s memory
#: check only take the GIL and CPU from the runs: with Dask's defaults a sweep took 16-34 %
#: more CPU per run than the process pool, with these 4-9 % (docs/performance.md). A run's
#: memory grows slowly, so a check each second still stops a worker that outgrows its limit.
#: A cluster started with ``dask scheduler`` and ``dask worker`` reads its own settings (the
#: same keys, as DASK_* variables: docs/sweeps.md).
DASK_SETTINGS: Final = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",  # only times how long the event loop blocks
    "distributed.admin.system-monitor.interval": "5s",  # host figures for the dashboard
    "distributed.worker.memory.monitor-interval": "1s",
}
INSTALL_HINT: Final = ("pip install 'qsim-execution-modes[dask]' (or pip install -e '.[dask]' in "
                       "a checkout)")


class DaskError(QsimError):
    """No cluster to run on, or workers that cannot run this qsim."""


def version_probe() -> Callable[[], str]:
    """A function that returns the qsim version it can import, or why it cannot.

    Made in here (a closure, not a module-level function) so that cloudpickle sends its code
    rather than a reference to a qsim module the worker may not have.
    """
    def probe() -> str:
        try:
            from qsim.version import __version__ as there
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            return f"cannot import qsim: {type(exc).__name__}: {exc}"
        return there
    return probe


def probe_version() -> str:
    """The qsim version a worker imports (the probe for executors that pickle by name)."""
    return __version__


def _problem(answer: str, expected: str) -> str | None:
    """What is wrong with a worker's probe answer, or None."""
    if answer == expected:
        return None
    if answer.startswith("cannot import qsim"):
        return answer
    return f"has qsim {answer}, this is qsim {expected}"


def check_executor(executor: Executor, expected: str = __version__,
                   timeout: float = WORKER_TIMEOUT_S) -> None:
    """DaskError unless ``executor``'s workers import qsim ``expected``.

    A Dask client's executor asks every worker; any other executor runs one probe.
    """
    client = dask_client_of(executor)
    if client is not None:
        check_dask_workers(client, expected, timeout)
        return
    # By reference: plain pickle (a process pool's) cannot send a closure. A worker without
    # qsim then fails to unpickle it, and that error is the answer.
    future = executor.submit(probe_version)
    try:
        answer = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise DaskError(f"the executor ran no probe within {timeout:g} s: are its workers "
                        "up?") from None
    except Exception as exc:  # e.g. a pool whose processes cannot start
        raise DaskError(f"the executor cannot run qsim's probe: {exc}") from None
    problem = _problem(answer, expected)
    if problem:
        raise DaskError(f"the executor's worker {problem}")


def dask_client_of(executor: Executor) -> Client | None:
    """The Dask client behind ``executor`` when it is a ``Client.get_executor()``."""
    if type(executor).__name__ == "ClientExecutor" and hasattr(executor, "_client"):
        client: Client = executor._client  # noqa: SLF001 (Dask keeps it there, unexported)
        return client
    return None


def check_dask_workers(client: Client, expected: str = __version__,
                       timeout: float = WORKER_TIMEOUT_S) -> None:
    """DaskError unless the cluster has a worker and every worker imports qsim ``expected``."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise DaskError(f"the Dask scheduler {_where(client)} has no worker after "
                        f"{timeout:g} s; start one with: dask worker {_where(client)}") from None
    answers: dict[str, Any] = client.run(version_probe(), on_error="return")
    problems = [f"{worker} {_problem(str(a), expected) if isinstance(a, str) else a}"
                for worker, a in sorted(answers.items())
                if not isinstance(a, str) or _problem(a, expected)]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise DaskError("Dask workers cannot run this qsim: " + "; ".join(problems[:3]) + more
                        + f"; install qsim {expected} on every worker")


def _where(client: Client) -> str:
    return str(getattr(client.scheduler, "address", "") or "")


def workers_of(executor: Executor) -> int:
    """How many runs ``executor`` can do at once (to size the chunks of work)."""
    client = dask_client_of(executor)
    if client is not None:
        return max(1, int(sum(client.nthreads().values())))
    return int(getattr(executor, "_max_workers", 0) or available_cores())


@contextmanager
def dask_executor(address: str, workers: int | None = None) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``address`` (``tcp://HOST:PORT``), or on a local
    cluster of ``workers`` processes (default: the cores) on the loopback for ``"local"``.

    The workers are checked (:func:`check_dask_workers`) before it is handed out; on leaving,
    the client (and a local cluster) is closed, which also cancels work still queued.
    """
    try:
        import dask
        import distributed  # noqa: F401 (here, so that a missing extra is reported as one)
    except ImportError:
        raise DaskError(f"--scheduler needs dask.distributed: {INSTALL_HINT}") from None
    with dask.config.set(DASK_SETTINGS):
        yield from _executor(address, workers)


def _executor(address: str, workers: int | None) -> Iterator[Executor]:
    """:func:`dask_executor`'s work, under qsim's Dask settings."""
    from distributed import Client, LocalCluster

    cluster = None
    if address == "local":
        with _sigint_ignored():
            # One thread per worker process: the simulations are pure Python and hold the GIL.
            cluster = LocalCluster(n_workers=workers or available_cores(),
                                   threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR)
    if cluster is None:
        _probe(address)  # Client itself waits for ever on a port that accepts and is silent
    try:
        client = _connect(Client, cluster if cluster is not None else address)
        try:
            check_dask_workers(client)
            # pure=False: every chunk is new work; hashing its scenarios to deduplicate
            # would only cost time.
            yield client.get_executor(pure=False)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start processes that ignore Ctrl-C (they inherit it): the terminal sends it to the
    whole process group, and the local cluster's workers should leave it to this process,
    which cancels the work and closes them, rather than each die with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _probe(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """DaskError unless a Dask scheduler answers at ``address`` within ``timeout`` s.

    Dask's own connect has no time limit on the handshake a server sends first (a port that
    accepts and never answers holds a Client for ever), and reads a non-Dask answer as frame
    lengths (an HTTP reply asks for 3 EiB). Here the handshake and an ``identity`` request
    are bounded together, and any failure after the connection is up, or an identity that
    is not a scheduler's (a worker's), means that what answers is not a Dask scheduler. On
    its own thread and event loop: the caller may be inside one (a notebook)."""
    import asyncio

    from distributed.comm import connect

    async def handshake() -> object:
        _refused_at_once(address, timeout)
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        try:  # a Dask worker or nanny answers too: ask what it is
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> object:
        return await asyncio.wait_for(handshake(), timeout)

    outcome: list[BaseException | object] = []
    worker = threading.Thread(target=lambda: outcome.append(_outcome(bounded)),
                              name="qsim-dask-probe", daemon=True)
    worker.start()
    worker.join(timeout + 5)  # wait_for bounds it; this bounds wait_for
    where = f"--scheduler {address}"
    answer = outcome[0] if outcome else TimeoutError()
    if isinstance(answer, (TimeoutError, asyncio.TimeoutError)):
        raise DaskError(f"{where}: no answer within {timeout:g} s (qsim's connect timeout); "
                        "is a Dask scheduler listening there?")
    if isinstance(answer, OSError):
        raise DaskError(f"{where}: cannot connect: {answer.strerror or answer}")
    if isinstance(answer, ValueError):  # a malformed address
        raise DaskError(f"{where}: not an address Dask reads (tcp://HOST:PORT): {answer}")
    if isinstance(answer, dict) and answer.get("type") in ("Worker", "Nanny"):
        raise DaskError(f"{where}: this is a Dask {answer['type'].lower()}, not the "
                        "scheduler: give the scheduler's address (dask scheduler prints it)")
    if isinstance(answer, BaseException) or not isinstance(answer, dict) or \
            answer.get("type") != "Scheduler":
        raise DaskError(f"{where}: what answers there is not a Dask scheduler")


def _refused_at_once(address: str, timeout: float) -> None:
    """ConnectionRefusedError now for a closed TCP port (Dask's connect retries one until
    its timeout, as if the scheduler were still starting)."""
    import socket

    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "tcp":
        return
    host, port = parse_host_port(location)
    socket.create_connection((host, port), timeout=timeout).close()


def _outcome(run: Callable[[], Any]) -> object:
    """``asyncio.run(run())``, or the exception it raised (MemoryError included: a reply
    that is not Dask's can be read as an absurd frame length)."""
    import asyncio

    try:
        return asyncio.run(run())
    except BaseException as exc:  # noqa: BLE001 - reported by the caller as one line
        return exc


def _connect(client_type: Any, target: Any) -> Client:
    try:
        client: Client = client_type(target, timeout=f"{CONNECT_TIMEOUT_S}s")
        return client
    except (OSError, TimeoutError, ValueError) as exc:
        raise DaskError(f"--scheduler {target}: cannot connect: {exc}") from None
