"""Deadlines, budgets and the recommended mode (SPEC §20): exact cases whose answers are
known because nothing is random, so each mode's wall time and cost are fixed and every
probability is 0 or 1 by construction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import job, loop, scenario

import qsim
from qsim.experiments.decision import check_goal

ROOT = Path(__file__).resolve().parent.parent

# others: six fixed 50 s jobs from 5 s on one lane. vqe: 4 iterations (10 s quantum, 20 s
# classical). In job and batch mode each iteration queues behind the others' jobs: 380 s,
# charged 4 x 10 s = $64. A session, once open, goes first: 100 s, billed whole: $160.
FIXED = scenario(job("others", jobs=6, quantum="50s", start="5s"),
                 loop("vqe", 4, classical="20s"), backend={"lanes": 1})


def compared(**goal: object) -> qsim.Comparison:
    return qsim.compare(FIXED, "vqe", replications=3, workers=1, **goal)  # type: ignore[arg-type]


def test_the_fixed_figures_this_file_relies_on() -> None:
    c = compared()
    assert c.decision is None and "recommended" not in c.to_dict()["verdict"]
    for mode, (wall, cost) in {"job": (380.0, 64.0), "batch": (380.0, 64.0),
                               "session": (100.0, 160.0)}.items():
        assert [(e["wall_time_s"], e["cost_usd"], e["complete"]) for e in c.runs[mode]] == [
            (wall, cost, True)] * 3


def chances(c: qsim.Comparison) -> dict[str, tuple[float | None, float | None, float]]:
    modes = c.to_dict()["verdict"]["chances"]
    return {m: (d["p_deadline"], d["p_budget"], d["p_both"]) for m, d in modes.items()}


def test_a_deadline_between_the_modes_picks_the_one_that_meets_it() -> None:
    c = compared(deadline="200s")
    assert chances(c) == {"job": (0.0, None, 0.0), "batch": (0.0, None, 0.0),
                          "session": (1.0, None, 1.0)}
    assert c.to_dict()["verdict"]["recommended"] == "session"


def test_a_later_deadline_picks_the_cheapest() -> None:
    c = compared(deadline=400.0, budget=1000.0)
    assert chances(c) == {m: (1.0, 1.0, 1.0) for m in ("job", "batch", "session")}
    verdict = c.to_dict()["verdict"]
    assert verdict["recommended"] == "job"  # job and batch tie at $64: the first
    assert verdict["goal"] == {"deadline_s": 400.0, "budget_usd": 1000.0, "confidence": 0.9}
    # 3 of 3: the Wilson interval of 3/3 is [0.4385, 1]
    assert verdict["chances"]["job"]["p_both_ci95"] == [pytest.approx(0.43850, abs=1e-5), 1.0]


def test_a_budget_below_every_mode_names_the_budget_that_would_do() -> None:
    c = compared(budget=50)
    verdict = c.to_dict()["verdict"]
    assert verdict["recommended"] is None
    assert chances(c) == {m: (None, 0.0, 0.0) for m in ("job", "batch", "session")}
    assert verdict["chances"]["job"]["p_budget_ci95"] == [0.0, pytest.approx(0.56150, abs=1e-5)]
    assert "No mode meets the budget of $50.00" in verdict["recommendation"]
    assert "A budget of $64.00 (job) would do." in verdict["recommendation"]


def test_a_deadline_too_early_names_the_deadline_that_would_do() -> None:
    c = compared(deadline="50s", budget=100)
    sentence = c.to_dict()["verdict"]["recommendation"]
    assert c.decision is not None and c.decision.recommended is None
    # within $100 only job and batch (380 s); no mode is on time at any budget
    assert sentence.endswith("A deadline of 6m 20s (job) would do.")


def test_neither_limit_alone_gives_both_changes() -> None:
    c = compared(deadline="50s", budget=50)
    assert c.decision is not None and c.decision.recommended is None
    assert c.decision.sentence.endswith(
        "Neither limit alone would do; a budget of $64.00 with a deadline of 6m 20s would (job).")


def test_a_budget_alone_that_only_the_session_misses() -> None:
    c = compared(budget=100, confidence=0.5)
    assert chances(c)["session"] == (None, 0.0, 0.0)
    assert c.decision is not None and c.decision.recommended == "job"


def test_unfinished_work_never_meets_a_deadline() -> None:
    # the batch's 1-minute max_time cuts it short: cheap, and never on time
    cut = scenario(job("others", jobs=6, quantum="50s", start="5s"),
                   loop("vqe", 4, classical="20s", mode={"kind": "batch", "max_time": "1m"}),
                   backend={"lanes": 1})
    c = qsim.compare(cut, "vqe", workers=1, deadline="1d", budget=1e6)
    assert c.modes["batch"]["complete"] is False
    assert chances(c)["batch"] == (0.0, 1.0, 0.0)
    assert c.decision is not None and c.decision.recommended == "job"


@pytest.mark.parametrize(("goal", "message"), [
    ({"deadline": -5.0}, "deadline -5.0: "),
    ({"deadline": "soon"}, "deadline 'soon': "),
    ({"deadline": 0.0}, "deadline 0.0: expected a duration above 0"),
    ({"budget": "lots"}, "budget 'lots': expected a number of US dollars"),
    ({"budget": -1.0}, "budget -1.0: expected a number of US dollars >= 0"),
    ({"budget": float("nan")}, "budget nan: "),
    ({"budget": 5.0, "confidence": 1.0}, "confidence 1.0: expected a number strictly between"),
    ({"budget": 5.0, "confidence": 0.0}, "confidence 0.0: "),
    ({"confidence": 0.5}, "a decision needs a deadline, a budget or both"),
])
def test_bad_goals_are_one_line_errors(goal: dict[str, object], message: str) -> None:
    with pytest.raises(qsim.QsimError, match="^" + message.replace("$", r"\$")
                       .replace("(", r"\(").replace(".", r"\.")):
        qsim.compare(FIXED, "vqe", workers=1, **goal)  # type: ignore[arg-type]


def test_check_goal_defaults() -> None:
    assert check_goal(10.0, None).confidence == 0.9


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qsim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


FIXED_YAML = (
    "name: fixed\nbackend: {lanes: 1}\nworkloads:\n"
    "  - {name: others, kind: independent, jobs: 6, quantum: 50s, start: 5s}\n"
    "  - {name: vqe, kind: iterative, iterations: 4, quantum: 10s, classical: 20s}\n")


@pytest.mark.slow
def test_cli_deadline_and_budget(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(FIXED_YAML)
    proc = cli("compare", path, "-w", "vqe", "--deadline", "200s", "--budget", "500", "--json")
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads(proc.stdout)["verdict"]
    assert verdict["recommended"] == "session"
    text = cli("compare", path, "-w", "vqe", "--deadline", "200s", "--budget", "100")
    assert text.returncode == 0, text.stderr
    assert "by the deadline" in text.stdout and "within budget" in text.stdout
    assert ("No mode meets the deadline of 3m 20s and the budget of $100.00 in at least 90% of "
            "the replications. A deadline of 6m 20s (job) or a budget of $160.00 (session) "
            "would do.") in text.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), [
    (("--deadline", "-3h"), "qsim: error: --deadline "),
    (("--budget", "lots"), "qsim: error: --budget "),
    (("--budget", "5", "--confidence", "1.5"), "qsim: error: --confidence "),
])
def test_cli_bad_goals(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(FIXED_YAML)
    proc = cli("compare", path, *args)
    assert proc.returncode == 2 and proc.stderr.startswith(message), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_the_picture_names_the_goal_and_the_recommended_mode() -> None:
    from qsim.present import plots

    title = plots.compare(compared(deadline="200s")).get_title(loc="left")
    assert title.endswith("deadline 3m 20s met in job 0%, batch 0%, session 100% of the runs "
                          "(90% wanted) → recommended: session")
    plain = plots.compare(compared()).get_title(loc="left")
    assert "wanted" not in plain
