"""The choices a user has for one workload (SPEC §20, ``qsim advise``): the execution mode; a
batch's or session's interactive TTL and a session's ``close``; the circuits per job where the
workload's quantum phase is in circuit form (the jobs times the circuits kept constant); the
backend when the scenario has several. Each choice is the scenario with those fields set, as
a file would set them (``qsim.experiments.fields``), so it validates like one.

What is not searched is said in ``Space.notes``; a mode the plan refuses (a session on the
open plan, SPEC §19) in ``Space.left_out``, as ``compare`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from qsim.experiments.comparison import MODES, allowed_modes, check_backends, check_modes
from qsim.experiments.fields import Setting, with_fields
from qsim.input.dists import Circuits
from qsim.input.errors import QsimError
from qsim.input.scenario import DEFAULT_INTERACTIVE_TTL, Scenario
from qsim.input.units import format_duration

__all__ = ["Choice", "Space", "TTL_LADDER", "choices", "circuit_choices"]

#: Interactive TTLs tried per context mode, beside the kind's default and the file's own: a
#: shorter one pauses (and stops paying) sooner, a longer one keeps the QPU across longer
#: classical steps. The service's own values are 1 s (batch) and 60 s (session); others are a
#: what-if (SPEC §3).
TTL_LADDER: Final[dict[str, tuple[float, ...]]] = {"batch": (1.0, 10.0, 60.0),
                                                   "session": (10.0, 60.0, 300.0)}
#: Circuits-per-job values tried (the divisors of the workload's circuits, spread evenly on a
#: log scale, and the file's own): enough to see the trend, few enough to run.
MOST_CIRCUIT_CHOICES: Final = 5
#: Above this many circuits in all, divisors are not searched (trial division to its root).
_MAX_TOTAL_CIRCUITS: Final = 10**10
# Job-count field of a circuit-form workload, by kind: jobs x circuits is kept constant.
_JOBS_FIELD: Final = {"iterative": "jobs_per_iteration", "independent": "jobs"}


@dataclass(frozen=True)
class Choice:
    """One candidate: a mode and its settings. ``None``: not a setting of this search (no
    TTL in job mode, no circuits outside the circuit form, no backend with one backend)."""

    mode: str
    interactive_ttl: float | None = None
    close: bool | None = None
    circuits: int | None = None
    jobs: int | None = None  # jobs_per_iteration (iterative) or jobs (independent)
    backend: str | None = None

    def label(self, jobs_field: str = "jobs") -> str:
        """``session, ITTL 10s, not closed, 5 circuits a job, 2 jobs an iteration, on
        ibm_kyiv``."""
        parts = [self.mode]
        if self.interactive_ttl is not None:
            parts.append(f"ITTL {format_duration(self.interactive_ttl)}")
        if self.close is False:
            parts.append("not closed")
        if self.circuits is not None:
            per = " an iteration" if jobs_field == "jobs_per_iteration" else ""
            parts.append(f"{_count(self.circuits, 'circuit')} a job, "
                         f"{_count(self.jobs or 0, 'job')}{per}")
        if self.backend is not None:
            parts.append(f"on {self.backend}")
        return ", ".join(parts)

    def settings(self, workload: str, jobs_field: str, old_mode: Any) -> list[Setting]:
        """The fields to set, as PATHs of ``qsim.experiments.fields``."""
        base = f"workloads.{workload}"
        out: list[Setting] = [(f"{base}.mode", self._mode(old_mode))]
        if self.circuits is not None:
            out += [(f"{base}.quantum.circuits", self.circuits),
                    (f"{base}.{jobs_field}", self.jobs)]
        if self.backend is not None:
            out.append((f"{base}.backend", self.backend))
        return out

    def _mode(self, old: Any) -> dict[str, Any]:
        """The mode as a file writes it; a context keeps the file's ``max_time``,
        ``cancel_at`` and ``open_at`` when the file already ran one."""
        if self.mode == "job":
            return {"kind": "job"}
        raw: dict[str, Any] = {"kind": self.mode, "interactive_ttl": self.interactive_ttl,
                               "close": bool(self.close)}
        if old.kind != "job":
            raw.update({k: getattr(old, k) for k in ("max_time", "cancel_at", "open_at")
                        if getattr(old, k) is not None})
        return raw


@dataclass(frozen=True)
class Space:
    """The candidates (in the order ties are broken: the first of equals wins), each with
    its scenario; modes left out and why; what is not searched and why."""

    workload: str
    jobs_field: str
    choices: tuple[Choice, ...]
    scenarios: tuple[Scenario, ...]
    left_out: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def choices(scenario: Scenario, workload: str, modes: Sequence[str] = MODES,
            backends: Sequence[str] | None = None) -> Space:
    """Every choice for ``workload`` (a foreground workload of ``scenario``): in each of
    ``modes`` (checked: ``compare``'s names), on each of ``backends`` (names of the
    scenario's; default: all of them when it has several)."""
    spec = scenario.workload(workload)
    modes, left_out = allowed_modes(scenario, check_modes(modes))
    notes: list[str] = []
    circuits, jobs_field = _circuit_axis(spec, notes)
    names = [b.name for b in scenario.backends]
    places: list[str | None] = list(names) if len(names) > 1 else [None]
    if backends is not None:
        places = list(check_backends(scenario, backends))
    max_time = spec.mode.max_time if spec.mode.kind != "job" else math.inf
    found: list[Choice] = []
    for backend in places:
        for mode in modes:
            for k, jobs in circuits:
                for ttl, close in _context_settings(mode, spec.mode, max_time):
                    found.append(Choice(mode, ttl, close, k, jobs, backend))
    kept: list[Choice] = []
    built: list[Scenario] = []
    for c in found:
        try:
            built.append(with_fields(scenario, c.settings(workload, jobs_field, spec.mode)))
        except QsimError as exc:  # e.g. more circuits than a per-circuit phase allows
            notes.append(f"{c.label(jobs_field)}: not searched ({exc})")
            continue
        kept.append(c)
    return Space(workload, jobs_field, tuple(kept), tuple(built), left_out, tuple(notes))


def _context_settings(mode: str, old: Any, max_time: float
                      ) -> list[tuple[float | None, bool | None]]:
    """(ITTL, close) pairs for ``mode``: none in job mode; for a batch the TTLs (its
    ``close`` changes nothing it is charged or takes: usage is its jobs' quantum time); for
    a session each TTL closed and not closed."""
    if mode == "job":
        return [(None, None)]
    ladder = {*TTL_LADDER[mode], DEFAULT_INTERACTIVE_TTL[mode]}
    if old.kind == mode and old.interactive_ttl is not None:
        ladder.add(float(old.interactive_ttl))
    ttls = sorted(t for t in ladder if t <= max_time) or [max_time]
    closes = (True, False) if mode == "session" else (old.close if old.kind == mode else True,)
    return [(t, c) for c in closes for t in ttls]


def _circuit_axis(spec: Any, notes: list[str]) -> tuple[list[tuple[int | None, int | None]], str]:
    """The (circuits, jobs) pairs to try, and the job-count field they set."""
    jobs_field = _JOBS_FIELD.get(spec.kind, "")
    if not jobs_field:
        notes.append(f"circuits per job: not searched (a {spec.kind} workload: its jobs are "
                     "its own)")
        return [(None, None)], "jobs"
    if not isinstance(spec.quantum, Circuits):
        notes.append("circuits per job: not searched (the quantum phase is not in circuit "
                     "form: quantum: {circuits:, shots:})")
        return [(None, None)], jobs_field
    jobs = getattr(spec, jobs_field)
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        notes.append(f"circuits per job: not searched ({jobs_field} is not a fixed number)")
        return [(None, None)], jobs_field
    total = spec.quantum.circuits * jobs
    if total > _MAX_TOTAL_CIRCUITS:
        notes.append(f"circuits per job: not searched ({total:,} circuits in all)")
        return [(None, None)], jobs_field
    ks = circuit_choices(total, spec.quantum.circuits)
    return [(k, total // k) for k in ks], jobs_field


def circuit_choices(total: int, current: int, most: int = MOST_CIRCUIT_CHOICES) -> list[int]:
    """Circuits per job to try for ``total`` circuits: the file's ``current`` first, then the
    divisors of ``total`` (all of them up to ``most``; else ``most`` spread evenly on a log
    scale from 1 to ``total``), ascending."""
    divisors = _divisors(total)
    if len(divisors) > most:
        picked = set()
        for i in range(most):
            target = math.log(total) * i / (most - 1)
            picked.add(min(divisors, key=lambda d: (abs(math.log(d) - target), d)))
        divisors = sorted(picked)
    return [current, *(d for d in divisors if d != current)]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})
