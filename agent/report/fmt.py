"""Number formatting shared by the HTML and Markdown renderers (one way to write a figure)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from agent.report.model import Ratio

DASH = "–"


def pct(value: float | None, digits: int = 0) -> str:
    """A ratio as a percentage, or a dash."""
    return DASH if value is None or not math.isfinite(value) else f"{100 * value:.{digits}f}%"


def points(value: float | None) -> str:
    """A difference of ratios in percentage points, signed."""
    return DASH if value is None or not math.isfinite(value) else f"{100 * value:+.1f} pp"


def ratio(r: Ratio) -> str:
    """``81% (74–87%)`` with k/n, or a dash when nothing was scored."""
    if not r.n:
        return DASH
    return f"{pct(r.value)} ({pct(r.lower)}{DASH}{pct(r.upper)}), {r.k}/{r.n}"


def interval(lo: float | None, hi: float | None, fn: object = pct) -> str:
    """An interval written with the given formatter."""
    if lo is None or hi is None:
        return DASH
    f = fn if callable(fn) else pct
    return f"{f(lo)} {DASH} {f(hi)}"


def level(value: float) -> str:
    """A difficulty level, with open ends for infinite bounds."""
    if math.isinf(value):
        return "beyond" if value > 0 else "below"
    return f"{value:.1f}"


def usd(value: float | None) -> str:
    """Dollars with enough digits for per-answer cents."""
    if value is None:
        return "n/a (no price)"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def seconds(value: float | None) -> str:
    """A latency."""
    return DASH if value is None else f"{value:.2f} s"


def when(ts: float) -> str:
    """A UTC timestamp."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def p_value(p: float | None) -> str:
    """A p-value, never printed as exactly 0."""
    if p is None:
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def verdict(lower: float | None, upper: float | None, name: str, baseline: str) -> str:
    """Plain-language reading of a paired interval."""
    if lower is None or upper is None:
        return "no shared items"
    if lower > 0:
        return f"{name} better"
    if upper < 0:
        return f"{baseline} better"
    return "no clear difference"
