"""The frontier fit as capmon computed it with numpy/scipy before issue 17: the oracle the pure-Python
fit is checked against (Nelder-Mead, scipy's bounded scalar minimiser, brentq, chi2 and a numerical
Hessian). Test-only: the daemon no longer imports numpy or scipy.

Returns (d50, lower, upper, slope, reference logit, its SE).
"""

# mypy: disable-error-code="no-any-return"
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

SLOPE_PRIOR_SD = 1.0


def _nll(params: np.ndarray, x: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    import numpy as np

    d50, log_a = float(params[0]), float(params[1])
    eta = math.exp(log_a) * (d50 - x)  # logit of passing
    # log(sigmoid) computed stably as -logaddexp(0, -eta)
    ll = -(k * np.logaddexp(0.0, -eta) + (n - k) * np.logaddexp(0.0, eta)).sum()
    return float(-ll + 0.5 * (log_a / SLOPE_PRIOR_SD) ** 2)


def _profile(d50: float, x: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    import numpy as np
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda la: _nll(np.array([d50, la]), x, k, n), bounds=(-6.0, 4.0), method="bounded")
    return float(res.fun)


def scipy_frontier(
    levels: Sequence[int | float],
    passes: Sequence[int],
    totals: Sequence[int],
    confidence: float = 0.95,
    reference: float | None = None,
) -> tuple[float, float, float, float, float, float]:
    """Fit the frontier from pass counts per difficulty level.

    ``reference``: the level the ability logit is taken at (default: the middle of the probed levels).
    """
    import numpy as np
    from scipy.optimize import minimize
    from scipy.stats import chi2

    x = np.asarray(levels, dtype=float)
    k = np.asarray(passes, dtype=float)
    n = np.asarray(totals, dtype=float)
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    total = int(n.sum())
    if total == 0:
        raise ValueError("no probes to fit")
    if np.any(k > n) or np.any(k < 0):
        raise ValueError("passes must be within 0..totals")
    lo_x, hi_x = float(x.min()), float(x.max())
    ref = (lo_x + hi_x) / 2 if reference is None else float(reference)
    if k.sum() == n.sum() or k.sum() == 0:
        above = bool(k.sum() == n.sum())
        edge = hi_x if above else lo_x
        # Beyond the range: the estimate is the edge and the open side is infinite.
        bound = (edge, math.inf) if above else (-math.inf, edge)
        logit = math.inf if above else -math.inf
        return edge, bound[0], bound[1], math.nan, logit, math.inf
    start = np.array([float(np.average(x, weights=n)), 0.0])
    res = minimize(
        _nll,
        start,
        args=(x, k, n),
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000},
    )
    d50, log_a = float(res.x[0]), float(res.x[1])
    best = float(res.fun)
    crit = float(chi2.ppf(confidence, 1)) / 2
    span = max(hi_x - lo_x, 1.0)

    def excess(d: float) -> float:
        return _profile(d, x, k, n) - best - crit

    lower = _bracket_root(excess, d50, -1, span)
    upper = _bracket_root(excess, d50, +1, span)
    a = math.exp(log_a)
    ref_logit, ref_se = _reference_logit(res.x, x, k, n, ref)
    # An extrapolated d50 (beyond the probed levels) is only a bound: its open side is infinite.
    if d50 > hi_x:
        upper = math.inf
    elif d50 < lo_x:
        lower = -math.inf
    return d50, lower, upper, a, ref_logit, ref_se


def _bracket_root(f: Callable[[float], float], start: float, sign: int, span: float) -> float:
    """Walk from the optimum outwards until the profile crosses; infinite if it never does (flat side)."""
    from scipy.optimize import brentq

    fn = f
    step = span / 4
    prev = start
    for _ in range(12):
        cand = prev + sign * step
        if fn(cand) > 0:
            return float(brentq(fn, min(prev, cand), max(prev, cand), xtol=1e-4))
        prev, step = cand, step * 2
    return sign * math.inf


def _reference_logit(
    params: np.ndarray, x: np.ndarray, k: np.ndarray, n: np.ndarray, ref: float
) -> tuple[float, float]:
    """Logit of passing at level ``ref`` and its delta-method SE from the numerical Hessian."""
    import numpy as np

    d50, log_a = float(params[0]), float(params[1])
    a = math.exp(log_a)
    h = 1e-4
    hess = np.zeros((2, 2))
    base = np.array([d50, log_a])
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            hess[i, j] = (
                _nll(base + ei + ej, x, k, n)
                - _nll(base + ei - ej, x, k, n)
                - _nll(base - ei + ej, x, k, n)
                + _nll(base - ei - ej, x, k, n)
            ) / (4 * h * h)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return a * (d50 - ref), math.inf
    grad = np.array([a, a * (d50 - ref)])  # d/d(d50), d/d(log a) of a*(d50 - ref)
    var = float(grad @ cov @ grad)
    return a * (d50 - ref), math.sqrt(var) if var > 0 else math.inf
