"""Generalisation gradient: pass ratio by novelty level and its slope (pass-ratio change per level).

The slope is a weighted least-squares fit of the per-level pass ratios on the novelty level, with
weights n / (p(1-p)) from a pooled rate (so every level's binomial variance is honoured) and a normal
interval from the WLS standard error. A negative slope means the model does worse on unfamiliar phrasing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent.stats.intervals import wilson, z_quantile


@dataclass(frozen=True)
class LevelRatio:
    """Pass ratio at one novelty level with its Wilson interval."""

    novelty: int
    passes: int
    total: int
    ratio: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Gradient:
    """Slope of the pass ratio per novelty level with its interval, and the per-level ratios."""

    slope: float
    lower: float
    upper: float
    levels: tuple[LevelRatio, ...]


def novelty_gradient(
    novelties: Sequence[int], passes: Sequence[int], totals: Sequence[int], confidence: float = 0.95
) -> Gradient | None:
    """Per-level ratios and the WLS slope; None with fewer than two levels that have probes."""
    rows = [(int(v), int(k), int(n)) for v, k, n in zip(novelties, passes, totals, strict=True) if n > 0]
    if len(rows) < 2:
        return None
    levels = tuple(LevelRatio(v, k, n, k / n, *wilson(k, n, confidence)) for v, k, n in rows)
    pooled_k = sum(k for _, k, _ in rows)
    pooled_n = sum(n for _, _, n in rows)
    # Pooled rate, shrunk off 0 and 1, so a level with 0/n or n/n does not get infinite weight.
    p = (pooled_k + 0.5) / (pooled_n + 1.0)
    w = [n / (p * (1 - p)) for _, _, n in rows]
    x = [float(v) for v, _, _ in rows]
    y = [k / n for _, k, n in rows]
    sw = sum(w)
    xbar = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / sw
    ybar = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sw
    sxx = sum(wi * (xi - xbar) ** 2 for wi, xi in zip(w, x, strict=True))
    slope = sum(wi * (xi - xbar) * (yi - ybar) for wi, xi, yi in zip(w, x, y, strict=True)) / sxx
    se = math.sqrt(1.0 / sxx)  # known binomial variances: Var(slope) = 1 / Σ w (x - x̄)²
    z = z_quantile(confidence)
    return Gradient(slope, slope - z * se, slope + z * se, levels)
