"""Windowed summaries from ledger aggregates: pass ratios, frontier, gradient, leakage, consistency, pairs.

Pure: every function takes the typed aggregates of ``agent.ledger.queries`` (which decide, once,
which results are scored, fresh or static) and returns statistics. The engine's snapshot and the
report both call them, so /metrics and the report compute each statistic the same way.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from typing import Generic, TypeVar

from agent.ledger.queries import Answer, CellCount, PairedOutcome
from agent.ledger.windows import Counts as Counts  # the refresh passes them here: summaries.Counts
from agent.ledger.windows import Usage
from agent.stats.consistency import Consistency, consistency
from agent.stats.frontier import Ability, Frontier, ability_summary, fit_frontier
from agent.stats.gradient import Gradient, novelty_gradient
from agent.stats.intervals import confidence_sequence
from agent.stats.leakage import Difference, leakage_gap, standardised_fresh
from agent.stats.snapshot import ALL, RatioCell


def window_label(seconds: float) -> str:
    """3600 → "1h", 86400 → "24h", 900 → "15m", 45 → "45s"."""
    s = round(seconds)
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Reuse(Generic[K, V]):
    """Values of a pure function, kept from one refresh to the next by their inputs.

    A refresh recomputes every cell's interval and every (target, family)'s frontier, mostly from
    counts that did not change since the last one. ``get`` returns what this or the last refresh
    computed for the same inputs; ``turn`` (at the end of a refresh) forgets what it did not use,
    so what is kept never outgrows one refresh's cells.
    """

    def __init__(self) -> None:
        self._last: dict[K, V] = {}
        self._now: dict[K, V] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value for ``key``: reused if this or the last refresh had it, else ``compute()``."""
        if key in self._now:
            return self._now[key]
        value = self._last[key] if key in self._last else compute()
        self._now[key] = value
        return value

    def turn(self) -> None:
        """End a refresh: what it used is kept for the next one, the rest forgotten."""
        self._last, self._now = self._now, {}

    def __len__(self) -> int:
        return len(self._now) + sum(1 for k in self._last if k not in self._now)


#: A pooled cell's interval: (passes, total, alpha).
IntervalInputs = tuple[int, int, float]


def counts_of(cells: Iterable[CellCount]) -> Counts:
    """(target, family, difficulty, novelty) → [passes, total]."""
    return {(c.target, c.family, c.difficulty, c.novelty): [c.passes, c.total] for c in cells}


def primary_counts(counts: Counts, novelties: Mapping[str, Iterable[int]]) -> Counts | None:
    """The primary renderings' counts read off every rendering's ``counts``, or None when they cannot be.

    A target configured with one novelty level has that level as every item's primary rendering
    (``queries.primary_novelty``), and a target no longer configured has novelty 0: then the primary
    counts are the cells at that level, and the refresh saves a scan of its window
    (``queries.cell_counts(primary=...)``). With several levels the primary one depends on each
    item's seed, which the counts do not hold: None.
    """
    level: dict[str, int] = {}
    for target in {k[0] for k in counts}:
        configured = set(novelties.get(target, [0])) or {0}
        if len(configured) > 1:
            return None
        level[target] = next(iter(configured))
    if all(k[3] == level[k[0]] for k in counts):
        return counts  # every cell is primary (the default): the same counts, not a copy; no caller writes them
    return {k: [v[0], v[1]] for k, v in counts.items() if k[3] == level[k[0]]}


def rendered_once(counts: Counts) -> bool:
    """Whether every target's scored fresh results in ``counts`` sit at one novelty level: then no item
    was rendered twice, and consistency (``queries.fresh_answers(rendered_twice=True)``) has nothing
    to compare, so the refresh need not read the window for it."""
    seen: dict[str, int] = {}
    return all(seen.setdefault(target, novelty) == novelty for target, _, _, novelty in counts)


def by_level(counts: Counts) -> Iterator[tuple[tuple[str, str], list[tuple[int, int, int]]]]:
    """Per (target, family), in order: (difficulty, passes, total) per level, ascending, novelties summed.

    Walks the sorted keys, so what it holds beside ``counts`` is a list of keys and one family's levels,
    not a table of every level: the refresh's transient memory then stays near its counts' as the
    staircase reaches more levels.
    """
    for target_family, keys in groupby(sorted(counts), key=itemgetter(0, 1)):
        levels: list[tuple[int, int, int]] = []
        for d, same in groupby(keys, key=itemgetter(2)):
            k = n = 0
            for key in same:
                k += counts[key][0]
                n += counts[key][1]
            levels.append((d, k, n))
        yield target_family, levels


