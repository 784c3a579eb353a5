"""Number formatting shared by the HTML and Markdown renderers (one way to write a figure)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from agent.report.model import PairedRow, Ratio

DASH = "–"
#: Model names an endpoint reported, shown per target at most (the rest as "+N more").
MAX_REPORTED_MODELS = 5


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


def level_interval(lower: float, upper: float) -> str:
    """A frontier interval; an infinite end means the data only bound it from one side."""
    if math.isinf(lower) and math.isinf(upper):
        return "anywhere"
    if math.isinf(lower):
        return f"below {upper:.1f}"
    if math.isinf(upper):
        return f"above {lower:.1f}"
    return f"{lower:.1f} {DASH} {upper:.1f}"


def censoring(censored: str) -> str:
    """What a censored frontier means."""
    return {"above": "above the tested levels", "below": "below the tested levels"}.get(censored, "")


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


def verdict(row: PairedRow, confidence: float) -> str:
    """Plain-language reading of a paired comparison.

    "Better" needs both the interval to exclude zero and McNemar's exact test to reject at the same
    level: with few discordant items the two can disagree, and a reviewer should not be told both.
    """
    if row.lower is None or row.upper is None or row.p_value is None:
        return "no shared items"
    if row.p_value < 1 - confidence:
        if row.lower > 0:
            return f"{row.target} better"
        if row.upper < 0:
            return f"{row.baseline} better"
    return "no clear difference"


def reported_models(models: list[str]) -> str:
    """The model names an endpoint reported (endpoint-supplied: the renderer escapes them), at most
    ``MAX_REPORTED_MODELS`` of them, as `` → a, b (+3 more)``; empty when there are none."""
    if not models:
        return ""
    shown = ", ".join(models[:MAX_REPORTED_MODELS])
    more = len(models) - MAX_REPORTED_MODELS
    return f" → {shown}" + (f" (+{more} more)" if more > 0 else "")
