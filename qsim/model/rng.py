"""Named random streams: one generator per (workload, purpose), all spawned from one seed.

A stream depends only on the seed, the replication and its names, never on what other streams
drew. That is what makes runs reproducible and lets ``compare`` replay one workload in several
modes with common random numbers for everything else.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from itertools import chain, count
from typing import Protocol

import numpy as np

BLOCK = 1024  # values drawn per refill; fixed, so the sequence never depends on timing


class Sampler(Protocol):
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...


def _name_key(name: str) -> int:
    # crc32 is stable across processes and Python versions, unlike hash().
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Factory of independent generators keyed by names, for one seed and replication."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = seed
        self.replication = replication

    def generator(self, *names: str) -> np.random.Generator:
        key = (self.replication, *(_name_key(n) for n in names))
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def draws(self, dist: Sampler, *names: str) -> Iterator[float]:
        """Successive samples of ``dist`` from the stream ``names``: call ``next()`` on it."""
        rng = self.generator(*names)
        # Drawing BLOCK values at a time is far cheaper than one numpy call per value, and
        # chaining the blocks keeps next() in C: it runs several times per simulated job.
        return chain.from_iterable(dist.sample(rng, BLOCK).tolist() for _ in count())
