"""Window queries the statistics refresh runs: what they count, and that they count it without loading
the window's rows (refusals counted inside SQLite; consistency reads only items rendered twice)."""

from __future__ import annotations

from pathlib import Path

from agent.ledger import queries
from agent.ledger.store import Store
from agent.stats import summaries
from agent.stats.fingerprint import is_refusal
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
    counts = queries.refusal_counts(store, is_refusal, since=50.0)
    # By hand: a has 3 scored answers in the window, 2 of them refusals; b has 2, none.
    assert counts == {"a": (2, 3), "b": (0, 2)}
    assert summaries.refusal_ratios(counts) == {"a": 2 / 3, "b": 0.0}
    assert queries.refusal_counts(store, is_refusal, since=500.0) == {}


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
