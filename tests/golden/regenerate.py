"""Regenerate tests/golden/outputs.json: the digests of every shipped scenario's outputs.

For each ``scenarios/*.yaml`` it runs, in-process and in a scratch folder, ``qsim run FILE
--json`` (its standard output) and ``qsim run FILE --out out`` (its standard output, the text
report, and every file it writes into ``out``, the manifest and the PNG timeline included),
and stores each output's size and SHA-256. tests/test_golden.py recomputes them and names the
file that differs.

Regenerate ONLY when an output change is intended (a new figure, a new column, a fixed bug),
never to make the test pass after a change meant to keep every figure bit-identical (a
refactor, a speed-up); say so in the commit message, with the reason the outputs changed::

    .venv/bin/python tests/golden/regenerate.py

Nothing in the outputs is excluded: ``--out``'s manifest holds no time stamp (only the
format, ``qsim_version`` and each file's size and SHA-256), and a run's figures depend only on
the scenario and its seed. ``qsim_version`` appears in the JSON, the manifest and the report,
so a version bump is an intended output change. The PNG timelines are byte-stable across runs
with one matplotlib and FreeType; the test compares them only under the versions recorded
here (``pictures_made_with``) and skips them, saying so, under others.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import runpy
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "outputs.json"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
# The text report's width: fixed, so that it does not depend on the terminal.
ENV = {"COLUMNS": "120", "TERM": "dumb", "NO_COLOR": "1"}


def _qsim(args: list[str]) -> tuple[int, bytes]:
    """``python -m qsim ARGS`` in this process: (exit code, standard output). Through the
    package's ``__main__``, the command line's public door, so that moving the command line's
    modules about does not touch this test."""
    argv, sys.argv = sys.argv, ["qsim", *args]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_module("qsim", run_name="__main__", alter_sys=False)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.argv = argv
    return code, out.getvalue().encode()


def outputs(scenario: Path) -> dict[str, bytes]:
    """Every output of the two commands on ``scenario``, by a name that says which."""
    saved = {k: os.environ.get(k) for k in ENV}
    cwd = Path.cwd()
    os.environ.update(ENV)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            code, json_out = _qsim(["run", str(scenario), "--json"])
            if code:
                raise RuntimeError(f"qsim run {scenario.name} --json exited {code}")
            code, report = _qsim(["run", str(scenario), "--out", "out"])
            if code:
                raise RuntimeError(f"qsim run {scenario.name} --out exited {code}")
            files = {"run --json": json_out, "run --out (stdout)": report}
            for path in sorted(Path("out").iterdir()):
                files[f"out/{path.name}"] = path.read_bytes()
            return files
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def digest(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def pictures_made_with() -> dict[str, str]:
    """What a PNG's bytes depend on beyond qsim: matplotlib and the FreeType it renders with."""
    import matplotlib
    from matplotlib import ft2font

    return {"matplotlib": matplotlib.__version__,
            "freetype": str(getattr(ft2font, "__freetype_version__", "unknown"))}


def main() -> None:
    golden = {"pictures_made_with": pictures_made_with(),
              "scenarios": {s.name: {name: digest(data) for name, data in outputs(s).items()}
                            for s in SCENARIOS}}
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)}: {len(SCENARIOS)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
