"""The event loop's heap traffic per job (docs/performance.md, goal 1, fifth pass).

    PYTHONPATH=TREE python benchmarks/heap_counts.py MODEL N

runs ``scale.py``'s model MODEL (``full-fair_share``, ``full-fifo``, ``full``, ``background``,
``fleet``) at N jobs with ``heapq``'s push and pop replaced by a pure-Python copy whose
comparison counts, and prints per job: comparisons of two heap entries, pushes, the heap's
mean length at a pop, the share of comparisons tied on the time, and what the heap holds
(every 997th pop, by the function each entry calls). Slow (pure Python): N = 10,000 is enough.
"""

from __future__ import annotations

import heapq
import sys
from collections import Counter
from pathlib import Path
from typing import Any

counts: Counter[str] = Counter()
held: Counter[str] = Counter()


def _less(a: Any, b: Any) -> bool:
    counts["comparisons"] += 1
    if a[0] == b[0]:
        counts["tied on the time"] += 1
    return bool(a < b)


def _sift_down(heap: list[Any], start: int, pos: int) -> None:  # heapq's _siftdown
    item = heap[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if not _less(item, heap[parent]):
            break
        heap[pos] = heap[parent]
        pos = parent
    heap[pos] = item


def _sift_up(heap: list[Any], pos: int) -> None:  # heapq's _siftup
    end, start, item, child = len(heap), pos, heap[pos], 2 * pos + 1
    while child < end:
        right = child + 1
        if right < end and not _less(heap[child], heap[right]):
            child = right
        heap[pos] = heap[child]
        pos, child = child, 2 * child + 1
    heap[pos] = item
    _sift_down(heap, start, pos)


def heappush(heap: list[Any], item: Any) -> None:
    counts["pushes"] += 1
    heap.append(item)
    _sift_down(heap, 0, len(heap) - 1)


def heappop(heap: list[Any]) -> Any:
    counts["pops"] += 1
    counts["length at a pop"] += len(heap)
    if counts["pops"] % 997 == 0:
        held.update(_called(entry) for entry in heap)
    last = heap.pop()
    if not heap:
        return last
    first, heap[0] = heap[0], last
    _sift_up(heap, 0)
    return first


def _called(entry: tuple[Any, ...]) -> str:
    """The name of the function an entry calls (whatever the entry's shape)."""
    fn = next(item for item in entry[2:] if callable(item))
    return str(getattr(fn, "__qualname__", fn))


def main() -> None:
    model, jobs = sys.argv[1], int(sys.argv[2])
    heapq.heappush, heapq.heappop = heappush, heappop  # before qsim imports them
    sys.path.insert(0, str(Path(__file__).parent))
    import scale

    ran = scale._run_one_model(model, jobs)
    pops = counts["pops"]
    print(f"{model}, {ran} jobs: {counts['comparisons'] / ran:.1f} comparisons a job, "
          f"{counts['pushes'] / ran:.2f} pushes a job, {counts['length at a pop'] / pops:.1f} "
          f"entries at a pop, {counts['tied on the time'] / counts['comparisons']:.1%} of "
          "comparisons tied on the time")
    samples = pops // 997
    for name, n in held.most_common():
        print(f"  {n / samples:5.2f} entries a pop calling {name}")


if __name__ == "__main__":
    main()
