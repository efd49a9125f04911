"""``qsim examples [--copy DIR]``: the examples that ship inside the package.

Registered on :data:`qsim.present.cli.app` when the CLI is imported. The example scenarios,
the notebooks that use them, a Qiskit script for ``qsim trace`` (and any trace or data file
an example reads) live once, in the package's ``examples`` folder (the repository's
``scenarios/`` is a link to it), so that an installed wheel has them too: ``qsim examples``
lists them, one line each, and ``--copy DIR`` writes them into ``DIR``, next to each other as
the notebooks expect. A copy never overwrites a file: if
any of them is already in ``DIR``, the command names it, exits with 2 and copies nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from qsim.input.errors import QsimError
from qsim.input.text import escape
from qsim.present.options import command, examples
from qsim.present.shared import error

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["copy_examples", "describe", "example_files", "list_examples"]

KINDS: Final = (".yaml", ".ipynb", ".py")  # scenarios first, then notebooks, then scripts
DATA: Final = "a file the examples read"  # a trace or data file: listed last, described so
LICENCE: Final = "where a data file beside it comes from, and its licence"
WIDTH: Final = 72  # a description longer than this is cut at a word, so each is one line


@command("examples", epilog=examples(
    "qsim examples",
    "qsim examples --copy scenarios && qsim run scenarios/vqe.yaml",
    "qsim examples --copy ex && qsim compare ex/sampling-sweep.yaml --modes job,batch"))
def _examples_command(
    copy: Annotated[Path | None, typer.Option(
        "--copy", metavar="DIR", help="Write every example into this folder (made if "
        "missing). A file already there is never overwritten: then nothing is copied.",
        show_default=False)] = None,
) -> int:
    """List the example scenarios, notebooks and scripts that come with qsim, or copy them into a folder to run them there."""  # noqa: E501
    try:
        if copy is None:
            print(list_examples(), end="")
        else:
            written = copy_examples(copy)
            print(f"copied {len(written)} examples into {escape(str(copy))}; try: qsim run "
                  f"{escape(str(copy / 'vqe.yaml'))}")
    except QsimError as exc:
        return error(str(exc))
    return 0


SUBFOLDERS: Final = ("backends",)  # examples in a folder of their own (fitted backends)


class Example:
    """One shipped file: its ``name`` relative to the examples folder (``backends/x.yaml``
    for one in a subfolder), and its bytes."""

    def __init__(self, name: str, file: Traversable) -> None:
        self.name = name
        self._file = file

    def read_bytes(self) -> bytes:
        return self._file.read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self._file.read_text(encoding=encoding)


def example_files() -> list[Example]:
    """The shipped examples: scenarios (YAML), then notebooks, then scripts, then any file
    they read (a recorded trace, data), each kind by name, the top folder's before those of
    ``SUBFOLDERS``. Every file of the folder: a copy holds whatever the examples refer to."""
    folder = resources.files("qsim").joinpath("examples")
    found = [Example(f.name, f) for f in folder.iterdir()
             if f.is_file() and not f.name.startswith(".")]
    for sub in SUBFOLDERS:
        inner = folder.joinpath(sub)
        if inner.is_dir():
            found += [Example(f"{sub}/{f.name}", f) for f in inner.iterdir()
                      if f.is_file() and not f.name.startswith(".")]
    return sorted(found, key=lambda f: ("/" in f.name, _rank(f.name), f.name))


def _rank(name: str) -> int:
    suffix = Path(name).suffix
    return KINDS.index(suffix) if suffix in KINDS else len(KINDS)


def list_examples() -> str:
    """One line per example: its file name, then what it is about."""
    files = example_files()
    width = max(len(f.name) for f in files)
    return "".join(f"{f.name:<{width}}  {_about(f)}\n" for f in files)


def _about(file: Example) -> str:
    """:func:`describe` of a file, read only if it is an example (data may be binary: a
    gzipped series)."""
    if "LICENSE" in file.name.upper():
        return LICENCE
    if Path(file.name).suffix not in KINDS:
        return DATA
    return describe(file.name, file.read_text(encoding="utf-8"))


def describe(name: str, text: str) -> str:
    """What an example is about, in one line of at most :data:`WIDTH` characters: the first
    sentence of a scenario's opening comment, of a notebook's title, of a script's docstring.
    Taken from the file itself, so a new example needs no entry anywhere else."""
    suffix = Path(name).suffix
    if suffix not in KINDS:
        return DATA
    if suffix == ".yaml":
        lines = _leading_comment(text.splitlines())
    elif suffix == ".ipynb":
        cells = json.loads(text).get("cells", [])
        lines = ["".join(c["source"]).lstrip("# ") for c in cells[:1]
                 if c.get("cell_type") == "markdown"]
        lines = lines[0].splitlines()[:1] if lines else []
    else:
        lines = _docstring(text)
    return _one_line(" ".join(lines))


def _leading_comment(lines: Iterable[str]) -> list[str]:
    """The first paragraph of the comment a scenario file opens with."""
    out = []
    for line in lines:
        if not line.startswith("#") or not line.strip("# "):
            break
        out.append(line.lstrip("#").strip())
    return out


def _docstring(text: str) -> list[str]:
    match = re.match(r'\s*(?:"""|\'\'\')(.*?)(?:\n\s*\n|"""|\'\'\')', text, re.S)
    return match.group(1).split() if match else []


