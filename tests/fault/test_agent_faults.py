"""The whole agent against the fault endpoint: errors are availability, never capability; it recovers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings, TargetConfig
from agent.daemon import Agent
from agent.llama import free_port
from tests.fault.expected import EXPECTED, RETRYABLE
from tests.fault.server import FaultServer


def make_agent(tmp_path: Path, base_url: str, **overrides: Any) -> Agent:
    fields: dict[str, Any] = {
        "name": "t",
        "base_url": base_url,
        "model": "m",
        "families": ["arithmetic"],
        "difficulties": [1, 2],
        "probes_per_run": 3,
        "static_per_run": 0,
        "fingerprint_prompts": 0,
        "concurrency": 3,
        "timeout_s": 1.0,
        "interval_s": 0.2,
        "jitter_s": 0,
        "retry": {"attempts": 1},
    }
    fields.update(overrides)
    settings = Settings(targets=[TargetConfig(**fields)], store=tmp_path / "capmon.db")
    return Agent(settings, hostname="test")


def metric(agent: Agent, name: str, **labels: str) -> float:
    value = agent.metrics_registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.mark.parametrize("mode", sorted(EXPECTED))
async def test_fault_is_an_error_outcome_and_the_next_run_recovers(
    fault_server: FaultServer, tmp_path: Path, mode: str
) -> None:
    _, reason = EXPECTED[mode]
    fault_server.mode = mode
    agent = make_agent(tmp_path, fault_server.base_url)
    try:
        [first] = await agent.run_round()
        rows = [s.result for s in agent.store.results()]
        assert len(rows) == 3
        assert {(r.outcome, r.error_reason, r.score) for r in rows} == {("error", reason, None)}
        assert (first.errors, first.passed, first.failed) == (3, 0, 0)
        assert metric(agent, "capmon_probes_total", target="t", family="arithmetic", outcome="error") == 3
        assert metric(agent, "capmon_probes_total", target="t", family="arithmetic", outcome="fail") == 0
        assert metric(agent, "capmon_probe_errors_total", target="t", reason=reason) == 3
        assert metric(agent, "capmon_target_up", target="t") == 0.0  # every probe ended in error

        fault_server.mode = "ok"
        [second] = await agent.run_round()
        assert second.errors == 0 and second.passed + second.failed == 3
        assert second.passed >= 1  # the endpoint answers arithmetic correctly
        assert metric(agent, "capmon_target_up", target="t") == 1.0
        assert metric(agent, "capmon_probes_total", target="t", family="arithmetic", outcome="error") == 3
        assert agent.store.integrity_ok()
    finally:
        await agent.aclose()


async def test_refused_connection_then_recovery(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.pause()
    agent = make_agent(tmp_path, fault_server.base_url)
    try:
        [s] = await agent.run_round()
        assert s.status == "failed" and s.reached is False
        assert {r.result.error_reason for r in agent.store.results()} == {"connect"}
        fault_server.resume()
        [s] = await agent.run_round()
        assert s.status == "completed" and s.reached and s.errors == 0
    finally:
        await agent.aclose()


async def test_circuit_opens_on_a_dead_endpoint_and_closes_after_recovery(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.mode = "hang"
    agent = make_agent(
        tmp_path, fault_server.base_url, timeout_s=0.3, circuit={"failure_threshold": 2, "reset_after_s": 1.0}
    )
    try:
        statuses = [(await agent.run_round())[0].status for _ in range(2)]
        assert statuses == ["failed", "failed"]
        assert metric(agent, "capmon_circuit_open", target="t") == 1.0
        sent = fault_server.requests
        [skipped] = await agent.run_round()
        assert skipped.status == "skipped"
        assert fault_server.requests == sent  # no hammering while open
        assert metric(agent, "capmon_runs_total", target="t", status="skipped") >= 1

        fault_server.mode = "ok"
        await asyncio.sleep(1.05)
        [trial] = await agent.run_round()
        assert trial.status == "completed" and trial.reached
        assert metric(agent, "capmon_circuit_open", target="t") == 0.0
        [after] = await agent.run_round()
        assert after.status == "completed"
    finally:
        await agent.aclose()


@pytest.mark.parametrize("mode", sorted(RETRYABLE - {"hang", "hang_body", "dribble", "429_retry_after"}))
async def test_retryable_fault_is_retried_and_the_probe_passes(
    fault_server: FaultServer, tmp_path: Path, mode: str
) -> None:
    agent = make_agent(
        tmp_path,
        fault_server.base_url,
        probes_per_run=1,
        concurrency=1,
        retry={"attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.05},
    )
    fault_server.script.extend([mode, mode])
    try:
        [s] = await agent.run_round()
        assert fault_server.seen[mode] == 2 and fault_server.seen["ok"] == 1
        assert s.errors == 0 and s.passed == 1
    finally:
        await agent.aclose()


async def test_retry_after_is_honoured(fault_server: FaultServer, tmp_path: Path) -> None:
    agent = make_agent(
        tmp_path,
        fault_server.base_url,
        probes_per_run=1,
        concurrency=1,
        retry={"attempts": 2, "max_delay_s": 5},
    )
    fault_server.script.append("429_retry_after")
    try:
        start = time.monotonic()
        [s] = await agent.run_round()
        assert time.monotonic() - start >= 1.0  # Retry-After: 1
        assert s.passed == 1 and fault_server.seen["429_retry_after"] == 1
    finally:
        await agent.aclose()


@pytest.mark.parametrize("mode", ["400", "401", "404", "malformed_json", "null_content", "wrong_ctype"])
async def test_final_fault_is_not_retried(fault_server: FaultServer, tmp_path: Path, mode: str) -> None:
    agent = make_agent(
        tmp_path,
        fault_server.base_url,
        probes_per_run=1,
        concurrency=1,
        retry={"attempts": 5, "base_delay_s": 0.01},
    )
    fault_server.script.append(mode)
    try:
        [s] = await agent.run_round()
        assert s.errors == 1 and fault_server.requests == 1
    finally:
        await agent.aclose()


async def test_daemon_keeps_running_through_every_fault(fault_server: FaultServer, tmp_path: Path) -> None:
    """``serve`` on a fast schedule while the endpoint cycles through every fault, then recovers."""
    agent = make_agent(tmp_path, fault_server.base_url, timeout_s=0.5, circuit={"failure_threshold": 1000})
    serving = asyncio.create_task(agent.serve(web=False))
    try:
        for mode in [*sorted(EXPECTED), "ok"]:
            fault_server.mode = mode
            _, reason = EXPECTED.get(mode, (None, None))
            mark = max((s.id for s in agent.store.results(newest_first=True, limit=1)), default=0)
            deadline = time.monotonic() + 15
            while True:
                assert not serving.done(), f"daemon stopped during {mode}: {serving}"
                # Results of the new mode: from a run that started after the switch.
                newer = [s.result for s in agent.store.results(after_id=mark)]
                if reason is None and any(r.outcome == "pass" for r in newer[3:]):
                    break
                if reason is not None and any(r.error_reason == reason for r in newer):
                    break
                assert time.monotonic() < deadline, f"no result for {mode}"
                await asyncio.sleep(0.05)
        rows = [s.result for s in agent.store.results()]
        assert {r.error_reason for r in rows if r.outcome == "error"} <= {v[1] for v in EXPECTED.values()}
        assert all(r.score is None for r in rows if r.outcome == "error")
        assert all(r.error_reason is None for r in rows if r.outcome != "error")
        assert not serving.done()
    finally:
        agent.stop.set()
        await asyncio.wait_for(serving, timeout=agent.settings.shutdown_grace_s + 10)
        await agent.aclose()
    assert serving.exception() is None


async def test_unused_port_is_refused_not_hung(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    try:
        start = time.monotonic()
        [s] = await agent.run_round()
        assert time.monotonic() - start < 5
        assert s.status == "failed" and s.errors == 3
    finally:
        await agent.aclose()
