"""The totals the ledger's triggers keep equal the ledger's rows, so the counters' seed (which reads
only them) equals counting every result and run again; the oracle here is Python over the rows."""

from __future__ import annotations

import bisect
import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.ledger.schema import LATENCY_BUCKETS
from agent.ledger.store import Store
from agent.serve.counters import Counters, CountersSnapshot
from tests.agent.ledger.test_store import _result


def _fill(store: Store, rng: random.Random, n: int, runs: str = "run") -> None:
    rows = []
    for i in range(n):
        outcome = rng.choice(["pass", "fail", "error", "error"])
        rows.append(
            _result(
                target=f"t{i % 3}",
                family=rng.choice(["arithmetic", "json_output"]),
                outcome=outcome,
                score=None if outcome == "error" else float(outcome == "pass"),
                error_reason=rng.choice([None, "", "timeout", "http_500"]) if outcome == "error" else None,
                latency_s=rng.choice([*LATENCY_BUCKETS, 0.0, 500.0, rng.expovariate(0.5)]),
                input_tokens=rng.choice([None, 0, rng.randrange(1, 900)]),
                output_tokens=rng.choice([None, rng.randrange(1, 90)]),
                cost_usd=rng.choice([None, rng.random() / 100]),
                item_index=i,
                seed=i,
            )
        )
    for start in range(0, n, 97):  # batches, as the group committer writes them, and single rows
        if rng.random() < 0.5:
            store.add_results(rows[start : start + 97])
        else:
            for row in rows[start : start + 97]:
                store.add_result(row)
    for i in range(40):
        store.start_run(f"{runs}{i}", f"t{i % 3}", 5)
        if i % 5:  # every fifth run never ends (a killed agent)
            store.finish_run(f"{runs}{i}", rng.choice(["completed", "abandoned", "failed"]), 5, 0)


def _oracle(store: Store) -> tuple[Counter[tuple[str, str, str]], Counter[tuple[str, str]], dict[str, list[int]],
                                   Counter[tuple[str, str]], dict[str, float], Counter[tuple[str, str]]]:  # fmt: skip
    probes: Counter[tuple[str, str, str]] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    tokens: Counter[tuple[str, str]] = Counter()
    cost: dict[str, float] = {}
    buckets: dict[str, list[int]] = {}
    for row in store.results():
        r = row.result
        probes[(r.target, r.family, r.outcome)] += 1
        if r.outcome == "error":
            errors[(r.target, r.error_reason or "unknown")] += 1
        tokens[(r.target, "input")] += r.input_tokens or 0
        tokens[(r.target, "output")] += r.output_tokens or 0
        if r.cost_usd is not None:
            cost[r.target] = cost.get(r.target, 0.0) + r.cost_usd
        b = buckets.setdefault(r.target, [0] * (len(LATENCY_BUCKETS) + 1))
        b[bisect.bisect_left(LATENCY_BUCKETS, r.latency_s)] += 1
    runs = Counter((r["target"], r["status"]) for r in store.runs(limit=1000) if r["finished"] is not None)
    return probes, errors, buckets, tokens, cost, runs


def _check(snap: CountersSnapshot, store: Store) -> None:
    probes, errors, buckets, tokens, cost, runs = _oracle(store)
    assert snap.probes == dict(probes)
    assert snap.errors == dict(errors)
    assert snap.tokens == dict(tokens)
    assert snap.cost.keys() == cost.keys()
    assert all(snap.cost[t] == pytest.approx(c, rel=1e-12) for t, c in cost.items())
    assert snap.runs == dict(runs)
    latencies: dict[str, list[float]] = {}
    for row in store.results():
        latencies.setdefault(row.result.target, []).append(row.result.latency_s)
    for target, b in buckets.items():
        h = snap.latency[target]
        assert list(h.buckets) == b[:-1] and h.count == sum(b)
        assert h.total == pytest.approx(sum(latencies[target]), rel=1e-12)


def _seed_and_check(path: Path, before: Callable[[Store], None] | None = None) -> None:
    """Open the ledger (migrating it), run ``before``, seed counters and check them against the rows."""
    store = Store(path)
    if before is not None:
        before(store)
    counters = Counters()
    counters.seed_from_store(store)
    _check(counters.snapshot(), store)
    store.close()


def test_the_seed_from_totals_equals_the_rows(tmp_path: Path) -> None:
    _seed_and_check(tmp_path / "l.db", lambda store: _fill(store, random.Random(17), 2500))


def test_an_older_ledger_gets_its_totals_filled_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    store = Store(path)
    _fill(store, random.Random(18), 1200)
    store.close()
    with sqlite3.connect(path) as conn:  # as a ledger written before schema 5
        conn.executescript("DROP TRIGGER totals_result; DROP TRIGGER totals_run; DROP TABLE totals;")
        conn.execute("PRAGMA user_version = 4")
    _seed_and_check(path, lambda store: _fill(store, random.Random(19), 300, runs="later"))  # counted after too


def test_changed_bucket_bounds_fall_back_to_binning_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    store = Store(path)
    _fill(store, random.Random(20), 600)
    store.close()
    with sqlite3.connect(path) as conn:  # a trigger that binned by bounds this capmon does not use
        conn.execute("UPDATE totals SET k1 = '0.3' WHERE kind = 'latency' AND k1 = '0.25'")
    _seed_and_check(path)
