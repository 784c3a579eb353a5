"""Schema migrations: an old ledger opens and is stamped, a newer one is refused, steps run once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.ledger import schema
from agent.ledger.store import Store
from tests.agent.ledger.test_store import _result


def test_a_ledger_from_before_migrations_opens_with_its_results(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store(path)
    rid = store.add_result(_result())
    store.close()
    # What capmon 0.1 left behind: the same tables, user_version 0, a schema_version meta row.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    again = Store(path)
    got = again.result(rid)
    assert got is not None and got.result == _result()
    again.close()
    conn = sqlite3.connect(path)
    assert schema.schema_version(conn) == schema.SCHEMA_VERSION
    conn.close()


def test_a_ledger_from_a_newer_capmon_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version"):
        Store(path)


def test_each_step_runs_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []
    steps = (
        *schema.MIGRATIONS,
        schema.Migration("test step", lambda conn: ran.append(schema.schema_version(conn))),
    )
    monkeypatch.setattr(schema, "MIGRATIONS", steps)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(steps))
    path = tmp_path / "s.db"
    Store(path).close()
    Store(path).close()
    assert ran == [len(steps) - 1]


def test_a_version_3_ledger_gains_the_probe_evidence_columns(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    store = Store(path)
    old = _result()
    rid = store.add_result(old)
    store.add_change_point(
        ts=1.0, target="t", scope="s", detector="d", direction="down", size=0.1, statistic=5.0, threshold=4.0, probes=9
    )
    store.close()
    conn = sqlite3.connect(path)  # the layout capmon wrote before migration 4
    for table, column in [*(("results", c) for c in ("finish_reason", "attempts", "ttft_s", "headers",
                                                         "attempt_log", "request")), ("change_points", "evidence")]:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    again = Store(path)
    got = again.result(rid)
    assert got is not None and got.result.finish_reason is None and got.result.attempts is None
    assert again.change_points()[0]["evidence"] == []
    again.close()
    conn = sqlite3.connect(path)
    assert schema.schema_version(conn) == schema.SCHEMA_VERSION == 6
    conn.close()
