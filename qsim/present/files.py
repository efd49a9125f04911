"""Writing results: a file or a whole output folder appears complete or not at all, and a
folder is only ever replaced when nothing would be lost: it is empty, or qsim wrote it.

Every ``--out`` folder holds a manifest, :data:`MANIFEST`, that lists each file qsim wrote
there with its size and SHA-256. An existing folder is replaced only when it has a manifest
and holds exactly files the manifest lists, unchanged; anything else (a folder of photos, a
file added or edited since) is refused, naming a file that replacing would lose. The check
runs before the simulation (a bad path costs nothing) and again just before the folder is
swapped (a long run gives time to add files). An ``--out`` that is a symbolic link is
refused: qsim never replaces a link with a folder, nor writes through one into a folder it
did not make. The swap itself cannot be cut by Ctrl-C half-way (SIGINT waits until it is
done), and an interrupted write leaves no temporary folder or file behind.

One command at a time writes a folder: the first check takes a lock on it (an OS lock,
``flock``, on a file of the user's temporary folder named after the folder's path, which
holds the command's pid and arguments) and the command keeps it until the folder is in place
or it ends. A second command on the same folder is refused, naming the first. The OS releases
the lock when a process dies, so a crash leaves none behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import stat
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from qsim.input.errors import QsimError
from qsim.version import __version__

__all__ = ["MANIFEST", "OUT_FILES", "OutFolder", "check_out_dir", "check_plot_path",
           "out_folder", "release_out_locks", "write_file", "write_out_dir"]

#: The manifest of an ``--out`` folder (hidden: it is qsim's bookkeeping, not a result).
MANIFEST: Final = ".qsim-manifest.json"
_FORMAT: Final = "qsim-out"

# The files qsim's commands write into --out (the manifest, not this list, decides what a
# folder may lose).
OUT_FILES: Final = ("summary.json", "jobs.csv", "contexts.csv", "jobs.parquet",
                     "contexts.parquet", "replications.csv",
                     "compare.json", "compare.csv", "advise.json", "advise.csv",
                     "sweep.parquet", "sweep.csv",
                     "trace.json", "scenario.yaml")  # qsim trace
OUT_SUFFIXES: Final = (".png",)  # pictures (--plot) may live there too


def check_out_dir(out: Path, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
    """QsimError unless ``out`` can be (re)placed: a new path, an empty folder, or a folder
    that qsim wrote and nobody changed since (see the module docstring), holding none of the
    command's ``inputs`` (``qsim run my-vqe/scenario.yaml --out my-vqe`` would replace the
    scenario, and the trace it replays, with the results). It takes the folder's lock (see
    the module docstring): QsimError if another command holds it."""
    _lock(out)
    inside = _inputs_inside(out, inputs)
    if inside is not None:
        raise QsimError(f"--out {out}: holds {inside}, which this command reads; replacing the "
                        "folder would lose it: choose another folder")
    if out.is_symlink():
        raise QsimError(f"--out {out}: is a symbolic link (to {os.readlink(out)}); give a real "
                        "folder: qsim replaces an --out folder whole and never a link")
    if out.exists() and not out.is_dir():
        raise QsimError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        loss = _what_would_be_lost(out)
        if loss:
            raise QsimError(f"--out {out}: {loss}; choose a new folder")
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise QsimError(f"--out {out}: cannot create it in {ancestor} (not a writable folder)")


# The --out folders this process holds the lock of: lock file path -> its open descriptor.
_HELD: dict[str, int] = {}


def _lock_path(out: Path) -> str:
    """The lock file of ``out``: in the user's temporary folder, never in the user's own."""
    key = _hex_sha256(os.fsencode(out.resolve()))[:32]
    folder = os.path.join(tempfile.gettempdir(), f"qsim-locks-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return os.path.join(folder, key + ".lock")


def _lock(out: Path) -> None:
    """Take ``out``'s lock for this process (again: a no-op), or QsimError naming the
    command that holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        path = _lock_path(out)
    except OSError:  # no temporary folder to lock in: go on without (as before locks)
        return
    if path in _HELD:
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise QsimError(f"--out {out}: another qsim ({holder}) is writing this folder; "
                            "wait for it to end, or choose another folder") from None
        # The file a holder removed as it let go is no lock: lock the one at the path.
        if os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    command = shlex.join(["qsim", *sys.argv[1:]])
    os.write(fd, f"pid {os.getpid()}: {command}".encode("utf-8", "replace"))
    _HELD[path] = fd


def release_out_locks() -> None:
    """Let go of every --out lock this process holds (its command is over)."""
    for path, fd in list(_HELD.items()):
        with contextlib.suppress(OSError):
            os.unlink(path)  # removed while still held: see _lock
        os.close(fd)
        del _HELD[path]


def _inputs_inside(out: Path, inputs: Sequence[str | os.PathLike[str]]) -> str | None:
    """The first input that lies in ``out`` (or is it), or None."""
    folder = out.resolve()
    for given in inputs:
        path = Path(given).resolve()
        if path == folder or folder in path.parents:
            return str(given)
    return None


