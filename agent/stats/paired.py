"""Paired comparison of two targets on identical items: McNemar's exact test and a paired interval.

Only discordant items (one passed, the other failed) carry information about the difference, so a
paired design needs several times fewer items than two independent samples. The interval is
Newcombe's hybrid score interval for paired proportions (method 10 of Newcombe 1998): Wilson limits
of both margins combined with the correlation phi, whose numerator AD − BC is continuity-corrected
(AD − BC − n/2 when that is positive, AD − BC when negative, else 0) as the paper specifies; the
p-value is the exact two-sided binomial test on the discordant pairs, in integer arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from agent.stats.intervals import wilson


@dataclass(frozen=True)
class PairedResult:
    """Pass ratio of a minus b on the same items, interval, exact McNemar p-value, items, discordant."""

    diff: float
    lower: float
    upper: float
    p_value: float
    n: int
    discordant: int


def sign_test(k: int, n: int) -> float:
    """Exact two-sided binomial test of k successes in n trials at p = 1/2 (McNemar's exact test).

    The distribution is symmetric, so the outcomes as unlikely as k are the two tails beyond
    min(k, n - k): p = 2 P(X <= min(k, n - k)), at most 1, computed exactly from binomial coefficients.
    """
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    low = min(k, n - k)
    if 2 * low == n:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(low + 1))
    return float(min(Fraction(2 * tail, 2**n), Fraction(1)))


def paired_difference(a: Sequence[bool], b: Sequence[bool], confidence: float = 0.95) -> PairedResult:
    """Compare two targets' outcomes item by item (a[i] and b[i] are the same item)."""
    if len(a) != len(b):
        raise ValueError("a and b must have one outcome per shared item")
    n = len(a)
    if n == 0:
        raise ValueError("no shared items")
    both = sum(1 for x, y in zip(a, b, strict=True) if x and y)
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    neither = n - both - only_a - only_b
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson(both + only_a, n, confidence)
    l2, u2 = wilson(both + only_b, n, confidence)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = corrected / math.sqrt(denom) if denom > 0 else 0.0
    d = p1 - p2
    dl = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    du = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    lower = d - math.sqrt(max(dl, 0.0))
    upper = d + math.sqrt(max(du, 0.0))
    disc = only_a + only_b
    p_value = 1.0 if disc == 0 else sign_test(only_a, disc)
    return PairedResult(d, max(-1.0, lower), min(1.0, upper), p_value, n, disc)