#: Difficulty levels per (target, family) kept in the snapshot and exported (as counts): the levels
#: probed nearest the frontier, so the snapshot and /metrics stay bounded however many levels the
#: staircase explores in a window (docs/metrics.md, "Series budget").
LEVELS_PER_FAMILY = 6


def nearest_frontier(levels: Iterable[int], frontier: Frontier | None) -> list[int]:
    """The ``LEVELS_PER_FAMILY`` levels nearest the fitted frontier, ascending.

    A censored frontier (+-Inf) sits past the top or bottom probed level; without a fit the middle of
    the probed range stands in. Ties go to the lower level.
    """
    xs = sorted(set(levels))
    if len(xs) <= LEVELS_PER_FAMILY:
        return xs
    centre = (xs[0] + xs[-1]) / 2
    if frontier is not None and not math.isnan(frontier.d50):
        centre = min(max(frontier.d50, xs[0] - 0.5), xs[-1] + 0.5)
    return sorted(sorted(xs, key=lambda x: (abs(x - centre), x))[:LEVELS_PER_FAMILY])


def ratio_cells(
    counts: Counts,
    window: str,
    alpha: float,
    primary: Counts | None = None,
    *,
    curves: bool = False,
    fits: Mapping[tuple[str, str], Frontier] | None = None,
    reuse: Reuse[IntervalInputs, tuple[float, float]] | None = None,
) -> list[RatioCell]:
    """Pooled cells (per family and over all families) with anytime-valid bounds; with ``curves``, the
    family's capability curve too: counts per difficulty level (the ``LEVELS_PER_FAMILY`` nearest the
    frontier in ``fits``) and per novelty level, without bounds (NaN: nothing reads them).

    A cell of one novelty has one rendering per item, so it takes ``counts``; a cell pooled over
    novelties (novelty "all") takes ``primary`` (each item's primary rendering only) when given:
    renderings of one item are correlated and would make its interval too narrow. Only what /metrics
    exports is built: the snapshot is rebuilt at every refresh, and cells for every level ever
    explored grew the agent's memory with the staircase's reach.
    """
    pooled_src = primary if primary is not None else counts
    pooled: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_novelty: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (target, family, _, _), (k, n) in pooled_src.items():
        for fam in (family, ALL):
            cell = pooled[(target, fam)]
            cell[0] += k
            cell[1] += n
    if curves:
        for (target, family, _, nov), (k, n) in counts.items():
            cell = by_novelty[(target, family)][nov]
            cell[0] += k
            cell[1] += n
    cells = []
    for (target, fam), (k, n) in sorted(pooled.items()):

        def interval(k: int = k, n: int = n) -> tuple[float, float]:
            return confidence_sequence(k, n, alpha)

        lo, hi = interval() if reuse is None else reuse.get((k, n, alpha), interval)
        cells.append(RatioCell(target, fam, ALL, ALL, window, k, n, k / n, lo, hi))
    nan = math.nan
    for (target, fam), levels in by_level(pooled_src) if curves else ():
        near = set(nearest_frontier((d for d, _, _ in levels), (fits or {}).get((target, fam))))
        for d, k, n in levels:
            if d in near:
                cells.append(RatioCell(target, fam, str(d), ALL, window, k, n, k / n, nan, nan))
    for (target, fam), novs in sorted(by_novelty.items()):
        for v, (k, n) in sorted(novs.items()):
            cells.append(RatioCell(target, fam, ALL, str(v), window, k, n, k / n, nan, nan))
    return cells


#: What a frontier fit depends on: levels, passes and totals per level, confidence, reference level.
FitInputs = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], float, float | None]


