"""Windowed summaries read from the ledger: pass ratios, frontier, gradient, leakage, consistency, paired.

Only non-error results count (an error is an availability failure, never a capability failure).
Pass ratios, frontier, gradient and consistency use fresh items only; static canary items enter only
the leakage gap, and temperature-0 fingerprint prompts only the fingerprint.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import product

from agent.ledger.store import Store
from agent.stats.consistency import consistency
from agent.stats.fingerprint import is_refusal
from agent.stats.frontier import Ability, Frontier, ability_summary, fit_frontier
from agent.stats.gradient import Gradient, novelty_gradient
from agent.stats.intervals import confidence_sequence
from agent.stats.leakage import Difference, leakage_gap
from agent.stats.paired import paired_difference
from agent.stats.snapshot import ALL, PairedView, RatioCell

_FRESH = "outcome != 'error' AND static = 0 AND canary = 0"


def window_label(seconds: float) -> str:
    """3600 → "1h", 86400 → "24h", 900 → "15m", 45 → "45s"."""
    s = round(seconds)
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


Counts = dict[tuple[str, str, int, int], list[int]]


def fresh_counts(store: Store, since: float) -> Counts:
    """(target, family, difficulty, novelty) → [passes, total] for fresh non-error results since a time."""
    out: Counts = {}
    for r in store.iter_rows(
        f"SELECT target, family, difficulty, novelty, SUM(outcome = 'pass'), COUNT(*) FROM results"
        f" WHERE ts >= ? AND {_FRESH} GROUP BY target, family, difficulty, novelty",
        (since,),
    ):
        out[(str(r[0]), str(r[1]), int(r[2]), int(r[3]))] = [int(r[4]), int(r[5])]
    return out


def ratio_cells(counts: Counts, window: str, alpha: float) -> list[RatioCell]:
    """Cells by difficulty and by novelty (the other "all"), per family and pooled, with anytime-valid bounds."""
    agg: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (target, family, diff, nov), (k, n) in counts.items():
        for fam, d, v in product((family, ALL), (str(diff), ALL), (str(nov), ALL)):
            if d != ALL and v != ALL:
                # Difficulty x novelty cells would multiply series per target by 4 (≈7,500 with 17
                # families); curves by difficulty and by novelty need only one of them at a time.
                continue
            cell = agg[(target, fam, d, v)]
            cell[0] += k
            cell[1] += n
    cells = []
    for (target, fam, d, v), (k, n) in sorted(agg.items()):
        lo, hi = confidence_sequence(k, n, alpha)
        cells.append(RatioCell(target, fam, d, v, window, k, n, k / n, lo, hi))
    return cells


def frontiers(counts: Counts, confidence: float) -> tuple[dict[tuple[str, str], Frontier], dict[str, Ability]]:
    """Frontier per (target, family) from counts by difficulty, and each target's ability summary."""
    by_fam: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (target, family, diff, _), (k, n) in counts.items():
        by_fam[(target, family)][diff][0] += k
        by_fam[(target, family)][diff][1] += n
    fits: dict[tuple[str, str], Frontier] = {}
    for key, levels in by_fam.items():
        xs = sorted(levels)
        fits[key] = fit_frontier(xs, [levels[x][0] for x in xs], [levels[x][1] for x in xs], confidence)
    abilities: dict[str, Ability] = {}
    for target in {t for t, _ in fits}:
        ab = ability_summary({f: fr for (t, f), fr in fits.items() if t == target}, confidence)
        if ab is not None:
            abilities[target] = ab
    return fits, abilities


def gradients(counts: Counts, confidence: float) -> dict[tuple[str, str], Gradient]:
    """Novelty gradient per (target, family) and pooled (family "all")."""
    by_nov: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (target, family, _, nov), (k, n) in counts.items():
        for fam in (family, ALL):
            by_nov[(target, fam)][nov][0] += k
            by_nov[(target, fam)][nov][1] += n
    out: dict[tuple[str, str], Gradient] = {}
    for key, levels in by_nov.items():
        xs = sorted(levels)
        g = novelty_gradient(xs, [levels[x][0] for x in xs], [levels[x][1] for x in xs], confidence)
        if g is not None:
            out[key] = g
    return out


