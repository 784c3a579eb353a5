"""Whole-process comparison against one instant endpoint, alternating rounds: each side's wall, CPU, RSS.

    python -m benchmarks.whole_process [--probes 1000] [--concurrency 16] [--rounds 3]

Sides: a bare httpx loop (its own process: ``--probes`` POSTs at ``--concurrency``), ``capmon probe
--once`` with one target sending ``--probes`` arithmetic probes at the same concurrency (start-up,
generation, scoring, the ledger and the result table included), and Inspect AI when ``inspect_ai`` is
installed (it is not installed here, and this script never installs it). The endpoint is
``benchmarks.instant_endpoint`` in its own process; every figure is of the child process alone
(``os.wait4``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

import yaml

from benchmarks.footprint import _run_child, instant_endpoint, target

BARE = """
import asyncio, sys, httpx
async def main(url, n, c):
    body = {"model": "instant", "messages": [{"role": "user", "content": "What is 2 + 3?"}]}
    sem = asyncio.Semaphore(c)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=c)) as client:
        async def one():
            async with sem:
                r = await client.post(url + "/chat/completions", json=body)
                r.raise_for_status()
                r.json()
        await asyncio.gather(*(one() for _ in range(n)))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.whole_process", description=__doc__.split("\n")[0])
    p.add_argument("--probes", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    results: dict[str, list[tuple[float, float, int]]] = {"bare httpx loop": [], "capmon probe --once": []}
    with tempfile.TemporaryDirectory() as tmp, instant_endpoint() as base:
        cfg = Path(tmp) / "c.yaml"
        t = target(
            "t0", base, families=["arithmetic"], probes_per_run=args.probes, static_per_run=0,
            fingerprint_prompts=0, concurrency=args.concurrency,
        )  # fmt: skip
        cfg.write_text(yaml.safe_dump({"targets": [t], "store": str(Path(tmp) / "c.db")}))
        for r in range(args.rounds):
            sides = list(results) if r % 2 == 0 else list(reversed(results))
            for side in sides:
                if side == "bare httpx loop":
                    cmd = [sys.executable, "-c", BARE, base, str(args.probes), str(args.concurrency)]
                else:
                    cmd = [sys.executable, "-m", "agent.cli", "probe", "--once", "--config", str(cfg)]
                results[side].append(_run_child(cmd))
    for side, rs in results.items():
        walls = ", ".join(f"{w:.2f}" for w, _, _ in rs)
        cpus = ", ".join(f"{c:.2f}" for _, c, _ in rs)
        print(f"{side:22s} wall {walls} s; CPU {cpus} s; max RSS {max(m for _, _, m in rs) / 1024:.0f} MiB")
    if importlib.util.find_spec("inspect_ai") is None:
        print("Inspect AI: not installed (not measured)")
    else:
        print("Inspect AI: installed, but no task for it is written here (not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
