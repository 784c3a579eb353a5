"""Bernoulli CUSUM: exact Markov-chain thresholds against the reference and against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta as beta_dist

from agent.stats.cusum import (
    Cusum,
    CusumDesign,
    GridGlr,
    alternative,
    arl,
    arl0_for_budget,
    design,
    increments,
    neutral_rate,
    pessimistic_rate,
    steady_state_arl,
    threshold_for_arl,
)


def test_reference_design_080_to_070() -> None:
    d = design(0.80, 0.70, 1e4)
    # Reference (exact Markov chain): h = 5.35 nats, worst-case delay 163, steady state 148.
    assert d.h_nats == pytest.approx(5.35, abs=0.08)
    assert arl(d.inc_pass, d.inc_fail, d.threshold, 0.8) >= 1e4
    assert arl(d.inc_pass, d.inc_fail, d.threshold - 1, 0.8) < 1e4  # the smallest such threshold
    assert arl(d.inc_pass, d.inc_fail, d.threshold, 0.7) == pytest.approx(163, rel=0.02)
    assert steady_state_arl(d.inc_pass, d.inc_fail, d.threshold, 0.8, 0.7) == pytest.approx(148, rel=0.02)


@pytest.mark.parametrize(("p0", "p1", "delay"), [(0.8, 0.6, 56), (0.95, 0.9, 202), (0.9, 0.8, 111)])
def test_other_reference_delays(p0: float, p1: float, delay: float) -> None:
    d = design(p0, p1, 1e4)
    assert arl(d.inc_pass, d.inc_fail, d.threshold, p1) == pytest.approx(delay, rel=0.03)


def test_log_arl0_threshold_is_far_more_conservative() -> None:
    d = design(0.8, 0.7, 1e4)
    wald = round(math.log(1e4) / d.unit)
    assert arl(d.inc_pass, d.inc_fail, wald, 0.8) > 20 * 1e4  # reference: ~491k
    assert arl(d.inc_pass, d.inc_fail, wald, 0.7) > 1.6 * arl(d.inc_pass, d.inc_fail, d.threshold, 0.7)


def test_markov_chain_matches_simulation() -> None:
    inc_pass, inc_fail = increments(0.8, 0.6, 0.02)
    h = threshold_for_arl(inc_pass, inc_fail, 300, 0.8)
    rng = np.random.default_rng(3)
    runs = 4000
    s = np.zeros(runs, dtype=np.int64)
    length = np.zeros(runs, dtype=np.int64)
    alive = np.ones(runs, dtype=bool)
    t = 0
    while alive.any() and t < 20_000:
        t += 1
        x = rng.random(runs) < 0.8
        s = np.where(alive, np.maximum(0, s + np.where(x, inc_pass, inc_fail)), s)
        hit = alive & (s >= h)
        length[hit] = t
        alive &= ~hit
    exact = arl(inc_pass, inc_fail, h, 0.8)
    assert length.mean() == pytest.approx(exact, rel=0.06)  # SE of the mean ~ 1/sqrt(4000) ≈ 1.6%


def _posterior_mean_rate(d: CusumDesign, p0: float, n: int) -> float:
    """Oracle: 1/ARL averaged over the Beta(k + 1/2, n - k + 1/2) posterior on 400 equal-mass midpoints."""
    post = beta_dist(p0 * n + 0.5, n - p0 * n + 0.5)
    qs = (np.arange(400) + 0.5) / 400
    return float(np.mean([1 / arl(d.inc_pass, d.inc_fail, d.threshold, float(post.ppf(q))) for q in qs]))


def test_baseline_uncertainty_raises_threshold() -> None:
    known = design(0.8, 0.7, 1e4)
    guarded = design(0.8, 0.7, 1e4, baseline_n=500)
    assert guarded.p_guard < 0.8 and guarded.threshold > known.threshold
    assert (guarded.p0, guarded.p1) == (0.8, 0.7)  # n0 = 500 is enough to test from the estimate
    # The budget is an expectation: the alarm rate averaged over the baseline's posterior keeps it;
    # the known-baseline design does not (the unlucky baselines dominate the mean).
    assert _posterior_mean_rate(guarded, 0.8, 500) <= 1e-4
    assert _posterior_mean_rate(known, 0.8, 500) > 2e-4
    # The old rule (ARL0 at the 10% posterior quantile) held the quantile but not the mean.
    assert arl(guarded.inc_pass, guarded.inc_fail, guarded.threshold, guarded.p_guard) < 1e4


def test_short_warmup_tests_the_shift_from_a_pessimistic_reference() -> None:
    d = design(0.8, 0.7, 1e4, baseline_n=30)
    # Too much posterior mass below the neutral rate of 0.8 -> 0.7: the same 10-point shift is tested
    # from a lower reference rate, and the posterior-averaged alarm rate still keeps the budget.
    assert d.p0 < 0.75 and d.p1 == pytest.approx(d.p0 - 0.1)
    assert _posterior_mean_rate(d, 0.8, 30) <= 1e-4
    assert pessimistic_rate(0.8, 0.9, 500) > 0.8  # a rise detector guards on the other side
    # Capped halfway to the rate at which the statistic has no drift.
    assert pessimistic_rate(0.8, 0.7, 10) == pytest.approx((0.8 + neutral_rate(0.8, 0.7)) / 2)
    assert neutral_rate(0.8, 0.7) == pytest.approx(math.log(1.5) / (math.log(1.5) + math.log(8 / 7)))


def test_detector_fires_on_a_drop_and_not_on_steady_data() -> None:
    d = design(0.8, 0.6, 1e4)
    c = Cusum(d)
    rng = np.random.default_rng(1)
    assert not any(c.update(bool(x)) for x in rng.random(2000) < 0.95)
    c.reset()
    fired_at = next(i for i, x in enumerate(rng.random(5000) < 0.4) if c.update(bool(x)))
    assert fired_at < 200
    probes, rate = c.change_estimate()
    assert probes > 0 and rate is not None and rate < 0.7


def test_rise_design_and_state_round_trip() -> None:
    p1 = alternative(0.7, 0.1, "rise")
    assert p1 == pytest.approx(0.8)
    assert alternative(0.05, 0.1, "drop") is None
    d = design(0.7, 0.8, 1e3)
    assert d.direction == "rise" and d.inc_pass > 0 > d.inc_fail
    c = Cusum(d)
    for x in (True, True, False, True):
        c.update(x)
    c2 = Cusum(CusumDesign.from_dict(d.to_dict()))
    c2.load(c.to_dict())
    assert (c2.state, c2.since_zero, c2.passes_since_zero) == (c.state, c.since_zero, c.passes_since_zero)


def test_grid_glr_round_trip_and_budget_split() -> None:
    g = GridGlr.build(0.8, 1e4)
    assert len(g.arms) == 4
    assert all(a.design.arl0 == pytest.approx(4e4) for a in g.arms)
    for x in [False] * 30:
        g.update(x)
    g2 = GridGlr.from_dict(g.to_dict())
    assert g2.statistic == pytest.approx(g.statistic) and g.statistic > 0


def test_budget_to_arl0() -> None:
    # 20 probes every 5 min = 172,800 probes a month; one false alarm a month over 4 detectors.
    assert arl0_for_budget(1.0, 172_800, 4) == pytest.approx(691_200)
    with pytest.raises(ValueError):
        arl0_for_budget(0, 10, 1)
