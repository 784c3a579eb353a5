"""What each target's results in the statistics window cost and how they answered, kept across refreshes.

Refusals need a Python test of every response, which no trigger can run, so the refresh cannot read
them off kept counts as it reads its cells (``windows.window_counts``). Instead ``UsageWindow`` keeps
per (target, time bucket) the ``windows.Usage`` of the rows it has read, and each read adds only the
rows added since the last one (by id) and drops the buckets the window has left. A window's total is
the kept buckets after since's bucket plus that bucket's rows from ``since`` on, read again each time
(``windows`` says why the split is exact). So a refresh reads the new rows and one bucket's, not the
window's: ~30 s of results and at most an hour's, instead of a day's.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.ledger import windows
from agent.ledger.store import Store
from agent.ledger.windows import Usage


class UsageWindow:
    """Per target ``Usage`` from a moving ``since`` on; ``refused`` tells a declining response."""

    def __init__(self, refused: Callable[[str | None], bool]) -> None:
        self._refused = refused
        self._buckets: dict[tuple[str, int], Usage] = {}
        self._upto = 0  # rows with ids up to this one are in _buckets (those at or after _since)
        self._since: float | None = None

    def read(self, store: Store, since: float) -> dict[str, Usage]:
        """Per target, the ``Usage`` of results with ``ts >= since`` up to the newest committed one."""
        if self._since is None or since < self._since:
            # The first read, or a window that reaches further back than the buckets kept: read it whole.
            self._buckets, self._upto = {}, 0
        self._since = since
        upto = windows.last_result_id(store)
        if upto > self._upto:
            added = windows.usage_by_bucket(store, self._refused, since=since, after_id=self._upto, upto_id=upto)
            for key, usage in added.items():
                self._buckets[key] = self._buckets.get(key, Usage()) + usage
            self._upto = upto
        first = windows.bucket_of(since)
        for key in [k for k in self._buckets if k[1] <= first]:
            del self._buckets[key]  # since's bucket is read from its rows below; earlier ones left the window
        edge = windows.usage_by_bucket(store, self._refused, since=since, upto_id=upto, edge=True)
        out: dict[str, Usage] = {}
        for (target, _), usage in [*self._buckets.items(), *edge.items()]:
            out[target] = out.get(target, Usage()) + usage
        return out
