"""capmon's probe path vs a bare httpx loop, side by side in one run, against an instant endpoint.

    python -m benchmarks.overhead [--probes 2000] [--concurrency 8] [--rounds 8]

The capmon path is the real one: plan (generate items from the salt), call through the provider
adapter with retries, extract and score, commit each result to SQLite, count it for /metrics (and
render /metrics once per round), on the agent's transport (``SplitPools``). The bare loop sends the
same request bodies at the same concurrency and only decodes the JSON, once on httpx's default
transport (one pool) and once on ``SplitPools``: their CPU per request side by side is what the
split pools save. Goal: capmon >= 0.75x the bare loop's rate.

Each round also runs the capmon path once more with an adapter that answers without the network
(``own_round``): its CPU per probe is capmon's own work, printed beside the bare loop's CPU per
request, so the ratio a client bound by its CPU can reach is bare / (bare + own) whatever the
machine's drift does to the rates.

The paths alternate, round after round. This machine's speed drifts by up to 2x within
minutes (the same path's rounds differ that much), so the headline ratio compares each path's
fastest round, the timeit convention for the least disturbed measurement; the ratio of medians
and every adjacent pair's ratio are printed beside it so the spread is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import generate_latest

from agent.config import TargetConfig
from agent.ledger.store import Store
from agent.llama import free_port
from agent.providers import adapter_for
from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter
from agent.providers.pools import SplitPools
from agent.run.budget import BudgetGuard
from agent.run.planner import plan_run
from agent.run.retry import CircuitBreaker
from agent.run.runner import Member, UnitRunner
from agent.serve.counters import Counters
from agent.serve.exporter import build_metrics_registry
from probes.registry import builtin_registry


def _target(base_url: str, probes: int, concurrency: int) -> TargetConfig:
    return TargetConfig(
        name="bench",
        base_url=base_url,  # type: ignore[arg-type]
        model="instant",
        probes_per_run=probes,
        static_per_run=0,
        fingerprint_prompts=0,
        concurrency=concurrency,
        families=["arithmetic"],
        max_tokens=32,
        adaptive=False,  # the bare loop sends a plan's bodies: uniform over the levels, as here
    )


async def capmon_round(base_url: str, probes: int, concurrency: int, store_dir: Path) -> float:
    """Probes per second through the agent's own path."""
    target = _target(base_url, probes, concurrency)
    store = Store(store_dir / f"bench-{time.monotonic_ns()}.db")
    state = Counters()
    state.add_target(target.name, target.provider, target.model)
    metrics_registry = build_metrics_registry(state)
    async with httpx.AsyncClient(transport=SplitPools()) as client:  # the agent's transport
        member = Member(
            target,
            adapter_for(target, client),
            CircuitBreaker(target.circuit),
            BudgetGuard(store, target),
            asyncio.Semaphore(concurrency),
        )
        unit = UnitRunner([member], builtin_registry(), store, state, store.salt(), stop=asyncio.Event())
        t0 = time.perf_counter()
        (summary,) = await unit.run_once()
        generate_latest(metrics_registry)
        elapsed = time.perf_counter() - t0
    if summary.completed != probes or summary.errors:
        raise SystemExit(f"capmon round incomplete: {summary}")
    store.close()
    return probes / elapsed


class _Instant(ProviderAdapter):
    """The target's own adapter in every way but the network: ``complete`` answers at once, so a run
    through it costs capmon's own work only (plan, score, result, commit, count)."""

    def __init__(self, real: ProviderAdapter) -> None:
        super().__init__(real.target, real.client)
        self._real = real

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        return self._real.build(request)

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        return self._real.parse(body, headers)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        await asyncio.sleep(0)  # a probe still yields to the loop once, as a network call would
        m = _ARITH.search(request.prompt)  # answered as benchmarks.instant_endpoint answers
        a, op, b = (int(m.group(1)), m.group(2), int(m.group(3))) if m else (0, "+", 0)
        text = str(a + b if op == "+" else a - b if op == "-" else a * b)
        return ChatResponse(text=f"Answer: {text}", input_tokens=20, output_tokens=4, response_model="instant")


_ARITH = re.compile(r"What is (-?\d+) ([-+*]) (-?\d+)\?")


