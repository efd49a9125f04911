"""The Wilson score interval of a proportion (SPEC §20): a closed form, so no scipy.

Unlike the normal ("Wald") interval it stays inside [0, 1] and is not empty at 0 or n
successes, which is where a decision's probabilities often are (no background: 0 or 1).
"""

from __future__ import annotations

import math
from typing import Final

Z95: Final = 1.959963984540054  # the normal 97.5% quantile: a two-sided 95% interval


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The (low, high) Wilson score interval of ``successes`` out of ``n`` trials."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"wilson_interval needs 0 <= successes <= n and n >= 1 "
                         f"(got {successes}, {n})")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # The ends are exact at 0 and n successes; clip the float noise there.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
