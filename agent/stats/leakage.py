"""Leakage gap: static canary items' pass ratio minus fresh items' pass ratio, with Newcombe's interval.

Static items are the same every run (and published); fresh ones are new from a private salt. A
positive gap that grows over time means the static items, or logged probes, are being learned.
The interval is Newcombe's hybrid score interval for a difference of independent proportions
(method 10 of Newcombe 1998), built from the two Wilson intervals: good coverage even near 0 and 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.stats.intervals import wilson


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its interval."""

    diff: float
    lower: float
    upper: float
    n1: int
    n2: int


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> Difference:
    """Newcombe hybrid score interval for p1 - p2 (independent samples)."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one probe")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, max(-1.0, lower), min(1.0, upper), n1, n2)


def leakage_gap(
    static_passes: int, static_total: int, fresh_passes: int, fresh_total: int, confidence: float = 0.95
) -> Difference | None:
    """Static minus fresh pass ratio; None when either side has no probes."""
    if static_total <= 0 or fresh_total <= 0:
        return None
    return newcombe_difference(static_passes, static_total, fresh_passes, fresh_total, confidence)
