"""Signals on the real SmolLM2 behind the tamper proxy: an A/A stretch raises nothing, then three kinds of
silent endpoint change are each attributed to their own signal, and a served-model rename is info.

The path is the daemon's: capmon's runner probes the proxy (streamed, as OpenAI-compatible targets are
by default), the statistics engine reads the ledger and feeds the signal tests, designed from the
false-alarm budget of this target's configuration (``DetectorDesigner.signal_arl0``, cadence of a
default deployment). Only the proxy's mode changes between phases; the target config never does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.store import Store
from agent.llama import LlamaServer
from agent.providers import adapter_for
from agent.run.budget import BudgetGuard
from agent.run.retry import CircuitBreaker
from agent.run.runner import Member, UnitRunner
from agent.serve.counters import Counters
from agent.stats import signals
from agent.stats.engine import StatsEngine
from benchmarks.tamper_proxy import TamperProxy
from probes.registry import builtin_registry

WARMUP = 30
AA = 40
#: Answered probes a change may take to be caught (the tests need ~12-25 hits at this budget).
CHANGE = 60
#: Per change: the signals one of which must fire first, and the ones that may fire with them.
KINDS: dict[str, tuple[set[str], set[str]]] = {
    "max_tokens": ({"truncation"}, {"truncation", "shorter"}),
    "delay": ({"latency", "ttft"}, {"latency", "ttft"}),  # streamed: the first token waits too
    "refuse": ({"refusal"}, {"refusal", "shorter", "longer"}),
}


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[TamperProxy]:
    p = TamperProxy([llama_server.base_url], max_tokens_cap=3, delay_s=2.0).start()
    try:
        yield p
    finally:
        p.stop()


class Watch:
    """Runs of capmon's runner through the proxy, each followed by a statistics update."""

    def __init__(self, unit: UnitRunner, engine: StatsEngine, store: Store) -> None:
        self.unit, self.engine, self.store = unit, engine, store
        self.answered = 0

    async def until(self, answered: int, stop: Any = None) -> list[dict[str, Any]]:
        """Probe until ``answered`` more answered probes (or ``stop(new change points)``); the signal
        change points raised meanwhile."""
        before = len(self.store.change_points())
        goal = self.answered + answered
        while self.answered < goal:
            for summary in await self.unit.run_once():
                for rid in summary.result_ids:
                    stored = self.store.result(rid)
                    self.answered += stored is not None and stored.result.outcome != "error"
            self.engine.update()
            new = self.store.change_points()[before:]
            if stop is not None and stop(new):
                break
        return [cp for cp in self.store.change_points()[before:]]


@pytest.mark.integration
async def test_three_silent_changes_are_each_attributed_to_their_signal(tmp_path: Path, proxy: TamperProxy) -> None:
    target = TargetConfig(
        name="smol", base_url=proxy.base_url, model="smollm2", max_tokens=48,
        families=["arithmetic", "string_transform"], difficulties=[1, 2], adaptive=False,
        probes_per_run=6, static_per_run=0, fingerprint_prompts=2, concurrency=1, stream=True,
    )  # fmt: skip
    settings = Settings(targets=[target], store=tmp_path / "l.db", stats=StatsConfig(warmup_probes=WARMUP))
    store = Store(tmp_path / "l.db")
    engine = StatsEngine(store, settings)
    # The budget of a default deployment: 8 answered probes every 300 s shared by 19 detectors.
    arl0 = engine.designer.signal_arl0("smol")
    assert 1e6 < arl0 < 1e7
    async with httpx.AsyncClient() as client:
        member = Member(target, adapter_for(target, client), CircuitBreaker(target.circuit), BudgetGuard(store, target))
        unit = UnitRunner([member], builtin_registry(), store, Counters(), store.salt(), stop=asyncio.Event())
        watch = Watch(unit, engine, store)

        assert not await watch.until(WARMUP)
        arming = {a.detector: a for a in engine.snapshot().arming if a.target == "smol"}
        assert arming["signals"].armed and arming["signals"].probes_to_armed == 0

        aa = await watch.until(AA)
        assert not [cp for cp in aa if cp["direction"] != "recovery"], aa

        seen: list[str] = []
        for mode, (first, allowed) in KINDS.items():
            proxy.set_mode(mode)
            start = watch.answered
            got = await watch.until(CHANGE, stop=lambda new, first=first: any(c["detector"] in first for c in new))
            alarms = [cp for cp in got if cp["scope"] == "signals" and cp["direction"] == "rise"]
            assert alarms, f"{mode}: no signal alarm in {CHANGE} answered probes"
            assert alarms[0]["detector"] in first, (mode, [a["detector"] for a in alarms])
            assert {a["detector"] for a in alarms} <= allowed, (mode, [a["detector"] for a in alarms])
            line = signals.headline(alarms[0]["evidence"])
            seen.append(f"{mode}: {line}")
            print(f"{mode}: {[a['detector'] for a in alarms]} within {watch.answered - start} answered probes: {line}")
            proxy.set_mode("pass")
        # The evidence names what moved, in words an SRE can read off the alert.
        assert "truncated" in seen[0] and "finish_reason=length" in seen[0], seen
        assert "latency" in seen[1] or "first token" in seen[1], seen
        assert "refus" in seen[2], seen

        proxy.set_mode("model_id")
        got = await watch.until(10)
        proxy.set_mode("pass")
    assert not [cp for cp in got if cp["scope"] == "signals" and cp["direction"] == "rise"], got
    info = {v.target: v.info for v in engine.snapshot().signals}
    assert "served_model" in info["smol"], info
    store.close()
