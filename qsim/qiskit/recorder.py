"""Record a Qiskit program as it runs: its jobs, batches, sessions and think times.

:class:`Recorder` hooks, while it is entered, the primitives of qiskit-ibm-runtime
(``SamplerV2``, ``EstimatorV2``, the executor-based ``Sampler`` and ``Estimator`` and
``Executor``), ``Session`` and ``Batch`` (opening, ``close``, ``cancel``) and each job's
``result()``. It keeps a *user clock*: wall time minus the time blocked in a primitive's
``run()`` and a job's ``result()``, so that the local simulator's speed does not leak into
the program's think times. Jobs are run eagerly (``run()`` returns once the job is done), so
that no simulation runs in the background while the program's own code is timed.

:func:`trace_script` runs an unmodified script under a recorder, as ``qsim trace`` does.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

from qsim.input.errors import QsimError
from qsim.qiskit.estimate import DurationWarning, QuantumEstimate, estimate_quantum_seconds
from qsim.records.trace_file import (
    FORMAT,
    MODES,
    VERSION,
    BackendInfo,
    Close,
    Context,
    ContextKind,
    ModeName,
    Open,
    PrimitiveName,
    Program,
    RecordedJob,
    Recording,
    Submit,
    Think,
    Wait,
)
from qsim.version import __version__

__all__ = ["PartialRecording", "Recorder", "import_runtime", "trace_script"]

_RESOLUTION = 1e-6  # think times are kept to the microsecond


class Recorder:
    """A context manager recording the qiskit-ibm-runtime work done inside it.

        >>> with Recorder() as rec:
        ...     run_my_vqe()
        >>> rec.recording().jobs[0].quantum_s
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._start = 0.0
        self._blocked = 0.0
        self._depth = 0  # inside a hooked call (nested calls are the outer one's)
        self._last = 0.0  # user time of the last step
        self.steps: list[Any] = []
        self.jobs: list[RecordedJob] = []
        self.contexts: list[Context] = []
        self.warnings: list[str] = []
        self._context_of: dict[int, int] = {}  # id(Session) -> context index
        self._closed: set[int] = set()
        self._keep: list[Any] = []  # hooked objects, kept alive so that their ids stay theirs
        self._waited: set[int] = set()
        self._backend: BackendInfo | None = None
        self._program: Any = None  # an Executor program built inside an outer primitive
        self._undo: list[Callable[[], None]] = []

    # ---- the user clock ----------------------------------------------------------------------

    def user_time(self, now: float | None = None) -> float:
        """Seconds of the program's own time since the recorder was entered."""
        now = self._clock() if now is None else now
        return now - self._start - self._blocked

    @contextmanager
    def _blocking(self) -> Iterator[float]:
        """Time spent here is the service's (or the simulator's), not the program's; yields
        the user time at entry."""
        entered = self._clock()
        self._depth += 1
        try:
            yield self.user_time(entered)
        finally:
            self._depth -= 1
            self._blocked += self._clock() - entered

    def _step(self, at: float, step: Any) -> None:
        think = round(at - self._last, 6)
        if think >= _RESOLUTION:
            self.steps.append(Think(op="think", seconds=think))
        self._last = max(self._last, at)
        self.steps.append(step)

    # ---- entering and leaving ----------------------------------------------------------------

    def __enter__(self) -> Recorder:
        self._install()
        self._start = self._clock()
        return self

    def __exit__(self, *exc: object) -> None:
        while self._undo:
            self._undo.pop()()

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        setattr(owner, name, make(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def _install(self) -> None:
        import qiskit_ibm_runtime as runtime
        from qiskit_ibm_runtime.executor import executor as executor_module

        for cls in (runtime.SamplerV2, runtime.EstimatorV2):
            self._patch(cls, "run", self._hook_run)
        self._patch(executor_module.Executor, "run", self._hook_executor)
        for module, name in (("qiskit_ibm_runtime.executor_sampler", "Sampler"),
                             ("qiskit_ibm_runtime.executor_estimator", "Estimator")):
            try:
                cls = getattr(__import__(module, fromlist=[name]), name)
            except (ImportError, AttributeError):  # older qiskit-ibm-runtime: no such class
                continue
            if "run" in cls.__dict__:
                self._patch(cls, "run", self._hook_run)
        self._patch(runtime.Session, "__init__", self._hook_open)
        self._patch(runtime.Session, "close", lambda f: self._hook_close(f, cancel=False))
        self._patch(runtime.Session, "cancel", lambda f: self._hook_close(f, cancel=True))

    # ---- hooks -------------------------------------------------------------------------------

    def _hook_run(self, original: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        def run(primitive: Any, pubs: Any, *args: Any, **kwargs: Any) -> Any:
            if recorder._depth:
                return original(primitive, pubs, *args, **kwargs)
            pubs = list(pubs)
            recorder._program = None
            with recorder._blocking() as at:
                job = original(primitive, pubs, *args, **kwargs)
                program, recorder._program = recorder._program, None
                work = pubs if program is None else program
                estimate = recorder._estimate(work, primitive, kwargs)
                _finish(job)
            kind: PrimitiveName = "executor" if program is not None and \
                "executor" in type(primitive).__module__ else _kind(primitive)
            recorder._submitted(at, job, primitive, kind, estimate)
            return job

        return run

    def _hook_executor(self, original: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        def run(executor: Any, program: Any, *args: Any, **kwargs: Any) -> Any:
            if recorder._depth:
                recorder._program = program  # the outer primitive's work, as it runs
                return original(executor, program, *args, **kwargs)
            with recorder._blocking() as at:
                job = original(executor, program, *args, **kwargs)
                estimate = recorder._estimate(program, executor, {})
                _finish(job)
            recorder._submitted(at, job, executor, "executor", estimate)
            return job

        return run

    def _hook_open(self, original: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
            if recorder._depth:
                original(session, *args, **kwargs)
                return
            with recorder._blocking() as at:
                original(session, *args, **kwargs)
            recorder._context(session, at)

        return __init__

    def _hook_close(self, original: Callable[..., Any], cancel: bool) -> Callable[..., Any]:
        recorder = self

        def close(session: Any, *args: Any, **kwargs: Any) -> Any:
            if recorder._depth:
                return original(session, *args, **kwargs)
            with recorder._blocking() as at:
                out = original(session, *args, **kwargs)
            index = recorder._context(session, at)
            if index not in recorder._closed:
                recorder._closed.add(index)
                recorder._step(at, Close(op="close", context=index, cancel=cancel))
            return out

        return close

    # ---- what is recorded --------------------------------------------------------------------

    def _context(self, session: Any, at: float) -> int:
        """The context index of ``session``, opened now if it is new to the recorder."""
        index = self._context_of.get(id(session))
        if index is None:
            from qiskit_ibm_runtime import Batch

            index = len(self.contexts)
            kind: ContextKind = "batch" if isinstance(session, Batch) else "session"
            self.contexts.append(Context(id=index, kind=kind))
            self._context_of[id(session)] = index
            self._keep.append(session)
            self._step(at, Open(op="open", context=index))
        return index

    def _estimate(self, work: Any, primitive: Any, kwargs: dict[str, Any]) -> QuantumEstimate:
        backend = primitive.backend()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DurationWarning)
            estimate = estimate_quantum_seconds(
                work, backend, primitive=None if _is_program(work) else primitive,
                options=getattr(primitive, "options", None), shots=kwargs.get("shots"),
                precision=kwargs.get("precision"))
        for w in caught:
            if issubclass(w.category, DurationWarning):
                text = str(w.message)
                if text not in self.warnings:
                    self.warnings.append(text)
                estimate = _with_note(estimate, text)
            else:  # not ours: let it be shown as it would have been
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if self._backend is None:
            self._backend = BackendInfo(
                name=str(getattr(backend, "name", "") or ""),
                rep_delay_s=estimate.rep_delay_s if estimate.rep_delay_from != "options"
                else _backend_rep_delay(backend),
                num_qubits=getattr(backend, "num_qubits", None))
        return estimate

    def _submitted(self, at: float, job: Any, primitive: Any, kind: PrimitiveName,
                   estimate: QuantumEstimate) -> None:
        mode = getattr(primitive, "mode", None)
        context = None if mode is None else self._context(mode, at)
        index = len(self.jobs)
        assert self._backend is not None
        rep = None if estimate.rep_delay_from != "options" and \
            estimate.rep_delay_s == self._backend.rep_delay_s else estimate.rep_delay_s
        self.jobs.append(RecordedJob(
            id=index, primitive=kind, context=context, circuits=estimate.circuits,
            multiplier=estimate.multiplier, overhead_s=estimate.overhead_s, rep_delay_s=rep,
            quantum_s=estimate.quantum_s, assumptions=estimate.assumptions))
        self._step(at, Submit(op="submit", job=index))
        self._keep.append(job)
        self._hook_result(job, index)

    def _hook_result(self, job: Any, index: int) -> None:
        recorder = self
        original = job.result

        def result(*args: Any, **kwargs: Any) -> Any:
            if recorder._depth:
                return original(*args, **kwargs)
            first = index not in recorder._waited
            recorder._waited.add(index)
            at = recorder.user_time()
            try:
                with recorder._blocking() as at:
                    return original(*args, **kwargs)
            finally:
                if first:  # later calls return at once, on the service too
                    recorder._step(at, Wait(op="wait", job=index))

        try:
            job.result = result
        except AttributeError:  # a job class without instance attributes: waits go unrecorded
            pass

    def submitted_jobs(self) -> int:
        """Jobs whose submission is recorded (a stop between a job and its step leaves one
        without)."""
        return sum(isinstance(s, Submit) for s in self.steps)

    def partial(self, script: str, args: Sequence[str], cause: KeyboardInterrupt) -> Recording:
        """What was recorded until the program was stopped by ``cause``, marked partial: the
        jobs whose submission was recorded, and the steps up to the last of them."""
        jobs = self.submitted_jobs()
        del self.jobs[jobs:]
        self.steps = [s for s in self.steps
                      if not isinstance(s, (Submit, Wait)) or s.job < jobs]
        word = "SIGTERM" if type(cause).__name__ == "Terminated" else "Ctrl-C"
        recording = self.recording(script, args)
        program = recording.program.model_copy(update={
            "partial": f"stopped by {word} after {jobs} job{'s' if jobs != 1 else ''}; the "
                       "program did not run to its end"})
        return recording.model_copy(update={"program": program})

    def recording(self, script: str = "", args: Sequence[str] = ()) -> Recording:
        """What was recorded, as a validated trace. QsimError if no job was run."""
        if not self.jobs:
            raise QsimError("no qiskit-ibm-runtime job was run (qsim trace records SamplerV2, "
                            "EstimatorV2, the executor-based Sampler and Estimator, and "
                            "Executor): nothing to record")
        counts: Counter[ModeName] = Counter(
            "job" if j.context is None else self.contexts[j.context].kind for j in self.jobs)
        mode = max(counts, key=lambda m: (counts[m], MODES.index(m)))
        assert self._backend is not None
        return Recording(
            format=FORMAT, version=VERSION, qsim_version=__version__,
            program=Program(script=script, args=tuple(args)), backend=self._backend,
            mode=mode, contexts=tuple(self.contexts), jobs=tuple(self.jobs),
            steps=tuple(self.steps))


def _finish(job: Any) -> None:
    """Run the job to its end now (its errors are the program's, raised by its own
    ``result()`` call later)."""
    with suppress(Exception):
        job.result()


def _kind(primitive: Any) -> PrimitiveName:
    name = type(primitive).__name__.lower()
    return "estimator" if "estimator" in name else "sampler"


def _is_program(work: Any) -> bool:
    return hasattr(work, "items") and hasattr(work, "shots") and not isinstance(work, list)


def _backend_rep_delay(backend: Any) -> float:
    from qsim.qiskit.estimate import _Options, _rep_delay

    return _rep_delay(backend, _Options(None), None)[0]


def _with_note(estimate: QuantumEstimate, note: str) -> QuantumEstimate:
    from dataclasses import replace

    if note in estimate.assumptions:
        return estimate
    return replace(estimate, assumptions=(*estimate.assumptions, note))


# ---------------------------------------------------------------------------------------------
# Running a script

def import_runtime() -> None:
    """Import qiskit-ibm-runtime (ImportError without the qiskit extra): a command checks
    with it that it can trace before it starts."""
    import qiskit_ibm_runtime  # noqa: F401


def trace_script(script: str, args: Sequence[str] = ()) -> tuple[Recording, list[str]]:
    """Run ``script`` (with ``args`` as its ``sys.argv[1:]``) under a :class:`Recorder`, as
    ``python script args...`` would; return its recording and the recorder's warnings.

    QsimError if the script cannot be read, raises, exits with a non-zero status or runs no
    job."""
    if not os.path.isfile(script):
        raise QsimError(f"{script}: no such file" if not os.path.exists(script)
                        else f"{script}: not a file")
    import qiskit_ibm_runtime  # noqa: F401  (imported before the clock starts: it is slow)

    path = os.path.abspath(script)
    saved_argv, saved_path, saved_main = sys.argv, sys.path[:], sys.modules.get("__main__")
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(path))
    stopped: KeyboardInterrupt | None = None
    try:
        with Recorder() as recorder, _guarded_exits():
            try:
                runpy.run_path(path, run_name="__main__")
            except (SystemExit, _Exit) as exc:
                status = exc.code if isinstance(exc, SystemExit) else exc.status
                how = "exited" if isinstance(exc, SystemExit) else "called os._exit(): exited"
                if status not in (None, 0):
                    raise QsimError(f"{script} {how} with status {status}") from None
            except _RealService as exc:
                raise QsimError(_REAL_SERVICE.format(script=script, where=_line(exc, path))
                                ) from None
            except QsimError:
                raise
            except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: keep what was recorded
                stopped = exc
            except BaseException as exc:  # the script's own error
                raise QsimError(f"{script} raised {_described(exc, path)}") from None
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
    if stopped is not None:
        if not recorder.submitted_jobs():
            raise stopped
        raise PartialRecording(recorder.partial(script, args, stopped), recorder.warnings,
                               stopped)
    try:
        recording = recorder.recording(script, args)
    except QsimError as exc:
        raise QsimError(f"{script}: {exc}") from None
    return recording, recorder.warnings


class PartialRecording(KeyboardInterrupt):
    """The script was stopped (Ctrl-C, SIGTERM: ``cause``) after some jobs: ``recording``
    holds them, marked partial (``program.partial``), with the recorder's ``warnings``."""

    def __init__(self, recording: Recording, warnings: list[str],
                 cause: KeyboardInterrupt) -> None:
        super().__init__("stopped after recording some jobs")
        self.recording, self.warnings, self.cause = recording, warnings, cause


_REAL_SERVICE = (
    "{script} opens the real IBM Quantum service (QiskitRuntimeService{where}): qsim trace runs "
    "programs in local testing mode only. Give the primitives a fake backend instead, e.g. "
    "`from qiskit_ibm_runtime.fake_provider import FakeManilaV2` and "
    "`SamplerV2(mode=FakeManilaV2())` (or a Session or Batch on it, or an AerSimulator)")


class _RealService(BaseException):
    """The script opened QiskitRuntimeService (a BaseException: a script's ``except
    Exception`` must not swallow it)."""


class _Exit(BaseException):
    """The script called ``os._exit(status)``, which would end qsim itself at once."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@contextmanager
def _guarded_exits() -> Iterator[None]:
    """While the script runs: ``os._exit`` in this process raises :class:`_Exit` (in a
    child the script forked it still exits), and opening the real service raises
    :class:`_RealService`: a trace is of a program in local testing mode."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    real_exit, pid = os._exit, os.getpid()
    opened = QiskitRuntimeService.__dict__["__init__"]

    def _exit(status: int) -> NoReturn:
        if os.getpid() != pid:
            real_exit(status)
        raise _Exit(status)

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise _RealService()

    os._exit = _exit
    QiskitRuntimeService.__init__ = refuse
    try:
        yield
    finally:
        os._exit = real_exit
        QiskitRuntimeService.__init__ = opened


def _line(exc: BaseException, path: str) -> str:
    """``, line 12``: the script's last line in ``exc``'s traceback, or nothing."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if os.path.abspath(f.filename) == path]
    return f", line {lines[-1]}" if lines else ""


def _described(exc: BaseException, path: str) -> str:
    """``ValueError: bad value (line 12)``: the exception and the script's line it left."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text + (f" (line {line})" if line is not None else "")

