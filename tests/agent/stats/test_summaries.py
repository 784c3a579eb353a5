"""``summaries.ratio_cells``: the snapshot holds what /metrics exports, bounded however far the staircase explores."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from agent.stats import summaries
from agent.stats.frontier import Frontier
from agent.stats.intervals import confidence_sequence
from agent.stats.leakage import standardised_fresh


def _frontier(d50: float) -> Frontier:
    return Frontier(d50, d50 - 0.5, d50 + 0.5, 1.0, "none", 100, d50, 0.0, 0.1)


def test_curves_keep_the_levels_nearest_the_frontier_and_pooled_cells_carry_bounds() -> None:
    # 60 levels probed in one family, 2 novelty levels; passes = level (mod 3), 4 probes a level.
    counts: summaries.Counts = {}
    primary: summaries.Counts = {}
    for d in range(1, 61):
        for v in (0, 1):
            counts[("t", "f", d, v)] = [d % 3, 4]
        primary[("t", "f", d, 0)] = [d % 3, 4]
    fits = {("t", "f"): _frontier(31.6)}
    cells = summaries.ratio_cells(counts, "24h", 0.05, primary, curves=True, fits=fits)
    levels = sorted(int(c.difficulty) for c in cells if c.difficulty != "all")
    # Distances from 31.6: 32 (0.4), 31 (0.6), 33 (1.4), 30 (1.6), 34 (2.4), 29 (2.6).
    assert levels == [29, 30, 31, 32, 33, 34]
    by = {(c.family, c.difficulty, c.novelty): c for c in cells}
    assert (by[("f", "30", "all")].passes, by[("f", "30", "all")].total) == (0, 4)
    assert (by[("f", "31", "all")].passes, by[("f", "31", "all")].total) == (1, 4)
    # Novelty cells count every rendering of that novelty; the pooled cell only primary renderings.
    passes = sum(d % 3 for d in range(1, 61))
    assert (by[("f", "all", "1")].passes, by[("f", "all", "1")].total) == (passes, 240)
    for fam in ("f", "all"):
        pooled = by[(fam, "all", "all")]
        assert (pooled.passes, pooled.total) == (passes, 240)
        assert (pooled.lower, pooled.upper) == confidence_sequence(passes, 240, 0.05)
    assert all(math.isnan(c.lower) for c in cells if c.difficulty != "all" or c.novelty != "all")
    assert len(cells) == 2 + 6 + 2  # pooled (family, all), six levels, two novelties


def test_without_curves_only_pooled_cells_and_without_a_fit_the_middle_stands_in() -> None:
    counts: summaries.Counts = {("t", "f", d, 0): [1, 2] for d in range(1, 21)}
    assert {(c.family, c.difficulty, c.novelty) for c in summaries.ratio_cells(counts, "1h", 0.05)} == {
        ("f", "all", "all"),
        ("all", "all", "all"),
    }
    cells = summaries.ratio_cells(counts, "24h", 0.05, curves=True)
    # Middle of 1..20 is 10.5; ties go to the lower level: 10, 11, 9, 12, 8, 13.
    assert sorted(int(c.difficulty) for c in cells if c.difficulty != "all") == [8, 9, 10, 11, 12, 13]


def test_frontiers_refit_only_what_changed_since_the_last_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    counts: summaries.Counts = {}
    for i, t in enumerate(("a", "b")):
        for j, fam in enumerate(("arithmetic", "sorting", "logic")):
            for d in (1, 3, 5, 8):
                counts[(t, fam, d, 0)] = [max(0, 10 + 3 * i + j - d), 20]  # different per (target, family)
    expected, _ = summaries.frontiers(counts, 0.95)  # no reuse: every fit made afresh
    fitted: list[tuple[int, ...]] = []
    real = summaries.fit_frontier

    def counting(*args: Any, **kw: Any) -> Frontier:
        fitted.append(tuple(args[1]))
        return real(*args, **kw)

    monkeypatch.setattr(summaries, "fit_frontier", counting)
    reuse: summaries.Reuse[summaries.FitInputs, Frontier] = summaries.Reuse()
    first, _ = summaries.frontiers(counts, 0.95, reuse=reuse)
    reuse.turn()
    assert first == expected and len(fitted) == 6
    again, _ = summaries.frontiers(counts, 0.95, reuse=reuse)
    reuse.turn()
    assert again == expected and len(fitted) == 6  # nothing changed: nothing refit
    counts[("b", "logic", 3, 0)] = [2, 12]  # one (target, family) got new results
    for d in (1, 3, 5, 8):  # another's left the window
        del counts[("a", "sorting", d, 0)]
    changed, _ = summaries.frontiers(counts, 0.95, reuse=reuse)
    reuse.turn()
    assert len(fitted) == 7 and ("a", "sorting") not in changed
    assert changed == summaries.frontiers(counts, 0.95)[0]
    assert len(reuse) == 5  # only what the last refresh used: it never outgrows the window


def test_cell_intervals_are_reused_and_equal_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    counts: summaries.Counts = {("a", "arithmetic", 2, 0): [7, 10], ("a", "logic", 3, 0): [1, 9]}
    expected = summaries.ratio_cells(counts, "1h", 0.05)
    calls: list[tuple[float, float]] = []
    real = summaries.confidence_sequence

    def counting(k: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
        calls.append((k, n))
        return real(k, n, alpha)

    monkeypatch.setattr(summaries, "confidence_sequence", counting)
    reuse: summaries.Reuse[summaries.IntervalInputs, tuple[float, float]] = summaries.Reuse()
    assert summaries.ratio_cells(counts, "1h", 0.05, reuse=reuse) == expected
    reuse.turn()
    assert len(calls) == 3  # two families and "all"
    assert summaries.ratio_cells(counts, "1h", 0.05, reuse=reuse) == expected
    assert len(calls) == 3  # the same counts: no root search


def _random_counts(rng: random.Random, n: int) -> summaries.Counts:
    keys = {
        (rng.choice("abc"), rng.choice(["arithmetic", "logic", "json"]), rng.randrange(1, 40), rng.choice([0, 1, 3]))
        for _ in range(n)
    }
    counts: summaries.Counts = {}
    for key in rng.sample(sorted(keys), len(keys)):  # in no particular order, as a report's counts may come
        total = rng.randrange(1, 30)
        counts[key] = [rng.randrange(0, total + 1), total]
    return counts


def test_by_level_sums_novelties_per_level_in_family_and_level_order() -> None:
    rng = random.Random(5)
    counts = _random_counts(rng, 600)
    want: dict[tuple[str, str], dict[int, list[int]]] = {}
    for (t, f, d, _), (k, n) in counts.items():
        level = want.setdefault((t, f), {}).setdefault(d, [0, 0])
        level[0] += k
        level[1] += n
    got = list(summaries.by_level(counts))
    assert [key for key, _ in got] == sorted(want)
    for key, levels in got:
        assert levels == [(d, *want[key][d]) for d in sorted(want[key])]


def test_leakage_counts_equal_standardising_over_every_cell() -> None:
    # The oracle hands standardised_fresh every fresh cell, pooled over families too; leakage_counts
    # looks up only the cells that hold static items (the only ones that carry weight).
    rng = random.Random(6)
    fresh = _random_counts(rng, 800)
    static = {key: [1, 2] for key in rng.sample(sorted(fresh), 60)}
    static |= {("c", "logic", 99, 0): [1, 1]}  # static items where no fresh ones are: no weight
    sides: dict[tuple[str, str], tuple[dict[object, tuple[int, int]], ...]] = {}
    for side, counts in enumerate((static, fresh)):
        for (t, f, d, v), (k, n) in counts.items():
            sides.setdefault((t, f), ({}, {}))[side][(d, v)] = (k, n)
            sides.setdefault((t, "all"), ({}, {}))[side][(f, d, v)] = (k, n)
    want = {key: standardised_fresh(s, f) for key, (s, f) in sides.items() if s}
    assert summaries.leakage_counts(static, fresh) == want


def test_primary_counts_are_the_counts_themselves_when_every_cell_is_primary() -> None:
    counts: summaries.Counts = {("a", "f", 1, 0): [1, 2], ("b", "f", 1, 2): [0, 1]}
    assert summaries.primary_counts(counts, {"a": [0], "b": [2]}) is counts  # no copy of a day's cells
    only_a = summaries.primary_counts(counts, {"a": [0], "b": [0]})
    assert only_a == {("a", "f", 1, 0): [1, 2]}
    assert summaries.primary_counts(counts, {"a": [0, 2]}) is None
