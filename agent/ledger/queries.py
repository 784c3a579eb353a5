"""Typed aggregate reads of the ledger: with ``Store``, ``schema`` and ``windows``, the only modules that write SQL.

The counters' seeds (``agent.serve.counters``), the statistics (``agent.stats``), the report and the
CLI read the ledger through these functions, so each number is counted one way wherever it is
shown. Every function returns frozen dataclasses (or plain numbers), never database rows.

Which results count where is decided here, once (``_scored``):

- **scored**: the endpoint answered (``outcome != 'error'``) and the item is not a fingerprint
  canary. Errors are availability failures, never capability failures.
- **fresh** scored results feed pass ratios, frontiers, gradients, consistency, detectors, pairs;
  **static** scored results (the published canary items) feed only the leakage gap.
- fingerprint canaries (``canary = 1``) feed only the behaviour fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.ledger.store import Store

#: The scored-probe filter, for reference in docs and tests; ``_scored`` writes it into statements.
SCORED = "outcome != 'error' AND canary = 0"


def _scored(*, static: bool | None = False, alias: str = "") -> str:
    """The scored-probe filter; ``static`` None keeps both fresh and static items."""
    p = f"{alias}." if alias else ""
    where = f"{p}outcome != 'error' AND {p}canary = 0"
    return where if static is None else f"{where} AND {p}static = {int(static)}"


def _window(
    since: float | None = None,
    until: float | None = None,
    targets: Sequence[str] | None = None,
    alias: str = "",
) -> tuple[str, list[object]]:
    """`` AND ts >= ? AND ts < ? AND target IN (...)`` for the bounds given, with their arguments."""
    p = f"{alias}." if alias else ""
    where: list[str] = []
    args: list[object] = []
    if since is not None:
        where.append(f"{p}ts >= ?")
        args.append(since)
    if until is not None:
        where.append(f"{p}ts < ?")
        args.append(until)
    if targets is not None:
        where.append(f"{p}target IN ({', '.join('?' for _ in targets) or 'NULL'})")
        args.extend(targets)
    elif _timed(since, until):
        # Every target: named, so that the (target, ts) index can serve the time bounds. The triggers
        # keep a totals row for every target with a result (schema 5), so none is left out.
        where.append(f"{p}target IN (SELECT DISTINCT target FROM totals)")
    return "".join(f" AND {w}" for w in where), args


def _table(since: float | None, until: float | None) -> str:
    """``results`` for a query bounded by ``_window``: read through the (target, ts) index when it has a
    time bound, so a window costs what is in it, not the whole ledger (left to itself, SQLite scans
    the ledger along the (target, family, ...) index to save a sort)."""
    return "results INDEXED BY results_target_ts" if _timed(since, until) else "results"


def _timed(since: float | None, until: float | None) -> bool:
    """Whether a window has a time bound (and so is read through the (target, ts) index)."""
    return since is not None or until is not None


# -- capability: scored results ---------------------------------------------------------------------

#: Configured novelty levels per target: which rendering of an item is its primary one.
Novelties = Mapping[str, Sequence[int]]


def primary_novelty(seed: int, novelties: Sequence[int]) -> int:
    """The novelty of an item's primary rendering: ``sorted(novelties)[seed % len(novelties)]``.

    Renderings of one item are correlated, so pooled statistics and detectors take one outcome per
    item; choosing it by seed keeps every configured novelty represented. ``_primary`` is the same
    rule in SQL.
    """
    levels = sorted(set(novelties)) or [0]
    return levels[seed % len(levels)]


def _primary(novelties: Novelties, alias: str = "") -> tuple[str, list[object]]:
    """`` AND novelty = <primary novelty of the row's item>``; targets not named use novelty 0."""
    p = f"{alias}." if alias else ""
    parts: list[str] = []
    args: list[object] = []
    for target, configured in sorted(novelties.items()):
        levels = sorted(set(configured)) or [0]
        whens = " ".join("WHEN ? THEN ?" for _ in levels)
        parts.append(f"WHEN ? THEN (CASE {p}seed % ? {whens} END)")
        args += [target, len(levels), *(x for i, v in enumerate(levels) for x in (i, v))]
    if not parts:
        return f" AND {p}novelty = 0", []
    return f" AND {p}novelty = (CASE {p}target {' '.join(parts)} ELSE 0 END)", args


