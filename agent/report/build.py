"""``build_report``: read the ledger's aggregates for a period and a set of targets, compute every statistic.

The report reads the ledger only through ``agent.ledger.queries`` and computes with the same pure
cores as /metrics (``agent.stats.summaries``), so a frontier, gradient, leakage gap, consistency or
paired difference in the report is the number the exporter shows for the same window. Which results
count where (scored, fresh, static, canary) is decided in the queries. Comparison groups are paired
by (item_key, novelty): the runner sends a group's members identical items, so each pair differs
only by the model that answered.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from agent.config import TargetConfig
from agent.ledger import queries
from agent.ledger.queries import PairedOutcome, TargetTotals
from agent.ledger.store import Store
from agent.report.model import (
    CanaryExample,
    ChangePoint,
    ConsistencyRow,
    CurvePoint,
    DriftBucket,
    FrontierRow,
    GradientRow,
    GroupScorecard,
    LeakageRow,
    PairedRow,
    Ratio,
    Report,
    TargetSummary,
    VersionRow,
)
from agent.stats import summaries
from agent.stats.frontier import Ability
from agent.stats.gradient import novelty_gradient
from agent.stats.intervals import wilson
from agent.stats.leakage import leakage_gap
from agent.stats.paired import paired_difference
from agent.stats.snapshot import ALL

#: Drift bucket widths to choose from (seconds): the smallest giving at most ``MAX_BUCKETS`` buckets.
_BUCKET_WIDTHS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)
MAX_BUCKETS = 30
Progress = Callable[[str], None]
#: (target, family) -> level -> (passes, total)
Levels = dict[tuple[str, str], dict[int, tuple[int, int]]]


def ratio(k: int, n: int, confidence: float = 0.95) -> Ratio:
    """k of n with its Wilson interval."""
    lo, hi = wilson(k, n, confidence)
    return Ratio(k, n, lo, hi)


def build_report(
    store: Store,
    targets: Sequence[TargetConfig],
    since: float,
    until: float | None = None,
    *,
    confidence: float = 0.95,
    progress: Progress | None = None,
    references: Mapping[str, float] | None = None,
) -> Report:
    """All report sections for ``targets`` over [since, until).

    ``references``: each family's reference level for ability (``frontier.reference_levels``).
    """
    until = time.time() if until is None else until
    step = progress or (lambda _msg: None)
    names = [t.name for t in targets]
    step("reading the ledger")
    fresh = summaries.counts_of(queries.cell_counts(store, since=since, until=until, targets=names))
    static = summaries.counts_of(queries.cell_counts(store, static=True, since=since, until=until, targets=names))
    totals = queries.target_totals(store, since=since, until=until, targets=names)
    step("capability curves and frontiers")
    by_difficulty = _levels(fresh, lambda cell: cell[2])
    curves = [
        CurvePoint(t, f, level, ratio(k, n, confidence))
        for (t, f), levels in sorted(by_difficulty.items())
        for level, (k, n) in sorted(levels.items())
    ]
    fits, abilities = summaries.frontiers(fresh, confidence, references)
    frontiers = [
        FrontierRow(t, f, fit.d50, fit.lower, fit.upper, fit.censored, fit.n) for (t, f), fit in sorted(fits.items())
    ]
    step("summary")
    summary_of = _summaries(store, targets, since, until, fresh, totals, abilities, confidence)
    summary_list = [summary_of[t.name] for t in targets]
    step("novelty gradient, leakage gap, consistency")
    gradients = _gradients(fresh, confidence)
    leakage = _leakage(static, fresh, confidence)
    answers = queries.fresh_answers(store, since=since, until=until, targets=names)
    consist = [
        ConsistencyRow(t, f, c.items, c.ratio)
        for (t, f), c in sorted(summaries.consistencies(answers).items())
        if f != ALL
    ]
    step("drift timeline")
    drift = _drift(store, names, since, until, confidence)
    points = [
        ChangePoint(
            c["target"], float(c["ts"]), c["scope"], c["detector"], c["direction"], c["size"], c["evidence"],
            _example(store, c["target"], float(c["ts"])) if c["direction"] != "recovery" else None,
        )
        for name in names
        for c in store.change_points(target=name, since=since)
        if float(c["ts"]) < until
    ]
    step("comparison groups")
    groups = _groups(store, targets, summary_of, since, until, confidence)
    notes = []
    if not any(s.probes for s in summary_list):
        notes.append("No probe results in this time range for these targets.")
    notes.extend(
        f"{t.name}: per-item results (detectors, change points) count one rendering per item, its primary one:"
        f" primary = sorted(novelties)[seed % {len(set(t.novelties))}] over novelties {sorted(set(t.novelties))}."
        for t in targets
        if len(set(t.novelties)) > 1
    )
    return Report(
        since=since,
        until=until,
        generated=time.time(),
        targets=names,
        families=queries.families(store, since=since, until=until, targets=names),
        confidence=confidence,
        summaries=summary_list,
        curves=curves,
        frontiers=frontiers,
        gradients=gradients,
        leakage=leakage,
        consistency=consist,
        drift=drift,
        change_points=points,
        groups=groups,
        notes=notes,
        versions=[
            VersionRow(v.family, v.target, v.generator_version, v.probes, v.first_ts, v.last_ts)
            for v in queries.generator_versions(store, since=since, until=until, targets=names)
        ],
    )


def _levels(counts: summaries.Counts, level: Callable[[tuple[str, str, int, int]], int]) -> Levels:
    """Cells summed per (target, family) and level (difficulty or novelty)."""
    out: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for cell, (k, n) in counts.items():
        c = out[(cell[0], cell[1])][level(cell)]
        c[0] += k
        c[1] += n
    return {key: {lv: (c[0], c[1]) for lv, c in levels.items()} for key, levels in out.items()}


def _summaries(
    store: Store,
    targets: Sequence[TargetConfig],
    since: float,
    until: float,
    fresh: summaries.Counts,
    totals: dict[str, TargetTotals],
    abilities: dict[str, Ability],
    confidence: float,
) -> dict[str, TargetSummary]:
    names = [t.name for t in targets]
    latencies = queries.latencies(store, answered=True, since=since, until=until, targets=names)
    errors: dict[str, dict[str, int]] = defaultdict(dict)
    for e in queries.error_counts(store, since=since, until=until, targets=names):
        errors[e.target][e.reason] = e.n
    models = queries.response_models(store, since=since, until=until, targets=names)
    scored: dict[str, tuple[int, int]] = {}
    for (t, *_), (k, n) in fresh.items():
        sk, sn = scored.get(t, (0, 0))
        scored[t] = (sk + k, sn + n)
    out = {}
    for target in targets:
        name = target.name
        tot = totals.get(name)
        answered = latencies.get(name, [])
        p50, p95 = (float(np.percentile(answered, q)) for q in (50, 95)) if answered else (None, None)
        price = target.price
        cost = None
        if tot is not None:
            cost = tot.cost(*((price.input_per_mtok_usd, price.output_per_mtok_usd) if price else (None, None)))
        # Every probe sent costs money (errors, canaries and static items too); only scored passes are "correct".
        correct = tot.scored_passes if tot is not None else 0
        ability = abilities.get(name)
        k, n = scored.get(name, (0, 0))
        out[name] = TargetSummary(
            target=name,
            provider=target.provider,
            model=target.model,
            group=target.group,
            probes=tot.probes if tot is not None else 0,
            errors=tot.errors if tot is not None else 0,
            error_reasons=dict(sorted(errors.get(name, {}).items(), key=lambda kv: -kv[1])),
            pass_ratio=ratio(k, n, confidence),
            latency_p50_s=p50,
            latency_p95_s=p95,
            input_tokens=tot.input_tokens if tot is not None else 0,
            output_tokens=tot.output_tokens if tot is not None else 0,
            cost_usd=cost,
            cost_per_correct_usd=(cost / correct) if cost is not None and correct else None,
            response_models=models.get(name, []),
            ability_logits=ability.logits if ability else None,
            ability_lower=ability.lower if ability else None,
            ability_upper=ability.upper if ability else None,
        )
    return out


def _gradients(fresh: summaries.Counts, confidence: float) -> list[GradientRow]:
    out = []
    for (name, family), cells in sorted(_levels(fresh, lambda cell: cell[3]).items()):
        levels = sorted(cells)
        by_novelty = {lvl: ratio(*cells[lvl], confidence) for lvl in levels}
        g = novelty_gradient(levels, [cells[x][0] for x in levels], [cells[x][1] for x in levels], confidence)
        out.append(
            GradientRow(
                name,
                family,
                by_novelty,
                g.slope if g else None,
                g.lower if g else None,
                g.upper if g else None,
            )
        )
    return out


def _leakage(static: summaries.Counts, fresh: summaries.Counts, confidence: float) -> list[LeakageRow]:
    out = []
    for (name, family), (sk, sn, fk, fn) in sorted(summaries.leakage_counts(static, fresh).items()):
        if family == ALL:
            continue
        gap = leakage_gap(sk, sn, fk, fn, confidence)
        out.append(
            LeakageRow(
                name,
                family,
                ratio(sk, sn, confidence),
                ratio(fk, fn, confidence),
                gap.diff if gap else None,
                gap.lower if gap else None,
                gap.upper if gap else None,
            )
        )
    return out


def bucket_width(span_s: float) -> int:
    """The smallest standard bucket width giving at most ``MAX_BUCKETS`` buckets over the span."""
    for width in _BUCKET_WIDTHS:
        if span_s / width <= MAX_BUCKETS:
            return width
    return _BUCKET_WIDTHS[-1]


def _drift(store: Store, names: list[str], since: float, until: float, confidence: float) -> list[DriftBucket]:
    width = bucket_width(max(until - since, 1.0))
    start = math.floor(since / width) * width  # aligned buckets read naturally (on the hour, …)
    return [
        DriftBucket(
            b.target, start + b.index * width, start + (b.index + 1) * width, ratio(b.passes, b.total, confidence)
        )
        for b in queries.time_buckets(store, start=start, width=width, since=since, until=until, targets=names)
    ]


def paired_rows(
    group: str, target: str, baseline: str, outcomes: Sequence[PairedOutcome], confidence: float
) -> list[PairedRow]:
    """Paired differences (target minus baseline) per family and over all families, on shared items."""
    out = []
    by_family = {ALL: ([], []), **summaries.paired_by_family(outcomes)}  # an "all" row even without pairs
    for family, (xa, xb) in sorted(by_family.items(), key=lambda kv: kv[0] != ALL):
        both = sum(x and y for x, y in zip(xa, xb, strict=True))
        only_a = sum(x and not y for x, y in zip(xa, xb, strict=True))
        only_b = sum(y and not x for x, y in zip(xa, xb, strict=True))
        pairs = len(xa)
        res = paired_difference(xa, xb, confidence) if pairs else None
        out.append(
            PairedRow(
                group=group,
                target=target,
                baseline=baseline,
                family=family,
                pairs=pairs,
                target_ratio=(both + only_a) / pairs if pairs else None,
                baseline_ratio=(both + only_b) / pairs if pairs else None,
                both_pass=both,
                only_target=only_a,
                only_baseline=only_b,
                neither=pairs - both - only_a - only_b,
                difference=res.diff if res else None,
                lower=res.lower if res else None,
                upper=res.upper if res else None,
                p_value=res.p_value if res else None,
            )
        )
    return out


def _groups(
    store: Store,
    targets: Sequence[TargetConfig],
    summary: dict[str, TargetSummary],
    since: float,
    until: float,
    confidence: float,
) -> list[GroupScorecard]:
    members: dict[str, list[str]] = defaultdict(list)
    for t in targets:
        if t.group:
            members[t.group].append(t.name)
    out = []
    for group, names in sorted(members.items()):
        if len(names) < 2:
            continue
        baseline = names[0]  # the first member listed in the config is the reference
        rows = []
        for name in names[1:]:
            outcomes = queries.paired_outcomes(store, name, baseline, since=since, until=until)
            rows.extend(paired_rows(group, name, baseline, outcomes, confidence))
        out.append(
            GroupScorecard(
                group=group,
                baseline=baseline,
                members=names,
                rows=rows,
                cost_per_correct_usd={n: summary[n].cost_per_correct_usd for n in names},
                pass_ratio={n: summary[n].pass_ratio for n in names},
            )
        )
    return out


def _example(store: Store, target: str, ts: float) -> CanaryExample | None:
    """The same canary prompt answered before and after a change point."""
    pair = queries.canary_pair(store, target, ts)
    return None if pair is None else CanaryExample(pair.prompt, pair.before, pair.before_ts, pair.after, pair.after_ts)
