"""What ``qsim fit`` writes: ``scenario.yaml`` (each number commented with where it came from),
``fit.json`` (``fit.summary_json``), ``fit.png``, and the terminal's side-by-side table."""

from __future__ import annotations

import json
import math
import textwrap
from typing import Final

import numpy as np

from qsim.analysis.queue_stats import TARGETS
from qsim.experiments.fitting import FitResult, summary_json
from qsim.present.shared import figure_png
from qsim.version import __version__

__all__ = ["fit_json", "picture", "scenario_text", "table"]

FIGURES: Final = ("p10", "p50", "p90", "p99", "mean", "paused_share", "arrivals_per_10min",
                  "dispersion", "acf_1h", "acf_24h")


def _s(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 1e5 else f"{seconds:.0f}s"


def _levels(levels: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{x:g}" for x in levels) + "]"


def scenario_text(result: FitResult, command: str) -> str:
    """A runnable scenario of the backend over the data's span (SPEC §16, §17 keys)."""
    first, model, data = result.first, result.model, result.data
    start = result.series.start.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"# {result.name}, fitted to {data.hours / 24:.0f} days of its pending_jobs by qsim fit.",
        f"# {data.hours:.0f} h from {start}, {len(result.series.t):,} samples; made by",
        f"# `{command}` (qsim {__version__}).",
        *_verdict(result),
        f"name: fit-{result.name}",
        f"seed: {result.seed}",
        f"horizon: {_s(first.span_s)}   # the data's span; t = 0 is the first sample ({start})",
        "backend:",
        f"  lanes: {model.lanes}   # qsim's default: lanes do not show in pending_jobs",
    ]
    if model.pauses:
        lines.append(f"  outages:   # the {len(model.pauses)} runs of samples whose status_msg "
                     "was not `active` (10-s grid)")
        lines += [f"    - {{start: {_s(a)}, end: {_s(b)}, kind: pause}}" for a, b in model.pauses]
    mean_gap = model.burst_mean / model.arrival_rate if model.arrival_rate > 0 else 1e9
    lines += [
        "workloads:",
        "  - name: others",
        "    kind: background",
        f"    pending: {first.pending0}   # the first sample's pending_jobs",
        f"    arrivals: {{dist: exponential, mean: {_s(mean_gap)}}}   # burst / rate: "
        f"{model.arrival_rate * 600:.2f} jobs per 10 min"
        + (f", {100 * (1 - result.scales[6]):.0f} % of" if model.held else ", the"),
        "    #   positive 10-s increments of the data (a lower bound on the arrivals)"
        + (" per active second" if model.stop_in_pauses else ""),
        _burst_line(result),
        *_shared_lines(result),
    ]
    if model.held is not None:
        lines += _held_lines(result)
    return "\n".join(lines) + "\n"


def _shared_lines(result: FitResult) -> list[str]:
    """What both streams share: the pauses' rule, the daily profile, the regimes, the
    quantum."""
    first, model = result.first, result.model
    service_scale, _, swings, swing, *_ = result.scales
    lines = []
    if model.stop_in_pauses:
        lines.append("    during_outages: stop   # the data's queue does not fill while the "
                     "backend is not `active`")
    if model.profile:
        lines.append(f"    profile: {{period: 1d, levels: {_levels(model.profile)}}}")
        lines.append(f"    #   arrivals by hour since the first sample, smoothed over 3 h, their "
                     f"swings x{swings:.2f} (search)")
    if len(model.regimes) > 1:
        lines.append(f"    regimes: {{levels: {_levels(model.regimes)}, dwell: {{dist: "
                     f"exponential, mean: {_s(model.regime_dwell_s)}}}}}")
        lines.append(f"    #   swing {swing:.2f}, dwell and count of levels: the search's "
                     "(the data's plateaus, hours to days)")
    lines += [
        f"    quantum: {{dist: lognormal, mean: {_s(model.service_s)}, "
        f"cv: {model.service_cv:.2f}}}",
        f"    #   x{service_scale:.3f} (search) of {first.service_s:.1f} s, 600 s / the "
        f"departures per 10 min over {first.busy_blocks}",
        "    #   blocks the queue never emptied; cv from their variance / mean",
    ]
    return lines


def _held_lines(result: FitResult) -> list[str]:
    """The held stream (SPEC §17 ``hold``): the jobs the real queue keeps waiting that a FIFO
    would serve, so that it never empties and sits in a band."""
    held = result.model.held
    assert held is not None
    share = result.scales[6]
    return [
        "  - name: held   # jobs the service holds before it may dispatch them (another "
        "instance's",
        "    #   usage limit, fair share between providers, a reservation): pending_jobs "
        "counts them",
        "    #   but cannot tell the causes apart. The data's queue never empties and sits "
        "in a band:",
        "    #   these jobs are that band. Same profile, regimes (its own switches) and "
        "quantum.",
        "    kind: background",
        f"    arrivals: {{dist: exponential, mean: {_s(held.burst_mean / held.arrival_rate)}}}"
        f"   # {held.arrival_rate * 600:.2f} jobs per 10 min,",
        f"    #   {100 * share:.0f} % of the data's arrivals (search)",
        f"    burst: {{dist: geometric, mean: {held.burst_mean:.2f}}}   # search",
        f"    hold: {{dist: lognormal, mean: {_s(held.hold_s)}, cv: {held.hold_cv:.2f}}}"
        f"   # search: {held.arrival_rate * held.hold_s:.1f} held",
        "    #   on average (rate x mean hold)",
        *_shared_lines(result),
    ]