async def own_round(probes: int, concurrency: int, store_dir: Path) -> float:
    """CPU seconds per probe of capmon's own work: the runner of ``capmon_round`` without the network."""
    target = _target("http://127.0.0.1:9/v1", probes, concurrency)
    store = Store(store_dir / f"own-{time.monotonic_ns()}.db")
    state = Counters()
    state.add_target(target.name, target.provider, target.model)
    async with httpx.AsyncClient() as client:
        adapter = _Instant(adapter_for(target, client))
        member = Member(
            target, adapter, CircuitBreaker(target.circuit), BudgetGuard(store, target), asyncio.Semaphore(concurrency)
        )
        unit = UnitRunner([member], builtin_registry(), store, state, store.salt(), stop=asyncio.Event())
        t0 = time.process_time()
        (summary,) = await unit.run_once()
        cpu = time.process_time() - t0
    if summary.completed != probes or summary.errors:
        raise SystemExit(f"own round incomplete: {summary}")
    store.close()
    return cpu / probes


async def bare_round(base_url: str, probes: int, concurrency: int, split: bool = False) -> float:
    """Probes per second for a bare httpx loop sending the same bodies; with ``split`` on the agent's
    transport (``SplitPools``) instead of httpx's one pool."""
    target = _target(base_url, probes, concurrency)
    plan = plan_run(builtin_registry(), target, b"bare", 0, run_seq=0)
    bodies = [
        {
            "model": "instant",
            "messages": [{"role": "user", "content": p.item.prompt}],
            "max_tokens": 32,
            "temperature": 0.0,
        }
        for p in plan
    ]
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(transport=SplitPools() if split else None) as client:

        async def one(body: dict[str, object]) -> None:
            async with sem:
                r = await client.post(f"{base_url}/chat/completions", json=body)
                r.json()

        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(b) for b in bodies))
        elapsed = time.perf_counter() - t0
        (SPLIT_CPU if split else BARE_CPU).append((time.process_time() - c0) / len(bodies))
    return len(bodies) / elapsed


#: CPU seconds per request of each bare round (this process only: the endpoint runs in its own), on
#: httpx's one pool and on the split pools.
BARE_CPU: list[float] = []
SPLIT_CPU: list[float] = []


def main() -> None:
    """Run both paths alternately and print rates, ratio and peak RSS."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--probes", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.instant_endpoint", str(port)])
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.post(f"{base_url}/chat/completions", json={}, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        bare, split, capmon, own = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bare_round(base_url, 200, args.concurrency))  # warm-up
            BARE_CPU.clear()
            for _ in range(args.rounds):
                bare.append(asyncio.run(bare_round(base_url, args.probes, args.concurrency)))
                split.append(asyncio.run(bare_round(base_url, args.probes, args.concurrency, split=True)))
                capmon.append(asyncio.run(capmon_round(base_url, args.probes, args.concurrency, Path(tmp))))
                own.append(asyncio.run(own_round(args.probes, args.concurrency, Path(tmp))))
    finally:
        server.terminate()
        server.wait(5)
    b, sp, c = max(bare), max(split), max(capmon)
    pairs = [cr / br for br, cr in zip(bare, capmon, strict=True)]
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"probes per round: {args.probes}, concurrency: {args.concurrency}, rounds: {args.rounds}")
    print(f"bare httpx loop : {b:8.1f} probes/s fastest  (rounds: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"bare, split pools: {sp:7.1f} probes/s fastest  (rounds: {', '.join(f'{x:.0f}' for x in split)})")
    print(f"capmon path     : {c:8.1f} probes/s fastest  (rounds: {', '.join(f'{x:.0f}' for x in capmon)})")
    print(
        f"ratio of medians: {statistics.median(capmon) / statistics.median(bare):.2f}; "
        f"adjacent pairs: {', '.join(f'{p:.2f}' for p in pairs)}"
    )
    print(f"ratio capmon/bare (fastest rounds): {c / b:.2f}  (goal >= 0.75); capmon/bare on split pools {c / sp:.2f}")
    http_us, split_us, own_us = min(BARE_CPU) * 1e6, min(SPLIT_CPU) * 1e6, min(own) * 1e6
    print(
        f"CPU per probe (least of the rounds): the bare loop {http_us:.0f} us (httpx and JSON), {split_us:.0f} us"
        f" on split pools (rounds {', '.join(f'{x * 1e6:.0f}' for x in SPLIT_CPU)});"
        f" capmon's own work {own_us:.0f} us (the same runner, the adapter answering without the network:"
        f" rounds {', '.join(f'{x * 1e6:.0f}' for x in own)})"
    )
    print(
        f"so a client bound by its CPU runs capmon at about {split_us / (split_us + own_us):.2f}x a bare loop"
        " on the same transport"
    )
    print(f"peak RSS of this process: {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
