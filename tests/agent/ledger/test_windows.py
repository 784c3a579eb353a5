"""Bucketed window reads equal counting the window's rows, wherever the window starts, and cost what the
buckets in the window hold rather than its rows. The oracle is Python over ``store.results()``."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.ledger import queries, windows
from agent.ledger.results import ProbeResult
from agent.ledger.schema import WINDOW_BUCKET_S
from agent.ledger.store import Store
from agent.ledger.windows import Usage, WindowCounts
from tests.agent.ledger.test_store import _result
from tests.agent.ledger.test_window_queries import _steps

H = WINDOW_BUCKET_S
REFUSALS = ("I'm sorry, but I can't help with that.", "I cannot do that.")


def _refused(text: str | None) -> bool:
    """The test's own refusal rule (the engine passes fingerprint.is_refusal)."""
    return text in REFUSALS


def _times(rng: random.Random) -> float:
    """Timestamps across ten buckets, many on a bucket's edge or one ulp either side of it; some negative
    (int() truncates towards zero, so bucket 0 spans (-H, H): still non-decreasing in ts)."""
    edge = rng.randrange(-2, 10) * H
    near = [math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)]
    return rng.choice([edge, *near, rng.uniform(-2 * H, 10 * H)])


def _rows(rng: random.Random, n: int) -> list[ProbeResult]:
    rows = []
    for i in range(n):
        outcome = rng.choice(["pass", "pass", "fail", "error"])
        rows.append(
            _result(
                ts=_times(rng), target=rng.choice(["a", "b", "c"]), family=rng.choice(["arithmetic", "json_output"]),
                difficulty=rng.randrange(1, 4), novelty=rng.choice([0, 0, 2]), static=rng.random() < 0.2,
                canary=rng.random() < 0.1, outcome=outcome, score=None if outcome == "error" else 1.0,
                response=None if outcome == "error" else rng.choice([*REFUSALS, "Answer: 2", "", None]),
                output_tokens=rng.choice([None, rng.randrange(0, 60)]), cost_usd=rng.choice([None, rng.random() / 100]),
                item_index=i, seed=i,
            )
        )  # fmt: skip
    return rows


def _write(store: Store, rows: list[ProbeResult], rng: random.Random) -> None:
    for start in range(0, len(rows), 37):  # batches, as the group committer writes them, and single rows
        if rng.random() < 0.5:
            store.add_results(rows[start : start + 37])
        else:
            for row in rows[start : start + 37]:
                store.add_result(row)


def _cells_oracle(store: Store, since: float) -> WindowCounts:
    out = WindowCounts({}, {})
    for row in store.results(since=since):
        r = row.result
        if r.outcome != "error" and not r.canary:
            cell = out[r.static].setdefault((r.target, r.family, r.difficulty, r.novelty), [0, 0])
            cell[0] += r.outcome == "pass"
            cell[1] += 1
    return out


def _as_window(cells: list[queries.CellCount]) -> WindowCounts:
    out = WindowCounts({}, {})
    for c in cells:
        out[c.static][(c.target, c.family, c.difficulty, c.novelty)] = [c.passes, c.total]
    return out


def _usage_oracle(store: Store, since: float, refused: Callable[[str | None], bool]) -> dict[str, Usage]:
    out: dict[str, list[float]] = {}
    for row in store.results(since=since):
        r = row.result
        u = out.setdefault(r.target, [0, 0, 0, 0, 0, 0.0])
        scored = r.outcome != "error" and not r.canary
        u[0] += scored
        u[1] += scored and refused(r.response)
        if r.outcome != "error" and r.output_tokens is not None:
            u[2] += 1
            u[3] += r.output_tokens
        if r.cost_usd is not None:
            u[4] += 1
            u[5] += r.cost_usd
    return {t: Usage(int(u[0]), int(u[1]), int(u[2]), int(u[3]), int(u[4]), u[5]) for t, u in out.items()}


def _sinces(rng: random.Random) -> list[float]:
    return [-3 * H, 12 * H, 0.0, H, 5 * H, math.nextafter(5 * H, -math.inf), *(_times(rng) for _ in range(30))]


