"""Prometheus metric families for the statistics, built from a ``StatsSnapshot`` (no global registry).

The values come from the last ``StatsSnapshot``, which the agent refreshes from its own task when new
results have arrived, at most once per ``stats.refresh_interval_s``; a scrape never recomputes them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.serve.signal_metrics import signal_metric_families
from agent.stats.frontier import Frontier
from agent.stats.snapshot import ALL, RatioCell, StatsSnapshot
from agent.stats.summaries import nearest_frontier

_CACHED = (
    " Cached: computed from the ledger on capmon's own schedule (at most every stats.refresh_interval_s),"
    " not per scrape."
)


def _gauge(name: str, doc: str, labels: Sequence[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc + _CACHED, labels=list(labels))


def _triple(
    base: str, doc: str, labels: Sequence[str], rows: Iterable[tuple[Sequence[str], float, float, float]]
) -> list[GaugeMetricFamily]:
    """A value gauge and its _lower/_upper bound gauges."""
    value = _gauge(base, doc, labels)
    lower = _gauge(base + "_lower", f"Lower bound of {base}.", labels)
    upper = _gauge(base + "_upper", f"Upper bound of {base}.", labels)
    for lv, v, lo, hi in rows:
        for fam, x in ((value, v), (lower, lo), (upper, hi)):
            if not math.isnan(x):
                fam.add_metric(list(lv), x)
    return [value, lower, upper]


def _window_seconds(label: str) -> float:
    """Seconds of a window label: "15m" -> 900, "24h" -> 86400 (the inverse of ``summaries.window_label``)."""
    return float(label[:-1]) * {"s": 1, "m": 60, "h": 3600}[label[-1]]


def ratio_metric_families(
    cells: Sequence[RatioCell], frontiers: Mapping[tuple[str, str], Frontier] | None = None
) -> Iterable[Metric]:
    """Pass ratios with bounds per (target, family, window); counts per level probed in the longest window.

    The series stay bounded (docs/metrics.md, "Series budget"): the ratio and its anytime-valid bounds
    (which PromQL cannot compute) are one series each per family and window; the capability curve is
    exported as counts (passed, scored) per level, for the longest window only, so PromQL computes the
    ratios and pools them as it likes. Difficulty levels: those probed in the window, at most
    ``summaries.LEVELS_PER_FAMILY`` per family (the ones nearest the fitted frontier). Novelty levels: only for
    families probed at more than one (otherwise they repeat the family's count).
    """
    tfw = ("target", "family", "window")
    pooled = [c for c in cells if c.difficulty == ALL and c.novelty == ALL]
    yield from _triple(
        "capmon_pass_ratio",
        "Share of non-error fresh probes passed in the window (one rendering per item: the primary one);"
        " bounds are a confidence sequence over the window's counts: time-uniform (peek-safe) while the"
        " window fills, not across sliding windows (watching a sliding window for weeks is not covered).",
        tfw,
        (((c.target, c.family, c.window), c.ratio, c.lower, c.upper) for c in pooled),
    )
    samples = _gauge("capmon_pass_ratio_samples", "Non-error fresh probes behind capmon_pass_ratio.", tfw)
    for c in pooled:
        samples.add_metric([c.target, c.family, c.window], c.total)
    yield samples
    longest = max((c.window for c in cells), key=_window_seconds, default="")
    curve = [c for c in cells if c.window == longest and c.family != ALL]
    levels: dict[tuple[str, str], list[int]] = defaultdict(list)
    novelties: dict[tuple[str, str], int] = defaultdict(int)
    for c in curve:
        if c.difficulty != ALL and c.novelty == ALL:
            levels[(c.target, c.family)].append(int(c.difficulty))
        elif c.difficulty == ALL and c.novelty != ALL:
            novelties[(c.target, c.family)] += 1
    kept = {key: set(nearest_frontier(xs, (frontiers or {}).get(key))) for key, xs in levels.items()}
    rows = {
        "difficulty": [
            (c, c.difficulty)
            for c in curve
            if c.difficulty != ALL and c.novelty == ALL and int(c.difficulty) in kept[(c.target, c.family)]
        ],
        "novelty": [
            (c, c.novelty)
            for c in curve
            if c.difficulty == ALL and c.novelty != ALL and novelties[(c.target, c.family)] > 1
        ],
    }
    for axis, axis_rows in rows.items():
        labels = ("target", "family", axis, "window")
        passed = _gauge(
            f"capmon_{axis}_passed_probes",
            f"Non-error fresh probes passed in the longest window, per {axis} level (see docs/metrics.md).",
            labels,
        )
        scored = _gauge(
            f"capmon_{axis}_scored_probes",
            f"Non-error fresh probes in the longest window, per {axis} level (see docs/metrics.md).",
            labels,
        )
        for c, level in axis_rows:
            lv = [c.target, c.family, level, c.window]
            passed.add_metric(lv, c.passes)
            scored.add_metric(lv, c.total)
        yield from (passed, scored)


def stats_metric_families(snapshot: StatsSnapshot) -> Iterable[Metric]:
    """Every statistics metric, from one snapshot."""
    s = snapshot
    yield from ratio_metric_families(s.ratios, s.frontiers)
    tf = ("target", "family")
    yield from _triple(
        "capmon_frontier_level",
        "Difficulty level passed half the time (logistic fit; profile-likelihood bounds, fixed-time: not"
        " peek-safe; +-Inf: censored).",
        tf,
        (((t, f), fr.d50, fr.lower, fr.upper) for (t, f), fr in sorted(s.frontiers.items())),
    )
    yield from _triple(
        "capmon_ability_logits",
        "Mean over families of the logit of passing an item at the family's reference level (the middle "
        "of its scale, (1 + top) / 2; fixed-time bounds: not peek-safe).",
        ("target",),
        (((t,), a.logits, a.lower, a.upper) for t, a in sorted(s.abilities.items())),
    )
    yield from _triple(
        "capmon_novelty_gradient_slope",
        "Pass-ratio change per novelty level (weighted least squares; fixed-time bounds: not peek-safe).",
        tf,
        (((t, f), g.slope, g.lower, g.upper) for (t, f), g in sorted(s.gradients.items())),
    )
    yield from _triple(
        "capmon_leakage_gap_ratio",
        "Static canary pass ratio minus fresh pass ratio standardised to the static mix (Newcombe interval"
        " from Wilson limits: fixed-time, not peek-safe).",
        tf,
        (((t, f), d.diff, d.lower, d.upper) for (t, f), d in sorted(s.leakage.items())),
    )
    cons = _gauge(
        "capmon_consistency_ratio",
        "Share of pairs of novelty renderings of one item given the same answer.",
        tf,
    )
    for (t, f), v in sorted(s.consistency.items()):
        cons.add_metric([t, f], v)
    yield cons
    tfd = ("target", "family", "detector")
    stat = _gauge("capmon_detector_statistic", "Sequential detector statistic in nats (alarm at threshold).", tfd)
    thr = _gauge("capmon_detector_threshold", "Detector threshold in nats, set from the false-alarm budget.", tfd)
    reg = _gauge("capmon_regression_detected", "1 while a drop detector's alarm is latched.", tfd)
    imp = _gauge("capmon_improvement_detected", "1 while a rise detector's alarm is latched.", tfd)
    for d in s.detectors:
        lv = [d.target, d.family, d.detector]
        stat.add_metric(lv, d.statistic)
        thr.add_metric(lv, d.threshold)
        if d.direction == "rise":
            imp.add_metric(lv, float(d.detected))
        else:
            reg.add_metric(lv, float(d.detected))
    yield from (stat, thr, reg, imp)
    cps = CounterMetricFamily(
        "capmon_change_points",
        "Change points detected and stored." + _CACHED,
        labels=["target", "family", "detector", "direction"],
    )
    for (t, f, det, direction), n in sorted(s.change_points.items()):
        cps.add_metric([t, f, det, direction], n)
    yield cps
    agree = _gauge(
        "capmon_fingerprint_agreement_ratio",
        "Share of recent temperature-0 canary answers equal to the baseline answers.",
        ("target",),
    )
    changed = _gauge("capmon_fingerprint_changed", "1 when the model behind the endpoint looks changed.", ("target",))
    for t, fp in sorted(s.fingerprints.items()):
        if fp.agreement is not None:
            agree.add_metric([t], fp.agreement)
        changed.add_metric([t], float(fp.changed))
    yield from (agree, changed)
    for name, doc, data in (
        ("capmon_refusal_ratio", "Share of non-error responses that decline to answer.", s.refusal),
        (
            "capmon_response_length_tokens_mean",
            "Mean output tokens per non-error response.",
            s.response_length,
        ),
        (
            "capmon_cost_per_correct_usd",
            "Recorded spend on every probe sent divided by passed scored probes.",
            s.cost_per_correct,
        ),
    ):
        g = _gauge(name, doc, ("target",))
        for t, v in sorted(data.items()):
            g.add_metric([t], v)
        yield g
    base = _gauge("capmon_baseline_pass_ratio", "Baseline pass ratio the detectors test against.", tf)
    for (t, f), v in sorted(s.baselines.items()):
        base.add_metric([t, f], v)
    yield base
    yield from _triple(
        "capmon_paired_difference_ratio",
        "Pass ratio of target minus baseline_target on identical items, one rendering per item (Newcombe"
        " paired interval from Wilson limits: fixed-time, not peek-safe).",
        ("group", "target", "baseline_target", "family"),
        (
            ((p.group, p.target, p.baseline_target, p.family), p.result.diff, p.result.lower, p.result.upper)
            for p in s.paired
        ),
    )
    armed = _gauge(
        "capmon_detector_armed",
        "1 while the detector can fire (designed and not in alarm); detector=\"signals\": the signal tests,"
        " designed together (each test's alarm is capmon_signal_alarm).",
        tfd,
    )
    left = _gauge(
        "capmon_detector_probes_to_armed",
        "Warm-up outcomes (fresh items of the scope, canary answers, or for the signal tests answered probes)"
        " the detector still needs before it can fire.",
        tfd,
    )
    secs = _gauge(
        "capmon_detector_seconds_to_armed",
        "Estimated seconds until the detector can fire, from the target's interval and probes per run.",
        tfd,
    )
    for a in s.arming:
        lv = [a.target, a.family, a.detector]
        armed.add_metric(lv, float(a.armed))
        left.add_metric(lv, float(a.probes_to_armed))
        secs.add_metric(lv, a.seconds_to_armed)
    yield from (armed, left, secs)
    ids = _gauge(
        "capmon_fingerprint_id_changed",
        "1 when the reported model id or system_fingerprint differs from the warm-up's (info; not an alarm).",
        ("target",),
    )
    for t, fp in sorted(s.fingerprints.items()):
        ids.add_metric([t], float(fp.id_changed))
    yield ids
    yield from signal_metric_families(s)
