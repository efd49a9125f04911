"""Issue 15: the plan in the user's own terms (SPEC §8, §12, §14): compound durations,
background by target load, plans, allocations, repeats, warm-up, phases that scale.

Each new key has its bad-input line here: one ``qsim: error:`` line naming the file, the line,
the field and the value, exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qsim.errors import ScenarioError
from qsim.present.window import parse_window
from qsim.scenario import load_scenario
from qsim.units import parse_duration

ROOT = Path(__file__).resolve().parents[1]


def qsim_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qsim.present.cli import app; app()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, expected: str) -> None:
    """``qsim validate`` prints exactly one error line, ``FILE:expected``, and exits 2."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}{expected}"
    proc = qsim_cli("validate", path)
    assert proc.returncode == 2
    assert proc.stderr == f"qsim: error: {path}{expected}\n"


# --- durations (SPEC §8) ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("1h30m", 5400.0), ("1d10h", 122400.0), ("2m30s", 150.0), ("1d", 86400.0),
    ("1m30s500ms", 90.5), ("1.5h30m", 7200.0), ("1d1s", 86401.0),
])
def test_compound_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("1h30", "every part of a compound duration needs a unit, e.g. 1h30m (us, ms, s, m, h, d)"),
    ("30m1h", "the parts of a compound duration go largest first, each unit once, e.g. 1d10h "
              "or 2m30s"),
    ("1m1m", "the parts of a compound duration go largest first, each unit once, e.g. 1d10h "
             "or 2m30s"),
])
def test_compound_duration_mistakes(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == message


def test_window_reads_compound_durations() -> None:
    assert parse_window("1h30m:1d10h") == (5400.0, 122400.0)


BASE = """\
name: t
workloads:
  - name: vqe
    kind: iterative
    iterations: 3
    quantum: 10s
"""


def test_a_compound_duration_in_a_file(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE + "    start: 1d10h\n"))
    assert scenario.workloads[0].start == 122400.0


def test_a_unitless_part_is_one_error_line(tmp_path: Path) -> None:
    refused(tmp_path, BASE + "    start: 1h30\n",
            ":7: workloads[0].start: every part of a compound duration needs a unit, e.g. "
            "1h30m (us, ms, s, m, h, d) (got '1h30')")
