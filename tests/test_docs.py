"""Every `qsim ...` command in the docs runs, so that the docs cannot drift from the code.

The commands are the lines of the ``sh``/``bash``/``console`` code blocks of README.md and
docs/*.md that start with ``qsim`` (in ``console`` blocks, after the ``$`` prompt; a line ending
in a backslash goes on to the next). Each page's blocks run in order in a folder of their own,
as a reader would type them: an empty folder where `qsim examples --copy scenarios` has put the
examples (unless the page copies them itself). A block marked, on the line before it, with
``<!-- docs-test: skip (why) -->`` is not run; one marked ``<!-- docs-test: slow (why) -->``
runs in the slow set. A command passes when it exits with 0 and prints no error; in a
``console`` block whose shown output is a ``qsim: error:`` line, when it exits with 2 and
prints that very line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from qsim.present.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"sh", "bash", "console", "shell"}
FENCE = re.compile(r"^(`{3,})\s*([\w-]*)")
MARK = re.compile(r"^<!--\s*docs-test:\s*(skip|slow)\b")


@dataclass(frozen=True)
class Command:
    text: str
    error: str | None = None  # the `qsim: error:` line the page shows it printing


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    commands: tuple[Command, ...]
    mark: str | None  # "skip", "slow" or None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The page's shell blocks that hold at least one qsim command."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        ticks, lang, start = fence.group(1), fence.group(2), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(ticks)),
                   len(lines))
        if lang in SHELLS:
            commands = qsim_commands(lines[start + 1:end], prompt=lang == "console")
            before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            mark = MARK.match(before)
            if commands:
                found.append(Block(page, start + 1, commands, mark.group(1) if mark else None))
        i = end + 1
    return found


def qsim_commands(body: list[str], prompt: bool) -> tuple[Command, ...]:
    """The commands of a block that are qsim's, each with its continuation lines (and, after
    a prompt, the error line the block shows it printing, if that is what it shows)."""
    out, i = [], 0
    while i < len(body):
        line = body[i]
        if prompt:
            if not line.startswith("$ "):
                i += 1
                continue
            line = line[2:]
        command = [line]
        while command[-1].rstrip().endswith("\\") and i + 1 < len(body):
            i += 1
            command.append(body[i])
        shown = body[i + 1] if prompt and i + 1 < len(body) else ""
        if line.startswith("qsim "):
            error = shown if shown.startswith("qsim: error:") else None
            out.append(Command("\n".join(command), error))
        i += 1
    return tuple(out)


ALL = [b for page in PAGES for b in blocks(page)]


def test_the_docs_have_commands_to_run() -> None:
    pages = {b.page.name for b in ALL if b.mark != "skip"}
    assert {"README.md", "index.md", "getting-started.md", "modes.md", "sweeps.md"} <= pages
    assert all(c.text.startswith("qsim ") for b in ALL for c in b.commands)


def test_the_parser_reads_prompts_continuations_and_marks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("x\n<!-- docs-test: slow (long) -->\n```console\n$ qsim run a \\\n"
                    "    --json\noutput\n$ ls\n$ qsim run b\nqsim: error: b: no\n```\n\n"
                    "```sh\npip install x\nqsim b  # c\n```\n```python\nqsim c\n```\n")
    got = blocks(page)
    assert [(b.line, b.commands, b.mark) for b in got] == [
        (3, (Command("qsim run a \\\n    --json"), Command("qsim run b", "qsim: error: b: no")),
         "slow"),
        (12, (Command("qsim b  # c"),), None)]


@dataclass
class Folders:
    """One working folder per page, made (with the examples copied in) on its first block."""
    base: Path
    made: dict[Path, Path]

    def of(self, page: Path) -> Path:
        if page not in self.made:
            folder = self.made[page] = self.base / page.stem
            folder.mkdir()
            copies = any("qsim examples --copy" in c.text for b in blocks(page)
                         for c in b.commands)
            if not copies:
                assert main(["examples", "--copy", str(folder / "scenarios")]) == 0
        return self.made[page]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    return Folders(tmp_path_factory.mktemp("docs"), {})


def _params() -> list[object]:
    out = []
    for b in ALL:
        marks = [pytest.mark.slow] if b.mark == "slow" else []
        if b.mark == "skip":
            marks.append(pytest.mark.skip(reason="marked not runnable in the page"))
        out.append(pytest.param(b, id=b.id, marks=marks))
    return out


@pytest.mark.parametrize("block", _params())
def test_docs_command_runs(block: Block, folders: Folders,
                           capsys: pytest.CaptureFixture[str]) -> None:
    if any(c.text.startswith("qsim trace ") for b in blocks(block.page) for c in b.commands):
        pytest.importorskip("qiskit_ibm_runtime")  # the qiskit extra, for the page's recording
    cwd = folders.of(block.page)
    capsys.readouterr()  # what the copy said
    # `qsim` is this interpreter's qsim, whatever is on PATH
    script = f'qsim() {{ "{sys.executable}" -m qsim "$@"; }}\n'
    for command in block.commands:
        proc = subprocess.run(["bash", "-c", script + command.text], cwd=cwd,
                              capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"})
        said = f"{block.id}: {command.text}\n{proc.stderr[-2000:]}"
        if command.error is None:
            assert proc.returncode == 0 and "qsim: error" not in proc.stderr, said
        else:  # the page shows it failing: with that very line
            assert (proc.returncode, proc.stderr) == (2, command.error + "\n"), said
