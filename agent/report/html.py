"""``render_html``: one self-contained page (inline CSS and SVG charts, no scripts, no network)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from html import escape

from agent.report import fmt
from agent.report.charts import (
    drift_chart,
    frontier_chart,
    leakage_chart,
    level_ticks,
    paired_chart,
    small_multiples,
)
from agent.report.model import Ratio, Report
from agent.report.text import SECTIONS, highlights, method, section

_CSS = """
body{font-family:system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f6f7f9;
color:#1b1f24}
main{max-width:1180px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{font-size:26px;margin:8px 0 4px}
h2{font-size:20px;margin:36px 0 6px;border-bottom:2px solid #e3e6ea;padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px}p.explain{color:#3d4650;margin:4px 0 12px;max-width:900px}
p.meta{color:#5a6570;margin:0 0 16px}table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #dde1e6;padding:5px 9px;text-align:left;vertical-align:top}th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}.chart{margin:8px 0 12px}
.chart svg{max-width:100%;height:auto}.note{background:#fff8c5;padding:8px 12px}
footer{color:#5a6570;font-size:12px;margin-top:40px}
.toc{font-size:13px}.toc a{color:#0b5cad}
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    out = ["<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        cells = (f"<td{' class=num' if i in numeric else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _section(key: str, confidence: float, body: str) -> str:
    title, explain = section(key, confidence)
    head = f'<h2>{escape(title)}</h2><p class="explain">{escape(explain)}</p>'
    return f'<section id="{key}">{head}{body}</section>'


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def _empty(what: str) -> str:
    return f"<p>No data for {escape(what)} in this period.</p>"


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>capmon capability report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>Model capability report</h1>",
        f'<p class="meta">{escape(fmt.when(report.since))} to {escape(fmt.when(report.until))} · '
        f"{len(report.targets)} endpoint(s): {escape(', '.join(report.targets))} · "
        f"generated {escape(fmt.when(report.generated))} by capmon</p>",
        *(f'<p class="note">{escape(n)}</p>' for n in report.notes),
        _glance(report),
        _summary(report),
        _curves(report),
        _frontier(report),
        _gradient(report),
        _leakage(report),
        _consistency(report),
        _drift(report),
        _changes(report),
        _groups(report),
        _versions(report),
        f"<footer><h3>Method</h3><p>{escape(method(report.confidence))}</p></footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _glance(report: Report) -> str:
    items = "".join(f"<li>{escape(h)}</li>" for h in highlights(report))
    toc = " · ".join(f'<a href="#{k}">{escape(title)}</a>' for k, (title, _) in SECTIONS.items())
    return f'<section id="glance"><h2>At a glance</h2><ul>{items}</ul><p class="toc">{toc}</p></section>'


def _summary(report: Report) -> str:
    head = [
        "endpoint",
        "provider / model",
        "pass ratio (95% interval), passed/scored",
        "probes",
        "errors",
        "latency p50",
        "latency p95",
        "tokens in / out",
        "cost",
        "cost per correct answer",
        "overall ability (logit scale, higher is better)",
    ]
    rows = []
    for s in report.summaries:
        reasons = ", ".join(f"{k} {v}" for k, v in s.error_reasons.items())
        models = fmt.reported_models(s.response_models)  # escaped with the whole cell by _table
        ability = (
            DASH
            if s.ability_logits is None
            else f"{s.ability_logits:+.2f} ({fmt.interval(s.ability_lower, s.ability_upper, _logit)})"
        )
        rows.append(
            [
                s.target + (f" [group {s.group}]" if s.group else ""),
                f"{s.provider} / {s.model}{models}",
                fmt.ratio(s.pass_ratio),
                str(s.probes),
                f"{s.errors}" + (f" ({reasons})" if reasons else ""),
                fmt.seconds(s.latency_p50_s),
                fmt.seconds(s.latency_p95_s),
                f"{s.input_tokens:,} / {s.output_tokens:,}",
                fmt.usd(s.cost_usd),
                fmt.usd(s.cost_per_correct_usd) if s.cost_usd is not None else fmt.usd(None),
                ability,
            ]
        )
    return _section("summary", report.confidence, _table(head, rows, {3, 5, 6}))


DASH = fmt.DASH


def _logit(v: float) -> str:
    return f"{v:+.2f}"


def _curves(report: Report) -> str:
    series: dict[str, dict[str, list[tuple[float, Ratio]]]] = defaultdict(lambda: defaultdict(list))
    for p in report.curves:
        series[p.family][p.target].append((p.difficulty, p.ratio))
    if not series:
        return _section("curves", report.confidence, _empty("capability curves"))
    svg = small_multiples(series, report.targets, "difficulty level", "curves", level_ticks(report.levels))
    return _section("curves", report.confidence, _chart(svg))


def _versions(report: Report) -> str:
    if not report.versions:
        return _section("versions", report.confidence, _empty("generator versions"))
    rows = [
        [v.family, v.target, v.version, str(v.probes), fmt.when(v.first_ts), fmt.when(v.last_ts)]
        for v in report.versions
    ]
    head = ["skill", "endpoint", "generator version", "scored probes", "first", "last"]
    return _section("versions", report.confidence, _table(head, rows, {3}))


def _frontier(report: Report) -> str:
    if not report.frontiers:
        return _section("frontier", report.confidence, _empty("the frontier"))
    rows = [
        [
            f.family,
            f.target,
            fmt.level(f.d50),
            fmt.level_interval(f.lower, f.upper),
            fmt.censoring(f.censored),
            str(f.n),
        ]
        for f in sorted(report.frontiers, key=lambda f: (f.family, f.target))
    ]
    table = _table(["skill", "endpoint", "frontier level", "95% interval", "note", "probes"], rows, {2, 5})
    return _section(
        "frontier",
        report.confidence,
        _chart(frontier_chart(report.frontiers, report.targets, "frontier", report.levels)) + table,
    )


def _gradient(report: Report) -> str:
    if not report.gradients:
        return _section("gradient", report.confidence, _empty("the novelty gradient"))
    series: dict[str, dict[str, list[tuple[float, Ratio]]]] = defaultdict(lambda: defaultdict(list))
    levels: set[int] = set()
    for g in report.gradients:
        for lvl, r in g.by_novelty.items():
            series[g.family][g.target].append((lvl, r))
            levels.add(lvl)
    rows = [
        [
            g.family,
            g.target,
            " · ".join(f"{lvl}: {fmt.pct(r.value)}" for lvl, r in sorted(g.by_novelty.items())),
            fmt.points(g.slope),
            fmt.interval(g.lower, g.upper, fmt.points),
        ]
        for g in sorted(report.gradients, key=lambda g: (g.family, g.target))
    ]
    body = ""
    if len(levels) > 1:
        body += _chart(small_multiples(series, report.targets, "novelty level", "gradient", sorted(levels)))
    else:
        body += "<p>Only one novelty level was probed, so no slope can be estimated.</p>"
    body += _table(["skill", "endpoint", "pass ratio by novelty level", "slope per level", "95% interval"], rows)
    return _section("gradient", report.confidence, body)


def _leakage(report: Report) -> str:
    if not report.leakage:
        return _section("leakage", report.confidence, _empty("published (static) questions"))
    rows = [
        [
            r.family,
            r.target,
            fmt.ratio(r.static),
            fmt.ratio(r.fresh),
            fmt.points(r.gap),
            fmt.interval(r.lower, r.upper, fmt.points),
        ]
        for r in sorted(report.leakage, key=lambda r: (r.family, r.target))
    ]
    body = ""
    if any(r.gap is not None for r in report.leakage):
        body += _chart(leakage_chart(report.leakage, report.targets, "leakage"))
    body += _table(["skill", "endpoint", "published questions", "fresh questions", "gap", "95% interval"], rows)
    return _section("leakage", report.confidence, body)


def _consistency(report: Report) -> str:
    if not report.consistency:
        return _section("consistency", report.confidence, _empty("problems asked in several wordings"))
    rows = [
        [c.family, c.target, fmt.pct(c.ratio), str(c.items)]
        for c in sorted(report.consistency, key=lambda c: (c.family, c.target))
    ]
    return _section(
        "consistency", report.confidence, _table(["skill", "endpoint", "same answer", "problems"], rows, {2, 3})
    )


def _drift(report: Report) -> str:
    if not report.drift:
        return _section("drift", report.confidence, _empty("the timeline"))
    body = _chart(drift_chart(report.drift, report.change_points, report.targets, "drift"))
    if report.change_points:
        rows = [
            [
                fmt.when(c.ts),
                c.target,
                c.scope,
                c.detector,
                c.direction,
                fmt.points(c.size),
            ]
            for c in report.change_points
        ]
        body += _table(["time", "endpoint", "skill", "detector", "direction", "size"], rows)
    else:
        body += "<p>No change points were detected in this period.</p>"
    return _section("drift", report.confidence, body)


#: Characters of a canary answer shown before and after a change point.
EXAMPLE_CHARS = 400


def _changes(report: Report) -> str:
    if not report.change_points:
        return _section("changes", report.confidence, "<p>No change points were detected in this period.</p>")
    body = []
    for target in report.targets:
        points = [c for c in report.change_points if c.target == target]
        if not points:
            continue
        body.append(f"<h3>{escape(target)}</h3>")
        for c in points:
            what = c.headline or "no signal moved beyond its own noise"
            body.append(
                f"<p><strong>{escape(fmt.when(c.ts))} · {escape(c.scope)} {escape(c.detector)} "
                f"{escape(c.direction)}</strong>: {escape(what)}</p>"
            )
            still = [m for m in c.evidence if not m.get("moved")]
            if still:
                shown = "; ".join(str(m.get("text")) for m in still)
                body.append(f'<p class="explain">Unchanged: {escape(shown)}</p>')
            if c.example is not None:
                ex = c.example
                body.append(
                    _table(
                        ["", "answer to the same question"],
                        [
                            ["question", (ex.prompt or "")[:EXAMPLE_CHARS]],
                            [f"before ({fmt.when(ex.before_ts)})", (ex.before or "")[:EXAMPLE_CHARS]],
                            [f"after ({fmt.when(ex.after_ts)})", (ex.after or "")[:EXAMPLE_CHARS]],
                        ],
                    )
                )
    return _section("changes", report.confidence, "".join(body))


def _groups(report: Report) -> str:
    if not report.groups:
        return _section(
            "groups",
            report.confidence,
            "<p>No comparison group (two or more endpoints sharing a <code>group</code>) in this report.</p>",
        )
    body = []
    for card in report.groups:
        overall = {r.target: r for r in card.rows if r.family == "all"}
        head = [
            "endpoint",
            "pass ratio (95% interval)",
            "cost per correct answer",
            f"difference vs {card.baseline} on shared items",
            "95% interval",
            "p-value",
            "reading",
        ]
        rows = []
        for m in card.members:
            r = overall.get(m)
            rows.append(
                [
                    m + (" (baseline)" if m == card.baseline else ""),
                    fmt.ratio(card.pass_ratio[m]),
                    fmt.usd(card.cost_per_correct_usd[m]),
                    DASH if r is None else f"{fmt.points(r.difference)} on {r.pairs} items",
                    DASH if r is None else fmt.interval(r.lower, r.upper, fmt.points),
                    DASH if r is None else fmt.p_value(r.p_value),
                    "reference" if r is None else fmt.verdict(r, report.confidence),
                ]
            )
        detail = [
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
        ]
        body.append(f"<h3>Group {escape(card.group)}: {escape(', '.join(card.members))}</h3>")
        body.append(_table(head, rows))
        if any(r.difference is not None for r in card.rows):
            body.append(_chart(paired_chart(card, f"paired-{card.group}")))
        body.append(
            _table(
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
                detail,
                {2},
            )
        )
    return _section("groups", report.confidence, "".join(body))
