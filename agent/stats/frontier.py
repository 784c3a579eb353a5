"""Capability frontier: a logistic (Rasch-style) curve of pass probability against difficulty level.

Model per (target, family): ``P(pass | level) = 1 / (1 + exp(a * (level - d50)))`` with slope a > 0,
fitted by penalised maximum likelihood (Newton's method on the analytic gradient and Hessian, in pure
Python: no numpy/scipy in the daemon): a weak normal prior on log a (mean 0, sd 1) keeps the slope
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

from agent.stats.intervals import find_root, z_quantile

if TYPE_CHECKING:
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


Data = tuple[list[float], list[float], list[float]]


def _softplus(t: float) -> float:
    """log(1 + e^t) without overflow."""
    return math.log1p(math.exp(-abs(t))) + max(t, 0.0)


def _sigmoid(t: float) -> float:
    """1 / (1 + e^-t) without overflow."""
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


#: Largest log slope evaluated: beyond it the prior alone costs more than any data set can repay.
_MAX_LOG_SLOPE = 30.0


def _nll(d50: float, log_a: float, data: Data) -> float:
    """Penalised negative log-likelihood at (d50, log slope); infinite past ``_MAX_LOG_SLOPE``."""
    if not log_a <= _MAX_LOG_SLOPE:
        return math.inf
    a = math.exp(log_a)
    total = 0.5 * (log_a / SLOPE_PRIOR_SD) ** 2
    for x, k, n in zip(*data, strict=True):
        eta = a * (d50 - x)  # logit of passing
        if k:
            total += k * _softplus(-eta)
        if n - k:
            total += (n - k) * _softplus(eta)
    return total


def _derivatives(d50: float, log_a: float, data: Data) -> tuple[float, float, float, float, float]:
    """Gradient (d/d d50, d/d log a) and Hessian (dd, dl, ll) of ``_nll``.

    With eta = a (d50 - x), s = sigmoid(eta): d nll/d eta = n s - k =: r and d2/d eta2 = n s (1 - s) =: w;
    d eta/d d50 = a and d eta/d log a = eta.
    """
    a = math.exp(log_a)
    gd = gl = hdd = hdl = hll = 0.0
    for x, k, n in zip(*data, strict=True):
        eta = a * (d50 - x)
        s = _sigmoid(eta)
        r, w = n * s - k, n * s * (1.0 - s)
        gd += r * a
        gl += r * eta
        hdd += w * a * a
        hdl += w * a * eta + r * a
        hll += w * eta * eta + r * eta
    prior = 1.0 / SLOPE_PRIOR_SD**2
    return gd, gl + log_a * prior, hdd, hdl, hll + prior


def _minimise(d50: float, log_a: float, data: Data) -> tuple[float, float, float]:
    """The penalised maximum-likelihood (d50, log a) and its nll: Newton's method with Levenberg
    damping, a trust region and a backtracking line search (the nll is smooth and, with the prior, has a
    finite optimum even when passes and fails separate perfectly)."""
    f = _nll(d50, log_a, data)
    damping = 0.0
    for _ in range(200):
        gd, gl, hdd, hdl, hll = _derivatives(d50, log_a, data)
        if max(abs(gd), abs(gl)) < 1e-10:
            break
        while True:
            a11, a22 = hdd + damping, hll + damping
            det = a11 * a22 - hdl * hdl
            if a11 > 0 and det > 0:
                break
            damping = max(2 * damping, 1e-6 * (abs(hdd) + abs(hll)) + 1e-9)
        step_d, step_l = -(a22 * gd - hdl * gl) / det, -(a11 * gl - hdl * gd) / det
        # A trust region: near-separated data make the Hessian nearly singular and the raw step huge.
        scale = max(1.0, abs(step_l) / 2.0, abs(step_d) / 5.0)
        step_d, step_l = step_d / scale, step_l / scale
        slope = gd * step_d + gl * step_l
        t = 1.0
        for _ in range(60):
            cand = _nll(d50 + t * step_d, log_a + t * step_l, data)
            if cand <= f + 1e-4 * t * slope:
                break
            t /= 2
        else:
            break  # no descent left at machine precision
        d50, log_a, f = d50 + t * step_d, log_a + t * step_l, cand
        damping = damping / 10 if t == 1.0 else max(damping, 1e-9) * 10
    return d50, log_a, f


#: Range of log slope searched in the profile likelihood.
_LOG_SLOPE_BOUNDS = (-6.0, 4.0)


def _profile(d50: float, data: Data) -> float:
    """min over log a in ``_LOG_SLOPE_BOUNDS`` of the nll at fixed d50: safeguarded Newton on the
    log-slope derivative (bisection whenever a Newton step leaves the bracket)."""
    lo, hi = _LOG_SLOPE_BOUNDS
    if _derivatives(d50, lo, data)[1] >= 0:
        return _nll(d50, lo, data)
    if _derivatives(d50, hi, data)[1] <= 0:
        return _nll(d50, hi, data)
    la = 0.0
    for _ in range(100):
        _, g, _, _, h = _derivatives(d50, la, data)
        if g < 0:
            lo = la
        else:
            hi = la
        nxt = la - g / h if h > 0 else math.nan
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - la) < 1e-10 or hi - lo < 1e-10:
            la = nxt
            break
        la = nxt
    return _nll(d50, la, data)


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
    rows = [(float(x), float(k), float(n)) for x, k, n in zip(levels, passes, totals, strict=True) if n > 0]
    total = int(sum(n for _, _, n in rows))
    if total == 0:
        raise ValueError("no probes to fit")
    if any(k > n or k < 0 for _, k, n in rows):
        raise ValueError("passes must be within 0..totals")
    data: Data = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    lo_x, hi_x = min(data[0]), max(data[0])
    ref = (lo_x + hi_x) / 2 if reference is None else float(reference)
    k_sum, n_sum = sum(data[1]), sum(data[2])
    if k_sum == n_sum or k_sum == 0:
        above = bool(k_sum == n_sum)
        edge = hi_x if above else lo_x
        # Beyond the range: the estimate is the edge and the open side is infinite.
        bound = (edge, math.inf) if above else (-math.inf, edge)
        logit = math.inf if above else -math.inf
        censoring: Censoring = "above" if above else "below"
        return Frontier(edge, bound[0], bound[1], math.nan, censoring, total, ref, logit, math.inf)
    start = sum(x * n for x, _, n in rows) / n_sum
    d50, log_a, best = _minimise(start, 0.0, data)
    # chi-square(1) quantile = the squared two-sided normal quantile
    crit = z_quantile(confidence) ** 2 / 2
    span = max(hi_x - lo_x, 1.0)

    def excess(d: float) -> float:
        return _profile(d, data) - best - crit

    lower = _bracket_root(excess, d50, -1, span)
    upper = _bracket_root(excess, d50, +1, span)
    a = math.exp(log_a)
    ref_logit, ref_se = _reference_logit(d50, log_a, data, ref)
    censored: Censoring = "none"
    # An extrapolated d50 (beyond the probed levels) is only a bound: its open side is infinite.
    if d50 > hi_x:
        censored, upper = "above", math.inf
    elif d50 < lo_x:
        censored, lower = "below", -math.inf
    return Frontier(d50, lower, upper, a, censored, total, ref, ref_logit, ref_se)


def _bracket_root(f: Callable[[float], float], start: float, sign: int, span: float) -> float:
    """Walk from the optimum outwards until the profile crosses; infinite if it never does (flat side)."""
    step = span / 4
    prev = start
    for _ in range(12):
        cand = prev + sign * step
        if f(cand) > 0:
            return find_root(f, min(prev, cand), max(prev, cand), xtol=1e-4)
        prev, step = cand, step * 2
    return sign * math.inf


def _reference_logit(d50: float, log_a: float, data: Data, ref: float) -> tuple[float, float]:
    """Logit of passing at level ``ref`` and its delta-method SE from the Hessian at the optimum."""
    a = math.exp(log_a)
    _, _, hdd, hdl, hll = _derivatives(d50, log_a, data)
    det = hdd * hll - hdl * hdl
    if det == 0:
        return a * (d50 - ref), math.inf
    g0, g1 = a, a * (d50 - ref)  # d/d(d50), d/d(log a) of a*(d50 - ref)
    var = (g0 * g0 * hll - 2 * g0 * g1 * hdl + g1 * g1 * hdd) / det
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
    usable = [f for f in frontiers.values() if math.isfinite(f.reference_logit) and math.isfinite(f.reference_logit_se)]
    if not usable:
        return None
    mean = sum(f.reference_logit for f in usable) / len(usable)
    se = math.sqrt(sum(f.reference_logit_se**2 for f in usable)) / len(usable)
    z = z_quantile(confidence)
    return Ability(mean, mean - z * se, mean + z * se, len(usable))