def _what_would_be_lost(folder: Path) -> str | None:
    """Why replacing ``folder`` would lose something (naming a file), or None."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return f"cannot read the folder: {exc.strerror or exc}"
    others = [n for n in names if n != MANIFEST]
    if not others:
        return None  # empty, or a manifest alone: nothing to lose
    listed = _read_manifest(folder)
    if listed is None:
        return (f"qsim did not write this folder (it has no valid {MANIFEST}), and replacing "
                f"it would lose {_first(others)}")
    for name in others:
        path = folder / name
        entry = listed.get(name)
        if entry is None:
            return f"replacing it would lose {name}, which qsim did not write there"
        try:
            info = path.lstat()
        except OSError as exc:
            return f"cannot read {name}: {exc.strerror or exc}"
        if not stat.S_ISREG(info.st_mode):
            return f"replacing it would lose {name}, which is no longer the file qsim wrote"
        if info.st_size != entry.get("bytes") or _sha256(path) != entry.get("sha256"):
            return f"{name} has changed since qsim wrote it, and replacing it would lose that"
    return None


def _first(names: list[str]) -> str:
    more = len(names) - 1
    return names[0] + (f" (and {more} other{'s' if more > 1 else ''})" if more else "")


def _read_manifest(folder: Path) -> dict[str, dict[str, Any]] | None:
    """The manifest's files by name, or None if there is none qsim could have written."""
    path = folder / MANIFEST
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 1_000_000:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return None
    return files


def _hex_sha256(raw: bytes) -> str:
    import hashlib  # OpenSSL's: 12 M instructions to import, only for --out (not for --help)

    return hashlib.sha256(raw).hexdigest()


def _sha256(path: Path) -> str:
    import hashlib  # as in _hex_sha256

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def check_plot_path(plot: Path) -> None:
    """QsimError unless ``plot`` names a PNG file that can be written."""
    if plot.suffix.lower() != ".png":
        raise QsimError(f"--plot {plot}: pictures are PNG files; name it *.png")
    if plot.is_dir():
        raise QsimError(f"--plot {plot}: is a folder")
    if plot.exists() and not _is_png(plot):
        # A picture is drawn again at no cost (replacing it is what --plot is for); a
        # document that only has the name of one may be worth something.
        raise QsimError(f"--plot {plot}: exists and is not a PNG picture; replacing it would "
                        "lose it: choose another name")
    folder = plot.absolute().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise QsimError(f"--plot {plot}: cannot write into {folder} (not a writable folder)")


_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts as a PNG does."""
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as fh:
            return fh.read(len(_PNG_SIGNATURE)) == _PNG_SIGNATURE
    except OSError:
        return False


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path`` and rename it into place: never a half-written file,
    and no temporary file left behind, whatever stops the write (Ctrl-C included)."""
    path = path.absolute()
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise QsimError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_out_dir(out: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` and their manifest into a fresh folder beside ``out`` and move it into
    place, after checking once more that the folder it replaces loses nothing.

    Readers see either the old folder or the complete new one, never a half-written one.
    """
    with out_folder(out) as folder:
        for name, data in files.items():
            folder.add(name, data)


class OutFolder:
    """A fresh folder beside an ``--out`` being filled: ``add`` writes a file from memory,
    ``adopt`` takes one a writer put at ``path(name)`` itself (a table too large to hold
    twice). Each file's size and SHA-256 is taken as it comes, for the manifest. ``add`` and
    ``adopt`` may be called from several threads, for different files."""

    def __init__(self, out: Path, tmp: Path) -> None:
        self.out, self.tmp = out, tmp
        self._listed: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.tmp / self._checked(name)

    def add(self, name: str, data: str | bytes) -> None:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        self.path(name).write_bytes(raw)
        self._list(name, len(raw), _hex_sha256(raw))

    def adopt(self, name: str) -> None:
        path = self.path(name)
        self._list(name, path.stat().st_size, _sha256(path))

    def _checked(self, name: str) -> str:
        if name == MANIFEST or not name or os.sep in name or name.startswith("."):
            raise ValueError(f"{name!r} is not a name for a result file")
        return name

    def _list(self, name: str, size: int, sha256: str) -> None:
        with self._lock:
            self._listed[name] = {"bytes": size, "sha256": sha256}

    def manifest(self) -> bytes:
        """The manifest of what was written: each file, its size and SHA-256."""
        written = set(os.listdir(self.tmp))
        if written != set(self._listed):
            raise ValueError(f"files written but not listed: {sorted(written ^ set(self._listed))}")
        files = dict(sorted(self._listed.items()))
        text = json.dumps({"format": _FORMAT, "qsim_version": __version__, "files": files},
                          indent=2)
        return (text + "\n").encode("utf-8")


@contextlib.contextmanager
def out_folder(out: Path) -> Iterator[OutFolder]:
    """An :class:`OutFolder` for ``out``: when the block ends, its manifest is written and, after
    one more check that the folder it replaces loses nothing, it takes ``out``'s place; if the
    block raises (Ctrl-C included), it is removed and ``out`` is left as it was."""
    out = out.absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise QsimError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the result should not be
        folder = OutFolder(out, tmp)
        yield folder
        (tmp / MANIFEST).write_bytes(folder.manifest())
        check_out_dir(out)  # again: a long run leaves time to put files there
        _move_into_place(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise QsimError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        release_out_locks()


def _move_into_place(tmp: Path, out: Path) -> None:
    with _sigint_deferred():
        if not out.exists() and not out.is_symlink():
            os.rename(tmp, out)
            return
        # A folder cannot be atomically replaced by another, so the old one steps aside first
        # and comes back if the new one cannot take its place.
        old = out.with_name(f".{out.name}.{uuid.uuid4().hex}.old")
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except OSError:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) until the block is done: a folder half swapped would be the one
    state a reader should never see. Only the main thread receives it in Python."""
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
