"""``build_report``: read the ledger for a time range and a set of targets, compute every statistic.

Only capability probes feed the capability statistics: fresh items that reached the model
(endpoint errors are availability, never capability; fingerprint canaries and static items have
their own sections). Comparison groups are paired by (item_key, novelty): the runner sends a group's
members identical items, so each pair differs only by the model that answered.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from agent.config import TargetConfig
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.report.model import (
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
)
from agent.stats.consistency import consistency
from agent.stats.frontier import Frontier, ability_summary, fit_frontier
from agent.stats.gradient import novelty_gradient
from agent.stats.intervals import wilson
from agent.stats.leakage import leakage_gap
from agent.stats.paired import paired_difference

#: Drift bucket widths to choose from (seconds): the smallest giving at most ``MAX_BUCKETS`` buckets.
_BUCKET_WIDTHS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)
MAX_BUCKETS = 30
Progress = Callable[[str], None]


def ratio(k: int, n: int, confidence: float = 0.95) -> Ratio:
    """k of n with its Wilson interval."""
    lo, hi = wilson(k, n, confidence)
    return Ratio(k, n, lo, hi)


def _scored(results: Iterable[ProbeResult], *, static: bool = False) -> list[ProbeResult]:
    return [r for r in results if r.outcome != "error" and not r.canary and r.static == static]


def _count(results: Iterable[ProbeResult]) -> tuple[int, int]:
    k = n = 0
    for r in results:
        n += 1
        k += r.outcome == "pass"
    return k, n


def probe_cost(r: ProbeResult, target: TargetConfig | None) -> float | None:
    """Cost of one probe from the price table (per million tokens), else the cost the agent recorded."""
    if target is not None and target.price is not None and (r.input_tokens is not None or r.output_tokens is not None):
        return (
            (r.input_tokens or 0) * target.price.input_per_mtok_usd
            + (r.output_tokens or 0) * target.price.output_per_mtok_usd
        ) / 1e6
    return r.cost_usd


def build_report(
    store: Store,
    targets: Sequence[TargetConfig],
    since: float,
    until: float | None = None,
    *,
    confidence: float = 0.95,
    progress: Progress | None = None,
) -> Report:
    """All report sections for ``targets`` over [since, until)."""
    until = time.time() if until is None else until
    step = progress or (lambda _msg: None)
    names = [t.name for t in targets]
    step("reading the ledger")
    rows = [s.result for s in store.results(targets=names, since=since, until=until)] if names else []
    by_target: dict[str, list[ProbeResult]] = defaultdict(list)
    for r in rows:
        by_target[r.target].append(r)
    families = sorted({r.family for r in rows if not r.canary})
    step("capability curves and frontiers")
    curves = _curves(by_target, names, confidence)
    frontiers, fits = _frontiers(by_target, names, confidence)
    step("summary")
    summaries = [_summary(t, by_target.get(t.name, []), fits.get(t.name, {}), confidence) for t in targets]
    step("novelty gradient, leakage gap, consistency")
    gradients = _gradients(by_target, names, confidence)
    leakage = _leakage(by_target, names, confidence)
    consist = _consistency(by_target, names)
    step("drift timeline")
    drift = _drift(by_target, names, since, until, confidence)
    points = [
        ChangePoint(c["target"], float(c["ts"]), c["scope"], c["detector"], c["direction"], c["size"])
        for name in names
        for c in store.change_points(target=name, since=since)
        if float(c["ts"]) < until
    ]
    step("comparison groups")
    groups = _groups(targets, by_target, summaries, confidence)
    notes = []
    if not rows:
        notes.append("No probe results in this time range for these targets.")
    return Report(
        since=since,
        until=until,
        generated=time.time(),
        targets=names,
        families=families,
        confidence=confidence,
        summaries=summaries,
        curves=curves,
        frontiers=frontiers,
        gradients=gradients,
        leakage=leakage,
        consistency=consist,
        drift=drift,
        change_points=points,
        groups=groups,
        notes=notes,
    )


def _summary(
    target: TargetConfig, rows: list[ProbeResult], fits: dict[str, Frontier], confidence: float
) -> TargetSummary:
    scored = _scored(rows)
    k, n = _count(scored)
    errors = [r for r in rows if r.outcome == "error"]
    answered = [r.latency_s for r in rows if r.outcome != "error"]
    p50, p95 = (float(np.percentile(answered, q)) for q in (50, 95)) if answered else (None, None)
    costs = [probe_cost(r, target) for r in rows]
    known = [c for c in costs if c is not None]
    cost = sum(known) if known else None
    # Every probe sent costs money (errors, canaries and static items too); only scored passes are "correct".
    correct = sum(r.outcome == "pass" for r in rows if not r.canary)
    ability = ability_summary(fits, confidence) if fits else None
    return TargetSummary(
        target=target.name,
        provider=target.provider,
        model=target.model,
        group=target.group,
        probes=len(rows),
        errors=len(errors),
        error_reasons=dict(Counter(r.error_reason or "unknown" for r in errors).most_common()),
        pass_ratio=ratio(k, n, confidence),
        latency_p50_s=p50,
        latency_p95_s=p95,
        input_tokens=sum(r.input_tokens or 0 for r in rows),
        output_tokens=sum(r.output_tokens or 0 for r in rows),
        cost_usd=cost,
        cost_per_correct_usd=(cost / correct) if cost is not None and correct else None,
        response_models=sorted({r.response_model for r in rows if r.response_model}),
        ability_logits=ability.logits if ability else None,
        ability_lower=ability.lower if ability else None,
        ability_upper=ability.upper if ability else None,
    )


def _cells(rows: Iterable[ProbeResult], key: Callable[[ProbeResult], int]) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        c = counts[key(r)]
        c[0] += r.outcome == "pass"
        c[1] += 1
    return {lvl: (c[0], c[1]) for lvl, c in sorted(counts.items())}


def _by_family(rows: Iterable[ProbeResult]) -> dict[str, list[ProbeResult]]:
    out: dict[str, list[ProbeResult]] = defaultdict(list)
    for r in rows:
        out[r.family].append(r)
    return dict(sorted(out.items()))


def _curves(by_target: dict[str, list[ProbeResult]], names: list[str], confidence: float) -> list[CurvePoint]:
    points = []
    for name in names:
        for family, rows in _by_family(_scored(by_target.get(name, []))).items():
            for level, (k, n) in _cells(rows, lambda r: r.difficulty).items():
                points.append(CurvePoint(name, family, level, ratio(k, n, confidence)))
    return points


def _frontiers(
    by_target: dict[str, list[ProbeResult]], names: list[str], confidence: float
) -> tuple[list[FrontierRow], dict[str, dict[str, Frontier]]]:
    rows_out: list[FrontierRow] = []
    fits: dict[str, dict[str, Frontier]] = {}
    for name in names:
        fits[name] = {}
        for family, rows in _by_family(_scored(by_target.get(name, []))).items():
            cells = _cells(rows, lambda r: r.difficulty)
            fit = fit_frontier(list(cells), [c[0] for c in cells.values()], [c[1] for c in cells.values()], confidence)
            fits[name][family] = fit
            rows_out.append(FrontierRow(name, family, fit.d50, fit.lower, fit.upper, fit.censored, fit.n))
    return rows_out, fits


def _gradients(by_target: dict[str, list[ProbeResult]], names: list[str], confidence: float) -> list[GradientRow]:
    out = []
    for name in names:
        for family, rows in _by_family(_scored(by_target.get(name, []))).items():
            cells = _cells(rows, lambda r: r.novelty)
            by_novelty = {lvl: ratio(k, n, confidence) for lvl, (k, n) in cells.items()}
            g = novelty_gradient(
                list(cells), [c[0] for c in cells.values()], [c[1] for c in cells.values()], confidence
            )
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


def standardised_fresh(static: list[ProbeResult], fresh: list[ProbeResult]) -> tuple[list[ProbeResult], int, int]:
    """Fresh pass counts reweighted to the static items' (difficulty, novelty) mix, as effective counts.

    Static and fresh items are spread differently over difficulty and novelty; pooling them as they
    come would compare different mixes (Simpson's paradox) and show a gap where there is none. Each
    cell's fresh pass ratio is weighted by the static items in that cell; the effective sample size
    (Kish) is the n a plain ratio with the same variance would have. Returns the static items in
    cells that have fresh items, and the effective fresh (passes, total).
    """
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in fresh:
        c = cells[(r.difficulty, r.novelty)]
        c[0] += r.outcome == "pass"
        c[1] += 1
    matched = [r for r in static if (r.difficulty, r.novelty) in cells]
    if not matched:
        return [], 0, 0
    weights = Counter((r.difficulty, r.novelty) for r in matched)
    total = len(matched)
    ratio_ = sum(w / total * cells[c][0] / cells[c][1] for c, w in weights.items())
    # Shrunk off 0 and 1 so that a cell with 0/n or n/n still carries variance.
    var = sum(
        (w / total) ** 2
        * ((cells[c][0] + 0.5) / (cells[c][1] + 1))
        * (1 - (cells[c][0] + 0.5) / (cells[c][1] + 1))
        / cells[c][1]
        for c, w in weights.items()
    )
    shrunk = min(max(ratio_, 0.5 / total), 1 - 0.5 / total)
    n_eff = max(1, round(shrunk * (1 - shrunk) / var)) if var > 0 else sum(cells[c][1] for c in weights)
    return matched, round(ratio_ * n_eff), n_eff


def _leakage(by_target: dict[str, list[ProbeResult]], names: list[str], confidence: float) -> list[LeakageRow]:
    out = []
    for name in names:
        rows = by_target.get(name, [])
        fresh_by_family = _by_family(_scored(rows))
        for family, static in _by_family(_scored(rows, static=True)).items():
            matched, fk, fn = standardised_fresh(static, fresh_by_family.get(family, []))
            sk, sn = _count(matched)
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


def _consistency(by_target: dict[str, list[ProbeResult]], names: list[str]) -> list[ConsistencyRow]:
    out = []
    for name in names:
        for family, rows in _by_family(_scored(by_target.get(name, []))).items():
            c = consistency((r.item_key, r.novelty, r.canonical) for r in rows)
            if c is not None:
                out.append(ConsistencyRow(name, family, c.items, c.ratio))
    return out


def bucket_width(span_s: float) -> int:
    """The smallest standard bucket width giving at most ``MAX_BUCKETS`` buckets over the span."""
    for width in _BUCKET_WIDTHS:
        if span_s / width <= MAX_BUCKETS:
            return width
    return _BUCKET_WIDTHS[-1]


def _drift(
    by_target: dict[str, list[ProbeResult]], names: list[str], since: float, until: float, confidence: float
) -> list[DriftBucket]:
    width = bucket_width(max(until - since, 1.0))
    start = math.floor(since / width) * width  # aligned buckets read naturally (on the hour, …)
    out = []
    for name in names:
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for r in _scored(by_target.get(name, [])):
            c = counts[int((r.ts - start) // width)]
            c[0] += r.outcome == "pass"
            c[1] += 1
        for i, (k, n) in sorted(counts.items()):
            out.append(DriftBucket(name, start + i * width, start + (i + 1) * width, ratio(k, n, confidence)))
    return out


def _outcomes(rows: Iterable[ProbeResult]) -> dict[tuple[str, int], bool]:
    """Fresh scored outcomes keyed by (item_key, novelty): the unit the group members all received."""
    out: dict[tuple[str, int], bool] = {}
    for r in _scored(rows):
        out.setdefault((r.item_key, r.novelty), r.outcome == "pass")
    return out


def paired_rows(
    group: str,
    target: str,
    baseline: str,
    mine: list[ProbeResult],
    theirs: list[ProbeResult],
    confidence: float,
) -> list[PairedRow]:
    """Paired differences (target minus baseline) per family and over all families, on shared items."""
    out = []
    families = sorted({r.family for r in mine} | {r.family for r in theirs})
    for family in ["all", *families]:
        a = _outcomes(r for r in mine if family in ("all", r.family))
        b = _outcomes(r for r in theirs if family in ("all", r.family))
        keys = sorted(a.keys() & b.keys())
        xa, xb = [a[k] for k in keys], [b[k] for k in keys]
        both = sum(x and y for x, y in zip(xa, xb, strict=True))
        only_a = sum(x and not y for x, y in zip(xa, xb, strict=True))
        only_b = sum(y and not x for x, y in zip(xa, xb, strict=True))
        res = paired_difference(xa, xb, confidence) if keys else None
        out.append(
            PairedRow(
                group=group,
                target=target,
                baseline=baseline,
                family=family,
                pairs=len(keys),
                target_ratio=(both + only_a) / len(keys) if keys else None,
                baseline_ratio=(both + only_b) / len(keys) if keys else None,
                both_pass=both,
                only_target=only_a,
                only_baseline=only_b,
                neither=len(keys) - both - only_a - only_b,
                difference=res.diff if res else None,
                lower=res.lower if res else None,
                upper=res.upper if res else None,
                p_value=res.p_value if res else None,
            )
        )
    return out


def _groups(
    targets: Sequence[TargetConfig],
    by_target: dict[str, list[ProbeResult]],
    summaries: list[TargetSummary],
    confidence: float,
) -> list[GroupScorecard]:
    members: dict[str, list[str]] = defaultdict(list)
    for t in targets:
        if t.group:
            members[t.group].append(t.name)
    summary = {s.target: s for s in summaries}
    out = []
    for group, names in sorted(members.items()):
        if len(names) < 2:
            continue
        baseline = names[0]  # the first member listed in the config is the reference
        rows = []
        for name in names[1:]:
            rows.extend(
                paired_rows(group, name, baseline, by_target.get(name, []), by_target.get(baseline, []), confidence)
            )
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
