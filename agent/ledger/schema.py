"""The ledger's schema and its migrations: ``PRAGMA user_version`` says which steps have run.

Each entry of ``MIGRATIONS`` takes the schema from version ``i`` to ``i + 1`` and runs once, in
order, inside one transaction with the version bump; a ledger opened by a newer capmon is refused
rather than written with an older layout. Version 1 is the layout every ledger written before
migrations existed already has (its statements are ``IF NOT EXISTS``), so an old ledger opens
unchanged and is stamped 1.

To change the schema, append a step; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import StoreError

_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    run_id TEXT NOT NULL,
    target TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    family TEXT NOT NULL,
    difficulty INTEGER NOT NULL,
    novelty INTEGER NOT NULL,
    item_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    item_key TEXT NOT NULL,
    static INTEGER NOT NULL,
    canary INTEGER NOT NULL,
    generator_version TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT,
    extracted TEXT,
    canonical TEXT,
    reference TEXT NOT NULL,
    score REAL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    error_reason TEXT,
    http_status INTEGER,
    latency_s REAL NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    response_model TEXT,
    system_fingerprint TEXT,
    request_id TEXT,
    "group" TEXT,
    cost_usd REAL,
    temperature REAL
);
CREATE INDEX IF NOT EXISTS results_target_ts ON results (target, ts);
CREATE INDEX IF NOT EXISTS results_target_family ON results (target, family, difficulty, novelty);
CREATE INDEX IF NOT EXISTS results_item_key ON results (item_key, target);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,
    planned INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS baselines (
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    detector TEXT NOT NULL,
    pinned INTEGER NOT NULL,
    created REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (target, scope, detector)
);
CREATE TABLE IF NOT EXISTS detector_state (
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    detector TEXT NOT NULL,
    updated REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (target, scope, detector)
);
CREATE TABLE IF NOT EXISTS change_points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    detector TEXT NOT NULL,
    direction TEXT NOT NULL,
    size REAL,
    statistic REAL,
    threshold REAL,
    probes INTEGER
);
"""


@dataclass(frozen=True)
class Migration:
    """One schema step: what it does, and the statements that do it."""

    summary: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return run


def _columns(added: tuple[tuple[str, str, str], ...]) -> Callable[[sqlite3.Connection], None]:
    """Add (table, column, type)s a table lacks: a ledger stamped 0 may already have them."""

    def run(conn: sqlite3.Connection) -> None:
        for table, column, kind in added:
            have = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    return run


#: Upper bounds (seconds) of the latency histogram's buckets (``capmon_probe_latency_seconds``). The
#: totals trigger bins each result by them, so a change needs a migration that recreates the trigger
#: (``Counters.seed_from_store`` falls back to binning every row when the stored bounds differ).
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _latency_bucket(column: str) -> str:
    """SQL naming the bucket ``column`` falls in: the first bound >= it (``bisect_left``), else '+Inf'."""
    whens = " ".join(f"WHEN {column} <= {b!r} THEN '{b!r}'" for b in LATENCY_BUCKETS)
    return f"CASE {whens} ELSE '+Inf' END"


def _upsert(target: str, kind: str, k1: str, k2: str, n: str, x: str) -> str:
    return (
        f"INSERT INTO totals (target, kind, k1, k2, n, x) VALUES ({target}, '{kind}', {k1}, {k2}, {n}, {x})"
        " ON CONFLICT (target, kind, k1, k2) DO UPDATE SET n = n + excluded.n, x = x + excluded.x;"
    )


