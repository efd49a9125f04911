"""``qsim run FILE --out DIR`` over ``qsim run FILE --json``, paired (issue 32, goal 3): for
each round and each source tree in turn, ``--json`` then ``--out``, each in a fresh process;
CPU seconds (user + sys of the process and its threads) and wall seconds of each, then per
tree the extra cost of ``--out`` and its ratio, round by round.

Usage: ``python benchmarks/out_over_json.py TREE[,TREE...] [ROUNDS] [JOBS]``, e.g.
``python benchmarks/out_over_json.py /work/main,/work/wt-outfast 3 1000000``: the scenario is
``scale.full_feature_dict(JOBS)`` (fair share; about 910,000 jobs at 1,000,000). One
benchmark at a time: a second process on a 2-core machine is what the wall figures measure.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))

import scale  # noqa: E402


def timed(tree: str, args: list[str]) -> tuple[float, float]:
    """CPU and wall seconds of ``python -m qsim ARGS`` with ``tree`` first on the path."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qsim", *args], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": tree})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    trees = sys.argv[1].split(",")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(scale.full_feature_dict(jobs), f)
        out = os.path.join(tmp, "out")
        seen: dict[str, list[tuple[float, float, float, float]]] = {t: [] for t in trees}
        for r in range(rounds):
            for tree in trees:
                json_cpu, json_wall = timed(tree, ["run", path, "--json"])
                shutil.rmtree(out, ignore_errors=True)
                out_cpu, out_wall = timed(tree, ["run", path, "--out", out])
                seen[tree].append((json_cpu, json_wall, out_cpu, out_wall))
                print(f"round {r} {tree}: --json {json_cpu:.2f} s CPU {json_wall:.2f} s wall, "
                      f"--out {out_cpu:.2f} s CPU {out_wall:.2f} s wall "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
    for tree, rows in seen.items():
        for jc, jw, oc, ow in rows:
            print(f"{tree}: --out - --json {oc - jc:.2f} s CPU ({oc / jc:.3f}x), "
                  f"{ow - jw:.2f} s wall ({ow / jw:.3f}x)")


if __name__ == "__main__":
    main()
