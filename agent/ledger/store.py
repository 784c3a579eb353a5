"""The ledger: every probe result, baselines, detector state and change points, in SQLite (WAL).

``add_results`` commits a batch of results in one transaction (the run's group committer collects
results finishing within 20 ms); a result is counted anywhere else only after its transaction has
committed, so a crash or SIGKILL never loses a counted result. The private salt lives here too and
is never exported. The schema and its migrations are in ``agent.ledger.schema``; aggregate reads
(the statistics, the report, the counters' seeds) are in ``agent.ledger.queries``.

Checkpoints (copying WAL pages into the database file, with an fsync) are what makes a WAL commit
expensive; SQLite runs them inside whichever commit crosses the threshold. Here they run on a
thread of their own (``_Checkpointer``), so the event loop's commit path only appends to the WAL.
A commit is durable once ``add_results`` returns either way: a checkpoint only moves pages.
"""

from __future__ import annotations

import json
import logging
import operator
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agent.errors import StoreError
from agent.ledger.results import ProbeResult
from agent.ledger.schema import migrate

log = logging.getLogger(__name__)

#: How often the checkpoint thread looks for new commits to move into the database file.
CHECKPOINT_INTERVAL_S = 0.5
#: Responses are capped before they are stored: the ledger keeps evidence, not whole essays.
RESPONSE_CAP = 4000


_RESULT_COLUMNS = [f.name for f in fields(ProbeResult)]
_RESPONSE_POS = _RESULT_COLUMNS.index("response")
#: A result's column values as one tuple, in ``_RESULT_COLUMNS`` order (one C call per row).
_result_values = operator.attrgetter(*_RESULT_COLUMNS)
_QUOTED_COLUMNS = ", ".join(f'"{c}"' for c in _RESULT_COLUMNS)  # "group" is an SQL keyword
_INSERT_RESULT = f"INSERT INTO results ({_QUOTED_COLUMNS}) VALUES ({', '.join('?' for _ in _RESULT_COLUMNS)})"


@dataclass(frozen=True)
class StoredResult:
    """A result read back from the ledger, with its row id."""

    id: int
    result: ProbeResult


