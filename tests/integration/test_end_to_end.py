"""End to end against the real model: config → schedule → probe → score → store → /metrics."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.llama import LlamaServer
from tests.integration.conftest import smollm2_target, start_agent, wait_for


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


@pytest.mark.integration
def test_agent_probes_real_model_and_metrics_match_the_store(llama_server: LlamaServer, tmp_path: Path) -> None:
    agent = start_agent(tmp_path, [smollm2_target(llama_server.base_url, families=["arithmetic", "string_transform"])])
    try:

        def runs_done() -> int:
            with sqlite3.connect(agent.store_path) as db:
                return int(db.execute("SELECT COUNT(*) FROM runs WHERE status = 'completed'").fetchone()[0])

        wait_for(lambda: runs_done() >= 2, timeout=240, what="two completed runs")
        assert httpx.get(f"{agent.url}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{agent.url}/", timeout=5).status_code == 200
        with sqlite3.connect(agent.store_path) as db:
            rows = db.execute("SELECT family, outcome, COUNT(*) FROM results GROUP BY 1, 2").fetchall()
            responses = db.execute("SELECT response, response_model, latency_s FROM results").fetchall()
        samples = _scrape(agent.url)
    finally:
        code = agent.stop(signal.SIGTERM)
    assert code == 0, agent.log()[-2000:]

    stored = {(f, o): n for f, o, n in rows}
    assert sum(stored.values()) >= 2 * (4 + 1 + 1)
    # Every result was answered by the real model (no endpoint errors), and both outcomes occur
    # over time on a 135M model; at minimum, results have real text and real latency.
    assert stored.get(("arithmetic", "error"), 0) == 0
    assert all(r[0] and r[1] and r[2] > 0 for r in responses)
    for (family, outcome), n in stored.items():
        key = ("capmon_probes_total", (("family", family), ("outcome", outcome), ("target", "smollm2")))
        # The scrape happened after the query; a run may have committed more in between.
        assert samples.get(key, 0) >= n
    total_scraped = sum(v for (name, _), v in samples.items() if name == "capmon_probes_total")
    assert total_scraped >= sum(stored.values())
    assert samples[("capmon_target_up", (("target", "smollm2"),))] == 1
    hist_count = samples[("capmon_probe_duration_seconds_count", (("target", "smollm2"),))]
    assert hist_count == total_scraped
    assert samples[("capmon_tokens_total", (("target", "smollm2"), ("type", "output")))] > 0
    info = [k for k in samples if k[0] == "capmon_target_info"]
    assert info and dict(info[0][1])["provider"] == "openai"


@pytest.mark.integration
def test_probe_once_prints_a_table_and_exits_zero(llama_server: LlamaServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.integration.conftest import write_config

    cfg = write_config(
        tmp_path / "c.yaml",
        {"targets": [smollm2_target(llama_server.base_url, probes_per_run=3)], "store": str(tmp_path / "p.db")},
    )
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "probe", "--config", str(cfg), "--once"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "arithmetic" in out.stdout and "smollm2" in out.stdout
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT COUNT(*) FROM results WHERE outcome != 'error'").fetchone()[0] == 3 + 1 + 1


def test_probe_once_exits_one_when_nothing_is_reachable(tmp_path: Path) -> None:
    import subprocess
    import sys

    from agent.llama import free_port
    from tests.integration.conftest import write_config

    dead = f"http://127.0.0.1:{free_port()}/v1"
    cfg = write_config(
        tmp_path / "c.yaml",
        {"targets": [smollm2_target(dead, retry={"attempts": 1})], "store": str(tmp_path / "p.db")},
    )
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "probe", "--config", str(cfg), "--once"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not reached" in out.stdout