#: How each figure reads in the header: name, format.
_SHOWN: Final = (("p50", "p50", "{:.3g}"), ("p90", "p90", "{:.3g}"), ("mean", "mean", "{:.3g}"),
                 ("paused_share", "paused share", "{:.1%}"),
                 ("dispersion", "dispersion of arrivals per 10 min", "{:.3g}"),
                 ("acf_24h", "24-h autocorrelation", "{:.2f}"))


def _verdict(result: FitResult) -> list[str]:
    """The header's account: what the fitted model reproduces and what it does not, figure by
    figure, data against model (the means over replications the search never saw)."""
    def pair(name: str, shown: str, fmt: str) -> str:
        return (f"{shown} {fmt.format(getattr(result.data, name))} / "
                f"{fmt.format(getattr(result.model_stats, name))}")

    met = [pair(*f) for f in _SHOWN if result.met.get(f[0])]
    missed = [pair(*f) for f in _SHOWN if f[0] in result.met and not result.met[f[0]]]
    text = (f"Reproduces (data / model, the model's the means over replications the search "
            f"never saw; issue 26's targets): {'; '.join(met) or 'none'}. "
            f"Misses: {'; '.join(missed) or 'none'}. {_band(result)} Not modelled: a "
            "`dedicated` period's traffic is left out, not served; the service's lanes, "
            "priorities and fair share do not show in pending_jobs and are qsim's defaults. "
            "fit.json has every figure side by side.")
    return ["# " + line for line in textwrap.wrap(text, 93)]


def _band(result: FitResult) -> str:
    """The floor of the queue: the held stream's, or what its absence leaves out."""
    p10 = f"p10 {result.data.p10:.3g} / {result.model_stats.p10:.3g}"
    if result.model.held is not None:
        return (f"The held stream keeps the queue from emptying ({p10}).")
    return f"The data's queue never empties ({p10}); no held stream was fitted."


def _burst_line(result: FitResult) -> str:
    model, burst_scale, dispersion = result.model, result.scales[1], result.first.dispersion
    if model.burst_fixed:  # a constant burst k: arrivals per block have variance / mean k
        return (f"    burst: {round(model.burst_mean)}   # constant (it fitted better than "
                f"geometric); x{burst_scale:.3f} (search) of the dispersion {dispersion:.0f}")
    return (f"    burst: {{dist: geometric, mean: {model.burst_mean:.2f}}}   # x{burst_scale:.3f} "
            f"(search) of (dispersion {dispersion:.0f} + 1) / 2")


def fit_json(result: FitResult) -> str:
    return json.dumps(_nulls(summary_json(result)), indent=2, allow_nan=False,
                      default=_no_nan) + "\n"


def _nulls(value: object) -> object:
    """``value`` with every float that is not finite as ``None`` (JSON ``null``): a figure the
    data cannot give, such as the 24-h autocorrelation of a series shorter than a day."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nulls(v) for v in value]
    return value


def _no_nan(value: object) -> object:
    raise TypeError(f"not JSON: {value!r}")


def table(result: FitResult) -> str:
    """The side-by-side table and one sentence on how good the fit is."""
    rows = [f"{'figure':<20} {'data':>10} {'model':>10}  target"]
    for name in FIGURES:
        want, got = getattr(result.data, name), getattr(result.model_stats, name)
        mark = ""
        if name in result.met:
            kind, bound = TARGETS[name]
            mark = ("met" if result.met[name] else "NOT met") + f" ({kind} {bound:g})"
        rows.append(f"{name:<20} {want:>10.3g} {got:>10.3g}  {mark}")
    missed = [n for n, ok in result.met.items() if not ok]
    met = len(result.met) - len(missed)
    sentence = (f"The fitted model meets {met} of {len(result.met)} targets (its figures: the "
                "means over replications the search never saw)"
                + (f"; it falls short on {', '.join(missed)}." if missed else "."))
    if result.waits is not None:  # ---- --jobs (fit_jobs_files.py) ----
        from qsim.present.fit_jobs_files import wait_rows, wait_sentence

        return "\n".join([*rows, *wait_rows(result.waits), sentence,
                          wait_sentence(result.waits)])
    return "\n".join([*rows, sentence])


def picture(result: FitResult) -> bytes:
    """The data's queue and a simulated one over the same days, and their distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5),
                                      gridspec_kw={"height_ratios": [2, 1.3]})
    data, model = result.data_grid, result.model_grid
    days = (data.t - data.t[0]) / 86400
    top.plot(days, np.where(data.valid, data.level, np.nan), lw=0.6, label="data")
    top.plot(model.t / 86400, model.level, lw=0.6, alpha=0.8, label="model (unseen replication)")
    if (data.paused & data.valid).any():
        top.fill_between(days, 0, 1, where=data.paused & data.valid, color="tab:red", alpha=0.2,
                         lw=0, transform=top.get_xaxis_transform(), label="paused")
    top.set_xlabel("days from the first sample")
    top.set_ylabel("pending jobs")
    top.set_title(f"{result.name}: queue length, data and fitted model", fontsize=10)
    top.legend(fontsize=8)
    for grid, label in ((data, "data"), (model, "model")):
        level = np.sort(grid.level[grid.valid])
        bottom.plot(level + 1, np.arange(1, len(level) + 1) / len(level), label=label)
    bottom.set_xscale("log")
    bottom.set_xlabel("pending jobs + 1")
    bottom.set_ylabel("share of time at or below")
    bottom.legend(fontsize=8)
    fig.tight_layout()
    return figure_png(fig)