def frontiers(
    counts: Counts,
    confidence: float,
    references: Mapping[str, float] | None = None,
    *,
    reuse: Reuse[FitInputs, Frontier] | None = None,
) -> tuple[dict[tuple[str, str], Frontier], dict[str, Ability]]:
    """Frontier per (target, family) from counts by difficulty, and each target's ability summary.

    ``references``: each family's reference level for ability (``frontier.reference_level`` of its
    top); a family not named uses the middle of its probed levels. Pass the primary renderings'
    counts: a level pools novelties, whose renderings of one item are correlated.

    ``reuse``: fits by their inputs across refreshes; a (target, family) whose counts did not change
    since the last refresh is not fitted again (a fit is a pure function of its inputs, and the
    dearest step of a refresh).
    """
    refs = references or {}
    fits: dict[tuple[str, str], Frontier] = {}
    for key, levels in by_level(counts):
        xs, ks, ns = zip(*levels, strict=True)
        inputs = (xs, ks, ns, confidence, refs.get(key[1]))

        def fit(inputs: FitInputs = inputs) -> Frontier:
            return fit_frontier(inputs[0], inputs[1], inputs[2], confidence, inputs[4])

        fits[key] = fit() if reuse is None else reuse.get(inputs, fit)
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


def leakage_counts(static: Counts, fresh: Counts) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """(static passes, static total, standardised fresh passes, fresh total) per (target, family) and "all".

    Only cells with static items carry weight (``standardised_fresh``), so only those are looked up in
    ``fresh``, one target at a time.
    """
    out: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for target, keys in groupby(sorted(static), key=itemgetter(0)):
        pooled: tuple[dict[object, tuple[int, int]], dict[object, tuple[int, int]]] = ({}, {})
        for family, same in groupby(keys, key=itemgetter(1)):
            own: tuple[dict[object, tuple[int, int]], dict[object, tuple[int, int]]] = ({}, {})
            for key in same:
                _, _, diff, nov = key
                for side, counts in ((0, static), (1, fresh)):
                    if key in counts:
                        k, n = counts[key]
                        own[side][(diff, nov)] = pooled[side][(family, diff, nov)] = (k, n)
            out[(target, family)] = standardised_fresh(*own)
        out[(target, ALL)] = standardised_fresh(*pooled)
    return out


def leakage(static: Counts, fresh: Counts, confidence: float) -> dict[tuple[str, str], Difference]:
    """Static minus standardised fresh pass ratio per (target, family) and pooled (family "all")."""
    out: dict[tuple[str, str], Difference] = {}
    for key, (sk, sn, fk, fn) in leakage_counts(static, fresh).items():
        gap = leakage_gap(sk, sn, fk, fn, confidence)
        if gap is not None:
            out[key] = gap
    return out


def consistencies(answers: Iterable[Answer]) -> dict[tuple[str, str], Consistency]:
    """Agreement of canonical answers across novelty renderings per (target, family) and "all"."""
    rows: dict[tuple[str, str], list[tuple[str, int, str | None]]] = defaultdict(list)
    for a in answers:
        row = (a.item_key, a.novelty, a.canonical)
        rows[(a.target, a.family)].append(row)
        rows[(a.target, ALL)].append(row)
    out: dict[tuple[str, str], Consistency] = {}
    for key, items in rows.items():
        c = consistency(items)
        if c is not None:
            out[key] = c
    return out


def refusal_ratios(usage: Mapping[str, Usage]) -> dict[str, float]:
    """Share of scored responses that decline to answer (``fingerprint.is_refusal``), per target."""
    return {t: u.refused / u.scored for t, u in usage.items() if u.scored}


def response_lengths(usage: Mapping[str, Usage]) -> dict[str, float]:
    """Mean output tokens per answered probe that reports them, per target."""
    return {t: u.output_tokens / u.answered for t, u in usage.items() if u.answered}


def scored_passes(*counts: Counts) -> dict[str, int]:
    """Passed scored probes per target, summed over ``counts`` (fresh and static items: pass both)."""
    out: dict[str, int] = {}
    for side in counts:
        for (target, _, _, _), (k, _) in side.items():
            out[target] = out.get(target, 0) + k
    return out


def cost_per_correct(usage: Mapping[str, Usage], passes: Mapping[str, int]) -> dict[str, float]:
    """Recorded spend on every probe sent divided by passed scored probes, per target."""
    return {t: u.cost_usd / passes[t] for t, u in usage.items() if u.costed and passes.get(t)}


def paired_by_family(outcomes: Iterable[PairedOutcome]) -> dict[str, tuple[list[bool], list[bool]]]:
    """(target passed, baseline passed) lists per family and over all families (``ALL``), by family name."""
    pairs: dict[str, tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
    for o in outcomes:
        for fam in (o.family, ALL):
            pairs[fam][0].append(o.passed)
            pairs[fam][1].append(o.baseline_passed)
    return dict(sorted(pairs.items()))