def _totals(conn: sqlite3.Connection) -> None:
    """The counters' totals kept by triggers in the transaction that writes each result or ends each
    run, and filled once from the rows already there. Kinds: probes (family, outcome), errors
    (reason), tokens (input|output), cost (n results with a cost, x its sum), latency (bucket; x the
    seconds' sum), runs (status of finished runs)."""
    reason = "COALESCE(NULLIF({0}error_reason, ''), 'unknown')"
    conn.execute(
        """CREATE TABLE IF NOT EXISTS totals (
            target TEXT NOT NULL, kind TEXT NOT NULL, k1 TEXT NOT NULL, k2 TEXT NOT NULL,
            n INTEGER NOT NULL, x REAL NOT NULL,
            PRIMARY KEY (target, kind, k1, k2)
        ) WITHOUT ROWID"""
    )
    conn.execute(
        "CREATE TRIGGER IF NOT EXISTS totals_result AFTER INSERT ON results BEGIN "
        + _upsert("NEW.target", "probes", "NEW.family", "NEW.outcome", "1", "0")
        + _upsert("NEW.target", "latency", _latency_bucket("NEW.latency_s"), "''", "1", "NEW.latency_s")
        + " INSERT INTO totals (target, kind, k1, k2, n, x)"
        f" SELECT NEW.target, 'errors', {reason.format('NEW.')}, '', 1, 0 WHERE NEW.outcome = 'error'"
        " ON CONFLICT (target, kind, k1, k2) DO UPDATE SET n = n + excluded.n;"
        " INSERT INTO totals (target, kind, k1, k2, n, x)"
        " SELECT NEW.target, 'tokens', 'input', '', NEW.input_tokens, 0 WHERE NEW.input_tokens IS NOT NULL"
        " ON CONFLICT (target, kind, k1, k2) DO UPDATE SET n = n + excluded.n;"
        " INSERT INTO totals (target, kind, k1, k2, n, x)"
        " SELECT NEW.target, 'tokens', 'output', '', NEW.output_tokens, 0 WHERE NEW.output_tokens IS NOT NULL"
        " ON CONFLICT (target, kind, k1, k2) DO UPDATE SET n = n + excluded.n;"
        " INSERT INTO totals (target, kind, k1, k2, n, x)"
        " SELECT NEW.target, 'cost', '', '', 1, NEW.cost_usd WHERE NEW.cost_usd IS NOT NULL"
        " ON CONFLICT (target, kind, k1, k2) DO UPDATE SET n = n + excluded.n, x = x + excluded.x;"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER IF NOT EXISTS totals_run AFTER UPDATE OF finished ON runs"
        " WHEN OLD.finished IS NULL AND NEW.finished IS NOT NULL BEGIN "
        + _upsert("NEW.target", "runs", "NEW.status", "''", "1", "0")
        + " END"
    )
    # The rows already there, once (a scan of the ledger, at this migration only).
    fills = (
        "SELECT target, 'probes', family, outcome, COUNT(*), 0 FROM results GROUP BY target, family, outcome",
        f"SELECT target, 'latency', {_latency_bucket('latency_s')} AS b, '', COUNT(*), TOTAL(latency_s)"
        " FROM results GROUP BY target, b",
        f"SELECT target, 'errors', {reason.format('')} AS r, '', COUNT(*), 0 FROM results"
        " WHERE outcome = 'error' GROUP BY target, r",
        "SELECT target, 'tokens', 'input', '', SUM(input_tokens), 0 FROM results"
        " WHERE input_tokens IS NOT NULL GROUP BY target",
        "SELECT target, 'tokens', 'output', '', SUM(output_tokens), 0 FROM results"
        " WHERE output_tokens IS NOT NULL GROUP BY target",
        "SELECT target, 'cost', '', '', COUNT(*), TOTAL(cost_usd) FROM results"
        " WHERE cost_usd IS NOT NULL GROUP BY target",
        "SELECT target, 'runs', status, '', COUNT(*), 0 FROM runs WHERE finished IS NOT NULL GROUP BY target, status",
    )
    for select in fills:
        conn.execute(f"INSERT OR REPLACE INTO totals (target, kind, k1, k2, n, x) {select}")


#: Width (seconds) of the time buckets ``window_cells`` keeps scored counts in. A window read sums the
#: whole buckets after the one its start falls in and reads the rows of that one, so it costs
#: O(buckets x cells + one bucket's rows) instead of O(rows in the window): an hour balances the two
#: terms for a day's window at ~10 probes/s over ~2,000 cells. A change needs a migration that refills
#: the table.
WINDOW_BUCKET_S = 3600.0


def window_bucket(column: str) -> str:
    """SQL naming the window bucket of a timestamp ``column``: ``int(ts / WINDOW_BUCKET_S)`` as Python
    computes it (the same IEEE division, truncated the same way), see ``windows.bucket_of``."""
    return f"CAST({column} / {WINDOW_BUCKET_S!r} AS INTEGER)"


