"""Every shipped scenario's outputs are byte-identical to the digests in tests/golden/outputs.json
(``qsim run FILE --json``, and ``qsim run FILE --out DIR``: its report and every file written).

A failure names the scenario and the output that differs. If the change was intended, run
``python tests/golden/regenerate.py`` and say in the commit why the outputs changed; if it was
meant to change nothing (a refactor, a speed-up), the difference is a bug.
"""

from __future__ import annotations

import functools
import json

import pytest
from golden import regenerate

GOLDEN = json.loads(regenerate.GOLDEN.read_text())
PICTURE = ".png"


@functools.cache
def produced(name: str) -> dict[str, dict[str, object]]:
    """The digests of one scenario's outputs on the current code (run once per session)."""
    path = regenerate.ROOT / "scenarios" / name
    return {out: regenerate.digest(data) for out, data in regenerate.outputs(path).items()}


def differences(name: str, expected: dict[str, dict[str, object]],
                got: dict[str, dict[str, object]], pictures: bool) -> list[str]:
    """One line per output (pictures, or everything else) whose digest is not the golden one,
    naming the scenario and the output."""
    out = [f"{name}: {key} differs (golden {expected[key]}, now {got.get(key, 'missing')})"
           for key in sorted(expected)
           if key.endswith(PICTURE) == pictures and got.get(key) != expected[key]]
    out += [f"{name}: {key} is new (not in the golden outputs)"
            for key in sorted(set(got) - set(expected)) if key.endswith(PICTURE) == pictures]
    return out


def test_every_shipped_scenario_has_golden_outputs() -> None:
    assert sorted(GOLDEN["scenarios"]) == [p.name for p in regenerate.SCENARIOS]


@pytest.mark.parametrize("name", sorted(GOLDEN["scenarios"]))
def test_outputs_are_byte_identical(name: str) -> None:
    differ = differences(name, GOLDEN["scenarios"][name], produced(name), pictures=False)
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize("name", sorted(GOLDEN["scenarios"]))
def test_pictures_are_byte_identical(name: str) -> None:
    made_with, here = GOLDEN["pictures_made_with"], regenerate.pictures_made_with()
    if here != made_with:
        pytest.skip(f"the golden PNGs were drawn with {made_with}, this is {here}: their "
                    "bytes may differ")
    differ = differences(name, GOLDEN["scenarios"][name], produced(name), pictures=True)
    assert not differ, "\n".join(differ)


def test_a_difference_names_the_scenario_and_the_output() -> None:
    golden = {"out/jobs.csv": regenerate.digest(b"a,b\n1,2\n"),
              "out/timeline.png": regenerate.digest(b"png"),
              "run --json": regenerate.digest(b"{}")}
    now = {**golden, "out/jobs.csv": regenerate.digest(b"a,b\n1,3\n"),
           "out/extra.csv": regenerate.digest(b"")}
    del now["run --json"]
    lines = differences("s.yaml", golden, now, pictures=False)
    assert [line.split(" (")[0] for line in lines] == [
        "s.yaml: out/jobs.csv differs", "s.yaml: run --json differs",
        "s.yaml: out/extra.csv is new"]
    assert differences("s.yaml", golden, now, pictures=True) == []