@dataclass(frozen=True)
class CellCount:
    """Scored results of one (target, family, difficulty, novelty) cell: ``passes`` of ``total``; fresh
    items, or static ones with ``static``."""

    target: str
    family: str
    difficulty: int
    novelty: int
    passes: int
    total: int
    static: bool = False


def cell_counts(
    store: Store,
    *,
    static: bool | None = False,
    since: float | None = None,
    until: float | None = None,
    targets: Sequence[str] | None = None,
    primary: Novelties | None = None,
) -> list[CellCount]:
    """Scored fresh (with ``static``: static canary; None: both, told apart by ``CellCount.static``)
    results per cell in [since, until).

    With ``primary`` (configured novelties per target) only each item's primary rendering counts.
    """
    where, args = _window(since, until, targets)
    if primary is not None:
        extra, extra_args = _primary(primary)
        where, args = where + extra, [*args, *extra_args]
    rows = store._read(
        f"SELECT target, family, difficulty, novelty, SUM(outcome = 'pass'), COUNT(*), static"
        f" FROM {_table(since, until)} WHERE {_scored(static=static)}{where}"
        " GROUP BY target, family, difficulty, novelty, static ORDER BY target, family, difficulty, novelty, static",
        args,
    )
    return [
        CellCount(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), bool(r[6])) for r in rows
    ]


@dataclass(frozen=True)
class Answer:
    """The canonical answer a target gave to one rendering (novelty level) of one fresh item."""

    target: str
    family: str
    item_key: str
    novelty: int
    canonical: str | None


def fresh_answers(
    store: Store,
    *,
    since: float | None = None,
    until: float | None = None,
    targets: Sequence[str] | None = None,
    rendered_twice: bool = False,
) -> list[Answer]:
    """Canonical answers of scored fresh results, oldest first (consistency across renderings).

    ``rendered_twice``: only items answered at two or more novelty levels in the bounds, the only ones
    consistency can compare (with one novelty configured, none: the window's rows are never loaded).
    """
    where, args = _window(since, until, targets)
    if rendered_twice:
        where += (
            f" AND (target, item_key) IN (SELECT target, item_key FROM {_table(since, until)} WHERE {_scored()}{where}"
            " GROUP BY target, item_key HAVING COUNT(DISTINCT novelty) > 1)"
        )
        args = [*args, *args]
    rows = store._read(
        f"SELECT target, family, item_key, novelty, canonical FROM {_table(since, until)}"
        f" WHERE {_scored()}{where} ORDER BY id",
        args,
    )
    return [Answer(str(r[0]), str(r[1]), str(r[2]), int(r[3]), None if r[4] is None else str(r[4])) for r in rows]


@dataclass(frozen=True)
class PairedOutcome:
    """One fresh item rendering both targets of a pair were scored on, and whether each passed."""

    family: str
    item_key: str
    novelty: int
    passed: bool
    baseline_passed: bool


def paired_outcomes(
    store: Store,
    target: str,
    baseline: str,
    *,
    since: float | None = None,
    until: float | None = None,
    primary: Sequence[int] | None = None,
) -> list[PairedOutcome]:
    """Scored fresh (item_key, novelty) renderings both targets answered; each target's first answer counts.

    A comparison group's members are sent identical items, so a pair differs only by the model. With
    ``primary`` (the group's configured novelties) only each item's primary rendering counts, one
    pair per item.
    """
    where, args = _window(since, until)
    if primary is not None:
        extra, extra_args = _primary({target: primary, baseline: primary})
        where, args = where + extra, [*args, *extra_args]

    table = _table(since, until)

    def first() -> str:
        return (
            f"SELECT family, item_key, novelty, outcome FROM results WHERE id IN (SELECT MIN(id) FROM {table}"
            f" WHERE target = ? AND {_scored()}{where} GROUP BY item_key, novelty)"
        )

    rows = store._read(
        f"SELECT a.family, a.item_key, a.novelty, a.outcome, b.outcome FROM ({first()}) a"
        f" JOIN ({first()}) b ON a.item_key = b.item_key AND a.novelty = b.novelty"
        " ORDER BY a.item_key, a.novelty",
        [target, *args, baseline, *args],
    )
    return [PairedOutcome(str(r[0]), str(r[1]), int(r[2]), r[3] == "pass", r[4] == "pass") for r in rows]


@dataclass(frozen=True)
class BucketCount:
    """Scored fresh results of one target in the time bucket ``[start + index * width, ... + width)``."""

    target: str
    index: int
    passes: int
    total: int


