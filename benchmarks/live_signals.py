"""Signal tests against a real model: an A/A stretch with no change, then a change made from the client
side (``max_tokens`` cut), each probe sent by capmon's own runner and fed to the signal tests.

    python -m benchmarks.live_signals [--base-url URL | --own-server] [--warmup 60] [--aa 120] [--no-stream]

No proxy: the one change it can make honestly without one is the token limit, which cuts answers
(finish_reason=length) and shortens them. Latency, refusal and model-id changes need a tampering
proxy (``benchmarks/tamper_proxy.py``, another branch). Phases count answered probes (errors are no
signal). Prints one JSON object: probes and errors per phase, alarms per phase, the first alarm
after the change (signal, answered probes after the change) and its evidence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx

from agent.config import Settings, TargetConfig
from agent.ledger.store import Store
from agent.providers import adapter_for
from agent.run.budget import BudgetGuard
from agent.run.retry import CircuitBreaker
from agent.run.runner import Member, UnitRunner
from agent.serve.counters import Counters
from agent.stats import signals
from agent.stats.signal_watch import SignalWatch
from probes.registry import builtin_registry

#: Every signal test designed for one false alarm a month at 20 probes a run every 5 minutes, shared
#: by the default detector count of one target (4 specs x 18 scopes + fingerprint + 6 signals).
ARL0 = 25.0 * 8640 * (4 * 18 + 1 + len(signals.SIGNALS))


async def _phase(unit: UnitRunner, store: Store, watch: SignalWatch, answered: int) -> dict[str, Any]:
    """Runs until ``answered`` probes got an answer (errors are not signals: they do not count)."""
    sent = errors = 0
    first: dict[str, Any] | None = None
    before = len(store.change_points())
    while sent - errors < answered:
        for summary in await unit.run_once():
            for rid in summary.result_ids:
                stored = store.result(rid)
                if stored is None:
                    continue
                sent += 1
                errors += stored.result.outcome == "error"
                watch.feed(stored.result)
                points = store.change_points()[before:]
                if points and first is None:
                    p = points[0]
                    first = {
                        "signal": p["detector"],
                        "after_answered": sent - errors,
                        "evidence": signals.headline(p["evidence"]),
                    }
    alarms = [p["detector"] for p in store.change_points()[before:] if p["direction"] == "rise"]
    return {"probes": sent, "errors": errors, "alarms": alarms, "first_alarm": first}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.own_server:
        from agent.llama import start_llama_server

        server = start_llama_server(n_ctx=2048)
        args.base_url = server.base_url
        try:
            return await _run(args)
        finally:
            server.stop()
    return await _run(args)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="capmon-live-signals-"))
    store = Store(tmp / "ledger.db")
    watch = SignalWatch(store, lambda target: ARL0, warmup=args.warmup)
    out: dict[str, Any] = {"arl0": ARL0, "base_url": args.base_url}
    async with httpx.AsyncClient() as client:

        def unit(max_tokens: int) -> UnitRunner:
            target = TargetConfig(
                name="smol", base_url=args.base_url, model="smollm2", max_tokens=max_tokens,  # type: ignore[arg-type]
                families=["arithmetic", "string_transform"], probes_per_run=10, static_per_run=1,
                fingerprint_prompts=2, concurrency=1, difficulties=[1, 2, 3], stream=args.stream, stream_usage=True,
            )  # fmt: skip
            Settings(targets=[target], store=tmp / "ledger.db")  # validates the target as the agent would
            member = Member(target, adapter_for(target, client), CircuitBreaker(target.circuit),
                            BudgetGuard(store, target), asyncio.Semaphore(1))  # fmt: skip
            return UnitRunner([member], builtin_registry(), store, Counters(), store.salt(), stop=asyncio.Event())

        normal = unit(args.max_tokens)
        out["warmup"] = await _phase(normal, store, watch, args.warmup)
        out["aa"] = await _phase(normal, store, watch, args.aa)
        out["truncated"] = await _phase(unit(args.cut_tokens), store, watch, args.change)
    out["evidence_now"] = signals.headline(watch.evidence("smol"))
    ttfts = [s.result.ttft_s for s in store.results() if s.result.ttft_s is not None]
    out["ttft_median_s"] = signals.quantile(ttfts, 0.5) if ttfts else None
    reasons: dict[str, int] = {}
    for s in store.results():
        if s.result.error_reason:
            reasons[s.result.error_reason] = reasons.get(s.result.error_reason, 0) + 1
    out["error_reasons"] = reasons
    out["usage_reported"] = sum(1 for s in store.results() if s.result.output_tokens is not None)
    out["ledger"] = str(tmp / "ledger.db")
    store.close()
    return out


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8089/v1")
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--aa", type=int, default=120)
    parser.add_argument("--change", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--cut-tokens", type=int, default=6)
    parser.add_argument("--no-stream", dest="stream", action="store_false", help="send stream: false")
    parser.add_argument(
        "--own-server", action="store_true", help="start a llama.cpp server of its own (no other traffic)"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=1))


if __name__ == "__main__":
    cli()
