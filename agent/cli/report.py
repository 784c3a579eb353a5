"""``capmon report``: a self-contained HTML (or Markdown) capability report from the ledger."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.cli.common import load, parse_duration


def parse_when(value: str, now: float) -> float:
    """A time: a duration back from now (``90m``, ``1h``, ``7d``), ``now``, or an ISO 8601 date/time."""
    value = value.strip()
    if value == "now":
        return now
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration like 1h/24h/7d nor an ISO date") from None
    if dt.tzinfo is None:
        raise ValueError(f"{value!r} needs a timezone (e.g. {value}+00:00)")
    return dt.timestamp()


def register(subparsers: Any) -> None:
    """Add ``capmon report``."""
    p = subparsers.add_parser("report", help="write an HTML or Markdown capability report from the store")
    p.add_argument("--config", "-c", required=True)
    p.add_argument("--since", default="24h", help="start: duration back from now (1h, 24h, 7d) or ISO time")
    p.add_argument("--until", default="now", help="end: duration back from now or ISO time (default now)")
    p.add_argument("--targets", default="", help="comma-separated target names (default: all configured)")
    p.add_argument("--out", required=True, help="output file; Markdown when it ends in .md, else HTML")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Build and write the report; 0 on success, 2 on bad arguments or configuration."""
    from rich.console import Console

    from agent.config import probe_registry
    from agent.ledger.store import Store
    from agent.report import build_report, render_html, render_markdown
    from agent.stats.frontier import reference_levels

    now = time.time()
    try:
        since, until = parse_when(args.since, now), parse_when(args.until, now)
    except ValueError as exc:
        return _usage(str(exc))
    if since >= until:
        return _usage("--since must be before --until")
    settings = load(args.config)
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    known = {t.name: t for t in settings.targets}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        return _usage(f"unknown target(s): {', '.join(unknown)} (configured: {', '.join(known) or 'none'})")
    targets = [known[t] for t in wanted] if wanted else list(settings.targets)
    if not targets:
        return _usage(f"{args.config}: no targets configured")
    if not Path(settings.store).exists():
        return _usage(f"store {settings.store} does not exist (run capmon first)")
    out = Path(args.out)
    if not out.parent.is_dir():
        return _usage(f"directory {out.parent} does not exist")
    console = Console(stderr=True)
    store = Store(settings.store)
    try:
        with console.status("building the report") as status:
            report = build_report(
                store,
                targets,
                since,
                until,
                confidence=settings.stats.confidence,
                progress=lambda msg: status.update(f"report: {msg}"),
                references=reference_levels(probe_registry(settings.probe_templates)),
            )
            status.update("report: rendering charts" if out.suffix != ".md" else "report: rendering")
            text = render_markdown(report) if out.suffix.lower() == ".md" else render_html(report)
    finally:
        store.close()
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: a reader never sees half a report
    scored = sum(s.pass_ratio.n for s in report.summaries)
    console.print(f"wrote {out} ({len(targets)} target(s), {scored} scored probes)")
    return 0


def _usage(message: str) -> int:
    print(f"capmon report: {message}", file=sys.stderr)
    return 2
