"""Group commit: one transaction per batch, counted only once committed, nothing lost on cancel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.run.committer import GroupCommitter
from agent.serve.counters import Counters
from tests.agent.ledger.test_store import _result


def _setup(tmp_path: Path, **kw: float) -> tuple[GroupCommitter, Store, Counters]:
    store = Store(tmp_path / "s.db")
    state = Counters()
    state.add_target("t1", "openai", "m")
    return GroupCommitter(store, state, **kw), store, state  # type: ignore[arg-type]


def _passes(state: Counters) -> int:
    return state.snapshot().probes.get(("t1", "arithmetic", "pass"), 0)


async def test_results_finishing_together_share_one_transaction(tmp_path: Path) -> None:
    committer, store, state = _setup(tmp_path, window_s=0.05)
    seen: list[tuple[int, ProbeResult]] = []
    results = [_result(item_index=i) for i in range(5)]
    ids = await asyncio.gather(*(committer.commit(r, lambda i, r: seen.append((i, r))) for r in results))
    assert (committer.batches, committer.results) == (1, 5)
    assert sorted(ids) == ids and len(set(ids)) == 5
    assert [store.result(i).result for i in ids] == results  # type: ignore[union-attr]
    assert sorted(seen, key=lambda x: x[0]) == list(zip(ids, results, strict=True))
    assert _passes(state) == 5


async def test_nothing_is_counted_before_its_commit(tmp_path: Path) -> None:
    committer, store, state = _setup(tmp_path, window_s=0.05)
    task = asyncio.create_task(committer.commit(_result(), lambda i, r: None))
    await asyncio.sleep(0.01)  # queued, window still open
    assert store.count() == 0 and _passes(state) == 0
    await task
    assert store.count() == 1 and _passes(state) == 1


async def test_a_full_batch_commits_without_waiting_for_the_window(tmp_path: Path) -> None:
    committer, store, _ = _setup(tmp_path, window_s=60.0, max_batch=3)
    ids = await asyncio.wait_for(
        asyncio.gather(*(committer.commit(_result(item_index=i), lambda i, r: None) for i in range(3))), timeout=5
    )
    assert len(ids) == 3 and store.count() == 3


async def test_a_cancelled_waiter_is_still_committed_counted_and_handed_over(tmp_path: Path) -> None:
    committer, store, state = _setup(tmp_path, window_s=60.0)
    handed: list[int] = []
    task = asyncio.create_task(committer.commit(_result(), lambda i, r: handed.append(i)))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    committer.flush()  # what the runner does when shutdown cancels a run
    assert store.count() == 1 and _passes(state) == 1 and len(handed) == 1
    committer.flush()  # nothing left: a no-op
    assert committer.batches == 1


async def test_a_store_failure_reaches_every_waiter_and_counts_nothing(tmp_path: Path) -> None:
    committer, store, state = _setup(tmp_path, window_s=0.01)
    store.close()  # every write now fails
    results = await asyncio.gather(
        *(committer.commit(_result(item_index=i), lambda i, r: None) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results)
    assert _passes(state) == 0 and committer.batches == 0


def test_a_batch_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    bad = _result(target=None)  # NOT NULL: the second row fails, so the first must not stay
    with pytest.raises(Exception):  # noqa: B017 - sqlite3.IntegrityError, whatever wraps it
        store.add_results([_result(), bad])
    assert store.count() == 0
    assert store.add_results([_result(), _result(item_index=2)]) == [1, 2]
    store.close()


async def test_a_poisoned_row_costs_no_other_row_its_commit(tmp_path: Path) -> None:
    """A row SQLite refuses (a 65-bit integer) once rolled back the whole batch: other targets' rows too."""
    committer, store, state = _setup(tmp_path, window_s=0.05)
    state.add_target("t2", "openai", "m")
    honest = [_result(item_index=i) for i in range(3)]
    poisoned = _result(target="t2", item_index=9, input_tokens=10**20, response_model="evil")
    ids = await asyncio.gather(*(committer.commit(r, lambda i, r: None) for r in [*honest, poisoned]))
    assert len(set(ids)) == 4 and store.count() == 4
    assert [store.result(i).result for i in ids[:3]] == honest  # type: ignore[union-attr]
    stored = store.result(ids[3])
    assert stored is not None
    assert (stored.result.outcome, stored.result.error_reason) == ("error", "unstorable")
    assert (stored.result.input_tokens, stored.result.response_model, stored.result.score) == (None, None, None)
    assert stored.result.target == "t2" and stored.result.item_index == 9
    assert _passes(state) == 3
    assert state.snapshot().errors == {("t2", "unstorable"): 1}
