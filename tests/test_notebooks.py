"""Every notebook's code runs top to bottom against the current API (in its own folder)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
from pathlib import Path

import matplotlib
import pytest

# They live beside the scenarios they load, in the folder `qsim examples --copy` writes out.
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "qsim" / "examples").glob("*.ipynb"))


def missing_modules(code: list[str]) -> list[str]:
    """The top-level modules the code imports that are not installed (an extra's, such as
    Qiskit for the recording notebook): the notebook is skipped without them."""
    names = set()
    for source in code:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return sorted(n for n in names if importlib.util.find_spec(n) is None)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")  # headless: figures are built, never shown
    monkeypatch.chdir(path.parent)
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert code, "a notebook with no code"
    missing = missing_modules(code)
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)} (pip install -e '.[qiskit]')")
    namespace: dict[str, object] = {}
    for source in code:
        exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own notebook
    table = namespace["table"]
    compared = {"capacity-planning.ipynb": {"job", "session"},  # the modes each one compares
                "vqe-busier.ipynb": {"job", "session"}, "circuits-per-job.ipynb": {"job", "batch"}}
    wanted = compared.get(path.name, {"job", "batch", "session"})
    assert set(table["mode"]) == wanted  # type: ignore[index]
    assert os.getcwd() == str(path.parent)
