"""``capmon run``: the daemon, until SIGTERM/SIGINT; SIGHUP reloads the configuration."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from agent.cli.common import load, setup_logging
from agent.config import Settings, secrets_of

log = logging.getLogger("capmon")


def register(subparsers: Any) -> None:
    """Add ``capmon run``."""
    p = subparsers.add_parser("run", help="run the daemon")
    p.add_argument("--config", "-c", required=True)
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM/SIGINT."""
    from agent.daemon import share_one_heap

    share_one_heap()  # before asyncio or the store start any thread
    settings = load(args.config)
    setup_logging(settings.log_level, secrets_of(settings.targets))
    return asyncio.run(_serve(settings, args.config))


async def _serve(settings: Settings, source: str) -> int:
    from agent.daemon import Agent

    agent = Agent(settings, source=source)
    agent.config_loader = lambda: load(source)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop.set)
    loop.add_signal_handler(signal.SIGHUP, agent.reload_requested.set)
    try:
        await agent.serve()
    finally:
        await agent.aclose()
    log.info("capmon agent stopped")
    return 0
