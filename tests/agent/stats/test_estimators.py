"""Frontier, gradient, leakage, consistency and paired comparison against known answers."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.stats import binomtest

from agent.stats.adaptive import chooser, interval_factor, next_levels, staircase_position
from agent.stats.consistency import consistency
from agent.stats.frontier import ability_summary, fit_frontier, reference_level
from agent.stats.gradient import novelty_gradient
from agent.stats.leakage import leakage_gap, newcombe_difference
from agent.stats.paired import paired_difference


def _synthetic(d50: float, slope: float, n: int, seed: int) -> tuple[list[int], list[int], list[int]]:
    rng = np.random.default_rng(seed)
    levels = list(range(1, 11))
    p = [1 / (1 + math.exp(slope * (x - d50))) for x in levels]
    return levels, [int(k) for k in rng.binomial(n, p)], [n] * 10


def test_frontier_recovers_known_d50_with_covering_interval() -> None:
    covered = 0
    for seed in range(20):
        fr = fit_frontier(*_synthetic(4.3, 0.8, 40, seed))
        assert fr.censored == "none"
        covered += fr.lower <= 4.3 <= fr.upper
    assert covered >= 17  # 95% profile-likelihood interval, 20 data sets
    big = fit_frontier(*_synthetic(6.7, 1.2, 2000, 99))
    assert big.d50 == pytest.approx(6.7, abs=0.08)
    assert big.slope == pytest.approx(1.2, rel=0.1)
    # The reference level defaults to the middle of the probed levels (5.5 here) and can be given.
    assert big.reference == 5.5
    assert big.reference_logit == pytest.approx(1.2 * (6.7 - 5.5), abs=0.15)
    at_top = fit_frontier(*_synthetic(6.7, 1.2, 2000, 99), reference=reference_level(10))
    assert at_top.reference_logit == pytest.approx(big.reference_logit)


def test_frontier_on_a_40_level_scale_measures_ability_at_the_reference_level() -> None:
    rng = np.random.default_rng(5)
    levels = list(range(1, 41))
    p = [1 / (1 + math.exp(0.5 * (x - 30.0))) for x in levels]
    fr = fit_frontier(levels, [int(k) for k in rng.binomial(200, p)], [200] * 40, reference=reference_level(40))
    assert fr.censored == "none" and fr.lower <= 30.0 <= fr.upper
    assert fr.reference == 20.5
    assert fr.reference_logit == pytest.approx(0.5 * (30.0 - 20.5), abs=0.4)


def test_a_frontier_fitted_outside_the_probed_levels_is_censored() -> None:
    # Probed 1..5 only; passes fall slowly, d50 extrapolates past 5: only a lower bound is known.
    fr = fit_frontier([1, 2, 3, 4, 5], [20, 19, 18, 17, 16], [20] * 5)
    assert fr.d50 > 5 and fr.censored == "above" and fr.upper == math.inf
    low = fit_frontier([20, 21, 22], [3, 2, 1], [20] * 3)
    assert low.d50 < 20 and low.censored == "below" and low.lower == -math.inf


def test_frontier_degenerate_data_is_a_bound() -> None:
    up = fit_frontier([1, 2, 3], [5, 5, 5], [5, 5, 5])
    assert (up.censored, up.d50, up.lower, up.upper) == ("above", 3.0, 3.0, math.inf)
    down = fit_frontier([4, 5], [0, 0], [3, 3])
    assert (down.censored, down.d50, down.lower, down.upper) == ("below", 4.0, -math.inf, 4.0)
    sep = fit_frontier([1, 2, 3, 4], [5, 5, 0, 0], [5, 5, 5, 5])  # perfect separation: finite, between 2 and 3
    assert 2 < sep.d50 < 3 and sep.lower < sep.d50 < sep.upper
    with pytest.raises(ValueError):
        fit_frontier([1], [0], [0])


def test_ability_summary_averages_families() -> None:
    a = fit_frontier(*_synthetic(5.5, 1.0, 500, 1))
    b = fit_frontier(*_synthetic(7.5, 1.0, 500, 2))
    censored = fit_frontier([1, 2], [3, 3], [3, 3])
    ab = ability_summary({"a": a, "b": b, "c": censored})
    assert ab is not None and ab.families == 2
    assert ab.logits == pytest.approx(1.0, abs=0.25)  # mean of 0 and 2 logits
    assert ab.lower < ab.logits < ab.upper


def test_gradient_slope_known_answer() -> None:
    g = novelty_gradient([0, 1, 2, 3], [80, 70, 60, 50], [100] * 4)
    assert g is not None
    assert g.slope == pytest.approx(-0.10)
    # Var(slope) = p(1-p) / (n Σ(x - x̄)²) with pooled p = 260.5/401
    p = 260.5 / 401
    se = math.sqrt(p * (1 - p) / (100 * 5))
    assert g.upper - g.slope == pytest.approx(1.959964 * se, rel=1e-5)
    assert [lv.ratio for lv in g.levels] == [0.8, 0.7, 0.6, 0.5]
    assert novelty_gradient([0], [3], [5]) is None


def test_newcombe_difference_published_example() -> None:
    # Newcombe (1998), method 10, example 56/70 - 48/80: 0.0524 to 0.3339.
    d = newcombe_difference(56, 70, 48, 80)
    assert (round(d.lower, 4), round(d.upper, 4)) == (0.0524, 0.3339)
    gap = leakage_gap(9, 10, 5, 10)
    assert gap is not None and gap.diff == pytest.approx(0.4)
    assert leakage_gap(0, 0, 5, 10) is None


def test_consistency_pairs() -> None:
    rows = [("a", 0, "12"), ("a", 1, "12"), ("a", 2, "13"), ("b", 0, "x"), ("b", 1, None), ("c", 0, "y")]
    c = consistency(rows)
    assert c is not None
    # item a: pairs (0,1) agree, (0,2) and (1,2) do not; item b: one pair, missing answer → disagree
    assert (c.pairs, c.items) == (4, 2) and c.ratio == pytest.approx(0.25)
    assert consistency([("z", 0, "1")]) is None


def test_paired_difference_mcnemar() -> None:
    # 10 both pass, 12 only a, 3 only b, 5 neither
    a = [True] * 10 + [True] * 12 + [False] * 3 + [False] * 5
    b = [True] * 10 + [False] * 12 + [True] * 3 + [False] * 5
    r = paired_difference(a, b)
    assert (r.n, r.discordant) == (30, 15)
    assert r.diff == pytest.approx(9 / 30)
    assert r.p_value == pytest.approx(binomtest(12, 15, 0.5).pvalue)
    assert r.lower < r.diff < r.upper
    # Here AD - BC = 14 <= n/2: method 10's corrected phi is 0, so the interval is the unpaired one.
    unpaired = newcombe_difference(22, 30, 13, 30)
    assert (r.lower, r.upper) == pytest.approx((unpaired.lower, unpaired.upper), abs=1e-12)
    # Positive correlation narrows the paired interval against treating the samples as independent
    # (20 both, 12 only a, 3 only b, 15 neither: AD - BC = 264 > n/2).
    a2 = [True] * 32 + [False] * 18
    b2 = [True] * 20 + [False] * 12 + [True] * 3 + [False] * 15
    r2 = paired_difference(a2, b2)
    unpaired2 = newcombe_difference(32, 50, 23, 50)
    assert r2.upper - r2.lower < unpaired2.upper - unpaired2.lower
    same = paired_difference([True, False, True], [True, False, True])
    assert same.diff == 0 and same.p_value == 1.0
    with pytest.raises(ValueError):
        paired_difference([True], [True, False])


def test_staircase_settles_near_half_pass_level() -> None:
    rng = random.Random(5)
    history: list[tuple[int, bool]] = []
    true_d50 = 6.0
    for _ in range(60):
        for lvl in next_levels(history, range(1, 11), 5, rng, explore=0.0):
            p = 1 / (1 + math.exp(1.5 * (lvl - true_d50)))
            history.append((lvl, rng.random() < p))
    pos = staircase_position(history, list(range(1, 11)))  # index: level 6 is index 5
    assert abs(pos - 5) <= 1.0
    levels = next_levels(history, [2, 4, 6, 8], 200, rng, explore=0.3)
    assert set(levels) <= {2, 4, 6, 8} and len(set(levels)) == 4


def test_chooser_and_interval_factor() -> None:
    history = [(9, True)] * 10  # passes everything at the top: the staircase sits at the top
    choose = chooser({"arithmetic": history}, explore=0.0)
    rng = random.Random(0)
    picks = [choose("arithmetic", list(range(1, 11)), rng) for _ in range(50)]
    assert min(picks) >= 9
    assert interval_factor(0.0) == 1.0 and interval_factor(0.5) == 1.0
    assert interval_factor(1.0) == 0.25 and 0.25 < interval_factor(0.8) < 1.0


def test_the_chooser_replays_each_history_once_and_picks_as_the_replay_per_item_does() -> None:
    rng = random.Random(21)
    history = [(rng.randint(1, 40), rng.random() < 0.5) for _ in range(600)]
    allowed = list(range(1, 41))
    choose = chooser({"f": history}, starts={"g": 12.0})
    a, b = random.Random(5), random.Random(5)
    for family in ("f", "g") * 100:
        # Oracle: the uncached path, replaying the history for every item.
        expected = next_levels(history if family == "f" else [], allowed, 1, b, start=12.0 if family == "g" else None)
        assert choose(family, allowed, a) == expected[0]
