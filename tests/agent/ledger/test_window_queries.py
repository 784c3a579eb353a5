"""Window queries the statistics refresh runs: what they count, and that they count it without loading
the window's rows (refusals counted inside SQLite; consistency reads only items rendered twice)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.ledger import queries, windows
from agent.ledger.store import Store
from agent.stats import summaries
from agent.stats.fingerprint import is_refusal
from agent.stats.usage import UsageWindow
from tests.agent.stats.test_engine import _result


def test_refusal_counts_count_scored_responses_in_the_window(tmp_path: Path) -> None:
    store = Store(tmp_path / "l.db")
    rows = [
        _result("a", response="I'm sorry, but I can't help with that.", ts=100.0),
        _result("a", response="Answer: 4", ts=100.0),
        _result("a", response="I cannot do that", ts=100.0, static=True),  # static items count too
        _result("a", response="I'm sorry, no", ts=100.0, error=True),  # errors are not scored
        _result("a", response="I'm sorry, no", ts=100.0, canary=True),  # canaries are not scored
        _result("a", response="I'm sorry, no", ts=10.0),  # before the window
        _result("b", response="Answer: 7", ts=100.0),
        _result("b", response="", ts=100.0, passed=False),
    ]
    for r in rows:
        store.add_result(r)
    usage = UsageWindow(is_refusal).read(store, since=50.0)
    # By hand: a has 3 scored answers in the window, 2 of them refusals; b has 2, none.
    assert {t: (u.refused, u.scored) for t, u in usage.items()} == {"a": (2, 3), "b": (0, 2)}
    assert summaries.refusal_ratios(usage) == {"a": 2 / 3, "b": 0.0}
    assert UsageWindow(is_refusal).read(store, since=500.0) == {}


def test_consistency_reads_only_items_rendered_twice_and_computes_the_same(tmp_path: Path) -> None:
    store = Store(tmp_path / "l.db")
    for i in range(30):  # 30 items answered once: nothing for consistency to compare
        store.add_result(_result("a", key=f"once{i}", canonical=str(i), ts=100.0))
    for novelty, answer in ((0, "5"), (1, "5"), (2, "6")):  # one item at three novelties: 1 of 3 pairs agree
        store.add_result(_result("a", key="thrice", novelty=novelty, canonical=answer, ts=100.0))
    store.add_result(_result("b", key="thrice", novelty=1, canonical="5", ts=100.0))  # same key, other target
    every = queries.fresh_answers(store, since=50.0)
    twice = queries.fresh_answers(store, since=50.0, rendered_twice=True)
    assert len(every) == 34 and [(a.target, a.item_key, a.novelty) for a in twice] == [
        ("a", "thrice", 0),
        ("a", "thrice", 1),
        ("a", "thrice", 2),
    ]
    assert summaries.consistencies(twice) == summaries.consistencies(every)
    c = summaries.consistencies(twice)[("a", "arithmetic")]
    assert (c.ratio, c.pairs, c.items) == (1 / 3, 3, 1)


def _ledger(path: Path, old: int) -> Store:
    """Three targets: 40 recent results each (ts 900..939) after ``old`` results each older than the window."""
    store = Store(path)
    rows = [
        _result(t, ts=float(i % 500), passed=i % 3 > 0, difficulty=1 + i % 4, error=i % 11 == 0, key=f"old{i}")
        for i in range(old)
        for t in ("a", "b", "c")
    ]
    rows += [
        _result(t, ts=900.0 + i, passed=(i + ord(t)) % 2 == 0, difficulty=1 + i % 4, error=i % 13 == 0, key=f"k{i}")
        for i in range(40)
        for t in ("a", "b", "c")
    ]
    for start in range(0, len(rows), 5000):
        store.add_results(rows[start : start + 5000])
    return store


def _window_reads(store: Store) -> dict[str, object]:
    since = 800.0
    return {
        "cells": queries.cell_counts(store, since=since),
        "totals": queries.target_totals(store, since=since),
        "errors": queries.error_counts(store, since=since),
        "families": queries.families(store, since=since),
        "versions": queries.generator_versions(store, since=since),
        "models": queries.response_models(store, since=since),
        "latencies": queries.latencies(store, since=since),
        "answers": queries.fresh_answers(store, since=since),
        "refusals": UsageWindow(is_refusal).read(store, since=since),
        "window cells": windows.window_counts(store, since=since),
        "paired": queries.paired_outcomes(store, "a", "b", since=since),
        "buckets": queries.time_buckets(store, start=800.0, width=10.0, since=since, until=1000.0, targets=["a"]),
    }


def _steps(store: Store, read: Callable[[], object]) -> int:
    """SQLite virtual-machine steps (in units of 100) one read takes."""
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    store._conn.set_progress_handler(tick, 100)
    try:
        read()
    finally:
        store._conn.set_progress_handler(None, 0)
    return count[0]


def test_a_window_costs_what_is_in_it_not_the_whole_ledger(tmp_path: Path) -> None:
    small, large = _ledger(tmp_path / "s.db", 200), _ledger(tmp_path / "l.db", 4000)
    # The same window's rows: the same answers whatever lies before the window.
    assert _window_reads(small) == _window_reads(large)
    # Oracle for one of them: counted in Python from the rows in the window.
    recent = [r.result for r in large.results(since=800.0)]
    assert sum(c.total for c in queries.cell_counts(large, since=800.0)) == sum(
        1 for r in recent if r.outcome != "error" and not r.static and not r.canary
    )
    # 20x more old rows: the work stays the same (a scan would grow ~20x).
    assert _steps(large, lambda: _window_reads(large)) <= 1.2 * _steps(small, lambda: _window_reads(small)) + 5


def test_what_the_refresh_reads_off_its_cell_counts_equals_the_reads_it_skips(tmp_path: Path) -> None:
    # The oracle is SQL: cell_counts(primary=...) and fresh_answers(rendered_twice=True), which the
    # refresh skips when summaries.primary_counts / rendered_once can answer from the counts.
    import random

    rng = random.Random(7)
    store = Store(tmp_path / "l.db")
    # a: one novelty (1); b: renderings at 0 and 2 (config says 2 only); c: no longer configured; d: two.
    placed = {"a": [1], "b": [0, 2], "c": [0, 3], "d": [0, 1]}
    for i in range(400):
        target = "abcd"[i % 4]
        novelty = rng.choice(placed[target])
        key = f"k{i // 8}"  # each target answers each item twice: at two novelties where it has two
        store.add_result(
            _result(target, key=key, novelty=novelty, difficulty=1 + i % 5, passed=rng.random() < 0.6,
                    ts=100.0 if i % 9 else 10.0, error=i % 13 == 0, static=i % 17 == 0, canonical=str(i % 3))
        )  # fmt: skip
    configs = [{"a": [1], "b": [2]}, {"a": [1], "b": [2], "d": [0, 1]}, {"a": [1]}]
    for novelties in configs:
        counts = summaries.counts_of(queries.cell_counts(store, since=50.0))
        derived = summaries.primary_counts(counts, novelties)
        sql = summaries.counts_of(queries.cell_counts(store, since=50.0, primary=novelties))
        if any(len(v) > 1 for v in novelties.values()):
            assert derived is None
        else:
            assert derived == sql and sql  # b's and c's rows at other novelties drop out as in SQL
    for only in (["a"], ["a", "c"], ["b"], ["a", "b", "c", "d"]):
        counts = summaries.counts_of(queries.cell_counts(store, since=50.0, targets=only))
        twice = queries.fresh_answers(store, since=50.0, targets=only, rendered_twice=True)
        if summaries.rendered_once(counts):  # sufficient, not necessary: then the read has no rows
            assert twice == []
        else:
            assert twice, only  # with this data every target at two novelties has items rendered twice
    # One read of fresh and static items together splits into the two reads it replaces.
    both = queries.cell_counts(store, since=50.0, static=None)
    for static in (False, True):
        alone = queries.cell_counts(store, since=50.0, static=static)
        assert alone and [c for c in both if c.static is static] == alone
        assert all(c.static is static for c in alone)
    # Both sides occur above: a alone is rendered once, b has items at two novelties.
    assert summaries.rendered_once(summaries.counts_of(queries.cell_counts(store, since=50.0, targets=["a"])))
    assert not summaries.rendered_once(summaries.counts_of(queries.cell_counts(store, since=50.0, targets=["b"])))
