"""Latency histograms binned in SQL (the counter seed's fallback when the totals were binned by other
bounds) equal replaying every latency through ``bisect``."""

from __future__ import annotations

import bisect
import random
from pathlib import Path

import pytest

from agent.ledger import queries
from agent.ledger.schema import LATENCY_BUCKETS
from agent.ledger.store import Store
from agent.serve.counters import Counters
from tests.agent.ledger.test_store import _result


def test_histograms_equal_the_replayed_latencies(tmp_path: Path) -> None:
    rng = random.Random(16)
    store = Store(tmp_path / "l.db")
    rows = []
    for i in range(3000):
        lat = rng.choice([*LATENCY_BUCKETS, 0.0, 500.0, rng.expovariate(0.5)])  # bounds exactly, and beyond
        outcome = rng.choice(["pass", "error"])
        rows.append(_result(target=f"t{i % 3}", latency_s=lat, item_index=i, seed=i, outcome=outcome))
    store.add_results(rows)
    got = queries.latency_histograms(store, LATENCY_BUCKETS)
    for target, seconds in queries.latencies(store).items():
        buckets = [0] * len(LATENCY_BUCKETS)
        for s in seconds:
            i = bisect.bisect_left(LATENCY_BUCKETS, s)
            if i < len(buckets):
                buckets[i] += 1
        h = got[target]
        assert h.buckets == buckets and h.count == len(seconds)
        assert h.total == pytest.approx(sum(seconds), rel=1e-12)
    assert sorted(got) == ["t0", "t1", "t2"]
    counters = Counters()
    counters.seed_from_store(store)
    snap = counters.snapshot()
    assert list(snap.latency["t1"].buckets) == got["t1"].buckets
    assert snap.latency["t1"].count == got["t1"].count
    store.close()
