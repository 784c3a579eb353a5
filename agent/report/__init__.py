"""The capability report: ``build_report`` (data from the ledger), ``render_html`` and ``render_markdown``."""

from __future__ import annotations

from agent.report.build import build_report
from agent.report.html import render_html
from agent.report.markdown import render_markdown
from agent.report.model import Report

__all__ = ["Report", "build_report", "render_html", "render_markdown"]
