"""Hostile inputs of issue 25 (items 1 to 9: crashes and hangs): each reproduces what a user
hit, and asserts the one ``qsim: error:`` line (exit 2; 130 for Ctrl-C, 143 for SIGTERM),
nothing written half-way and nothing left running. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from test_hostile import cli, one_error_line, write

ROOT = Path(__file__).resolve().parents[1]
ONE_JOB = "name: x\nworkloads:\n  - name: {name}\n    kind: iterative\n    iterations: 3\n" \
          "    quantum: 10s\n"


# ---------------------------------------------------------------------------------------------
# Item 8: a lone surrogate (a YAML escape can write one) is no UTF-8 text: refused at
# validation, not by a UnicodeEncodeError in the random streams


@pytest.mark.parametrize(("text", "field"), [
    (ONE_JOB.format(name='"v\\ud800x"'), "workloads[0].name"),
    (ONE_JOB.format(name="a").replace("name: x", 'name: "\\udfff"'), "name"),
    (ONE_JOB.format(name="a") + '    instance: "i\\ud800"\n', "workloads[0].instance"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_lone_surrogate_in_a_name_is_refused_at_validation(text: str, field: str,
                                                             command: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path, text)
    code, out, err = cli(command, path)
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert f"{field}: " in line and "lone surrogate" in line, line
