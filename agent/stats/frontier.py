"""Capability frontier: a logistic (Rasch-style) curve of pass probability against difficulty level.

Model per (target, family): ``P(pass | level) = 1 / (1 + exp(a * (level - d50)))`` with slope a > 0,
fitted by penalised maximum likelihood: a weak normal prior on log a (mean 0, sd 1) keeps the slope
finite when passes and fails separate perfectly by level, which they often do with few probes.
The interval on d50 is from the profile likelihood (slope re-optimised at each d50; the set where
twice the drop in penalised log-likelihood stays under the chi-square(1) quantile).

Degenerate data — every probe passed, or every probe failed — say only that d50 lies beyond the
tested range; the fit reports that as a censored bound instead of an arbitrary number. A fitted
d50 outside the probed levels (an extrapolation) is censored too: its open side is infinite.

Ability is the logit of passing an item at a per-family *reference level*, passed in as data
(``reference_level``: the middle of the family's declared scale, ``(1 + top) / 2``), and the ability
summary is its mean over families. A fixed level per family, not the middle of whatever was probed,
keeps ability comparable over time (adaptive probing moves the probed range) and across families
whose tops differ (each contributes the logit at the middle of its own scale).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # numpy/scipy are imported where used: off the import path
    import numpy as np

    from probes.registry import Registry

#: Prior sd of log(slope) (logits per level).
SLOPE_PRIOR_SD = 1.0
Censoring = Literal["none", "above", "below"]


@dataclass(frozen=True)
class Frontier:
    """d50 (the level passed half the time) with its interval, the slope, and a censoring flag."""

    d50: float
    lower: float
    upper: float
    slope: float
    censored: Censoring
    n: int
    #: The level ability is measured at (see ``reference_level``).
    reference: float
    reference_logit: float
    reference_logit_se: float


def reference_level(top: int) -> float:
    """A family's reference level for ability: the middle of its declared scale 1..top."""
    return (1 + top) / 2


def reference_levels(registry: Registry) -> dict[str, float]:
    """Every registered family's reference level (``reference_level`` of its top), by name."""
    return {name: reference_level(registry.get(name).top) for name in registry.names()}


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


def fit_frontier(
    levels: Sequence[int | float],
    passes: Sequence[int],
    totals: Sequence[int],
    confidence: float = 0.95,
    reference: float | None = None,
) -> Frontier:
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
        censoring: Censoring = "above" if above else "below"
        return Frontier(edge, bound[0], bound[1], math.nan, censoring, total, ref, logit, math.inf)
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
    censored: Censoring = "none"
    # An extrapolated d50 (beyond the probed levels) is only a bound: its open side is infinite.
    if d50 > hi_x:
        censored, upper = "above", math.inf
    elif d50 < lo_x:
        censored, lower = "below", -math.inf
    return Frontier(d50, lower, upper, a, censored, total, ref, ref_logit, ref_se)


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


@dataclass(frozen=True)
class Ability:
    """Ability in logits (mean over families of the logit of passing an item at the family's
    reference level) with an interval."""

    logits: float
    lower: float
    upper: float
    families: int


def ability_summary(frontiers: Mapping[str, Frontier], confidence: float = 0.95) -> Ability | None:
    """Equal-weight mean over families of the reference-level logit; families censored at an edge are left out."""
    from scipy.stats import norm

    usable = [f for f in frontiers.values() if math.isfinite(f.reference_logit) and math.isfinite(f.reference_logit_se)]
    if not usable:
        return None
    mean = sum(f.reference_logit for f in usable) / len(usable)
    se = math.sqrt(sum(f.reference_logit_se**2 for f in usable)) / len(usable)
    z = float(norm.ppf(0.5 + confidence / 2))
    return Ability(mean, mean - z * se, mean + z * se, len(usable))
