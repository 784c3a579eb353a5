"""``capmon demo``: start SmolLM2 under llama.cpp on 127.0.0.1, monitor it, show a live table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.cli.common import results_table
from agent.config import Settings, TargetConfig

if TYPE_CHECKING:
    from rich.console import Console

#: Families the small model shows a real gradient on (1-digit sums pass about half the time).
DEMO_FAMILIES = ["arithmetic", "word_problem", "string_transform"]


def register(subparsers: Any) -> None:
    """Add ``capmon demo``."""
    p = subparsers.add_parser("demo", help="start a local SmolLM2 model and monitor it")
    p.add_argument("--store", default="./capmon-demo.db")
    p.add_argument("--listen", default="127.0.0.1:9787")
    p.add_argument("--interval", type=float, default=20.0, help="seconds between runs")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Start a real local model and monitor it, with a live table."""
    return run_demo(store=Path(args.store), listen=args.listen, interval_s=args.interval)


def demo_settings(base_url: str, store: Path, listen: str, interval_s: float) -> Settings:
    """Settings for the demo: one local target, short interval, easy-to-medium levels."""
    from agent.llama import MODEL_ALIAS  # httpx: imported by the demo only
    target = TargetConfig(
        name="local-smollm2",
        provider="openai",
        base_url=base_url,
        model=MODEL_ALIAS,
        interval_s=interval_s,
        probes_per_run=6,
        static_per_run=1,
        fingerprint_prompts=1,
        concurrency=1,
        timeout_s=60,
        max_tokens=64,
        # start_llama_server's context is 2048 tokens: longer prompts would only overflow it.
        max_prompt_tokens=2048 - 64,
        difficulties=[1, 2, 3, 4],
        families=DEMO_FAMILIES,
    )
    return Settings(targets=[target], store=store, listen=listen)


def run_demo(*, store: Path, listen: str, interval_s: float) -> int:
    """Run the demo until Ctrl-C; stops the model server too."""
    from rich.console import Console

    from agent.llama import start_llama_server  # httpx: imported by the demo only

    console = Console()
    console.print("Starting llama.cpp with SmolLM2-135M-Instruct on 127.0.0.1 ...")
    server = start_llama_server()
    console.print(f"Model server ready at {server.base_url}; metrics at http://{listen}/metrics")
    logging.basicConfig(level=logging.WARNING)
    try:
        return asyncio.run(_demo(demo_settings(server.base_url, store, listen, interval_s), console))
    finally:
        server.stop()
        console.print("Stopped the model server.")


async def _demo(settings: Settings, console: Console) -> int:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from agent.daemon import Agent

    agent = Agent(settings, source="demo")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop.set)
    serve = asyncio.create_task(agent.serve())
    try:
        with Live(console=console, refresh_per_second=1) as live:
            while not serve.done():
                rows = [s.result for s in agent.store.results(newest_first=True, limit=2000)]
                live.update(
                    Group(
                        results_table(rows, title="capmon demo: passes/scored per family and difficulty"),
                        Text(f"{len(rows)} probes stored in {settings.store}; Ctrl-C to stop"),
                    )
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(serve), timeout=2)
    finally:
        agent.stop.set()
        await serve
        await agent.aclose()
    return 0
