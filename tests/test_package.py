"""qsim as a package people install: its examples inside it (one copy), ``qsim examples``,
the help that starts from an empty folder, and install hints that name this distribution."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

import pytest

import qsim
from qsim.present import examples_command
from qsim.present.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "qsim" / "examples"
DISTRIBUTION = "qsim-execution-modes"


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def shipped() -> list[Path]:
    """Every example, the top folder's, then backends/'s (fitted backends)."""
    return [*sorted(p for p in EXAMPLES.iterdir() if p.is_file() and not p.name.startswith(".")),
            *sorted((EXAMPLES / "backends").glob("*.yaml"))]


def named(path: Path) -> str:
    """An example's name as ``qsim examples`` lists it: relative to the examples folder."""
    return path.relative_to(EXAMPLES).as_posix()


# ---------------------------------------------------------------------------------------------
# One copy of each example


def test_scenarios_folder_is_the_packages_examples_folder() -> None:
    # The README's `qsim run scenarios/vqe.yaml` and the tests' paths read the very files the
    # wheel ships: a link, not a second copy that could drift.
    link = ROOT / "scenarios"
    assert link.is_symlink() and link.resolve() == EXAMPLES.resolve()


def test_the_wheel_takes_every_example() -> None:
    config = pyproject()
    patterns = config["tool"]["setuptools"]["package-data"]["qsim.examples"]
    for path in shipped():
        # vqe_local.py comes as the folder's module; every other file as package data (a
        # file no pattern takes would be listed and copied here, and missing from the wheel)
        assert path.suffix == ".py" or any(
            Path(named(path)).match(p) and p.count("/") == named(path).count("/")
            for p in patterns), named(path)
    assert config["project"]["name"] == DISTRIBUTION


def test_notebooks_load_scenarios_from_their_own_folder() -> None:
    # so that they run in a copy (qsim examples --copy DIR) as in the package
    for notebook in EXAMPLES.glob("*.ipynb"):
        code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
        for name in re.findall(r'load_scenario\("([^"]+)"\)', code):
            assert "/" not in name and (EXAMPLES / name).is_file(), (notebook.name, name)


# ---------------------------------------------------------------------------------------------
# qsim examples


def test_lists_each_example_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = (".yaml", ".ipynb", ".py")
    assert [line.split()[0] for line in lines] == [named(p) for p in sorted(
        shipped(), key=lambda p: ("/" in named(p),
                                  kinds.index(p.suffix) if p.suffix in kinds else 3, p.name))]
    assert sum(line.startswith("backends/") for line in lines) == 6  # the fitted backends
    for line in lines:
        name, about = line.split(maxsplit=1)
        assert about != "(no description)" and len(about) <= examples_command.WIDTH, line
    vqe = next(line for line in lines if line.startswith("vqe.yaml "))
    assert vqe.split(maxsplit=1)[1] == \
        "An iterative VQE in a session, on a backend shared with other users"


@pytest.mark.parametrize("name,text,about", [
    ("a.yaml", "# First line, then: more\n# of it. A second sentence.\n#\n# later\nname: x\n",
     "First line, then: more of it"),
    ("a.yaml", "# Does it fit? (a.ipynb) More.\n", "Does it fit?"),
    ("a.yaml", "# " + "word " * 30 + "\n", "word " * 12 + "word..."),
    ("a.yaml", "# " + "a, " * 30 + "\n", ("a, " * 24)[:-2]),
    ("a.yaml", "name: x\n", "(no description)"),
    ("a.py", '"""A script.\n\nMore."""\n', "A script"),
    ("a.ipynb", json.dumps({"cells": [{"cell_type": "markdown", "source": ["# Title\n", "x"]}]}),
     "Title"),
    ("trace.json", "{}", "a file the examples read"),
])
def test_describe(name: str, text: str, about: str) -> None:
    assert examples_command.describe(name, text) == about


def test_copy_writes_every_example_byte_for_byte(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "ex"
    assert main(["examples", "--copy", str(target)]) == 0
    assert capsys.readouterr().out == f"copied {len(shipped())} examples into {target}; try: " \
                                      f"qsim run {target / 'vqe.yaml'}\n"
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                  if p.is_file()) == sorted(
        named(p) for p in shipped())
    for path in shipped():
        assert (target / named(path)).read_bytes() == path.read_bytes()


