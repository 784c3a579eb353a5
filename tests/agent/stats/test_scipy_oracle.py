"""The pure-Python statistics cores against scipy as the independent oracle.

The daemon computes quantiles, exact tests, the confidence sequence and the frontier fit without
numpy/scipy (issue 17: memory); scipy stays a test dependency and checks every one of them here.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import betaln
from scipy.stats import binomtest, chi2, norm

from agent.stats.frontier import ability_summary, fit_frontier
from agent.stats.gradient import novelty_gradient
from agent.stats.intervals import confidence_sequence, find_root, log_beta, log_mixture, wilson, z_quantile
from agent.stats.paired import paired_difference, sign_test
from tests.agent.stats.scipy_frontier import scipy_frontier


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
def test_normal_and_chi_square_quantiles(confidence: float) -> None:
    z = z_quantile(confidence)
    assert z == pytest.approx(float(norm.ppf(0.5 + confidence / 2)), rel=1e-12)
    assert z * z == pytest.approx(float(chi2.ppf(confidence, 1)), rel=1e-9)


def test_log_beta_and_the_mixture_martingale() -> None:
    for a, b in [(1.0, 1.0), (0.5, 7.5), (31.0, 970.0), (4001.0, 6001.0), (1.0, 10001.0)]:
        assert log_beta(a, b) == pytest.approx(float(betaln(a, b)), rel=1e-12, abs=1e-9)
    for k, n, p in [(0, 10, 0.3), (80, 100, 0.7), (9000, 10000, 0.91)]:
        want = float(betaln(1 + k, 1 + n - k) - betaln(1, 1)) - k * math.log(p) - (n - k) * math.log1p(-p)
        assert log_mixture(k, n, p) == pytest.approx(want, rel=1e-10, abs=1e-8)


def test_find_root_is_brentq() -> None:
    cases = [(lambda x: x**3 - 2 * x - 5, 2.0, 3.0), (math.cos, 0.0, 3.0), (lambda x: math.exp(x) - 10, -4.0, 5.0)]
    for f, a, b in cases:
        for xtol in (1e-12, 1e-4):
            assert find_root(f, a, b, xtol=xtol) == brentq(f, a, b, xtol=xtol)
    with pytest.raises(ValueError):
        find_root(math.exp, 0.0, 1.0)


def test_wilson_and_confidence_sequence_against_scipy_roots() -> None:
    rng = random.Random(17)
    for _ in range(60):
        n = rng.choice([1, 5, 30, 200, 5000])
        k = rng.randint(0, n)
        z = float(norm.ppf(0.975))
        p, denom = k / n, 1 + z * z / n
        centre, half = (p + z * z / (2 * n)) / denom, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        lo, hi = wilson(k, n)
        assert lo == pytest.approx(0.0 if k == 0 else centre - half, abs=1e-12)
        assert hi == pytest.approx(1.0 if k == n else centre + half, abs=1e-12)

        def f(q: float, k: int = k, n: int = n) -> float:
            m = float(betaln(1 + k, 1 + n - k) - betaln(1, 1)) - k * math.log(q) - (n - k) * math.log1p(-q)
            return m - math.log(20)

        mid = min(max(k / n, 1e-12), 1 - 1e-12)
        want_lo = 0.0 if f(1e-12) < 0 else brentq(f, 1e-12, mid, xtol=1e-10)
        want_hi = 1.0 if f(1 - 1e-12) < 0 else brentq(f, mid, 1 - 1e-12, xtol=1e-10)
        assert confidence_sequence(k, n) == pytest.approx((want_lo, want_hi), abs=1e-9)


def test_sign_test_is_scipy_binomtest() -> None:
    for n in [1, 2, 3, 10, 15, 40, 101, 400]:
        for k in range(0, n + 1, max(1, n // 13)):
            assert sign_test(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9, abs=1e-300)
    a = [True] * 22 + [False] * 8
    b = [True] * 10 + [False] * 12 + [True] * 3 + [False] * 5
    assert paired_difference(a, b).p_value == pytest.approx(binomtest(12, 15, 0.5).pvalue, rel=1e-12)


def test_gradient_interval_uses_the_normal_quantile() -> None:
    g = novelty_gradient([0, 1, 2], [90, 75, 50], [100, 120, 80], confidence=0.9)
    assert g is not None
    half = (g.upper - g.lower) / 2
    assert g.upper - g.slope == pytest.approx(half)
    # The same fit at 0.99 widens by the ratio of the scipy quantiles.
    g99 = novelty_gradient([0, 1, 2], [90, 75, 50], [100, 120, 80], confidence=0.99)
    assert g99 is not None
    assert (g99.upper - g99.lower) / (g.upper - g.lower) == pytest.approx(norm.ppf(0.995) / norm.ppf(0.95), rel=1e-12)


def _data(rng: np.random.Generator, top: int, n: int) -> tuple[list[int], list[int], list[int]]:
    d50, slope = rng.uniform(1, top), rng.uniform(0.2, 2.5)
    size = min(top, int(rng.integers(2, 9)))
    levels = sorted(int(x) for x in rng.choice(np.arange(1, top + 1), size=size, replace=False))
    totals = [int(rng.integers(1, n + 1)) for _ in levels]
    passes = [int(rng.binomial(t, 1 / (1 + math.exp(slope * (x - d50))))) for x, t in zip(levels, totals, strict=True)]
    return levels, passes, totals


def test_frontier_fit_matches_the_scipy_fit() -> None:
    rng = np.random.default_rng(1717)
    compared = 0
    for _ in range(120):
        top = int(rng.choice([5, 10, 40]))
        levels, passes, totals = _data(rng, top, int(rng.choice([3, 20, 200])))
        ref = (1 + top) / 2
        ours = fit_frontier(levels, passes, totals, reference=ref)
        d50, lower, upper, slope, logit, se = scipy_frontier(levels, passes, totals, reference=ref)
        if ours.censored in ("above", "below") and not math.isfinite(ours.slope):
            assert (ours.d50, ours.lower, ours.upper) == (d50, lower, upper)
            continue
        compared += 1
        # Nelder-Mead stops at xatol 1e-6 and the profile's scalar search at 1e-5; Newton goes to the
        # optimum, so agreement is to the oracle's own precision, not to machine precision.
        assert ours.d50 == pytest.approx(d50, rel=1e-4, abs=1e-4)
        assert ours.slope == pytest.approx(slope, rel=1e-3)
        for got, want in ((ours.lower, lower), (ours.upper, upper)):
            assert (got == want) if math.isinf(want) else got == pytest.approx(want, abs=2e-3)
        assert ours.reference_logit == pytest.approx(logit, rel=1e-3, abs=1e-3)
        assert ours.reference_logit_se == pytest.approx(se, rel=1e-2)
    assert compared >= 60


def test_ability_summary_interval_is_the_normal_one() -> None:
    a = fit_frontier([1, 2, 3, 4, 5], [19, 15, 10, 5, 1], [20] * 5)
    b = fit_frontier([1, 2, 3, 4, 5], [20, 19, 17, 12, 6], [20] * 5)
    ab = ability_summary({"a": a, "b": b}, confidence=0.9)
    assert ab is not None
    se = math.sqrt(a.reference_logit_se**2 + b.reference_logit_se**2) / 2
    assert ab.upper - ab.logits == pytest.approx(float(norm.ppf(0.95)) * se, rel=1e-12)


@pytest.mark.parametrize(
    ("levels", "passes", "totals"),
    [
        ([1, 3, 5, 8, 10], [50, 500, 1, 0, 0], [50, 500, 1, 1, 1]),
        ([3, 34], [50, 0], [50, 2]),
        (
            [5, 9, 15, 21, 24, 26, 34, 36, 44, 48],
            [2, 2, 50, 70, 0, 0, 0, 0, 0, 0],
            [2, 2, 50, 500, 500, 5, 500, 2, 500, 1],
        ),
    ],
)
def test_separated_data_fit_without_overflow_at_least_as_well_as_scipy(
    levels: list[int], passes: list[int], totals: list[int]
) -> None:
    # These overflowed math.exp in the first Newton version (a huge step in log slope) and stopped
    # the whole statistics refresh of a soak; the trust region keeps the steps bounded.
    from agent.stats.frontier import _nll

    ours = fit_frontier(levels, passes, totals)
    d50, _, _, slope, _, _ = scipy_frontier(levels, passes, totals)
    data = ([float(x) for x in levels], [float(k) for k in passes], [float(n) for n in totals])
    assert _nll(ours.d50, math.log(ours.slope), data) <= _nll(d50, math.log(slope), data) + 1e-9
    assert ours.lower <= ours.d50 <= ours.upper
