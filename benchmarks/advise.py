"""What `qsim advise` costs, and what its adaptive replications save.

For a few goals on scenarios/vqe.yaml (40 choices), it runs the search and prints the runs it
made and its CPU seconds (on one core, in this process: no pool, so the CPU time is all of
it), beside what the same advice would cost with every choice at the most replications any
choice got (the naive way: the same number for all). CPU seconds, not wall time: the machine
may be shared.

    python benchmarks/advise.py [--goals N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import qsim

ROOT = Path(__file__).resolve().parent.parent
GOALS = [("1h30m", 6000.0), ("1h15m", 5300.0), ("4h", 10000.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=int, default=len(GOALS), help="how many goals to run")
    args = parser.parse_args()
    scenario = qsim.load_scenario(ROOT / "scenarios" / "vqe.yaml")
    print("| deadline | budget | choices | runs | most runs of one | CPU s | runs if all had the"
          " most | recommended |")
    print("|---|---|---|---|---|---|---|---|")
    for deadline, budget in GOALS[:args.goals]:
        cpu = time.process_time()
        advice = qsim.advise(scenario, "vqe", deadline=deadline, budget=budget, workers=1)
        cpu = time.process_time() - cpu
        most = max(c.replications for c in advice.searched)
        best = advice.recommended.label if advice.recommended is not None else "none"
        print(f"| {deadline} | ${budget:,.0f} | {len(advice.searched)} | {advice.runs} | {most} "
              f"| {cpu:.1f} | {most * len(advice.searched)} | {best} |")


if __name__ == "__main__":
    main()
