"""What qsim accepts, in one place: the bounds every scenario field, file and command is held
to, so that whatever passes validation runs to a finite answer in bounded time and memory.

Each bound is far beyond any real workload and well within what the model computes exactly
in float64 seconds and holds in memory (docs/SPEC.md §15 lists them with their reasons).
"""

from __future__ import annotations

from typing import Final

# ---- scenario files (qsim.input.reader) ----------------------------------------------------------

#: Bytes of a scenario file. Real files are a few kB; a long empirical list is a few hundred.
MAX_FILE_BYTES: Final = 10_000_000
#: Nesting of mappings and lists. A scenario is 5 levels deep; PyYAML composes recursively.
MAX_DEPTH: Final = 100
#: Nodes of the document with every alias expanded (an alias bomb is a few lines that expand
#: to billions). A large scenario is a few thousand.
MAX_NODES: Final = 100_000

# ---- numbers in scenarios (qsim.input: units, dists, scenario) -----------------------------

#: Any duration, in seconds: about 31,700 years. Sums of a billion of them stay finite.
MAX_DURATION_S: Final = 1e12
#: A lognormal's coefficient of variation: beyond it nearly every draw is 0 and the mean rests
#: on draws no run of any length sees.
MAX_CV: Final = 100.0
#: Counts of things the model holds at once or loops over.
MAX_LANES: Final = 10_000
MAX_ITERATIONS: Final = 1_000_000_000
MAX_JOBS_PER_ITERATION: Final = 1_000_000
MAX_PARALLEL: Final = 10_000  # one optimiser process each, all alive from the start
MAX_JOBS_FIELD: Final = 1_000_000_000  # an independent workload's `jobs`
MAX_RETRIES: Final = 1_000
MAX_CIRCUITS: Final = 1_000_000_000
MAX_SHOTS: Final = 1_000_000_000
MAX_MULTIPLIER: Final = 1e6
MAX_SHARE: Final = 1e6
MAX_USD_PER_SECOND: Final = 1e6
MAX_COST_LIMIT_USD: Final = 1e15  # an instance's cost_limit (SPEC §19)
MAX_SEED: Final = 2**63 - 1
#: Entries of ``backend.outages`` (each fixed period is two events of a run).
MAX_OUTAGES: Final = 100_000
#: The mean of a whole-number distribution (SPEC §8: `uniform_int`, `geometric`, a rounded
#: distribution), as `iterations` bounds a count.
MAX_WHOLE_MEAN: Final = 1e9
#: Jobs one background arrival submits at once (`burst`, SPEC §17): its mean.
MAX_BURST: Final = 1_000_000
#: Levels of a `profile` or `regimes` (SPEC §17): a profile of a level a minute for a day.
MAX_LEVELS: Final = 10_000
#: Rows of an arrival trace (`arrivals: {trace: FILE}`): each is a Python float in memory.
MAX_TRACE_ROWS: Final = 1_000_000
#: Backends in one scenario (SPEC §18): a job records its backend in one byte.
MAX_BACKENDS: Final = 64
#: Workloads in one scenario: the record log packs a workload (and a context) in 12 bits.
MAX_WORKLOADS: Final = (1 << 12) - 1

# ---- commands (qsim.input.work, qsim.experiments) ------------------------------------------------

#: Jobs a command may simulate, all its runs together, unless raised with ``--max-jobs`` (or
#: ``max_jobs=``): at about 50,000 jobs a second a core, a minute or two of work.
DEFAULT_MAX_JOBS: Final = 5_000_000
#: Replications of one scenario (``--replications``).
MAX_REPLICATIONS: Final = 100_000
#: Points of one sweep's grid (the product of its ``--vary`` value counts), checked before any
#: point is built: a point is a validated scenario (about a millisecond and tens of kB), and
#: three ``--vary`` of 100 values would otherwise build a million of them before any check.
MAX_SWEEP_POINTS: Final = 10_000