def time_buckets(
    store: Store, *, start: float, width: float, since: float, until: float, targets: Sequence[str]
) -> list[BucketCount]:
    """Scored fresh results per target and time bucket of ``width`` seconds from ``start`` (<= since)."""
    where, args = _window(since, until, targets)
    rows = store._read(
        "SELECT target, CAST((ts - ?) / ? AS INTEGER) AS bucket, SUM(outcome = 'pass'), COUNT(*)"
        f" FROM {_table(since, until)}"
        f" WHERE {_scored()}{where} GROUP BY target, bucket ORDER BY target, bucket",
        [start, width, *args],
    )
    return [BucketCount(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]


def recent_outcomes(store: Store, target: str, limit: int = 200) -> dict[str, list[tuple[int, bool]]]:
    """Per family, the last ``limit`` scored fresh (difficulty, passed) outcomes, oldest first."""
    rows = store._read(
        f"SELECT family, difficulty, outcome FROM results WHERE target = ? AND {_scored()} ORDER BY id DESC LIMIT ?",
        (target, int(limit)),
    )
    out: dict[str, list[tuple[int, bool]]] = {}
    for r in rows:
        out.setdefault(str(r[0]), []).append((int(r[1]), r[2] == "pass"))
    return {f: h[::-1] for f, h in out.items()}


@dataclass(frozen=True)
class VersionUse:
    """Which generator version of a family produced a target's scored fresh probes, and when."""

    target: str
    family: str
    generator_version: str
    probes: int
    first_ts: float
    last_ts: float


def generator_versions(
    store: Store, *, since: float | None = None, until: float | None = None, targets: Sequence[str] | None = None
) -> list[VersionUse]:
    """Per (target, family, generator version), the scored fresh probes it produced in the window."""
    where, args = _window(since, until, targets)
    rows = store._read(
        f"SELECT target, family, generator_version, COUNT(*), MIN(ts), MAX(ts) FROM {_table(since, until)}"
        f" WHERE {_scored()}{where} GROUP BY target, family, generator_version ORDER BY family, target, MIN(ts)",
        args,
    )
    return [VersionUse(str(r[0]), str(r[1]), str(r[2]), int(r[3]), float(r[4]), float(r[5])) for r in rows]


@dataclass(frozen=True)
class Calibration:
    """A (target, family)'s frontier as ``capmon calibrate`` found it (bounds may be infinite)."""

    target: str
    family: str
    generator_version: str
    created: float
    d50: float
    lower: float
    upper: float
    censored: str
    probes: int
    tokens: int
    cost_usd: float | None


def calibrations(store: Store, target: str | None = None) -> list[Calibration]:
    """Stored calibrations (all, or one target's), by target and family."""
    where, args = ("WHERE target = ?", [target]) if target is not None else ("", [])
    rows = store._read(
        "SELECT target, family, generator_version, created, d50, lower, upper, censored, probes, tokens, cost_usd"
        f" FROM calibrations {where} ORDER BY target, family",
        args,
    )
    return [
        Calibration(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            float(r[3]),
            float(r[4]),
            float(r[5]),
            float(r[6]),
            str(r[7]),
            int(r[8]),
            int(r[9]),
            None if r[10] is None else float(r[10]),
        )
        for r in rows
    ]


def families(
    store: Store, *, since: float | None = None, until: float | None = None, targets: Sequence[str] | None = None
) -> list[str]:
    """Families probed (fresh or static, answered or not; fingerprint canaries aside), sorted."""
    where, args = _window(since, until, targets)
    rows = store._read(f"SELECT DISTINCT family FROM {_table(since, until)} WHERE canary = 0{where} ORDER BY 1", args)
    return [str(r[0]) for r in rows]


def fresh_family_count(store: Store, target: str) -> int:
    """How many families a target has fresh results in (errors included: they were planned)."""
    rows = store._read(
        "SELECT COUNT(DISTINCT family) FROM results WHERE target = ? AND static = 0 AND canary = 0", (target,)
    )
    return int(rows[0][0]) if rows else 0


# -- behaviour fingerprint --------------------------------------------------------------------------


@dataclass(frozen=True)
class CanaryAnswer:
    """One answered fingerprint canary: the prompt's key, the answer and what the endpoint reported."""

    item_key: str
    response: str | None
    response_model: str | None
    system_fingerprint: str | None


def canary_answers(store: Store, target: str, after_id: int, upto_id: int) -> list[CanaryAnswer]:
    """Answered fingerprint canaries of a target with row ids in (after_id, upto_id], oldest first."""
    rows = store._read(
        "SELECT item_key, response, response_model, system_fingerprint FROM results"
        " WHERE target = ? AND canary = 1 AND outcome != 'error' AND id > ? AND id <= ? ORDER BY id",
        (target, after_id, upto_id),
    )
    return [CanaryAnswer(str(r[0]), r[1], r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class CanaryPair:
    """The same canary prompt answered before and after a time (a change point's example)."""

    prompt: str
    before: str | None
    before_ts: float
    after: str | None
    after_ts: float


def canary_pair(store: Store, target: str, ts: float) -> CanaryPair | None:
    """The first answered canary of a target at or after ``ts`` and the last answer to the same
    prompt before ``ts``; None when no canary prompt was answered on both sides."""
    after = store._read(
        "SELECT item_key, prompt, response, ts FROM results WHERE target = ? AND canary = 1 AND outcome != 'error'"
        " AND ts >= ? ORDER BY ts LIMIT 1",
        (target, ts),
    )
    if not after:
        return None
    key, prompt, answer, after_ts = after[0]
    before = store._read(
        "SELECT response, ts FROM results WHERE target = ? AND canary = 1 AND outcome != 'error'"
        " AND item_key = ? AND ts < ? ORDER BY ts DESC LIMIT 1",
        (target, key, ts),
    )
    if not before:
        return None
    return CanaryPair(str(prompt), before[0][0], float(before[0][1]), answer, float(after_ts))


# -- usage and spend --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetTotals:
    """What one target sent, what came back and what it cost, in a period.

    ``probes`` counts every result (errors, canaries and static items cost money too); ``scored``
    and ``scored_passes`` follow the scored-probe filter over fresh and static items together.
    Cost: ``recorded_cost_usd`` sums what the agent recorded; ``tokened_*`` sum the token counts of
    results that report any, and ``untokened_cost_usd`` the recorded cost of those that report none,
    so a report can price tokens with today's price table (``TargetTotals.cost``).
    """

    target: str
    probes: int
    errors: int
    scored: int
    scored_passes: int
    input_tokens: int
    output_tokens: int
    answered_output_tokens_mean: float | None
    recorded_cost_usd: float | None
    tokened_input_tokens: int
    tokened_output_tokens: int
    tokened_probes: int
    untokened_cost_usd: float | None

    def cost(self, input_per_mtok_usd: float | None = None, output_per_mtok_usd: float | None = None) -> float | None:
        """Spend in USD: tokens priced per million where a price is given, else the recorded cost."""
        if input_per_mtok_usd is None or output_per_mtok_usd is None:
            return self.recorded_cost_usd
        if not self.tokened_probes and self.untokened_cost_usd is None:
            return None
        tokens_usd = self.tokened_input_tokens * input_per_mtok_usd + self.tokened_output_tokens * output_per_mtok_usd
        priced = tokens_usd / 1e6
        return priced + (self.untokened_cost_usd or 0.0)


def target_totals(
    store: Store, *, since: float | None = None, until: float | None = None, targets: Sequence[str] | None = None
) -> dict[str, TargetTotals]:
    """Per target: probes, errors, scored passes, tokens and cost in [since, until)."""
    where, args = _window(since, until, targets)
    tokened = "(input_tokens IS NOT NULL OR output_tokens IS NOT NULL)"
    rows = store._read(
        "SELECT target, COUNT(*), SUM(outcome = 'error'),"
        f" SUM({_scored(static=None)}), SUM(outcome = 'pass' AND {_scored(static=None)}),"
        " COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
        " AVG(CASE WHEN outcome != 'error' THEN output_tokens END), SUM(cost_usd),"
        f" COALESCE(SUM(CASE WHEN {tokened} THEN COALESCE(input_tokens, 0) END), 0),"
        f" COALESCE(SUM(CASE WHEN {tokened} THEN COALESCE(output_tokens, 0) END), 0),"
        f" SUM({tokened}), SUM(CASE WHEN NOT {tokened} THEN cost_usd END)"
        f" FROM {_table(since, until)} WHERE 1 = 1{where} GROUP BY target ORDER BY target",
        args,
    )
    return {
        str(r[0]): TargetTotals(
            target=str(r[0]),
            probes=int(r[1]),
            errors=int(r[2]),
            scored=int(r[3]),
            scored_passes=int(r[4]),
            input_tokens=int(r[5]),
            output_tokens=int(r[6]),
            answered_output_tokens_mean=None if r[7] is None else float(r[7]),
            recorded_cost_usd=None if r[8] is None else float(r[8]),
            tokened_input_tokens=int(r[9]),
            tokened_output_tokens=int(r[10]),
            tokened_probes=int(r[11]),
            untokened_cost_usd=None if r[12] is None else float(r[12]),
        )
        for r in rows
    }


def latencies(
    store: Store,
    *,
    answered: bool = False,
    since: float | None = None,
    until: float | None = None,
    targets: Sequence[str] | None = None,
) -> dict[str, list[float]]:
    """Per target, every result's latency in seconds (only answered ones with ``answered``), oldest first."""
    where, args = _window(since, until, targets)
    cond = "outcome != 'error'" if answered else "1 = 1"
    out: dict[str, list[float]] = {}
    sql = f"SELECT target, latency_s FROM {_table(since, until)} WHERE {cond}{where} ORDER BY id"
    for r in store._read(sql, args):
        out.setdefault(str(r[0]), []).append(float(r[1]))
    return out


@dataclass(frozen=True)
class LatencyHistogram:
    """One target's latencies binned: ``buckets[i]`` counts bounds[i-1] < s <= bounds[i] (as
    ``bisect_left``); ``count`` and ``total`` include latencies above the last bound."""

    buckets: list[int]
    total: float
    count: int


def latency_histograms(store: Store, bounds: Sequence[float]) -> dict[str, LatencyHistogram]:
    """Every result's latency per target, binned in SQL (seeding the counters at start without
    moving every latency into Python: one table scan instead of a row per result)."""
    cumulative = ", ".join("SUM(latency_s <= ?)" for _ in bounds)
    sql = f"SELECT target, COUNT(*), TOTAL(latency_s), {cumulative} FROM results GROUP BY target"
    out: dict[str, LatencyHistogram] = {}
    for r in store._read(sql, [float(b) for b in bounds]):
        below = [int(c or 0) for c in tuple(r)[3:]]
        buckets = [c - (below[i - 1] if i else 0) for i, c in enumerate(below)]
        out[str(r[0])] = LatencyHistogram(buckets, float(r[2]), int(r[1]))
    return out


def response_models(
    store: Store, *, since: float | None = None, until: float | None = None, targets: Sequence[str] | None = None
) -> dict[str, list[str]]:
    """Per target, the distinct model names the endpoint reported, sorted."""
    where, args = _window(since, until, targets)
    out: dict[str, list[str]] = {}
    for r in store._read(
        f"SELECT DISTINCT target, response_model FROM {_table(since, until)} WHERE response_model IS NOT NULL"
        f" AND response_model != ''{where} ORDER BY target, response_model",
        args,
    ):
        out.setdefault(str(r[0]), []).append(str(r[1]))
    return out


# -- counters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """One of the counters' totals the ledger's triggers keep (``schema._totals``): ``kind`` says which
    counter, ``k1``/``k2`` its labels, ``n`` the count (tokens: their number), ``x`` a sum (seconds, USD)."""

    target: str
    kind: str
    k1: str
    k2: str
    n: int
    x: float


def counter_totals(store: Store) -> list[Total]:
    """Every total the triggers keep: a few rows per target, read at the agent's start whatever the
    ledger's size (the counters' seed)."""
    rows = store._read("SELECT target, kind, k1, k2, n, x FROM totals ORDER BY target, kind, k1, k2")
    return [Total(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5])) for r in rows]


@dataclass(frozen=True)
class ErrorCount:
    """Endpoint failures of one target for one reason."""

    target: str
    reason: str
    n: int


def error_counts(
    store: Store, *, since: float | None = None, until: float | None = None, targets: Sequence[str] | None = None
) -> list[ErrorCount]:
    """Endpoint failures by target and reason (``unknown`` when none was recorded), most frequent first."""
    where, args = _window(since, until, targets)
    rows = store._read(
        "SELECT target, COALESCE(NULLIF(error_reason, ''), 'unknown') AS reason, COUNT(*) AS n"
        f" FROM {_table(since, until)}"
        f" WHERE outcome = 'error'{where} GROUP BY target, reason ORDER BY target, n DESC, reason",
        args,
    )
    return [ErrorCount(str(r[0]), str(r[1]), int(r[2])) for r in rows]
