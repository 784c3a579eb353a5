"""The assembled agent: a round through the real pipeline, then its HTTP surface over ASGI."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.config import Settings
from agent.daemon import Agent
from agent.serve.web import build_app
from tests.agent.conftest import echo_answer_handler


async def test_round_then_metrics_status_page_and_debug_view(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(api_key="sk-canary-123456")
    agent = Agent(settings, transport=httpx.MockTransport(echo_answer_handler()), hostname="host-0")
    try:
        summaries = await agent.run_round()
        assert [s.status for s in summaries] == ["completed"]
        app = build_app(settings, agent.metrics_registry, agent.counters, agent.store, agent.redact)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://capmon") as web:
            metrics = (await web.get("/metrics")).text
            index = await web.get("/")
            first_id = agent.store.results()[0].id
            probe = await web.get(f"/probe/{first_id}")
            missing = await web.get("/probe/999999")
            health = await web.get("/healthz")
            ready = await web.get("/readyz")
    finally:
        await agent.aclose()
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(metrics)
        for s in fam.samples
    }
    passed = values[("capmon_probes_total", (("family", "arithmetic"), ("outcome", "pass"), ("target", "t1")))]
    assert passed == summaries[0].passed >= 6
    assert values[("capmon_target_up", (("target", "t1"),))] == 1
    # Statistics metrics come from the engine after the round.
    assert any(name == "capmon_pass_ratio" for name, _ in values)
    assert index.status_code == 200 and "t1" in index.text
    assert probe.status_code == 200 and "What is" in probe.text
    assert missing.status_code == 404
    assert health.status_code == 200 and ready.status_code == 200
    for body in (metrics, index.text, probe.text):
        assert "sk-canary-123456" not in body


async def test_shard_selects_a_subset_of_targets(make_settings: Callable[..., Settings]) -> None:
    base = make_settings()
    targets = [base.targets[0].model_copy(update={"name": f"t{i}"}) for i in range(12)]
    chosen = []
    for index in range(3):
        settings = base.model_copy(
            update={"targets": targets, "shard": base.shard.model_copy(update={"count": 3, "index": index})}
        )
        agent = Agent(settings, transport=httpx.MockTransport(echo_answer_handler()))
        chosen.append({t.name for t in agent.targets})
        await agent.aclose()
    assert set().union(*chosen) == {t.name for t in targets}
    assert sum(len(c) for c in chosen) == 12


async def test_reload_applies_a_valid_config_and_keeps_running_on_a_broken_one(tmp_path: Path) -> None:
    from agent.cli.common import load

    store = tmp_path / "r.db"
    cfg = tmp_path / "c.yaml"
    target = "{name: %s, base_url: 'http://model.test/v1', model: m, families: [arithmetic]}"
    cfg.write_text(f"store: {store}\ntargets:\n  - {target % 'a'}\n")
    agent = Agent(load(str(cfg)), transport=httpx.MockTransport(echo_answer_handler()))
    agent.config_loader = lambda: load(str(cfg))
    try:
        cfg.write_text(f"store: {store}\ntargets:\n  - {target % 'a'}\n  - {target % 'b'}\n")
        assert await agent.reload()
        assert [t.name for t in agent.targets] == ["a", "b"] and agent.counters.config_reload_ok
        cfg.write_text(f"store: {store}\ntargets:\n  - {{name: a, interval_s: -1}}\n")
        assert not await agent.reload()
        assert agent.counters.config_reload_ok is False
        assert [t.name for t in agent.targets] == ["a", "b"]  # the running config stays
        values = {s.name: s.value for f in agent.metrics_registry.collect() for s in f.samples}
        assert values["capmon_config_last_reload_successful"] == 0
        summaries = await agent.run_round()
        assert {s.target for s in summaries} == {"a", "b"}
    finally:
        await agent.aclose()


async def test_adaptive_target_probes_faster_while_a_detector_climbs(make_settings: Callable[..., Settings]) -> None:
    from datetime import timedelta

    from agent.run.scheduler import build_scheduler, job_id

    settings = make_settings(adaptive=True, interval_s=400)
    agent = Agent(settings, transport=httpx.MockTransport(echo_answer_handler()))
    try:
        await agent.run_round()
        assert agent._urgency == {"t1": 0.0}  # computed at the refresh; quiet during warm-up

        async def noop(_: object) -> None:
            return None

        (unit,) = agent.units
        scheduler = build_scheduler(agent.units, noop)
        agent._adapt_interval(scheduler, unit)
        assert scheduler.get_job(job_id(unit)).trigger.interval == timedelta(seconds=400)
        agent._urgency["t1"] = 1.0  # a detector at its threshold
        agent._adapt_interval(scheduler, unit)
        assert scheduler.get_job(job_id(unit)).trigger.interval == timedelta(seconds=100)
        agent._urgency["t1"] = 0.2  # quiet again: back to the configured interval
        agent._adapt_interval(scheduler, unit)
        assert scheduler.get_job(job_id(unit)).trigger.interval == timedelta(seconds=400)
    finally:
        await agent.aclose()


_HEAPS_CHILD = """
import sys, threading, ctypes
if sys.argv[1] == "shared":
    from agent.daemon import share_one_heap
    share_one_heap()
def work():
    kept = [bytearray(4000) for _ in range(100)]  # above pymalloc's 512 bytes: from glibc's heap
    gate.wait()
gate = threading.Barrier(5)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
gate.wait()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()  # glibc's own report, one "Arena N:" block per heap, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
@pytest.mark.parametrize(("mode", "one_heap"), [("shared", True), ("default", False)])
def test_share_one_heap_keeps_every_thread_on_glibcs_main_heap(mode: str, one_heap: bool) -> None:
    # The default case shows the check can fail: four allocating threads get heaps of their own.
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _HEAPS_CHILD, mode], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    heaps = len(re.findall(r"^Arena \d+:", out.stderr, re.M))
    assert heaps >= 1
    assert (heaps == 1) is one_heap
