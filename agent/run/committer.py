"""Group commit: results that finish within ``WINDOW_S`` (20 ms) of each other share one SQLite transaction.

A commit appends every page it touched (the row's table page and three index pages) to the WAL.
When the agent is busy, several probes finish within the window; one transaction for all of them
writes those shared pages once instead of once per result. The first result of a batch waits at
most 20 ms for company (a batch of ``MAX_BATCH`` commits at once); when the agent is idle a batch
holds one result, committed 20 ms after it finished.

A result is counted (``Counters.record``) and handed to its run in the same step that commits
it, never before: /metrics never shows an uncommitted result, a kill never loses a counted one,
and a probe cancelled at shutdown while its batch is pending is still committed and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.serve.counters import Counters

OnCommit = Callable[[int, ProbeResult], object]

#: How long the first result of a batch waits for company before it is committed.
WINDOW_S = 0.02
#: A batch this large is committed at once.
MAX_BATCH = 64


class GroupCommitter:
    """Queues results and commits each batch (the first result's 20 ms window) in one transaction."""

    def __init__(
        self, store: Store, counters: Counters, *, window_s: float = WINDOW_S, max_batch: int = MAX_BATCH
    ) -> None:
        self.store = store
        self.counters = counters
        self.window_s = window_s
        self.max_batch = max_batch
        self._timer: asyncio.TimerHandle | None = None
        self._pending: list[tuple[ProbeResult, OnCommit, asyncio.Future[int]]] = []
        #: Transactions and results committed so far (mean batch size = results / batches).
        self.batches = 0
        self.results = 0

    async def commit(self, result: ProbeResult, on_commit: OnCommit) -> int:
        """Commit ``result`` with whatever else finishes within the window; returns its row id.

        ``on_commit(row_id, result)`` runs right after the transaction commits, even if the
        awaiting task has been cancelled by then.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        self._pending.append((result, on_commit, done))
        if len(self._pending) == 1:
            self._timer = loop.call_later(self.window_s, self.flush)
        elif len(self._pending) >= self.max_batch:
            self.flush()
        return await done

    def flush(self) -> None:
        """Commit everything queued now (also called at shutdown so nothing queued is left)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            ids = self.store.add_results([result for result, _, _ in batch])
        except Exception as exc:  # the store's error reaches every probe of the batch
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        self.batches += 1
        self.results += len(batch)
        for (result, on_commit, done), row_id in zip(batch, ids, strict=True):
            self.counters.record(row_id, result)
            on_commit(row_id, result)
            if not done.done():
                done.set_result(row_id)
