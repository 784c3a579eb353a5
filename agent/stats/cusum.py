"""Bernoulli CUSUM detectors whose thresholds are computed exactly from the false-alarm budget.

The statistic runs on integer multiples of ``UNIT`` nats (the log-likelihood-ratio increments are
rounded once, at design time), so the Markov chain of Brook & Evans (1972) over the integer states
0..H-1 *is* the detector: its average run length (ARL) is exact for what runs, not an approximation.
The threshold H is the smallest one whose in-control ARL reaches the target. ``log(ARL0)`` (Wald's
bound) would be about 50x more conservative and nearly double the delay.

A baseline rate learned from n0 probes is uncertain; designing at the point estimate silently
shortens ARL0 whenever the true rate sits on the unlucky side, and the budget is a promise about the
*expected* number of false alarms, which the unlucky baselines dominate (a threshold that holds ARL0
at the 10% posterior quantile still let the expected alarm rate over baselines reach 1.5x its share,
issue 15). ``design`` therefore picks the smallest threshold whose alarm rate, averaged over the
baseline's posterior (Beta with Jeffreys prior; ``posterior_cells``, each cell taken at its
pessimistic end, so the average is an upper bound), is at most 1/ARL0. When even an unbounded
threshold cannot do that — so much posterior mass lies beyond the rate at which the statistic has
no drift that the alarm rate there cannot be held down (short warm-ups) — the detector is designed
against a more pessimistic reference rate (a posterior quantile, same shift): it then needs a larger
change to fire but keeps the budget (``reference_rate``).

``GridGlr`` is the unknown-shift variant: the maximum over a grid of alternatives of the CUSUM
statistic, which is the generalised likelihood ratio over change time and post-change rate
restricted to the grid. Each arm gets ARL0 x (number of arms), so by the union bound the whole
detector keeps the budget; the benchmark measures it.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy/scipy are imported where used: off the import path
    import numpy as np
    from scipy import sparse

#: Default resolution of the statistic in nats (``design`` picks a finer one per shift, see ``auto_unit``).
UNIT = 0.01
#: The smaller increment spans this many units, so rounding distorts the likelihood ratio by under ~1.5%.
STEPS = 40
#: Posterior quantile of the baseline rate at which the in-control ARL is guaranteed.
BASELINE_QUANTILE = 0.1
#: Largest threshold searched (in units); a budget needing more is unreachable at this resolution.
MAX_STATES = 60_000

Direction = Literal["drop", "rise"]


def increments(p0: float, p1: float, unit: float = UNIT) -> tuple[int, int]:
    """Integer log-likelihood-ratio increments (pass, fail) for testing p0 against p1."""
    if not (0 < p0 < 1 and 0 < p1 < 1) or p0 == p1:
        raise ValueError(f"need distinct rates in (0, 1), got p0={p0}, p1={p1}")
    up = round(math.log(p1 / p0) / unit)
    down = round(math.log((1 - p1) / (1 - p0)) / unit)
    if up == 0 or down == 0:
        raise ValueError(f"shift {p0}->{p1} is below the statistic's resolution")
    return int(up), int(down)


def auto_unit(p0: float, p1: float, steps: int = STEPS) -> float:
    """Resolution that gives the smaller of the two increments ``steps`` units."""
    small = min(abs(math.log(p1 / p0)), abs(math.log((1 - p1) / (1 - p0))))
    return small / steps


def _transitions(inc_pass: int, inc_fail: int, threshold: int, p: float) -> sparse.csr_matrix:
    """Substochastic transition matrix among the non-alarm states 0..threshold-1."""
    import numpy as np
    from scipy import sparse

    states = np.arange(threshold)
    rows, cols, vals = [], [], []
    for inc, prob in ((inc_pass, p), (inc_fail, 1 - p)):
        nxt = np.maximum(states + inc, 0)
        keep = nxt < threshold
        rows.append(states[keep])
        cols.append(nxt[keep])
        vals.append(np.full(int(keep.sum()), prob))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(threshold, threshold)
    )


def arl_vector(inc_pass: int, inc_fail: int, threshold: int, p: float) -> np.ndarray:
    """Expected probes to alarm from each state 0..threshold-1 when the true pass rate is p."""
    import numpy as np
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    q = _transitions(inc_pass, inc_fail, threshold, p)
    a = sparse.identity(threshold, format="csc") - q.tocsc()
    return np.asarray(spsolve(a, np.ones(threshold)), dtype=float)


def arl(inc_pass: int, inc_fail: int, threshold: int, p: float) -> float:
    """Average run length from a zero start (the worst case for a CUSUM) at true pass rate p.

    From zero the statistic only visits multiples of g = gcd(increments), so the chain on those
    (increments / g, threshold ceil(h / g)) has the same ARL; it is smaller, and it is not singular
    where the full matrix is numerically (equal increments, an ARL of ~1e17).
    """
    g = math.gcd(abs(inc_pass), abs(inc_fail))
    if g > 1:
        inc_pass, inc_fail, threshold = inc_pass // g, inc_fail // g, -(-threshold // g)
    with warnings.catch_warnings():
        # Numerically singular only when the ARL is beyond what a float solve resolves: infinite here.
        warnings.simplefilter("ignore")
        value = float(arl_vector(inc_pass, inc_fail, threshold, p)[0])
    return value if math.isfinite(value) and value > 0 else math.inf


def steady_state_arl(inc_pass: int, inc_fail: int, threshold: int, p_before: float, p_after: float) -> float:
    """Delay when the change comes after a long in-control run (start from the quasi-stationary law)."""
    if threshold == 1:
        return arl(inc_pass, inc_fail, threshold, p_after)
    pi = quasi_stationary(inc_pass, inc_fail, threshold, p_before)
    return float(pi @ arl_vector(inc_pass, inc_fail, threshold, p_after))


def quasi_stationary(inc_pass: int, inc_fail: int, threshold: int, p: float, tol: float = 1e-12) -> np.ndarray:
    """The law of the statistic after a long run without alarm: the left Perron vector of Q.

    Inverse iteration on (I − Q)ᵀ: (I − Q)⁻¹ = Σ Qᵏ is non-negative, and its largest eigenvalue
    1/(1 − λ₁) (λ₁ the Perron root of Q) dominates every other 1/|1 − λ| by the factor ~ARL0, so the
    iteration converges in a few sparse solves from a positive start and cannot land on another
    eigenpair (ARPACK did, in 1 of 8 calls on the deployed chain size).
    """
    import numpy as np
    from scipy import sparse
    from scipy.sparse.linalg import splu

    q = _transitions(inc_pass, inc_fail, threshold, p)
    lu = splu((sparse.identity(threshold, format="csc") - q.tocsc()).T.tocsc())
    pi = np.full(threshold, 1.0 / threshold)
    for _ in range(200):
        nxt = np.maximum(lu.solve(pi), 0.0)
        nxt /= nxt.sum()
        done = float(np.abs(nxt - pi).sum()) < tol
        pi = nxt
        if done:
            break
    return pi


def threshold_for_arl(inc_pass: int, inc_fail: int, arl0: float, p: float) -> int:
    """Smallest integer threshold whose zero-start ARL at pass rate p is at least arl0."""
    return _smallest_threshold(lambda h: arl(inc_pass, inc_fail, h, p), arl0, max(2, abs(inc_pass), abs(inc_fail)))


def average_rate(inc_pass: int, inc_fail: int, threshold: int, cells: Sequence[tuple[float, float]]) -> float:
    """Alarms per probe (1/ARL from a zero start) averaged over (pass rate, weight) cells; a cell at
    rate 0 or 1 (the posterior's far tail) counts as an alarm on every probe."""
    return sum(w if p in (0.0, 1.0) else w / arl(inc_pass, inc_fail, threshold, p) for p, w in cells)


def threshold_for_average(inc_pass: int, inc_fail: int, arl0: float, cells: Sequence[tuple[float, float]]) -> int:
    """Smallest integer threshold whose alarm rate averaged over ``cells`` is at most 1/arl0."""
    # Every cell alone must keep its share, so the heaviest cell's own threshold is a floor (few solves).
    p_top, w_top = max(cells, key=lambda c: c[1])
    floor = threshold_for_arl(inc_pass, inc_fail, arl0 * w_top, p_top)
    return _smallest_threshold(
        lambda h: 1.0 / average_rate(inc_pass, inc_fail, h, cells), arl0, max(floor + floor // 4, 2), floor - 1
    )


def _smallest_threshold(value: Callable[[int], float], arl0: float, start: int, lo: int = 1) -> int:
    """Smallest integer h with value(h) >= arl0, for value increasing in h (an ARL or 1/average rate);
    ``lo`` is known to fall short, ``start`` is the first guess above it."""
    if arl0 <= 1:
        return 1
    lo = max(lo, 1)
    lo_val = value(lo)
    if lo_val >= arl0:
        return lo
    hi = max(start, lo + 1)
    hi_val = value(hi)
    while hi_val < arl0:
        lo, lo_val = hi, hi_val
        hi += max(hi // 2, 1)
        if hi > MAX_STATES:
            raise ValueError(f"ARL0 {arl0:g} is out of reach for this design")
        hi_val = value(hi)
    # log ARL is close to linear in the threshold, so interpolating in it needs few solves; every
    # other step bisects so that the bracket always at least halves.
    interpolate = True
    while hi - lo > 1:
        if interpolate and hi_val > lo_val > 0:
            frac = (math.log(arl0) - math.log(lo_val)) / (math.log(hi_val) - math.log(lo_val))
            mid = min(hi - 1, max(lo + 1, round(lo + frac * (hi - lo))))
        else:
            mid = (lo + hi) // 2
        interpolate = not interpolate
        val = value(mid)
        if val >= arl0:
            hi, hi_val = mid, val
        else:
            lo, lo_val = mid, val
    return hi


#: Post-change rates closer than this to 0 or 1 are not designed for (no room left to move).
EDGE = 0.01


def alternative(p0: float, shift: float, direction: Direction) -> float | None:
    """Post-change rate p0 -/+ shift, or None when that leaves (EDGE, 1 - EDGE)."""
    p1 = p0 - shift if direction == "drop" else p0 + shift
    return p1 if EDGE <= p1 <= 1 - EDGE else None


def neutral_rate(p0: float, p1: float) -> float:
    """The true pass rate at which the CUSUM's expected increment is zero (it drifts up beyond it)."""
    up, down = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    return down / (down - up)


def pessimistic_rate(p0: float, p1: float, baseline_n: int | None, quantile: float = BASELINE_QUANTILE) -> float:
    """The in-control rate at which ARL0 is guaranteed: a posterior quantile toward p1, capped."""
    from scipy.stats import beta as beta_dist

    if baseline_n is None or baseline_n <= 0:
        return p0
    k = p0 * baseline_n
    q = quantile if p1 < p0 else 1 - quantile
    pq = float(beta_dist.ppf(q, k + 0.5, baseline_n - k + 0.5))
    # At the neutral rate no threshold gives a long ARL; cap halfway to it so that a very short
    # warm-up still yields a usable detector (the docs say the guarantee then needs a longer warm-up).
    cap = (p0 + neutral_rate(p0, p1)) / 2
    return max(pq, cap) if p1 < p0 else min(pq, cap)


@dataclass(frozen=True)
class CusumDesign:
    """A Bernoulli CUSUM for p0 -> p1 with an exact threshold (all in units of ``unit`` nats)."""

    p0: float
    p1: float
    inc_pass: int
    inc_fail: int
    threshold: int
    arl0: float
    unit: float = UNIT
    p_guard: float = 0.0

    @property
    def direction(self) -> Direction:
        """drop or rise."""
        return "drop" if self.p1 < self.p0 else "rise"

    @property
    def h_nats(self) -> float:
        """Threshold in nats."""
        return self.threshold * self.unit

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            k: getattr(self, k) for k in ("p0", "p1", "inc_pass", "inc_fail", "threshold", "arl0", "unit", "p_guard")
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CusumDesign:
        """Inverse of ``to_dict``."""
        return cls(**{k: data[k] for k in ("p0", "p1", "inc_pass", "inc_fail", "threshold", "arl0", "unit", "p_guard")})


#: Posterior quantiles (counted from the alternative's side) bounding the cells over which the
#: in-control alarm rate is averaged; the mass beyond the first is counted as an alarm on every probe.
CELL_EDGES: tuple[float, ...] = (1e-10, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 0.003, 0.01, 0.03, 0.1, 0.2, 0.35, 0.5)
#: Pessimistic reference rates tried, in order, when the estimate itself cannot keep the budget.
REFERENCE_QUANTILES: tuple[float, ...] = (0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)


def posterior_cells(p0: float, baseline_n: int, toward_low: bool) -> list[tuple[float, float]]:
    """(rate, weight) cells of the baseline's posterior Beta(k + 1/2, n - k + 1/2), k = p0 n.

    Each cell between two ``CELL_EDGES`` quantiles is taken at its end nearer the alternative (where
    a detector of that direction alarms most), the rest of the posterior at the median, and the mass
    beyond the first edge at rate 0 or 1 (every probe an alarm): averaging a detector's alarm rate
    over these cells bounds its posterior mean from above.
    """
    from scipy.stats import beta as beta_dist

    k = p0 * baseline_n
    post = beta_dist(k + 0.5, baseline_n - k + 0.5)
    edges = CELL_EDGES
    cells = [(0.0 if toward_low else 1.0, edges[0])]
    for lo, hi in zip(edges, (*edges[1:], 1.0), strict=True):
        rate = float(post.ppf(lo) if toward_low else post.isf(lo))
        cells.append((min(max(rate, 1e-9), 1 - 1e-9), hi - lo))
    return cells


def reference_rate(p0: float, baseline_n: int, toward_low: bool, quantile: float) -> float:
    """The baseline's posterior quantile ``quantile`` on the alternative's side (a pessimistic reference)."""
    from scipy.stats import beta as beta_dist

    k = p0 * baseline_n
    post = beta_dist(k + 0.5, baseline_n - k + 0.5)
    return float(post.ppf(quantile) if toward_low else post.isf(quantile))


def compute_design(
    p0: float, p1: float, arl0: float, baseline_n: int | None, quantile: float, unit: float | None
) -> CusumDesign:
    """``design``'s numerics, in this process (numpy/scipy): the worker's entry point (``offload``)."""
    if baseline_n is None or baseline_n <= 0:
        unit = auto_unit(p0, p1) if unit is None else unit
        inc_pass, inc_fail = increments(p0, p1, unit)
        h = threshold_for_arl(inc_pass, inc_fail, arl0, p0)
        return CusumDesign(p0, p1, inc_pass, inc_fail, h, arl0, unit, p0)
    toward_low = p1 < p0
    cells = posterior_cells(p0, baseline_n, toward_low)
    guard = pessimistic_rate(p0, p1, baseline_n, quantile)
    last: ValueError | None = None
    for q in (None, *REFERENCE_QUANTILES):
        ref = p0 if q is None else reference_rate(p0, baseline_n, toward_low, q)
        alt = ref + (p1 - p0)
        if not (EDGE / 2 < alt < 1 - EDGE / 2 and 0 < ref < 1):
            break
        neutral = neutral_rate(ref, alt)
        # Posterior mass on the wrong side of the neutral rate, where the statistic drifts up and
        # alarms within ~threshold/drift probes whatever the threshold: hopeless past 1000/ARL0.
        beyond = sum(w for r, w in cells if (r <= neutral if toward_low else r >= neutral))
        if beyond * 1e-3 > 1 / arl0:
            continue
        u = auto_unit(ref, alt) if unit is None else unit
        try:
            inc_pass, inc_fail = increments(ref, alt, u)
            h = threshold_for_average(inc_pass, inc_fail, arl0, cells)
        except ValueError as exc:
            last = exc
            continue
        return CusumDesign(ref, alt, inc_pass, inc_fail, h, arl0, u, guard)
    raise ValueError(f"no design for {p0}->{p1} at ARL0 {arl0:g} from {baseline_n} baseline probes") from last


@functools.lru_cache(maxsize=4096)
def design(
    p0: float,
    p1: float,
    arl0: float,
    *,
    baseline_n: int | None = None,
    quantile: float = BASELINE_QUANTILE,
    unit: float | None = None,
) -> CusumDesign:
    """Design a CUSUM for p0 -> p1 with in-control ARL >= arl0, guarded against baseline error.

    A known baseline (``baseline_n`` None): the threshold holds ARL0 at p0. An estimated one: the
    alarm rate averaged over the baseline's posterior is at most 1/arl0 (module docstring); when no
    threshold can do that at p0, the detector tests the same shift from the first pessimistic
    reference rate (``REFERENCE_QUANTILES``) at which one can, and its design's p0/p1 say so.
    ``p_guard`` reports the ``quantile`` posterior quantile (capped, ``pessimistic_rate``). Designs are
    cached: family scopes share their ARL0 and short warm-ups repeat the same estimates.
    """
    # Computed in a short-lived worker process, or here when scipy is loaded already (agent/stats/offload.py).
    from agent.stats.offload import design_fields

    return CusumDesign(*design_fields(p0, p1, arl0, baseline_n, quantile, unit))


@dataclass
class Cusum:
    """One running CUSUM. ``update`` returns True on the probe that crosses the threshold."""

    design: CusumDesign
    state: int = 0
    since_zero: int = 0
    passes_since_zero: int = 0

    def update(self, passed: bool) -> bool:
        """Feed one outcome."""
        d = self.design
        self.state = max(0, self.state + (d.inc_pass if passed else d.inc_fail))
        if self.state == 0:
            self.since_zero = self.passes_since_zero = 0
        else:
            self.since_zero += 1
            self.passes_since_zero += int(passed)
        return self.state >= d.threshold

    @property
    def statistic(self) -> float:
        """Current statistic in nats."""
        return self.state * self.design.unit

    def change_estimate(self) -> tuple[int, float | None]:
        """(probes since the estimated change, post-change pass rate) — the change is after the last zero."""
        if self.since_zero == 0:
            return 0, None
        return self.since_zero, self.passes_since_zero / self.since_zero

    def reset(self) -> None:
        """Back to zero."""
        self.state = self.since_zero = self.passes_since_zero = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "state": self.state,
            "since_zero": self.since_zero,
            "passes_since_zero": self.passes_since_zero,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore state saved by ``to_dict``."""
        self.state = int(data.get("state", 0))
        self.since_zero = int(data.get("since_zero", 0))
        self.passes_since_zero = int(data.get("passes_since_zero", 0))


#: Default grid of drop sizes (pass-ratio points) for the unknown-shift detector.
GLR_GRID: tuple[float, ...] = (0.05, 0.1, 0.2, 0.35)


@dataclass
class GridGlr:
    """Unknown-shift detector: the max of CUSUM arms over a grid of shifts, each at ARL0 x arms."""

    arms: list[Cusum] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        p0: float,
        arl0: float,
        direction: Direction = "drop",
        grid: Sequence[float] = GLR_GRID,
        *,
        baseline_n: int | None = None,
        quantile: float = BASELINE_QUANTILE,
    ) -> GridGlr:
        """Design every arm for its own shift with the budget split evenly between arms."""
        p1s = sorted({round(p1, 6) for s in grid if (p1 := alternative(p0, s, direction)) is not None})
        arms = []
        for p1 in p1s:
            try:
                arms.append(Cusum(design(p0, p1, arl0 * len(p1s), baseline_n=baseline_n, quantile=quantile)))
            except ValueError:
                continue  # a shift below resolution adds nothing
        return cls(arms)

    def update(self, passed: bool) -> bool:
        """Feed one outcome to every arm; True when any arm crosses."""
        fired = False
        for arm in self.arms:
            fired = arm.update(passed) or fired
        return fired

    @property
    def statistic(self) -> float:
        """max over arms of statistic / threshold: alarm at 1."""
        return max((a.state / a.design.threshold for a in self.arms), default=0.0)

    def leading(self) -> Cusum | None:
        """The arm closest to its threshold (its change estimate is the GLR's)."""
        return max(self.arms, key=lambda a: a.state / a.design.threshold, default=None)

    def reset(self) -> None:
        """All arms back to zero."""
        for arm in self.arms:
            arm.reset()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (designs included)."""
        return {"arms": [{"design": a.design.to_dict(), **a.to_dict()} for a in self.arms]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GridGlr:
        """Inverse of ``to_dict``."""
        arms = []
        for item in data.get("arms", []):
            arm = Cusum(CusumDesign.from_dict(item["design"]))
            arm.load(item)
            arms.append(arm)
        return cls(arms)


def arl0_for_budget(false_alarms_per_month: float, probes_per_month: float, detectors: int = 1) -> float:
    """In-control ARL (in probes) for one of ``detectors`` detectors sharing a monthly false-alarm budget."""
    if false_alarms_per_month <= 0 or probes_per_month <= 0 or detectors < 1:
        raise ValueError("budget, probe rate and detector count must be positive")
    # Union bound: the target's alarm rate is at most the sum of its detectors' rates r_j / ARL0_j.
    return max(probes_per_month * detectors / false_alarms_per_month, 2.0)
