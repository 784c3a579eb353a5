"""Group commit: results that finish within ``WINDOW_S`` (20 ms) of each other share one SQLite transaction.

A commit appends every page it touched (the row's table page and three index pages) to the WAL.
When the agent is busy, several probes finish within the window; one transaction for all of them
writes those shared pages once instead of once per result. The first result of a batch waits at
most 20 ms for company (a batch of ``MAX_BATCH`` commits at once); when the agent is idle a batch
holds one result, committed 20 ms after it finished.

A result is counted (``Counters.record``) and handed to its run in the same step that commits
it, never before: /metrics never shows an uncommitted result, a kill never loses a counted one,
and a probe cancelled at shutdown while its batch is pending is still committed and counted.

A batch the ledger refuses (one row SQLite cannot store: an integer past 64 bits, a lone
surrogate, whatever a future adapter bug lets through) never costs the other rows: the batch is
rolled back and its rows are committed one by one; a row refused on its own is committed instead
as an ``error`` result with reason ``unstorable`` and nothing from the endpoint (no response,
metadata, token counts or cost). Only when even that fails (disk full, ledger gone) does the
store's error reach the probe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.serve.counters import Counters

OnCommit = Callable[[int, ProbeResult], object]
log = logging.getLogger("capmon.committer")

#: The reason of a result the ledger refused to store as it was (recorded without the endpoint's data).
UNSTORABLE = "unstorable"

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
        except Exception:  # one poisoned row must not cost the others: commit them one by one
            log.warning("a batch of %d results was refused by the ledger; committing them one by one", len(batch))
            for entry in batch:
                self._commit_alone(*entry)
            return
        self.batches += 1
        self.results += len(batch)
        for (result, on_commit, done), row_id in zip(batch, ids, strict=True):
            self._counted(row_id, result, on_commit, done)

    def _commit_alone(self, result: ProbeResult, on_commit: OnCommit, done: asyncio.Future[int]) -> None:
        try:
            [row_id] = self.store.add_results([result])
        except Exception:
            log.exception("target %s: result refused by the ledger; stored as %s", result.target, UNSTORABLE)
            result = unstorable(result)
            try:
                [row_id] = self.store.add_results([result])
            except Exception as exc:  # the ledger refuses everything: the probe learns why
                if not done.done():
                    done.set_exception(exc)
                return
        self.batches += 1
        self.results += 1
        self._counted(row_id, result, on_commit, done)

    def _counted(self, row_id: int, result: ProbeResult, on_commit: OnCommit, done: asyncio.Future[int]) -> None:
        self.counters.record(row_id, result)
        on_commit(row_id, result)
        if not done.done():
            done.set_result(row_id)


def unstorable(result: ProbeResult) -> ProbeResult:
    """``result`` as an ``error`` with reason ``unstorable``, keeping only what capmon itself made."""
    return dataclasses.replace(
        result,
        response=None,
        extracted=None,
        canonical=None,
        score=None,
        outcome="error",
        error_reason=UNSTORABLE,
        input_tokens=None,
        output_tokens=None,
        response_model=None,
        system_fingerprint=None,
        request_id=None,
        cost_usd=None,
    )
