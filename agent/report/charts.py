"""Charts for the report as inline SVG strings (matplotlib, Agg-free: no pyplot, no global state)."""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from agent.report.model import ChangePoint, DriftBucket, FrontierRow, GroupScorecard, LeakageRow, Ratio

#: Matplotlib's tab10: distinguishable, and readable by most colour-blind readers.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
#: Typed loosely: matplotlib types rc keys as a Literal of every known key.
_RC: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "capmon",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
Series = Mapping[str, Mapping[str, Sequence[tuple[float, Ratio]]]]


def colours(targets: Sequence[str]) -> dict[str, str]:
    """A fixed colour per target, the same in every chart."""
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(targets)}


def to_svg(fig: Figure, prefix: str) -> str:
    """Serialise a figure to an inline ``<svg>`` whose ids cannot clash with other charts on the page."""
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "capmon"}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    # Inline SVGs share one id namespace in an HTML page; matplotlib reuses ids across figures.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    # Natural size (points) so text stays the same size in every chart; CSS shrinks it on narrow pages.
    return svg


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def small_multiples(series: Series, targets: Sequence[str], xlabel: str, prefix: str, xticks: Sequence[int]) -> str:
    """One panel per family: pass ratio against ``xlabel`` with a Wilson band, one line per target."""
    families = sorted(series)
    cols = min(3, max(1, len(families)))
    rows = max(1, math.ceil(len(families) / cols))
    colour = colours(targets)
    with matplotlib.rc_context(_RC):
        fig = _figure(3.4 * cols, 2.4 * rows + 0.4)
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        for i, ax in enumerate(axes.flat):
            if i >= len(families):
                ax.set_visible(False)
                continue
            family = families[i]
            for target in targets:
                pts = sorted(series[family].get(target, []), key=lambda p: p[0])
                if not pts:
                    continue
                x = [p[0] for p in pts]
                ax.fill_between(
                    x,
                    [p[1].lower for p in pts],
                    [p[1].upper for p in pts],
                    color=colour[target],
                    alpha=0.15,
                    linewidth=0,
                )
                ax.plot(x, [p[1].value for p in pts], marker="o", markersize=3, color=colour[target], label=target)
            ax.set_title(family)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xticks(list(xticks))
            ax.grid(alpha=0.3)
            if i % cols == 0:
                ax.set_ylabel("pass ratio")
            ax.set_xlabel(xlabel)
        _legend(fig, targets, colour)
    return to_svg(fig, prefix)


def _legend(fig: Figure, targets: Sequence[str], colour: Mapping[str, str]) -> None:
    handles = [Line2D([], [], color=colour[t], marker="o", label=t) for t in targets]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(targets), 5), frameon=False)


def level_ticks(levels: Sequence[int], most: int = 10) -> list[int]:
    """Axis ticks over the probed levels: all of them up to ``most``, else an even spread with both ends."""
    lv = sorted(set(levels))
    if len(lv) <= most:
        return lv
    lo, hi = lv[0], lv[-1]
    step = max(1, math.ceil((hi - lo) / (most - 1)))
    return sorted({*range(lo, hi, step), hi})


def frontier_chart(rows: Sequence[FrontierRow], targets: Sequence[str], prefix: str, levels: Sequence[int] = ()) -> str:
    """Per family, the difficulty level each target passes half the time, with its interval.

    The axis spans the levels probed (``levels``; the rows' estimates when none are given).
    """
    families = sorted({r.family for r in rows})
    span = list(levels) or [round(r.d50) for r in rows] or [1]
    left, right = min(span) - 0.5, max(span) + 0.5
    colour = colours(targets)
    with matplotlib.rc_context(_RC):
        fig = _figure(10.2, 0.3 * len(families) * max(1, len(targets)) ** 0.5 + 1.3)
        ax = fig.subplots()
        step = 0.7 / max(1, len(targets))
        for j, target in enumerate(targets):
            for r in rows:
                if r.target != target:
                    continue
                y = families.index(r.family) + (j - (len(targets) - 1) / 2) * step
                lo = max(r.lower, left) if math.isfinite(r.lower) else left
                hi = min(r.upper, right) if math.isfinite(r.upper) else right
                ax.plot([lo, hi], [y, y], color=colour[target], linewidth=2, alpha=0.6)
                marker = {"above": ">", "below": "<"}.get(r.censored, "o")
                ax.plot([min(max(r.d50, left), right)], [y], marker=marker, color=colour[target], markersize=6)
        ax.set_yticks(range(len(families)), families)
        ax.set_xlim(left, right)
        ax.set_xticks(level_ticks([round(left + 0.5), round(right - 0.5), *span]))
        ax.set_xlabel("difficulty level passed half the time (▶ above / ◀ below the tested range)")
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        _legend(fig, targets, colour)
    return to_svg(fig, prefix)


