"""``capmon probe --once``: one round now, a result table on the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agent.cli.common import load, results_table, setup_logging
from agent.config import Settings, secrets_of


def register(subparsers: Any) -> None:
    """Add ``capmon probe``."""
    p = subparsers.add_parser("probe", help="probe now")
    p.add_argument("--config", "-c", required=True)
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(func=cmd_probe)


def cmd_probe(args: argparse.Namespace) -> int:
    """One round now, a result table on the terminal."""
    if not args.once:
        print("capmon: probe needs --once (use 'capmon run' for the schedule)", file=sys.stderr)
        return 2
    settings = load(args.config)
    setup_logging("warning", secrets_of(settings.targets))
    if not settings.targets:
        print(f"capmon: {args.config}: targets: no targets configured", file=sys.stderr)
        return 2
    return asyncio.run(_probe_once(settings, args.config))


async def _probe_once(settings: Settings, source: str) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from agent.daemon import Agent

    agent = Agent(settings, source=source)
    console = Console()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("probing", total=None)
            # No statistics refresh: the table needs none, and designing detectors at a warm-up's end
            # can take minutes at a one-off round's rate (docs/performance.md).
            summaries = await agent.run_round(stats=False)
            progress.update(task, completed=1, total=1)
        ids = [i for s in summaries for i in s.result_ids]
        rows = [r for r in (agent.store.result(i) for i in ids) if r is not None]
        console.print(results_table([r.result for r in rows], title="capmon probe --once"))
        for s in summaries:
            console.print(
                f"{s.target}: {s.passed} pass, {s.failed} fail, {s.errors} error"
                + ("" if s.reached else " — endpoint not reached")
            )
    finally:
        await agent.aclose()
    return 0 if any(s.reached for s in summaries) else 1