def leakage(store: Store, since: float, counts: Counts, confidence: float) -> dict[tuple[str, str], Difference]:
    """Static minus fresh pass ratio per (target, family), fresh restricted to the cells static covers."""
    static: dict[tuple[str, str, int, int], list[int]] = {}
    for r in store.iter_rows(
        "SELECT target, family, difficulty, novelty, SUM(outcome = 'pass'), COUNT(*) FROM results"
        " WHERE ts >= ? AND outcome != 'error' AND static = 1 AND canary = 0"
        " GROUP BY target, family, difficulty, novelty",
        (since,),
    ):
        static[(str(r[0]), str(r[1]), int(r[2]), int(r[3]))] = [int(r[4]), int(r[5])]
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for cell, (sk, sn) in static.items():
        fk, fn = counts.get(cell, (0, 0))
        if fn == 0:
            continue  # no fresh probes at that difficulty and novelty: nothing to compare with
        for fam in (cell[1], ALL):
            s = sums[(cell[0], fam)]
            s[0] += sk
            s[1] += sn
            s[2] += fk
            s[3] += fn
    out: dict[tuple[str, str], Difference] = {}
    for key, (sk, sn, fk, fn) in sums.items():
        gap = leakage_gap(sk, sn, fk, fn, confidence)
        if gap is not None:
            out[key] = gap
    return out


def consistencies(store: Store, since: float) -> dict[tuple[str, str], float]:
    """Agreement of canonical answers across novelty renderings per (target, family)."""
    rows: dict[tuple[str, str], list[tuple[str, int, str | None]]] = defaultdict(list)
    for r in store.iter_rows(
        f"SELECT target, family, item_key, novelty, canonical FROM results WHERE ts >= ? AND {_FRESH}",
        (since,),
    ):
        row = (str(r[2]), int(r[3]), None if r[4] is None else str(r[4]))
        rows[(str(r[0]), str(r[1]))].append(row)
        rows[(str(r[0]), ALL)].append(row)
    out: dict[tuple[str, str], float] = {}
    for key, items in rows.items():
        c = consistency(items)
        if c is not None:
            out[key] = c.ratio
    return out


def usage(store: Store, since: float) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Refusal ratio, mean response length (output tokens) and cost per correct answer per target."""
    refusals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in store.iter_rows(
        "SELECT target, response FROM results WHERE ts >= ? AND outcome != 'error' AND canary = 0", (since,)
    ):
        refusals[str(r[0])][0] += int(is_refusal(r[1]))
        refusals[str(r[0])][1] += 1
    length: dict[str, float] = {}
    cost: dict[str, float] = {}
    for r in store.iter_rows(
        "SELECT target, AVG(output_tokens), SUM(cost_usd), SUM(outcome = 'pass') FROM results"
        " WHERE ts >= ? AND outcome != 'error' GROUP BY target",
        (since,),
    ):
        if r[1] is not None:
            length[str(r[0])] = float(r[1])
        if r[2] is not None and r[3]:
            cost[str(r[0])] = float(r[2]) / int(r[3])
    refusal = {t: k / n for t, (k, n) in refusals.items() if n}
    return refusal, length, cost


def paired(store: Store, since: float, groups: Mapping[str, Sequence[str]], confidence: float) -> list[PairedView]:
    """Each group member against the group's first target, on identical fresh items, per family and all."""
    views: list[PairedView] = []
    for group, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        base = members[0]
        for other in members[1:]:
            pairs: dict[str, tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
            for r in _joined(store, since, other, base):
                for fam in (str(r[0]), ALL):
                    pairs[fam][0].append(r[1] == "pass")
                    pairs[fam][1].append(r[2] == "pass")
            for fam, (a, b) in sorted(pairs.items()):
                views.append(PairedView(group, other, base, fam, paired_difference(a, b, confidence)))
    return views


def _joined(store: Store, since: float, target: str, base: str) -> Iterable[tuple[object, ...]]:
    return (
        tuple(r)
        for r in store.iter_rows(
            "SELECT a.family, a.outcome, b.outcome FROM results a JOIN results b"
            " ON a.item_key = b.item_key AND a.novelty = b.novelty"
            " WHERE a.target = ? AND b.target = ? AND a.ts >= ? AND b.ts >= ?"
            " AND a.outcome != 'error' AND b.outcome != 'error'"
            " AND a.static = 0 AND a.canary = 0 AND b.static = 0 AND b.canary = 0",
            (target, base, since, since),
        )
    )


def finite(x: float) -> bool:
    """Not NaN (infinite bounds are exported as +Inf/-Inf, NaN is not exported)."""
    return not math.isnan(x)
