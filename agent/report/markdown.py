"""``render_markdown``: the report's tables and explanations as Markdown (charts only in the HTML).

Values an endpoint supplied (the model names it reported) pass through ``untrusted``: HTML-escaped
and with Markdown's punctuation backslash-escaped, so wherever the ``.md`` is rendered they are
text, never markup, links or images; at most ``fmt.MAX_REPORTED_MODELS`` are listed per target.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from agent.report import fmt
from agent.report.model import Report
from agent.report.text import highlights, method, section

#: Characters that start Markdown emphasis, code, links, images, headings or HTML ("|" is ``_cell``'s).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#!~])")


def untrusted(text: str) -> str:
    """Endpoint-supplied text as inert Markdown: HTML-escaped, Markdown punctuation escaped, one line."""
    one_line = " ".join(text.split())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(one_line, quote=True))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return [*lines, ""]


def _heading(key: str, confidence: float) -> list[str]:
    title, explain = section(key, confidence)
    return [f"## {title}", "", explain, ""]


def render_markdown(report: Report) -> str:
    """The whole report as Markdown."""
    out = [
        "# Model capability report",
        "",
        f"{fmt.when(report.since)} to {fmt.when(report.until)} · endpoints: {', '.join(report.targets)} · "
        f"generated {fmt.when(report.generated)} by capmon",
        "",
    ]
    out += [f"> {n}" for n in report.notes] + ([""] if report.notes else [])
    out += ["## At a glance", "", *[f"- {h}" for h in highlights(report)], ""]
    out += _heading("summary", report.confidence)
    out += _table(
        [
            "endpoint",
            "provider / model",
            "pass ratio (95% interval)",
            "probes",
            "errors",
            "latency p50 / p95",
            "tokens in / out",
            "cost",
            "cost per correct answer",
        ],
        (
            [
                s.target + (f" [group {s.group}]" if s.group else ""),
                f"{s.provider} / {s.model}" + fmt.reported_models([untrusted(m) for m in s.response_models]),
                fmt.ratio(s.pass_ratio),
                str(s.probes),
                str(s.errors)
                + (" (" + ", ".join(f"{k} {v}" for k, v in s.error_reasons.items()) + ")" if s.errors else ""),
                f"{fmt.seconds(s.latency_p50_s)} / {fmt.seconds(s.latency_p95_s)}",
                f"{s.input_tokens:,} / {s.output_tokens:,}",
                fmt.usd(s.cost_usd),
                fmt.usd(s.cost_per_correct_usd) if s.cost_usd is not None else fmt.usd(None),
            ]
            for s in report.summaries
        ),
    )
    out += _heading("curves", report.confidence)
    out += _table(
        ["skill", "endpoint", *[str(d) for d in report.levels]],
        (
            [family, target, *[_curve_cell(report, family, target, d) for d in report.levels]]
            for family in report.families
            for target in report.targets
            if any(p.family == family and p.target == target for p in report.curves)
        ),
    )
    out += _heading("frontier", report.confidence)
    out += _table(
        ["skill", "endpoint", "frontier level", "95% interval", "probes"],
        (
            [
                f.family,
                f.target,
                fmt.level(f.d50) + (f" ({fmt.censoring(f.censored)})" if f.censored != "none" else ""),
                fmt.level_interval(f.lower, f.upper),
                str(f.n),
            ]
            for f in report.frontiers
        ),
    )
    out += _heading("gradient", report.confidence)
    out += _table(
        ["skill", "endpoint", "pass ratio by novelty level", "slope per level", "95% interval"],
        (
            [
                g.family,
                g.target,
                " · ".join(f"{lvl}: {fmt.pct(r.value)}" for lvl, r in sorted(g.by_novelty.items())),
                fmt.points(g.slope),
                fmt.interval(g.lower, g.upper, fmt.points),
            ]
            for g in report.gradients
        ),
    )
    out += _heading("leakage", report.confidence)
    out += _table(
        ["skill", "endpoint", "published questions", "fresh questions", "gap", "95% interval"],
        (
            [
                r.family,
                r.target,
                fmt.ratio(r.static),
                fmt.ratio(r.fresh),
                fmt.points(r.gap),
                fmt.interval(r.lower, r.upper, fmt.points),
            ]
            for r in report.leakage
        ),
    )
    out += _heading("consistency", report.confidence)
    out += _table(
        ["skill", "endpoint", "same answer", "problems"],
        ([c.family, c.target, fmt.pct(c.ratio), str(c.items)] for c in report.consistency),
    )
    out += _heading("drift", report.confidence)
    out += _table(
        ["bucket start", "endpoint", "pass ratio (95% interval)"],
        ([fmt.when(b.start), b.target, fmt.ratio(b.ratio)] for b in report.drift),
    )
    if report.change_points:
        out += ["Detected change points:", ""]
        out += _table(
            ["time", "endpoint", "skill", "detector", "direction", "size"],
            (
                [fmt.when(c.ts), c.target, c.scope, c.detector, c.direction, fmt.points(c.size)]
                for c in report.change_points
            ),
        )
    else:
        out += ["No change points were detected in this period.", ""]
    out += _changes(report)
    out += _heading("groups", report.confidence)
    if not report.groups:
        out += ["No comparison group (two or more endpoints sharing a `group`) in this report.", ""]
    for card in report.groups:
        out += [f"### Group {card.group}: {', '.join(card.members)}", ""]
        out += _table(
            ["endpoint", "pass ratio (95% interval)", "cost per correct answer"],
            (
                [
                    m + (" (baseline)" if m == card.baseline else ""),
                    fmt.ratio(card.pass_ratio[m]),
                    fmt.usd(card.cost_per_correct_usd[m]),
                ]
                for m in card.members
            ),
        )
        out += _table(
            [
                "skill",
                "endpoint",
                "shared items",
                "its pass ratio",
                "baseline's",
                "only it / only baseline passed",
                "difference",
                "95% interval",
                "p-value",
                "reading",
            ],
            (
                [
                    r.family,
                    r.target,
                    str(r.pairs),
                    fmt.pct(r.target_ratio),
                    fmt.pct(r.baseline_ratio),
                    f"{r.only_target} / {r.only_baseline}",
                    fmt.points(r.difference),
                    fmt.interval(r.lower, r.upper, fmt.points),
                    fmt.p_value(r.p_value),
                    fmt.verdict(r, report.confidence),
                ]
                for r in card.rows
            ),
        )
    out += _heading("versions", report.confidence)
    out += _table(
        ["skill", "endpoint", "generator version", "scored probes", "first", "last"],
        (
            [v.family, v.target, v.version, str(v.probes), fmt.when(v.first_ts), fmt.when(v.last_ts)]
            for v in report.versions
        ),
    )
    out += ["## Method", "", method(report.confidence), ""]
    return "\n".join(out)


def _curve_cell(report: Report, family: str, target: str, difficulty: int) -> str:
    for p in report.curves:
        if p.family == family and p.target == target and p.difficulty == difficulty:
            return f"{fmt.pct(p.ratio.value)} ({p.ratio.n})"
    return fmt.DASH


def _changes(report: Report) -> list[str]:
    out = _heading("changes", report.confidence)
    if not report.change_points:
        return [*out, "No change points were detected in this period.", ""]
    for target in report.targets:
        points = [c for c in report.change_points if c.target == target]
        if not points:
            continue
        out += [f"### {target}", ""]
        for c in points:
            what = c.headline or "no signal moved beyond its own noise"
            out += [f"- **{fmt.when(c.ts)} · {c.scope} {c.detector} {c.direction}**: {what}"]
            if c.example is not None:
                ex = c.example
                out += [
                    f"  - question: {_one_line(ex.prompt)}",
                    f"  - before ({fmt.when(ex.before_ts)}): {_one_line(ex.before)}",
                    f"  - after ({fmt.when(ex.after_ts)}): {_one_line(ex.after)}",
                ]
        out += [""]
    return out


def _one_line(text: str | None, limit: int = 200) -> str:
    return " ".join((text or "").split())[:limit]
