"""``qsim fit`` on 1 worker and on several: wall and CPU seconds, this process's and the pool's.

    .venv/bin/python benchmarks/fit_workers.py SERIES [--workers 1 2 ...]
    .venv/bin/python benchmarks/fit_workers.py --known DAYS [--workers 1 2 ...]

SERIES: a ``pending_jobs`` series (``../shared/data/queues/NAME.csv.gz``); ``--known DAYS``:
that many days of the known queue of ``tests/test_fit.py`` instead (a small series, to see
where a pool stops paying). Each fit runs in its own process (so that the CPU of one does not
count in the next), seed 0; the line says the load average before and after, since on a
shared machine the wall time is what the other jobs leave. It also checks that every number of
workers gave the same fit.json figures (written with nan allowed: a series shorter than a day
has no 24-h autocorrelation).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ONE = """
import json, resource, sys, time
from pathlib import Path
from qsim.experiments.fitting import fit
from qsim.experiments.fitting import summary_json
series, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
result = fit(series, seed=0, workers=workers)
wall = time.perf_counter() - start
me, pool = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
Path(out).write_text(json.dumps(summary_json(result), indent=2))  # nan too (short series)
print(json.dumps({"wall": wall, "self": me.ru_utime + me.ru_stime,
                  "pool": pool.ru_utime + pool.ru_stime}))
"""


def known_series(days: float, folder: Path) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_fit import known_queue, write_series  # type: ignore[import-not-found]

    return str(write_series(folder / f"known-{days:g}d.csv", *known_queue(11, days)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("series", nargs="?")
    parser.add_argument("--known", type=float, metavar="DAYS")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    import json

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        series = args.series if args.known is None else known_series(args.known, folder)
        if series is None:
            parser.error("give a SERIES or --known DAYS")
        outputs = []
        for workers in args.workers:
            out = folder / f"fit-{workers}.json"
            before = os.getloadavg()[0]
            run = subprocess.run([sys.executable, "-c", ONE, series, str(workers), str(out)],
                                 check=True, capture_output=True, text=True)
            got = json.loads(run.stdout.splitlines()[-1])
            print(f"{Path(series).name}, {workers} worker(s): wall {got['wall']:.1f} s, CPU "
                  f"{got['self']:.1f} s here + {got['pool']:.1f} s in the pool (load average "
                  f"{before:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
            outputs.append(out.read_bytes())
        print("fit.json the same on every number of workers:",
              all(o == outputs[0] for o in outputs))


if __name__ == "__main__":
    main()