def _one_line(text: str) -> str:
    """The first sentence, without a pointer to a notebook or its closing full stop; one
    longer than :data:`WIDTH` characters is cut at its first colon, else at its last comma
    that fits, else at a word."""
    text = re.sub(r"\s*\([\w.-]+\.ipynb\)", "", " ".join(text.split()))
    sentence = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0].removesuffix(".")
    if len(sentence) > WIDTH and ": " in sentence:
        sentence = sentence.split(": ", 1)[0]
    if len(sentence) > WIDTH and ", " in sentence[:WIDTH]:
        sentence = sentence[:WIDTH].rsplit(", ", 1)[0]
    if len(sentence) > WIDTH:
        sentence = sentence[:WIDTH - 3].rsplit(" ", 1)[0] + "..."
    return sentence or "(no description)"


def copy_examples(folder: Path) -> list[Path]:
    """Write every example into ``folder`` (made if missing); return the files written.

    Raises QsimError, having written nothing, when a file of the same name is already there
    (or ``folder`` is a file): a user's file is never replaced. A write that fails half-way
    removes the files this call made, so a copy is whole or absent."""
    files = example_files()
    if folder.exists() and not folder.is_dir():
        raise QsimError(f"--copy {folder}: is a file, not a folder; nothing was copied")
    for f in files:
        target = folder / f.name
        inner = target.parent
        if inner != folder and (inner.is_symlink() or (inner.exists() and not inner.is_dir())):
            target = inner  # never written through a link, never replaced by a folder
        if target.exists() or target.is_symlink():
            raise QsimError(f"--copy {folder}: {target} already exists; nothing was copied "
                            "(qsim never overwrites a file)")
    made = [d for d in (folder, *{(folder / f.name).parent for f in files}) if not d.exists()]
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            target = folder / f.name
            target.parent.mkdir(exist_ok=True)
            with open(target, "xb") as out:  # "x": fails rather than replace a file
                written.append(target)
                out.write(f.read_bytes())
    except OSError as exc:
        _remove(written, made)
        what = exc.filename or folder
        raise QsimError(f"--copy {folder}: cannot write {what}: {exc.strerror or exc}; "
                        "nothing was copied") from None
    return written


def _remove(files: list[Path], folders: list[Path]) -> None:
    """Undo a copy that failed: the files it made, and the folders it made too (inner first)."""
    for path in files:
        path.unlink(missing_ok=True)
    for folder in sorted(folders, key=lambda d: len(d.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone: leave it
            pass