def leakage_chart(rows: Sequence[LeakageRow], targets: Sequence[str], prefix: str) -> str:
    """Static-minus-fresh pass ratio per family and target, with intervals around a zero line."""
    usable = [r for r in rows if r.gap is not None]
    families = sorted({r.family for r in usable})
    colour = colours(targets)
    with matplotlib.rc_context(_RC):
        fig = _figure(10.2, 0.3 * len(families) * max(1, len(targets)) ** 0.5 + 1.3)
        ax = fig.subplots()
        step = 0.7 / max(1, len(targets))
        for j, target in enumerate(targets):
            for r in usable:
                if r.target != target or r.gap is None or r.lower is None or r.upper is None:
                    continue
                y = families.index(r.family) + (j - (len(targets) - 1) / 2) * step
                ax.errorbar(
                    [r.gap],
                    [y],
                    xerr=[[r.gap - r.lower], [r.upper - r.gap]],
                    fmt="o",
                    color=colour[target],
                    capsize=3,
                )
        ax.axvline(0, color="#444", linewidth=1)
        ax.set_yticks(range(len(families)), families)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("static minus fresh pass ratio (right of 0: static items easier than fresh ones)")
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        _legend(fig, targets, colour)
    return to_svg(fig, prefix)


def drift_chart(
    buckets: Sequence[DriftBucket], points: Sequence[ChangePoint], targets: Sequence[str], prefix: str
) -> str:
    """Pass ratio over time per target, with its band, and the detected change points as vertical lines."""
    colour = colours(targets)
    by_target: dict[str, list[DriftBucket]] = defaultdict(list)
    for b in buckets:
        by_target[b.target].append(b)
    shown = [t for t in targets if by_target.get(t)]
    with matplotlib.rc_context(_RC):
        fig = _figure(10.2, 1.5 * max(1, len(shown)) + 0.6)
        axes = fig.subplots(max(1, len(shown)), 1, squeeze=False, sharex=True)
        for ax, target in zip(axes.flat, shown or [""], strict=False):
            rows = by_target.get(target, [])
            x = [_num((b.start + b.end) / 2) for b in rows]
            ax.fill_between(
                x,
                [b.ratio.lower for b in rows],
                [b.ratio.upper for b in rows],
                color=colour.get(target, "#888"),
                alpha=0.15,
                linewidth=0,
            )
            ax.plot(x, [b.ratio.value for b in rows], marker="o", markersize=3, color=colour.get(target, "#888"))
            for cp in points:
                if cp.target != target:
                    continue
                at = _num(cp.ts)
                ax.axvline(
                    at,
                    color="#d62728" if cp.direction == "drop" else "#2ca02c",
                    linestyle="--",
                    linewidth=1.2,
                )
                ax.annotate(
                    f"{cp.direction} ({cp.detector})",
                    (at, 0.98),
                    fontsize=7,
                    rotation=90,
                    va="top",
                    ha="right",
                )
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("pass ratio")
            ax.set_title(target, loc="left")
            ax.grid(alpha=0.3)
            locator = AutoDateLocator()  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.flat[-1].set_xlabel("time (UTC)")
    return to_svg(fig, prefix)


def _num(ts: float) -> float:
    """A UNIX time as a matplotlib date number."""
    return float(date2num(datetime.fromtimestamp(ts, UTC)))  # type: ignore[no-untyped-call]


def paired_chart(card: GroupScorecard, prefix: str) -> str:
    """Forest plot: each member minus the baseline on identical items, per family, with intervals."""
    rows = [r for r in card.rows if r.difference is not None]
    families = ["all", *sorted({r.family for r in rows} - {"all"})]
    members = [m for m in card.members if m != card.baseline]
    colour = colours(card.members)
    with matplotlib.rc_context(_RC):
        fig = _figure(10.2, 0.3 * len(families) * max(1, len(members)) ** 0.5 + 1.3)
        ax = fig.subplots()
        step = 0.7 / max(1, len(members))
        for j, member in enumerate(members):
            for r in rows:
                if r.target != member or r.difference is None or r.lower is None or r.upper is None:
                    continue
                y = families.index(r.family) + (j - (len(members) - 1) / 2) * step
                ax.errorbar(
                    [r.difference],
                    [y],
                    xerr=[[r.difference - r.lower], [r.upper - r.difference]],
                    fmt="o",
                    color=colour[member],
                    capsize=3,
                )
        ax.axvline(0, color="#444", linewidth=1)
        ax.set_yticks(range(len(families)), families)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(f"pass ratio minus {card.baseline}'s on the same items (right of 0: better)")
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        _legend(fig, members, colour)
    return to_svg(fig, prefix)
