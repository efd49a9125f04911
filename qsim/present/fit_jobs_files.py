"""What ``qsim fit --jobs`` writes and shows: the wait rows of the side-by-side table (beside a
series' fit), and with ``--jobs`` alone its own ``scenario.yaml``, ``fit.json``, ``fit.png``
and table, each saying what waits alone can and cannot pin down."""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np

from qsim.analysis.wait_stats import WAIT_FIGURES, WAIT_TARGETS
from qsim.experiments.fit_jobs import JobsFitResult, WaitComparison, waits_json
from qsim.present.shared import figure_png
from qsim.version import __version__

__all__ = ["jobs_fit_json", "jobs_picture", "jobs_scenario_text", "jobs_table", "wait_rows"]

CANNOT: Final = ("Waits alone pin down how much work is queued ahead of a job, in seconds of "
                 "the QPU; they cannot tell many short jobs from few long ones (the "
                 "background's jobs are taken to run as long as yours), nor show the queue's "
                 "length, its outages or a daily cycle: fit a pending_jobs series for those.")


def wait_rows(waits: WaitComparison) -> list[str]:
    """The table's rows for the waits (seconds), in the series table's columns."""
    data, model = waits.data.as_dict(), waits.model.as_dict()
    rows = []
    for name in WAIT_FIGURES:
        mark = ""
        if name in waits.met:
            mark = ("met" if waits.met[name] else "NOT met") + f" (rel {WAIT_TARGETS[name]:g})"
        rows.append(f"{name:<20} {data[name]:>10.3g} {model[name]:>10.3g}  {mark}")
    return rows


def wait_sentence(waits: WaitComparison) -> str:
    missed = [n for n, ok in waits.met.items() if not ok]
    return (f"Your jobs' waits (running - created): the model meets {len(waits.met) - len(missed)}"
            f" of {len(waits.met)} targets with the same jobs submitted to it "
            f"{waits.placed}" + (f"; it falls short on {', '.join(missed)}." if missed else "."))


def jobs_table(result: JobsFitResult) -> str:
    """The waits side by side, and the sentences on how good the fit is and what it can say."""
    header = f"{'figure (seconds)':<20} {'data':>10} {'model':>10}  target"
    return "\n".join([header, *wait_rows(result.waits), wait_sentence(result.waits), CANNOT])


def _s(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 1e5 else f"{seconds:.0f}s"


def jobs_scenario_text(result: JobsFitResult, command: str) -> str:
    """A runnable scenario whose background gives the user's jobs their waits."""
    model, data = result.model, result.waits.data
    start = result.jobs.start.strftime("%Y-%m-%d %H:%M:%S UTC")
    met = sum(result.waits.met.values())
    lines = [
        f"# {result.name}: fitted by `{command}` (qsim {__version__}, seed {result.seed})",
        f"# from the waits of {len(result.jobs.created):,} of your jobs over "
        f"{result.jobs.span_s / 3600:.1f} h from {start} (median {data.wait_p50:.0f} s,",
        f"# p90 {data.wait_p90:.0f} s). On replications the search never saw it meets {met} "
        f"of {len(result.waits.met)} wait targets",
        "# (fit.json has the figures side by side).",
        *("# " + line for line in _wrapped(CANNOT, 96)),
        f"name: fit-{result.name}",
        f"seed: {result.seed}",
        f"horizon: {_s(max(result.jobs.span_s, 1.0))}   # your jobs' span; t = 0 is the first "
        f"one's creation ({start})",
        f"warmup: {_s(result.warmup_s)}   # the fit's own: the queue starts empty this long "
        "before t = 0",
        "backend:",
        f"  lanes: {model.lanes}   # qsim's default: lanes do not show in waits",
        "workloads:",
        "  - name: others",
        "    kind: background",
        f"    arrivals: {{dist: exponential, mean: {_s(model.burst_mean / model.arrival_rate)}}}"
        f"   # load {result.load:.3f} (search)",
        f"    burst: {{dist: geometric, mean: {model.burst_mean:.2f}}}   # (search)",
        f"    quantum: {{dist: lognormal, mean: {_s(model.service_s)}, "
        f"cv: {model.service_cv:.2f}}}",
        "    #   your jobs' run times: " + ("quantum_seconds" if result.jobs.quantum_given
                                           else "finished - running (an upper bound)")
        + ", their mean and cv",
    ]
    return "\n".join(lines) + "\n"


def _wrapped(text: str, width: int) -> list[str]:
    lines: list[str] = [""]
    for word in text.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def jobs_fit_json(result: JobsFitResult) -> str:
    model = result.model
    body: dict[str, Any] = {
        "jobs_file": result.jobs.file,
        "start": result.jobs.start.isoformat(),
        "jobs": len(result.jobs.created),
        "seed": result.seed,
        "waits": waits_json(result.waits),
        "targets_met": sum(result.waits.met.values()),
        "targets": len(result.waits.met),
        "fitted": {"load": result.load, "burst_mean": model.burst_mean, "burst": "geometric",
                   "service_s": model.service_s, "service_cv": model.service_cv,
                   "arrival_rate_per_10min": model.arrival_rate * 600,
                   "warmup_s": result.warmup_s, "evaluations": result.evaluations,
                   "loss": result.loss},
        "cannot": CANNOT,
        "assumptions": [
            "a job's wait is running - created; its run time quantum_seconds where given, "
            "else finished - running",
            "the model's waits: your jobs submitted to the fitted backend at their own "
            "instants (after the warm-up), each with its run time, among the background",
            "the background's jobs run as long as yours (their mean and cv, lognormal); "
            f"{model.lanes} lanes, FIFO, no outages",
            "times without a zone are UTC",
        ],
    }
    return json.dumps(body, indent=2, allow_nan=False) + "\n"


def jobs_picture(result: JobsFitResult) -> bytes:
    """The waits' distributions, yours and the model's (the same jobs on the fitted backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for waits, label in ((result.jobs.wait_s, "your jobs"),
                         (result.model_wait_s, "the same jobs on the fitted backend")):
        level = np.sort(waits)
        ax.plot(level + 1, np.arange(1, len(level) + 1) / len(level), label=label)
    ax.set_xscale("log")
    ax.set_xlabel("wait (running - created), seconds + 1")
    ax.set_ylabel("share of jobs waiting at most")
    ax.set_title(f"{result.name}: waits, data and fitted background (load {result.load:.2f})",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_png(fig)
