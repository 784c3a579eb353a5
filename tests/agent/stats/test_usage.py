"""The usage window kept across refreshes equals counting the window's rows at every read, as rows
arrive and the window moves (or the clock steps back); and the snapshot's refusal ratio, response
length and cost per correct answer are those counts. The oracle is Python over ``store.results()``."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine
from agent.stats.fingerprint import is_refusal
from agent.stats.usage import UsageWindow
from tests.agent.ledger.test_windows import H, _refused, _rows, _same_usage, _usage_oracle, _write


def test_reads_across_refreshes_equal_the_rows_in_the_window(tmp_path: Path) -> None:
    rng = random.Random(41)
    store = Store(tmp_path / "l.db")
    window = UsageWindow(_refused)
    rows = sorted(_rows(rng, 2400), key=lambda r: r.ts)  # arriving roughly in time order
    now = -H
    reads = 0
    for start in range(0, len(rows), 80):
        _write(store, rows[start : start + 80], rng)
        # The window's start moves on, sometimes inside a bucket, sometimes by a few buckets, once back.
        now = rows[min(start + 79, len(rows) - 1)].ts
        for since in (now - 3 * H, now - 2 * H - rng.uniform(0, H)) if start != 800 else (now - 9 * H,):
            _same_usage(window.read(store, since), _usage_oracle(store, since, _refused))
            reads += 1
    assert reads > 50


def test_the_snapshot_reports_what_the_windows_rows_say(tmp_path: Path) -> None:
    rng = random.Random(42)
    store = Store(tmp_path / "s.db")
    targets = [
        TargetConfig(name=t, base_url="http://x.test/v1", model="m", families=["arithmetic", "json_output"])
        for t in "abc"
    ]
    settings = Settings(targets=targets, store=tmp_path / "s.db", stats=StatsConfig(windows_s=[3600.0, 4 * H]))
    clock = [0.0]
    eng = StatsEngine(store, settings, clock=lambda: clock[0])
    rows = sorted(_rows(rng, 1500), key=lambda r: r.ts)
    for start in range(0, len(rows), 300):
        _write(store, rows[start : start + 300], rng)
        clock[0] = rows[min(start + 299, len(rows) - 1)].ts + rng.uniform(0, H)
        snap = eng.snapshot()
        since = clock[0] - 4 * H
        usage = _usage_oracle(store, since, is_refusal)
        passes: dict[str, int] = {}
        for row in store.results(since=since):
            r = row.result
            passes[r.target] = passes.get(r.target, 0) + (r.outcome == "pass" and not r.canary)
        assert snap.refusal == pytest.approx({t: u.refused / u.scored for t, u in usage.items() if u.scored})
        assert snap.response_length == pytest.approx(
            {t: u.output_tokens / u.answered for t, u in usage.items() if u.answered}
        )
        assert snap.cost_per_correct == pytest.approx(
            {t: u.cost_usd / passes[t] for t, u in usage.items() if u.costed and passes.get(t)}
        )
        assert any(snap.refusal.values()) and snap.cost_per_correct