def _same_usage(got: dict[str, Usage], want: dict[str, Usage]) -> None:
    assert got.keys() == want.keys()
    for t, u in want.items():
        assert (got[t].scored, got[t].refused, got[t].answered, got[t].output_tokens, got[t].costed) == (
            u.scored, u.refused, u.answered, u.output_tokens, u.costed,
        )  # fmt: skip
        assert got[t].cost_usd == pytest.approx(u.cost_usd, rel=1e-12, abs=1e-15)


def test_window_cells_equal_the_rows_wherever_the_window_starts(tmp_path: Path) -> None:
    rng = random.Random(31)
    store = Store(tmp_path / "l.db")
    _write(store, _rows(rng, 1500), rng)
    checked = 0
    for since in _sinces(rng):
        want = _cells_oracle(store, since)
        got = windows.window_counts(store, since=since)
        assert got == want, since
        assert all(list(side) == sorted(side) for side in got)  # in cell order, as the row scan returned them
        assert _as_window(queries.cell_counts(store, since=since, static=None)) == want  # the row scan it replaces
        checked += bool(want.fresh)
    assert checked > 20  # most windows hold results


def test_an_older_ledger_gets_its_window_cells_filled_by_the_migration(tmp_path: Path) -> None:
    rng = random.Random(32)
    path = tmp_path / "l.db"
    store = Store(path)
    _write(store, _rows(rng, 800), rng)
    store.close()
    with sqlite3.connect(path) as conn:  # as a ledger written before schema 6
        conn.executescript("DROP TRIGGER window_cells_result; DROP TABLE window_cells; PRAGMA user_version = 5;")
    store = Store(path)
    _write(store, _rows(rng, 300), rng)  # and counted by the trigger after
    for since in _sinces(rng):
        assert windows.window_counts(store, since=since) == _cells_oracle(store, since), since


def test_usage_by_bucket_sums_to_the_rows_and_edge_reads_one_bucket(tmp_path: Path) -> None:
    rng = random.Random(33)
    store = Store(tmp_path / "l.db")
    _write(store, _rows(rng, 1200), rng)
    upto = windows.last_result_id(store)
    assert upto == len(store.results())
    for since in _sinces(rng):
        by_bucket = windows.usage_by_bucket(store, _refused, since=since, upto_id=upto)
        totals: dict[str, Usage] = {}
        for (target, _), u in by_bucket.items():
            totals[target] = totals.get(target, Usage()) + u
        _same_usage(totals, _usage_oracle(store, since, _refused))
        edge = windows.usage_by_bucket(store, _refused, since=since, upto_id=upto, edge=True)
        assert {b for _, b in edge} <= {windows.bucket_of(since)}
        assert edge == {k: u for k, u in by_bucket.items() if k[1] == windows.bucket_of(since)}
    # An id range reads only its rows: the second half of the ledger, counted alone.
    half = upto // 2
    late = windows.usage_by_bucket(store, _refused, since=-10 * H, after_id=half, upto_id=upto)
    rows = [r.result for r in store.results(after_id=half)]
    assert sum(u.costed for u in late.values()) == sum(r.cost_usd is not None for r in rows)


def test_a_window_read_costs_its_buckets_not_its_rows(tmp_path: Path) -> None:
    # Two ledgers with the same cells over the same 24 hours; one has ten times the rows per hour.
    def ledger(name: str, per_hour: int) -> Store:
        store = Store(tmp_path / name)
        rows = [
            _result(ts=h * H + (i + 0.5) * H / per_hour, target=f"t{i % 3}", difficulty=1 + i % 4,
                    outcome="pass" if i % 3 else "fail", item_index=i, seed=i)
            for h in range(24)
            for i in range(per_hour)
        ]  # fmt: skip
        store.add_results(rows)
        return store

    sparse, dense = ledger("s.db", 40), ledger("d.db", 400)
    since = 2.5 * H  # mid-bucket: the edge bucket's rows are read too
    assert windows.window_counts(sparse, since=since) == _cells_oracle(sparse, since)
    assert windows.window_counts(dense, since=since) == _cells_oracle(dense, since)
    scan = _steps(dense, lambda: queries.cell_counts(dense, since=since, static=None))
    cells = _steps(dense, lambda: windows.window_counts(dense, since=since))
    # The row scan grows with the rows (10x); the bucketed read with the edge bucket's rows only.
    assert scan > 8 * _steps(sparse, lambda: queries.cell_counts(sparse, since=since, static=None))
    assert cells < scan / 5
    assert cells < 3 * _steps(sparse, lambda: windows.window_counts(sparse, since=since))
