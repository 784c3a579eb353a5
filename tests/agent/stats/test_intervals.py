"""Wilson and the anytime-valid confidence sequence against hand-computed values and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent.stats.intervals import confidence_sequence, log_mixture, wilson


def test_wilson_matches_hand_computation() -> None:
    # 8/10 at 95%: centre = (0.8 + z²/20) / (1 + z²/10), half = z·sqrt(0.016 + z²/400) / (1 + z²/10)
    z = 1.959963984540054
    denom = 1 + z * z / 10
    centre = (0.8 + z * z / 20) / denom
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / denom
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(centre - half, abs=1e-12)
    assert hi == pytest.approx(centre + half, abs=1e-12)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)


def test_wilson_edges_and_width() -> None:
    assert wilson(0, 10)[0] == 0.0
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(800, 1000)
    assert (hi - lo) / 2 == pytest.approx(0.0248, abs=5e-4)
    with pytest.raises(ValueError):
        wilson(5, 4)


def test_confidence_sequence_is_wider_than_wilson_and_contains_estimate() -> None:
    for k, n in ((80, 100), (800, 1000), (3, 50)):
        cs = confidence_sequence(k, n)
        w = wilson(k, n)
        assert cs[0] < w[0] and cs[1] > w[1]
        assert cs[0] < k / n < cs[1]
    lo, hi = confidence_sequence(800, 1000)
    assert (hi - lo) / 2 == pytest.approx(0.045, abs=2e-3)  # reference: ±4.5 pp at p = 0.8, n = 1000


def test_confidence_sequence_bounds_are_the_level_set() -> None:
    lo, hi = confidence_sequence(30, 100, alpha=0.05)
    for p in (lo, hi):
        assert log_mixture(30, 100, p) == pytest.approx(math.log(20), abs=1e-6)
    assert log_mixture(30, 100, 0.3) < math.log(20)


def test_peeking_after_every_probe_keeps_coverage_for_the_sequence_only() -> None:
    rng = np.random.default_rng(7)
    p, runs, horizon, alpha = 0.8, 200, 500, 0.05
    n = np.arange(1, horizon + 1)
    peek = n >= 20
    wilson_miss = cs_miss = 0
    bound = math.log(1 / alpha)
    for _ in range(runs):
        k = np.cumsum(rng.random(horizon) < p)
        looks = [(int(kk), int(nn)) for kk, nn in zip(k[peek], n[peek], strict=True)]
        # The shipped functions: Wilson at every look; the sequence excludes p exactly when the
        # shipped mixture martingale at p reaches 1/alpha (the definition of confidence_sequence).
        wilson_miss += any(not (lo <= p <= hi) for lo, hi in (wilson(kk, nn) for kk, nn in looks))
        cs_miss += any(log_mixture(kk, nn, p) >= bound for kk, nn in looks)
    # Reference over n = 20..2000: Wilson 44%, sequence 2%. Here n = 20..500.
    assert wilson_miss / runs > 0.2
    assert cs_miss / runs <= 0.05
