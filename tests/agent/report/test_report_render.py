"""render_html / render_markdown: self-contained, complete, escaped, and free of secrets."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from agent.report import Report, build_report, render_html, render_markdown
from agent.report.text import SECTIONS
from tests.agent.report.report_fixtures import SimLedger


@pytest.fixture(scope="module")
def report(ledger: SimLedger) -> Report:
    return build_report(ledger.store, ledger.targets, ledger.since, ledger.until)


@pytest.fixture(scope="module")
def html(report: Report) -> str:
    return render_html(report)


def test_every_section_and_chart_is_there(html: str, report: Report) -> None:
    for title, _ in SECTIONS.values():
        assert title.replace("&", "&amp;") in html
    # curves, frontier, gradient, leakage, drift, and one paired chart for the group
    assert html.count("<svg") == 6
    assert html.count("</svg>") == 6
    for target in report.targets:
        assert target in html
    assert "cusum_drop_10" in html  # the change point inside the period is listed


def test_self_contained(html: str) -> None:
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "url(http" not in html and "@import" not in html


def test_ids_are_unique_and_references_resolve(html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 10
    refs = set(re.findall(r"url\(#([^)]+)\)", html)) | set(re.findall(r'href="#([^"]+)"', html))
    assert refs and refs <= set(ids)


def test_no_secret_and_text_is_escaped(report: Report) -> None:
    summary = replace(report.summaries[0], response_models=["<script>alert(1)</script>"])
    # Tables only (no charts), so this stays fast: the charts carry no free text from the ledger.
    evil = replace(
        report, summaries=[summary, *report.summaries[1:]], curves=[], drift=[], leakage=[], frontiers=[], gradients=[]
    )
    page = render_html(evil)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "sk-NEVER-IN-REPORT" not in page
    assert "sk-NEVER-IN-REPORT" not in render_markdown(evil)


def test_markdown_has_the_tables(report: Report) -> None:
    md = render_markdown(report)
    for title, _ in SECTIONS.values():
        assert f"## {title}" in md
    assert "### Group cmp: alpha, beta" in md
    glance = md.split("## At a glance", 1)[1].split("## ", 1)[0]
    assert "Highest pass ratio: alpha" in glance  # the simulated alpha is 2.5 levels more able
    assert "Group cmp: beta vs alpha on" in glance and "(alpha better, McNemar p = <0.001)" in glance
    rows = [line for line in md.splitlines() if line.startswith("| alpha")]
    assert rows, "summary table row for alpha"
    summary = next(s for s in report.summaries if s.target == "alpha")
    assert f"{summary.pass_ratio.k}/{summary.pass_ratio.n}" in rows[0]


def test_empty_report_renders(report: Report) -> None:
    empty = replace(
        report,
        curves=[],
        frontiers=[],
        gradients=[],
        leakage=[],
        consistency=[],
        drift=[],
        change_points=[],
        groups=[],
        notes=["No probe results in this time range for these targets."],
    )
    page = render_html(empty)
    assert "<svg" not in page
    assert "No probe results in this time range" in page
    assert "No comparison group" in render_markdown(empty)


def test_endpoint_supplied_model_names_are_inert_and_bounded_in_markdown(report: Report) -> None:
    """Reported model names once went into the .md raw: markup wherever it is rendered, and unbounded."""
    hostile = [
        "<img src=x onerror=alert(1)>",
        "[click](http://evil.example)",
        "![pixel](http://evil.example/p.png)",
        "**loud**\n# heading",
        *(f"model-{i:03d}" for i in range(200)),
    ]
    summary = replace(report.summaries[0], response_models=hostile)
    evil = replace(
        report, summaries=[summary, *report.summaries[1:]], curves=[], drift=[], leakage=[], frontiers=[], gradients=[]
    )
    md = render_markdown(evil)
    row = next(line for line in md.splitlines() if line.startswith(f"| {summary.target}"))
    assert "<img" not in md and "&lt;img src=x onerror=alert\\(1\\)&gt;" in row
    assert "](http" not in md and "\\[click\\]\\(http://evil.example\\)" in row
    assert "**loud**" not in md and "\\*\\*loud\\*\\* \\# heading" in row
    assert "\n# heading" not in md
    assert row.count("model-") <= 5 and "(+199 more)" in row
    page = render_html(evil)
    assert "<img" not in page and "(+199 more)" in page and "model-199" not in page
