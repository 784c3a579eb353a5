"""Leakage gap: static canary items' pass ratio minus fresh items' pass ratio, with Newcombe's interval.

Static items are the same every run (and published); fresh ones are new from a private salt. A
positive gap that grows over time means the static items, or logged probes, are being learned.
The fresh side is standardised to the static items' mix of difficulty and novelty
(``standardised_fresh``), so the gap is not an artefact of the two being spread differently.
The interval is Newcombe's hybrid score interval for a difference of independent proportions
(method 10 of Newcombe 1998), built from the two Wilson intervals: good coverage even near 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from agent.stats.intervals import wilson

Cell = TypeVar("Cell", bound=Hashable)


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


def standardised_fresh(
    static: Mapping[Cell, tuple[int, int]], fresh: Mapping[Cell, tuple[int, int]]
) -> tuple[int, int, int, int]:
    """Static (passes, total) in the cells fresh items cover, and fresh (passes, total) reweighted to them.

    Cells are (passes, total) per (difficulty, novelty) — or any finer key. Static and fresh items
    are spread differently over the cells; pooling them as they come would compare different mixes
    (Simpson's paradox) and show a gap where there is none. Each cell's fresh pass ratio is weighted
    by the static items in that cell; the effective sample size (Kish) is the n a plain ratio with
    the same variance would have. Returns (0, 0, 0, 0) when no static cell has fresh items.
    """
    weights = {c: sn for c, (_, sn) in static.items() if sn and fresh.get(c, (0, 0))[1]}
    total = sum(weights.values())
    if not total:
        return 0, 0, 0, 0
    static_passes = sum(static[c][0] for c in weights)
    ratio = sum(w / total * fresh[c][0] / fresh[c][1] for c, w in weights.items())
    # Shrunk off 0 and 1 so that a cell with 0/n or n/n still carries variance.
    var = sum(
        (w / total) ** 2
        * ((fresh[c][0] + 0.5) / (fresh[c][1] + 1))
        * (1 - (fresh[c][0] + 0.5) / (fresh[c][1] + 1))
        / fresh[c][1]
        for c, w in weights.items()
    )
    shrunk = min(max(ratio, 0.5 / total), 1 - 0.5 / total)
    n_eff = max(1, round(shrunk * (1 - shrunk) / var)) if var > 0 else sum(fresh[c][1] for c in weights)
    return static_passes, total, round(ratio * n_eff), n_eff