class Store:
    """SQLite ledger. One connection, serialised by a lock; safe to call from the event loop."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process kill (only power loss can drop the last commits).
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            # Checkpoints run on the _Checkpointer thread instead of inside a commit.
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            migrate(self._conn, self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._checkpointer = _Checkpointer(self.path)

    # -- meta -------------------------------------------------------------------------------------

    def _set_default(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value in the meta table."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def salt(self) -> bytes:
        """The private salt, made on first use and kept with the store. Never export it."""
        self._set_default("salt", secrets.token_hex(32))
        value = self.get_meta("salt")
        if value is None:  # pragma: no cover - set just above
            raise StoreError("salt missing after creation")
        return bytes.fromhex(value)

    # -- results ----------------------------------------------------------------------------------

    def add_result(self, result: ProbeResult) -> int:
        """Commit one result; returns its row id."""
        return self.add_results([result])[0]

    def add_results(self, results: Sequence[ProbeResult]) -> list[int]:
        """Commit results in one transaction (all or none); returns their row ids in order."""
        rows: list[Sequence[Any]] = []
        for result in results:
            values: Sequence[Any] = _result_values(result)
            response = result.response
            if response is not None and len(response) > RESPONSE_CAP:
                values = [*values[:_RESPONSE_POS], response[:RESPONSE_CAP], *values[_RESPONSE_POS + 1 :]]
            rows.append(values)
        with self._lock:
            if len(rows) == 1:  # autocommit: one statement is its own transaction
                ids = [int(self._conn.execute(_INSERT_RESULT, rows[0]).lastrowid or 0)]
            else:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    ids = [int(self._conn.execute(_INSERT_RESULT, row).lastrowid or 0) for row in rows]
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        self._checkpointer.note_commit()
        return ids

    def results(
        self,
        *,
        target: str | None = None,
        targets: Sequence[str] | None = None,
        family: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_id: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[StoredResult]:
        """Results matching the filters, oldest first unless ``newest_first``."""
        where: list[str] = ["id > ?"]
        args: list[object] = [after_id]
        if target is not None:
            where.append("target = ?")
            args.append(target)
        if targets:
            where.append(f"target IN ({', '.join('?' for _ in targets)})")
            args.extend(targets)
        if family is not None:
            where.append("family = ?")
            args.append(family)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        if until is not None:
            where.append("ts < ?")
            args.append(until)
        sql = f"SELECT * FROM results WHERE {' AND '.join(where)} ORDER BY id {'DESC' if newest_first else 'ASC'}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [_row_to_stored(r) for r in rows]

    def result(self, result_id: int) -> StoredResult | None:
        """One result by row id."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM results WHERE id = ?", (result_id,)).fetchone()
        return None if row is None else _row_to_stored(row)

    def count(self, *, target: str | None = None, outcome: str | None = None) -> int:
        """How many results match."""
        where: list[str] = ["1=1"]
        args: list[object] = []
        if target is not None:
            where.append("target = ?")
            args.append(target)
        if outcome is not None:
            where.append("outcome = ?")
            args.append(outcome)
        with self._lock:
            row = self._conn.execute(f"SELECT COUNT(*) FROM results WHERE {' AND '.join(where)}", args).fetchone()
        return int(row[0])

    def usage_since(self, target: str, since: float) -> tuple[int, int, float]:
        """(probes, tokens, cost in USD) a target used since a time: the budget ledger."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)), 0),"
                " COALESCE(SUM(cost_usd), 0.0) FROM results WHERE target = ? AND ts >= ?",
                (target, since),
            ).fetchone()
        return int(row[0]), int(row[1]), float(row[2])

    def max_index(self, target: str) -> int:
        """The highest item index used for a target (fresh items continue after it)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT MAX(item_index) FROM results WHERE target = ? AND static = 0 AND canary = 0", (target,)
            ).fetchone()
        return -1 if row[0] is None else int(row[0])

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, run_id: str, target: str, planned: int) -> None:
        """Record that a run began."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO runs (run_id, target, started, status, planned) VALUES (?, ?, ?, 'running', ?)",
                (run_id, target, time.time(), planned),
            )

    def finish_run(self, run_id: str, status: str, completed: int, abandoned: int) -> None:
        """Record how a run ended: completed, abandoned (shutdown) or failed."""
        with self._lock:
            self._conn.execute(
                "UPDATE runs SET finished = ?, status = ?, completed = ?, abandoned = ? WHERE run_id = ?",
                (time.time(), status, completed, abandoned, run_id),
            )
        self._checkpointer.note_commit()

    def runs(self, target: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs, newest first."""
        sql, args = "SELECT * FROM runs", []
        if target is not None:
            sql += " WHERE target = ?"
            args.append(target)
        sql += f" ORDER BY started DESC LIMIT {int(limit)}"
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, args).fetchall()]

    # -- baselines, detector state, change points --------------------------------------------------

    def put_baseline(self, target: str, scope: str, detector: str, data: dict[str, Any], *, pinned: bool) -> None:
        """Store (replace) a baseline."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?, ?)",
                (target, scope, detector, int(pinned), time.time(), json.dumps(data, sort_keys=True)),
            )
        self._checkpointer.note_commit()

    def put_calibration(
        self,
        target: str,
        family: str,
        generator_version: str,
        *,
        d50: float,
        lower: float,
        upper: float,
        censored: str,
        probes: int,
        tokens: int,
        cost_usd: float | None,
    ) -> None:
        """Store (replace) a (target, family)'s calibrated frontier (``capmon calibrate``)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO calibrations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (target, family, generator_version, time.time(), d50, lower, upper, censored, probes, tokens, cost_usd),
            )
        self._checkpointer.note_commit()

    def baselines(self, target: str | None = None) -> list[dict[str, Any]]:
        """Stored baselines, with their data decoded."""
        sql, args = "SELECT * FROM baselines", []
        if target is not None:
            sql += " WHERE target = ?"
            args.append(target)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY target, scope, detector", args).fetchall()
        return [{**dict(r), "pinned": bool(r["pinned"]), "data": json.loads(r["data"])} for r in rows]

    def delete_baselines(self, target: str | None = None) -> int:
        """Forget baselines (all, or one target's); returns how many."""
        with self._lock:
            if target is None:
                cur = self._conn.execute("DELETE FROM baselines")
            else:
                cur = self._conn.execute("DELETE FROM baselines WHERE target = ?", (target,))
        return cur.rowcount

    def put_detector_state(self, target: str, scope: str, detector: str, data: dict[str, Any]) -> None:
        """Persist a detector's state so it survives restarts."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO detector_state VALUES (?, ?, ?, ?, ?)",
                (target, scope, detector, time.time(), json.dumps(data, sort_keys=True)),
            )
        self._checkpointer.note_commit()

    def detector_states(self, target: str | None = None) -> list[dict[str, Any]]:
        """Persisted detector states, decoded."""
        sql, args = "SELECT * FROM detector_state", []
        if target is not None:
            sql += " WHERE target = ?"
            args.append(target)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    def delete_detector_states(self, target: str | None = None) -> None:
        """Forget detector states (after a baseline reset)."""
        with self._lock:
            if target is None:
                self._conn.execute("DELETE FROM detector_state")
            else:
                self._conn.execute("DELETE FROM detector_state WHERE target = ?", (target,))

    def add_change_point(
        self,
        *,
        ts: float,
        target: str,
        scope: str,
        detector: str,
        direction: str,
        size: float | None,
        statistic: float | None,
        threshold: float | None,
        probes: int | None,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record a detected change point; ``evidence``: the signals that moved (``agent.stats.signals``)."""
        shown = None if evidence is None else json.dumps(evidence, sort_keys=True)
        with self._lock:
            self._conn.execute(
                "INSERT INTO change_points (ts, target, scope, detector, direction, size, statistic, threshold,"
                " probes, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ts, target, scope, detector, direction, size, statistic, threshold, probes, shown),
            )
        self._checkpointer.note_commit()

    def change_points(self, target: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """Detected change points, oldest first (``evidence`` decoded: a list, empty when none was kept)."""
        where: list[str] = ["1=1"]
        args: list[object] = []
        if target is not None:
            where.append("target = ?")
            args.append(target)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM change_points WHERE {' AND '.join(where)} ORDER BY ts", args
            ).fetchall()
        return [{**dict(r), "evidence": json.loads(r["evidence"]) if r["evidence"] else []} for r in rows]

    # -- housekeeping -----------------------------------------------------------------------------

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` says ok."""
        with self._lock:
            row = self._conn.execute("PRAGMA integrity_check").fetchone()
        return bool(row and row[0] == "ok")

    def targets(self) -> list[str]:
        """Targets that have results."""
        with self._lock:
            return [str(r[0]) for r in self._conn.execute("SELECT DISTINCT target FROM results ORDER BY target")]

    def close(self) -> None:
        """Stop the checkpoint thread, move the WAL into the database file and close."""
        self._checkpointer.stop()
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # another process may be reading; the WAL stays valid
                log.warning("final checkpoint of %s skipped: %s", self.path, exc)
            self._conn.close()

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read statement; for ``agent.ledger.queries`` only (SQL stays in the ledger)."""
        with self._lock:
            return self._conn.execute(sql, list(args)).fetchall()

    def _fold(self, sql: str, args: Iterable[Any], add: Callable[[tuple[Any, ...]], None]) -> None:
        """``_read`` that hands ``add`` each row, a plain tuple, a batch at a time instead of returning them
        all: a caller that folds rows into its own structure never holds every row at once."""
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = None
            cursor.execute(sql, list(args))
            while batch := cursor.fetchmany(256):
                for row in batch:
                    add(row)

    def _read_with(
        self, sql: str, args: Iterable[Any], functions: Mapping[str, Callable[[Any], Any]]
    ) -> list[sqlite3.Row]:
        """``_read`` with one-argument SQL functions registered first: an aggregate over many rows can
        then run a Python test per row inside SQLite, and only its result comes back."""
        with self._lock:
            for name, fn in functions.items():
                self._conn.create_function(name, 1, fn, deterministic=True)
            return self._conn.execute(sql, list(args)).fetchall()


class _Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` from its own connection and thread after commits.

    The thread starts with the first commit counted, so read-only uses of a store start none.
    sqlite3 releases the GIL while a statement runs, so the checkpoint's copying and fsync overlap
    the event loop instead of stalling it. PASSIVE never blocks writers or readers.
    """

    def __init__(self, path: Path, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._commits = 0
        self._done = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def checkpoints(self) -> int:
        """Checkpoints the thread has run."""
        return self._done

    def note_commit(self) -> None:
        """Count a commit; the first one starts the thread."""
        self._commits += 1
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="capmon-wal-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("checkpoint thread cannot open %s: %s", self.path, exc)
            return
        seen = 0
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(self.interval_s):
                if self._commits == seen:
                    continue
                seen = self._commits
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self._done += 1
                except sqlite3.Error as exc:  # e.g. disk full: commits still land in the WAL
                    log.warning("checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the thread (the store's close does the final checkpoint)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _row_to_stored(row: sqlite3.Row) -> StoredResult:
    data = {c: row[c] for c in _RESULT_COLUMNS}
    data["static"] = bool(data["static"])
    data["canary"] = bool(data["canary"])
    return StoredResult(id=int(row["id"]), result=ProbeResult(**data))
