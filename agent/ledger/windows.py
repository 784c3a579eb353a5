"""Window reads by time bucket: what the statistics refresh reads each pass, at a cost that follows the
buckets in its window rather than the results.

A window ``[since, ...)`` is the whole buckets after the one ``since`` falls in, plus that bucket's rows
from ``since`` on. Bucket ``b`` holds the results with ``int(ts / WINDOW_BUCKET_S) == b``
(``bucket_of``; the same division in SQL, ``schema.window_bucket``), a non-decreasing function of
``ts``, so a bucket after since's holds only rows at or after ``since`` and one before it none: the
split is exact. Scored counts per bucket and cell are kept by a trigger (table ``window_cells``, schema
6) and read by ``window_counts``; what the responses say (refusals, a Python test) and cost is counted
per bucket from the rows by ``usage_by_bucket``, which the refresh calls for the rows added since its
last pass only (``agent.stats.usage``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from agent.ledger.queries import _scored, _table, _window
from agent.ledger.schema import WINDOW_BUCKET_S, window_bucket
from agent.ledger.store import Store


def bucket_of(ts: float) -> int:
    """The window bucket ``ts`` falls in (``schema.window_bucket`` in SQL)."""
    return int(ts / WINDOW_BUCKET_S)


def _edge(since: float) -> tuple[str, list[object], str]:
    """The rows of since's bucket from ``since`` on: (where, args, table). The upper time bound only lets
    the (target, ts) index stop early: every ts at or past it lies in a later bucket."""
    first = bucket_of(since)
    where, args = _window(since, (first + 2) * WINDOW_BUCKET_S)
    return f"{where} AND {window_bucket('ts')} = ?", [*args, first], _table(since, None)


#: (target, family, difficulty, novelty) → [passes, total]: scored results per cell.
Counts = dict[tuple[str, str, int, int], list[int]]


class WindowCounts(NamedTuple):
    """Scored results per cell in a window: fresh items, and static ones (the leakage gap's side)."""

    fresh: Counts
    static: Counts


def window_counts(store: Store, *, since: float) -> WindowCounts:
    """Scored fresh and static results per cell from ``since`` on, as ``queries.cell_counts(since=since,
    static=None)`` counts them, read from the kept bucket counts and one bucket's rows.

    SQLite sums the buckets and the edge rows, and each summed cell goes straight into its dict, one
    target and family name object shared by all its cells: the refresh's transient memory follows the
    cells in its window, and a cell costs one dict entry rather than a row, a record and an entry.
    """
    out = WindowCounts({}, {})
    names: dict[str, str] = {}

    def add(row: tuple[Any, ...]) -> None:
        target, family, difficulty, novelty, static, passes, total = row
        key = (names.setdefault(target, target), names.setdefault(family, family), difficulty, novelty)
        out[bool(static)][key] = [passes, total]

    where, args, table = _edge(since)
    cell = "target, family, difficulty, novelty, static"
    store._fold(
        f"SELECT {cell}, SUM(p), SUM(n) FROM ("
        f"SELECT {cell}, passes AS p, total AS n FROM window_cells WHERE bucket > ?"
        f" UNION ALL SELECT {cell}, outcome = 'pass', 1 FROM {table} WHERE {_scored(static=None)}{where}"
        f") GROUP BY {cell} ORDER BY {cell}",
        [bucket_of(since), *args],
        add,
    )
    return out


@dataclass(frozen=True)
class Usage:
    """What a target's results in a period cost and how they answered.

    ``scored`` results follow the scored-probe filter (fresh and static items); ``refused`` of them
    have a response the given test says declines. ``answered`` results (not errors) that report
    output tokens, and those tokens; ``costed`` results (any outcome) with a recorded cost, and its sum.
    """

    scored: int = 0
    refused: int = 0
    answered: int = 0
    output_tokens: int = 0
    costed: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.scored + other.scored,
            self.refused + other.refused,
            self.answered + other.answered,
            self.output_tokens + other.output_tokens,
            self.costed + other.costed,
            self.cost_usd + other.cost_usd,
        )


def last_result_id(store: Store) -> int:
    """The newest result's id (0 for an empty ledger): committed ids are a prefix, so ``id <=`` it is a
    consistent cut of the ledger."""
    rows = store._read("SELECT COALESCE(MAX(id), 0) FROM results")
    return int(rows[0][0])


def usage_by_bucket(
    store: Store,
    refused: Callable[[str | None], bool],
    *,
    since: float,
    upto_id: int,
    after_id: int = 0,
    edge: bool = False,
) -> dict[tuple[str, int], Usage]:
    """Per (target, bucket), the ``Usage`` of results with ``after_id < id <= upto_id`` and ``ts >= since``;
    with ``edge`` only those in since's bucket. ``refused`` runs inside SQLite on scored responses, so
    a read never holds the response texts at once.

    With ``after_id`` the read walks ids (the rows added since a previous read); without, the
    (target, ts) index from ``since``.
    """
    if edge:
        where, args, table = _edge(since)
    elif after_id:
        where, args, table = " AND ts >= ?", [since], "results"
    else:
        where, args = _window(since)
        table = _table(since, None)
    scored = f"({_scored(static=None)})"
    rows = store._read_with(
        f"SELECT target, {window_bucket('ts')} AS b, SUM({scored}),"
        f" SUM(CASE WHEN {scored} THEN capmon_refused(response) ELSE 0 END),"
        " SUM(outcome != 'error' AND output_tokens IS NOT NULL),"
        " COALESCE(SUM(CASE WHEN outcome != 'error' THEN output_tokens END), 0), COUNT(cost_usd), TOTAL(cost_usd)"
        f" FROM {table} WHERE id > ? AND id <= ?{where} GROUP BY target, b",
        [after_id, upto_id, *args],
        {"capmon_refused": lambda text: int(refused(text))},
    )
    return {
        (str(r[0]), int(r[1])): Usage(int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), float(r[7])) for r in rows
    }