def test_copy_into_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("mine")
    assert main(["examples", "--copy", str(tmp_path)]) == 0
    assert (tmp_path / "mine.yaml").read_text() == "mine" and (tmp_path / "vqe.yaml").is_file()


def test_copy_never_overwrites_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "vqe.yaml").write_text("my own vqe\n")
    assert main(["examples", "--copy", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"qsim: error: --copy {tmp_path}: {tmp_path / 'vqe.yaml'} already "
                            "exists; nothing was copied (qsim never overwrites a file)\n")
    assert [p.name for p in tmp_path.iterdir()] == ["vqe.yaml"]  # nothing else copied
    assert (tmp_path / "vqe.yaml").read_text() == "my own vqe\n"


def test_copy_never_writes_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "vqe.yaml").symlink_to(tmp_path / "elsewhere.yaml")  # dangling
    assert main(["examples", "--copy", str(tmp_path)]) == 2
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_copy_never_writes_into_a_linked_or_clashing_subfolder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "backends").symlink_to(tmp_path / "elsewhere")
    assert main(["examples", "--copy", str(tmp_path / "a")]) == 2
    assert list((tmp_path / "elsewhere").iterdir()) == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "backends").write_text("mine")
    assert main(["examples", "--copy", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.endswith(f"{tmp_path / 'b' / 'backends'} already exists; "
                                            "nothing was copied (qsim never overwrites a file)\n")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["backends"]


def test_copy_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["examples", "--copy", str(tmp_path / "f")]) == 2
    assert capsys.readouterr().err == \
        f"qsim: error: --copy {tmp_path / 'f'}: is a file, not a folder; nothing was copied\n"


def test_a_copy_that_fails_half_way_leaves_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    real = examples_command.example_files()

    class Full:  # the fourth file meets a full disk
        name = real[3].name

        def read_bytes(self) -> bytes:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(examples_command, "example_files", lambda: [*real[:3], Full()])
    target = tmp_path / "ex"
    assert main(["examples", "--copy", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qsim: error: --copy {target}: cannot write ") and \
        err.endswith(": No space left on device; nothing was copied\n") and err.count("\n") == 1
    assert not target.exists()  # the files it had written, and the folder it made, are gone


# ---------------------------------------------------------------------------------------------
# The help starts from an empty folder


def test_the_commands_the_help_starts_with_work_in_an_empty_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    first = help_text.split("\n\n")[2]  # usage, the one-line summary, then the start
    commands = [line.split("#")[0].split()[1:] for line in first.splitlines()
                if line.strip().startswith("qsim ")]
    assert [c[0] for c in commands] == ["examples", "run", "compare"]
    monkeypatch.chdir(tmp_path)
    for args in commands:
        assert main(args) == 0, args
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------
# Install hints


BARE = re.compile(r"""pip install\s+(?:-U\s+)?['"]?qsim(?![\w-])""")


def test_install_hints_name_this_distribution() -> None:
    # PyPI's `qsim` is another project (Google's circuit simulator): a hint that names it
    # installs that, or replaces this one with it.
    files = [*(ROOT / "qsim").rglob("*.py"), *EXAMPLES.glob("*.ipynb"), *ROOT.glob("*.md"),
             *(ROOT / "docs").rglob("*.md")]
    assert len(files) > 50
    wrong = [f"{path.relative_to(ROOT)}: {match.group()}" for path in files
             for match in BARE.finditer(path.read_text(encoding="utf-8"))]
    assert wrong == []


def test_bare_hint_is_caught() -> None:
    assert BARE.search("pip install 'qsim[dask]'") and BARE.search("pip install -U qsim")
    assert not BARE.search(f"pip install '{DISTRIBUTION}[dask]'")
    assert not BARE.search("pip install -e '.[dask]'")


def test_version_is_one_number() -> None:
    config = pyproject()
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == \
        {"attr": "qsim.version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", qsim.__version__)
