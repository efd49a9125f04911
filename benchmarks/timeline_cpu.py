"""CPU seconds of drawing the timeline (``qsim.present.plots.timeline``) of the full-feature
scenario at N jobs (default 1 000 000): the run and its tables are made first and not
counted; the best of five draws is printed (issue 32, goal 3: the timeline's share of
``qsim run --out``). Usage: ``PYTHONPATH=TREE python benchmarks/timeline_cpu.py [N]``."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import scale  # noqa: E402

import qsim  # noqa: E402
from qsim.present import plots  # noqa: E402


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    result = qsim.simulate(qsim.parse_scenario(scale.full_feature_dict(jobs), "timeline"))
    result.summary()
    plots.timeline(result)  # the tables, fonts and caches: not what is measured
    times = []
    for _ in range(5):
        start = time.process_time()
        plots.timeline(result)
        times.append(time.process_time() - start)
    print(f"{len(result.jobs):,} jobs: timeline {min(times):.3f} s CPU (best of 5; "
          f"{', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
