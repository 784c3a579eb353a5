"""A hostile endpoint on 127.0.0.1 against the adapter (in a process of its own, for its RSS) and the agent.

Bounds asserted (docs/reliability.md, "Hostile endpoints", has the measured figures):
- one call's peak RSS growth stays under ``RSS_BOUND_MIB`` whatever the endpoint sends
  (the decoded body is capped at 2 MiB; a 300 MB gzip bomb took the agent from 46 to 648 MB);
- one call ends within ``timeout_s + TIME_MARGIN_S`` (a header dripped a byte at a time included);
- what comes back is bounded: metadata at ``MAX_META_CHARS``, token counts in ``0..MAX_TOKEN_COUNT``,
  and an absurd count never costs another target its results.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from agent.config import Settings, TargetConfig
from agent.daemon import Agent
from agent.providers.limits import MAX_HEADER_CHARS, MAX_META_CHARS, MAX_TOKEN_COUNT
from tests.fault.server import FaultServer

TIMEOUT_S = 1.0
TIME_MARGIN_S = 0.5
#: Peak RSS growth of one call over the RSS after a warm-up call (the decoded-body cap is 2 MiB;
#: the worst measured is ~9 MiB: the cap, one network chunk, zlib's buffers, one event loop).
RSS_BOUND_MIB = 20.0

#: mode → what one call ends as ("ok": a sane ChatResponse)
ATTACKS = {
    "gzip_bomb": "encoding",  # Content-Encoding: gzip, gzip; 787 bytes → 300 MB
    "gzip_bomb_single": "too_large",  # gzip; 311 KB → 300 MB
    "fake_gzip": "encoding",
    "unknown_encoding": "encoding",
    "deep_json": "too_deep",
    "header_drip": "timeout",
    "huge_chunked": "too_large",
    "huge_metadata": "ok",
    "huge_numbers": "ok",
}


def _measure(mode: str, repeat: int = 1) -> dict[str, Any]:
    """``python -m tests.fault.measure`` in its own session, killed whole if it outlives its bound."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fault.measure", mode, "--timeout-s", str(TIMEOUT_S), "--repeat", str(repeat)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        out, _ = proc.communicate(timeout=30 + repeat * (TIMEOUT_S + TIME_MARGIN_S))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the measuring process and the endpoint it started
        proc.communicate()
        raise AssertionError(f"{mode}: the measurement did not end (no overall deadline?)") from None
    assert proc.returncode == 0, out
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("mode", sorted(ATTACKS))
def test_one_call_is_bounded_in_memory_and_time(mode: str) -> None:
    figures = _measure(mode, repeat=2)
    assert figures["outcome"] == [ATTACKS[mode]], figures
    assert figures["worst_s"] < TIMEOUT_S + TIME_MARGIN_S, figures
    assert figures["peak_growth_mib"] < RSS_BOUND_MIB, figures
    if ATTACKS[mode] == "ok":
        for field in ("response_model_len", "system_fingerprint_len", "request_id_len", "finish_reason_len"):
            assert figures[field] <= MAX_META_CHARS, (field, figures)
        assert figures["headers_max_len"] <= MAX_HEADER_CHARS
        for field in ("input_tokens", "output_tokens"):
            assert 0 <= figures[field] <= MAX_TOKEN_COUNT, (field, figures)


def _agent(tmp_path: Path, server: FaultServer, modes: list[str]) -> Agent:
    common: dict[str, Any] = {
        "model": "m",
        "families": ["arithmetic"],
        "difficulties": [1],
        "probes_per_run": 3,
        "static_per_run": 0,
        "fingerprint_prompts": 0,
        "concurrency": 3,
        "timeout_s": TIMEOUT_S,
        "interval_s": 60,
        "jitter_s": 0,
        "retry": {"attempts": 1},
    }
    targets = [TargetConfig(name=f"t-{mode}", base_url=server.url_for(mode), **common) for mode in modes]
    return Agent(Settings(targets=targets, store=tmp_path / "capmon.db"), hostname="test")


async def test_absurd_token_counts_cost_no_target_its_results(fault_server: FaultServer, tmp_path: Path) -> None:
    """10**20 tokens once overflowed SQLite inside a shared commit and lost an honest target's results."""
    agent = _agent(tmp_path, fault_server, ["ok", "huge_numbers"])
    try:
        await agent.run_round()
        rows = [s.result for s in agent.store.results()]
        by_target = {t: [r for r in rows if r.target == t] for t in ("t-ok", "t-huge_numbers")}
        assert {t: len(rs) for t, rs in by_target.items()} == {"t-ok": 3, "t-huge_numbers": 3}
        assert all(r.outcome != "error" for r in rows), [r.error_reason for r in rows]
        assert {(r.input_tokens, r.output_tokens) for r in by_target["t-huge_numbers"]} == {(MAX_TOKEN_COUNT, 0)}
        assert agent.store.integrity_ok()
    finally:
        await agent.aclose()


async def test_huge_metadata_is_stored_and_exported_bounded(fault_server: FaultServer, tmp_path: Path) -> None:
    agent = _agent(tmp_path, fault_server, ["huge_metadata"])
    try:
        await agent.run_round()
        rows = [s.result for s in agent.store.results()]
        assert len(rows) == 3 and all(r.outcome != "error" for r in rows)
        for r in rows:
            assert r.response_model is not None and len(r.response_model) <= MAX_META_CHARS
            assert r.response_model.isprintable()
        exposition = generate_latest(agent.metrics_registry).decode()
        assert max(len(line) for line in exposition.splitlines()) < 4 * MAX_META_CHARS
        assert "\\u001b" not in exposition and "\x1b" not in exposition
    finally:
        await agent.aclose()
