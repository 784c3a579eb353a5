"""Crash consistency: SIGKILL ``capmon run`` at random moments, restart, and check nothing committed is lost.

Also: SIGTERM drains in-flight probes within the grace period and records how each run ended.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.ledger.store import Store
from agent.stats.persistence import LAST_ID_KEY, PASS_RATIO
from agent.stats.persistence import PASS_RATIO as STATE  # detector state is keyed "pass_ratio" since schema 2
from tests.fault.server import FaultServer
from tests.integration.conftest import start_agent, wait_for

ROUNDS = 15
PINNED = {"p0": 0.6, "n": 500}


@pytest.fixture
def endpoint() -> Iterator[FaultServer]:
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()


def target(base_url: str, **overrides: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "name": "t",
        "base_url": base_url,
        "model": "m",
        "families": ["arithmetic"],
        "difficulties": [1, 2, 3],
        "interval_s": 0.2,
        "jitter_s": 0,
        "probes_per_run": 6,
        "static_per_run": 0,
        "fingerprint_prompts": 0,
        "concurrency": 3,
        "timeout_s": 10,
        "retry": {"attempts": 1},
    }
    t.update(overrides)
    return t


def snapshot(db: Path) -> dict[str, Any]:
    """Everything the checks compare, read with a connection of our own (as a restarted agent would)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        rows = {r["id"]: tuple(r) for r in conn.execute("SELECT * FROM results")}
        meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
        baselines = {
            (r["target"], r["scope"], r["detector"]): (r["pinned"], json.loads(r["data"]))
            for r in conn.execute("SELECT * FROM baselines")
        }
        states = {
            (r["target"], r["scope"], r["detector"]): (r["updated"], json.loads(r["data"]))
            for r in conn.execute("SELECT * FROM detector_state")
        }
        runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY started")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return {"rows": rows, "meta": meta, "baselines": baselines, "states": states, "runs": runs, "ok": integrity}


def test_sigkill_at_random_moments_loses_nothing_committed(tmp_path: Path, endpoint: FaultServer) -> None:
    db = tmp_path / "crash.db"
    seed_store = Store(db)
    salt = seed_store.salt().hex()
    seed_store.put_baseline("t", "all", PASS_RATIO, PINNED, pinned=True)
    seed_store.close()

    rng = random.Random(20261128)
    extra = {"stats": {"warmup_probes": 100_000}, "shutdown_grace_s": 5}
    seen: dict[int, tuple[Any, ...]] = {}
    last_id_seen = 0
    grew = 0
    for round_no in range(ROUNDS):
        agent = start_agent(tmp_path, [target(endpoint.base_url)], extra=extra, name="crash")
        assert agent.store_path == db
        time.sleep(rng.uniform(0.05, 1.5))
        agent.stop(signal.SIGKILL)
        assert agent.process.returncode == -signal.SIGKILL

        snap = snapshot(db)
        assert snap["ok"] == "ok", f"round {round_no}: integrity_check says {snap['ok']}"
        lost = [i for i in seen if i not in snap["rows"]]
        assert not lost, f"round {round_no}: committed results {lost[:5]} vanished"
        changed = [i for i, row in seen.items() if snap["rows"][i] != row]
        assert not changed, f"round {round_no}: committed results {changed[:5]} changed"
        grew += len(snap["rows"]) > len(seen)
        seen = snap["rows"]
        assert snap["meta"]["salt"] == salt, "the salt changed"
        assert snap["baselines"][("t", "all", PASS_RATIO)] == (1, PINNED), "pinned baseline lost or changed"
        assert ("t", "all", STATE) in snap["states"], "detector state of the pinned baseline missing"
        stats_last = int(snap["meta"].get(LAST_ID_KEY, 0))
        assert stats_last >= last_id_seen, "statistics went back: their state was not restored"
        last_id_seen = stats_last
    # Most rounds got far enough to commit something (a kill during start-up commits nothing).
    assert grew >= ROUNDS // 2, f"only {grew} of {ROUNDS} rounds committed results"

    # A last, clean run: the statistics catch up on every row exactly once despite the kills.
    agent = start_agent(tmp_path, [target(endpoint.base_url)], extra=extra, name="crash")
    before = len(seen)
    wait_for(lambda: len(snapshot(db)["rows"]) >= before + 12, timeout=60, what="new results after restart")
    assert agent.stop(signal.SIGTERM, timeout=30) == 0
    snap = snapshot(db)
    assert snap["ok"] == "ok"
    assert all(snap["rows"][i] == row for i, row in seen.items())
    fed = [r for r in snap["rows"].values() if r[_col(db, "outcome")] != "error"]
    assert int(snap["meta"][LAST_ID_KEY]) == max(snap["rows"])
    warm = snap["states"][("t", "arithmetic", STATE)][1]
    assert warm["warm_n"] == len(fed), "results counted twice or missed by the detectors after crashes"


def _col(db: Path, name: str) -> int:
    conn = sqlite3.connect(db)
    try:
        cols = [c[1] for c in conn.execute("PRAGMA table_info(results)")]
    finally:
        conn.close()
    return cols.index(name)


def _latest_run(db: Path) -> dict[str, Any]:
    runs = snapshot(db)["runs"]
    assert runs, "no run recorded"
    return dict(runs[-1])


def test_sigterm_drains_in_flight_probes_within_the_grace_period(tmp_path: Path, endpoint: FaultServer) -> None:
    endpoint.mode, endpoint.slow_s = "slow", 1.5
    agent = start_agent(
        tmp_path,
        [target(endpoint.base_url, interval_s=60, probes_per_run=3, concurrency=3)],
        extra={"shutdown_grace_s": 10},
        name="drain",
    )
    wait_for(lambda: endpoint.seen["slow"] >= 3, timeout=30, interval=0.05, what="probes in flight")
    start = time.monotonic()
    assert agent.stop(signal.SIGTERM, timeout=30) == 0
    assert time.monotonic() - start < 10
    run = _latest_run(agent.store_path)
    assert run["status"] == "completed", (run, agent.log()[-3000:])
    assert (run["completed"], run["abandoned"]) == (3, 0)
    rows = snapshot(agent.store_path)["rows"]
    assert len(rows) == 3


def test_sigterm_abandons_probes_that_outlast_the_grace_period(tmp_path: Path, endpoint: FaultServer) -> None:
    endpoint.mode, endpoint.slow_s = "slow", 20.0
    grace = 1.0
    agent = start_agent(
        tmp_path,
        [target(endpoint.base_url, interval_s=60, probes_per_run=4, concurrency=2, timeout_s=60)],
        extra={"shutdown_grace_s": grace},
        name="abandon",
    )
    wait_for(lambda: endpoint.seen["slow"] >= 2, timeout=30, interval=0.05, what="probes in flight")
    start = time.monotonic()
    assert agent.stop(signal.SIGTERM, timeout=30) == 0
    assert time.monotonic() - start < grace + 8  # grace, then cancellation and cleanup
    run = _latest_run(agent.store_path)
    assert run["status"] == "abandoned"
    assert run["completed"] + run["abandoned"] == run["planned"] == 4
    assert run["abandoned"] >= 2
    assert run["finished"] is not None