def _windows(conn: sqlite3.Connection) -> None:
    """Scored results' (passes, total) per window bucket and cell, kept by a trigger in the transaction
    that writes each result, and filled once from the rows already there. Keyed bucket first: a
    window's read is a range of the key, however long the ledger's history."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS window_cells (
            bucket INTEGER NOT NULL, target TEXT NOT NULL, family TEXT NOT NULL, difficulty INTEGER NOT NULL,
            novelty INTEGER NOT NULL, static INTEGER NOT NULL, passes INTEGER NOT NULL, total INTEGER NOT NULL,
            PRIMARY KEY (bucket, target, family, difficulty, novelty, static)
        ) WITHOUT ROWID"""
    )
    # The scored filter is queries.SCORED (errors and fingerprint canaries are not capability results).
    conn.execute(
        "CREATE TRIGGER IF NOT EXISTS window_cells_result AFTER INSERT ON results"
        " WHEN NEW.outcome != 'error' AND NEW.canary = 0 BEGIN"
        " INSERT INTO window_cells (bucket, target, family, difficulty, novelty, static, passes, total)"
        f" VALUES ({window_bucket('NEW.ts')}, NEW.target, NEW.family, NEW.difficulty, NEW.novelty, NEW.static,"
        " NEW.outcome = 'pass', 1)"
        " ON CONFLICT (bucket, target, family, difficulty, novelty, static)"
        " DO UPDATE SET passes = passes + excluded.passes, total = total + 1;"
        " END"
    )
    conn.execute(
        "INSERT OR REPLACE INTO window_cells (bucket, target, family, difficulty, novelty, static, passes, total)"
        f" SELECT {window_bucket('ts')} AS b, target, family, difficulty, novelty, static, SUM(outcome = 'pass'),"
        " COUNT(*) FROM results WHERE outcome != 'error' AND canary = 0"
        " GROUP BY b, target, family, difficulty, novelty, static"
    )


#: Step ``i`` takes a ledger from ``user_version`` i to i + 1.
MIGRATIONS: tuple[Migration, ...] = (
    Migration("results, runs, baselines, detector state, change points, meta", _script(_V1)),
    Migration(
        "pass-ratio detector state keyed 'pass_ratio' like its baseline (was 'state')",
        _script("UPDATE detector_state SET detector = 'pass_ratio' WHERE detector = 'state'"),
    ),
    Migration(
        "calibrations: each (target, family)'s frontier found by 'capmon calibrate'",
        _script(
            """CREATE TABLE IF NOT EXISTS calibrations (
                target TEXT NOT NULL,
                family TEXT NOT NULL,
                generator_version TEXT NOT NULL,
                created REAL NOT NULL,
                d50 REAL NOT NULL,
                lower REAL NOT NULL,
                upper REAL NOT NULL,
                censored TEXT NOT NULL,
                probes INTEGER NOT NULL,
                tokens INTEGER NOT NULL,
                cost_usd REAL,
                PRIMARY KEY (target, family)
            )"""
        ),
    ),
    Migration(
        "per probe: normalised finish reason, attempts, time to first token, attribution headers, the failed"
        " attempts and the request as sent; per change point: the evidence (which signals moved, how far)",
        _columns(
            (
                ("results", "finish_reason", "TEXT"),
                ("results", "attempts", "INTEGER"),
                ("results", "ttft_s", "REAL"),
                ("results", "headers", "TEXT"),
                ("results", "attempt_log", "TEXT"),
                ("results", "request", "TEXT"),
                ("change_points", "evidence", "TEXT"),
            )
        ),
    ),
    Migration(
        "totals: the counters' values (probes, errors, tokens, cost, latency buckets, runs) kept by triggers,"
        " so the agent's start reads a few rows per target instead of scanning the ledger",
        _totals,
    ),
    Migration(
        "window_cells: scored counts per hour and cell kept by a trigger, so the statistics refresh reads"
        " O(hours x cells) instead of every result in its window",
        _windows,
    ),
)
#: The version this capmon writes.
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The ledger's ``PRAGMA user_version``: how many migrations it has had."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: object) -> int:
    """Run the migrations a ledger has not had yet; returns the version it had before.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each step and its version bump
    commit together, so a crash leaves the ledger at a step boundary.
    """
    before = schema_version(conn)
    if before > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {before}; this capmon knows up to {SCHEMA_VERSION} (upgrade capmon)"
        )
    for version in range(before, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process (the CLI beside a running agent) may have run this step meanwhile.
            if schema_version(conn) == version:
                MIGRATIONS[version].apply(conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return before
