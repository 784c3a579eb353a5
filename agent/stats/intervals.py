"""Intervals for a pass ratio: Wilson for fixed reports, an anytime-valid confidence sequence for live panels.

A dashboard panel is looked at after every probe. A fixed-n interval checked that often excludes the
true rate at some point far more often than its nominal 5%; the confidence sequence holds uniformly
over all n (Ville's inequality on a mixture martingale), so peeking at a growing sample is free. Over
a sliding window it is an interval per window, not a guarantee across windows; Wilson is fixed-time.

Pure Python (``math``, ``statistics.NormalDist``): the daemon computes these for every series on every
refresh and does not load numpy/scipy for them. ``z_quantile`` and ``find_root`` (Brent's method) are
shared by the other statistics cores; tests check each against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from statistics import NormalDist

#: Beta(a, a) mixing prior of the confidence sequence. The width hardly depends on a in 0.5..2 over the
#: 100..10,000 probes a panel covers; a = 1 (uniform) was narrowest there at p = 0.8.
CS_PRIOR = 1.0


def _check(k: float, n: float) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


@lru_cache(maxsize=64)
def z_quantile(confidence: float) -> float:
    """The two-sided standard-normal quantile for ``confidence`` (1.959964 at 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def find_root(f: Callable[[float], float], a: float, b: float, xtol: float = 1e-12, maxiter: int = 100) -> float:
    """A root of f in [a, b] where f(a) and f(b) differ in sign: Brent's method, step for step scipy's
    ``brentq`` (its C code, rtol 4 eps). Raises ValueError when the bracket does not change sign."""
    rtol = 4 * 2.220446049250313e-16
    xpre, xcur = a, b
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if (fpre > 0) == (fcur > 0):
        raise ValueError(f"f({a}) and f({b}) have the same sign")
    xblk = fblk = spre = scur = 0.0
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and (fpre < 0) != (fcur < 0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate (inverse quadratic)
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry  # good short step
            else:
                spre = scur = sbis  # bisect
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = f(xcur)
    return xcur


def log_beta(a: float, b: float) -> float:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)."""
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def wilson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (0, 1) when n == 0."""
    _check(k, n)
    if n == 0:
        return 0.0, 1.0
    z = z_quantile(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exact ends: with k == 0 (or n) the bound is exactly 0 (or 1), not a rounding artefact.
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return lower, upper


def log_mixture(k: float, n: float, p: float, a: float = CS_PRIOR) -> float:
    """log of the beta-binomial mixture martingale M_n(p) = ∫ L(q)/L(p) dBeta(a, a)(q)."""
    if p <= 0.0 or p >= 1.0:
        return math.inf
    return log_beta(a + k, a + n - k) - log_beta(a, a) - k * math.log(p) - (n - k) * math.log1p(-p)


def confidence_sequence(k: float, n: float, alpha: float = 0.05, a: float = CS_PRIOR) -> tuple[float, float]:
    """Anytime-valid interval {p : M_n(p) < 1/alpha} for a Bernoulli mean after k successes in n trials."""
    _check(k, n)
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    if n == 0:
        return 0.0, 1.0
    bound = math.log(1 / alpha)
    phat = k / n

    # log M_n(p) is convex in p with its minimum (<= 0) at p = k/n, so each side has one root.
    def f(p: float) -> float:
        return log_mixture(k, n, p, a) - bound

    eps = 1e-12
    mid = min(max(phat, eps), 1 - eps)  # f(mid) < 0 even when k is 0 or n
    lower = 0.0 if f(eps) < 0 else find_root(f, eps, mid, xtol=1e-10)
    upper = 1.0 if f(1 - eps) < 0 else find_root(f, mid, 1 - eps, xtol=1e-10)
    return float(lower), float(upper)
