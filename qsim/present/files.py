"""Writing results: a file or a whole output folder appears complete or not at all, and a
folder is only ever replaced when it holds nothing but what qsim itself writes there."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Final

from qsim.errors import QsimError

__all__ = ["OUT_FILES", "check_out_dir", "check_plot_path", "write_file", "write_out_dir"]

# The files `--out` writes; a folder holding only these (or nothing) may be replaced.
OUT_FILES: Final = ("summary.json", "jobs.csv", "contexts.csv", "replications.csv",
                     "compare.json", "compare.csv", "sweep.parquet", "sweep.csv",
                     "trace.json", "scenario.yaml")  # qsim trace
OUT_SUFFIXES: Final = (".png",)  # pictures (--plot) may live there too


def check_out_dir(out: Path) -> None:
    """QsimError unless ``out`` can be (re)placed: a new path, or a folder of qsim's files."""
    if out.exists() and not out.is_dir():
        raise QsimError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if not _ours(p))
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise QsimError(f"--out {out}: the folder holds files qsim did not write "
                            f"({shown}); choose a new folder")
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise QsimError(f"--out {out}: cannot create it in {ancestor} (not a writable folder)")


def _ours(path: Path) -> bool:
    """Whether ``path`` looks like something `--out` wrote (so replacing it loses nothing)."""
    return path.is_file() and (path.name in OUT_FILES or path.suffix in OUT_SUFFIXES)


def check_plot_path(plot: Path) -> None:
    """QsimError unless ``plot`` names a PNG file that can be written."""
    if plot.suffix.lower() != ".png":
        raise QsimError(f"--plot {plot}: pictures are PNG files; name it *.png")
    if plot.is_dir():
        raise QsimError(f"--plot {plot}: is a folder")
    folder = plot.absolute().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise QsimError(f"--plot {plot}: cannot write into {folder} (not a writable folder)")


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path`` and rename it into place: never a half-written file."""
    path = path.absolute()
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise QsimError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_out_dir(out: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` into a fresh folder beside ``out`` and move it into place.

    Readers see either the old folder or the complete new one, never a half-written one.
    """
    out = out.absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise QsimError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the result should not be
        for name, content in files.items():
            if isinstance(content, bytes):
                (tmp / name).write_bytes(content)
                continue
            with open(tmp / name, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
        _move_into_place(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise QsimError(f"--out {out}: cannot write: {exc.strerror or exc}") from None


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
