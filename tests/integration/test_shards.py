"""Scale-out: three ``capmon run`` processes over one config split 20 targets, each probed by exactly one.

The endpoint is the instant local OpenAI-compatible server (sharding, not capability, is under test).
Each agent gets its shard index from CAPMON_SHARD__INDEX and its own store and port from the environment.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from agent.llama import free_port
from agent.sharding import shard_of
from tests.integration.conftest import AgentProcess, wait_for, write_config

SHARDS = 3
TARGETS = 20
ROOT = Path(__file__).resolve().parents[2]
# The capmon container of every Kubernetes overlay, whose memory request must cover the measured RSS.
MANIFESTS = ("standalone/deployment.yaml", "sharded/statefulset.yaml", "sidecar/capmon-sidecar.yaml")


@pytest.fixture
def endpoint() -> Iterator[str]:
    """The instant OpenAI-compatible endpoint in its own process, on 127.0.0.1."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.instant_endpoint", str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "instant endpoint exited"
                assert time.monotonic() < deadline, "instant endpoint did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def _start(config: Path, tmp_path: Path, index: int) -> AgentProcess:
    port = free_port()
    store = tmp_path / f"shard-{index}.db"
    log_path = tmp_path / f"shard-{index}.log"
    env = {
        **os.environ,
        "CAPMON_SHARD__INDEX": str(index),
        "CAPMON_STORE": str(store),
        "CAPMON_LISTEN": f"127.0.0.1:{port}",
    }
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "run", "--config", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return AgentProcess(proc, config, store, port, log_path)


def _stored_targets(store: Path) -> dict[str, int]:
    if not store.exists():
        return {}
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return dict(con.execute("SELECT target, COUNT(*) FROM results GROUP BY target").fetchall())
    except sqlite3.OperationalError:  # schema not created yet
        return {}
    finally:
        con.close()


def _metric_targets(url: str) -> set[str]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        s.labels["target"]
        for fam in text_string_to_metric_families(text)
        if fam.name == "capmon_probes"
        for s in fam.samples
        if s.value > 0
    }


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def _memory_mib(quantity: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0}
    return float(quantity[:-2]) * units[quantity[-2:]]


def _capmon_resources() -> dict[str, dict[str, dict[str, str]]]:
    out = {}
    for rel in MANIFESTS:
        doc = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "overlays" / rel).read_text())
        (c,) = [c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == "capmon"]
        out[rel] = c["resources"]
    return out


def test_three_shards_probe_every_target_exactly_once(endpoint: str, tmp_path: Path) -> None:
    names = [f"endpoint-{i:02d}" for i in range(TARGETS)]
    targets: list[dict[str, Any]] = [
        {
            "name": n,
            "provider": "openai",
            "base_url": endpoint,
            "model": "instant",
            "interval_s": 2,
            "jitter_s": 0,
            "probes_per_run": 2,
            "static_per_run": 0,
            "fingerprint_prompts": 0,
            "concurrency": 1,
            "families": ["arithmetic"],
            "difficulties": [1],
        }
        for n in names
    ]
    # One config for all three agents: only the environment differs between them.
    config = write_config(tmp_path / "capmon.yaml", {"targets": targets, "shard": {"count": SHARDS}})
    expected = {i: {n for n in names if shard_of(n, SHARDS) == i} for i in range(SHARDS)}
    assert all(expected.values()), "the 20 names should give every shard something to do"

    agents = [_start(config, tmp_path, i) for i in range(SHARDS)]
    try:

        def every_shard_done() -> bool:
            for a in agents:
                if a.process.poll() is not None:
                    pytest.fail(f"agent exited with {a.process.returncode}:\n{a.log()[-2000:]}")
            return all(expected[i] <= set(_stored_targets(a.store_path)) for i, a in enumerate(agents))

        wait_for(every_shard_done, timeout=150, interval=1.0, what="every shard to probe all its targets")
        # Each agent exports only its own targets (Prometheus sums the shards).
        for i, a in enumerate(agents):
            assert _metric_targets(a.url) == expected[i], a.log()[-2000:]
        # The Kubernetes memory requests are sized from this: a running agent's peak resident memory.
        rss = max(_peak_rss_mib(a.process.pid) for a in agents)
        print(f"peak RSS of a capmon run shard: {rss:.0f} MiB")
        for rel, res in _capmon_resources().items():
            request, limit = _memory_mib(res["requests"]["memory"]), _memory_mib(res["limits"]["memory"])
            assert request >= 1.25 * rss, f"{rel}: memory request {request} MiB < 1.25 x measured {rss:.0f} MiB"
            assert limit >= 2 * request, rel
    finally:
        codes = [a.stop(signal.SIGTERM) for a in agents]
    assert codes == [0] * SHARDS, [a.log()[-1500:] for a in agents]

    stored = [set(_stored_targets(a.store_path)) for a in agents]
    for i in range(SHARDS):
        assert stored[i] == expected[i], f"shard {i} probed {sorted(stored[i] ^ expected[i])} wrongly"
    owners = {n: [i for i in range(SHARDS) if n in stored[i]] for n in names}
    assert all(len(o) == 1 for o in owners.values()), owners
