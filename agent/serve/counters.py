"""In-memory view of what the agent has done, for /metrics and the status page.

Counters are seeded at start from the totals the ledger's triggers keep, so ``capmon_probes_total``
equals the ledger's count even across restarts, and the start reads a few rows per target however
large the ledger is. Everything is updated under one lock and read as a copied snapshot.

``response_model`` and ``system_fingerprint`` come from the endpoint and become label values of
``capmon_target_info``; every new value is a new Prometheus series. An endpoint that reports a
fresh value per answer would churn series without end, so each target exports at most
``MAX_METADATA_VALUES`` distinct values per label within ``METADATA_WINDOW_S`` (a value seen again
inside the window costs nothing); further new values are exported as ``OTHER_METADATA`` until old
ones leave the window. The ledger keeps every value as reported (cut to 200 characters).
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.ledger import queries
from agent.ledger.results import ProbeResult
from agent.ledger.schema import LATENCY_BUCKETS
from agent.ledger.store import Store, StoredResult

RECENT_FAILURES = 50
#: Distinct values of one endpoint-reported label a target exports within ``METADATA_WINDOW_S``.
MAX_METADATA_VALUES = 4
METADATA_WINDOW_S = 86_400.0
#: What a label shows once a target has used up its distinct values in the window.
OTHER_METADATA = "other"


@dataclass
class TargetInfo:
    """Static and last-seen facts about a target."""

    provider: str
    model: str
    response_model: str = ""
    system_fingerprint: str = ""
    last_run_ts: float | None = None
    last_success_ts: float | None = None
    up: bool | None = None
    circuit_open: bool = False
    budget_exhausted: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Histogram:
    """Cumulative-ready bucket counts, sum and count."""

    buckets: tuple[int, ...]
    total: float
    count: int


@dataclass(frozen=True)
class CountersSnapshot:
    """A consistent copy of the state at one moment."""

    probes: dict[tuple[str, str, str], int]
    errors: dict[tuple[str, str], int]
    tokens: dict[tuple[str, str], int]
    cost: dict[str, float]
    runs: dict[tuple[str, str], int]
    latency: dict[str, Histogram]
    targets: dict[str, TargetInfo]
    recent_failures: tuple[tuple[int, ProbeResult], ...]
    config_reload_ok: bool


class Counters:
    """Thread-safe counters and last-seen facts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probes: Counter[tuple[str, str, str]] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()
        self._tokens: Counter[tuple[str, str]] = Counter()
        self._cost: dict[str, float] = {}
        self._runs: Counter[tuple[str, str]] = Counter()
        self._lat_buckets: dict[str, list[int]] = {}
        self._lat_sum: dict[str, float] = {}
        self._lat_count: Counter[str] = Counter()
        self._targets: dict[str, TargetInfo] = {}
        self._recent_failures: deque[tuple[int, ProbeResult]] = deque(maxlen=RECENT_FAILURES)
        #: (target, label) -> value -> when it was last exported
        self._metadata_seen: dict[tuple[str, str], dict[str, float]] = {}
        self.config_reload_ok = True
        self.ready = False

    def add_target(self, name: str, provider: str, model: str) -> None:
        """Declare a target so it is exported before its first run."""
        with self._lock:
            self._targets.setdefault(name, TargetInfo(provider=provider, model=model))
            self._lat_buckets.setdefault(name, [0] * len(LATENCY_BUCKETS))

    def seed_from_store(self, store: Store) -> None:
        """Start counters at the ledger's totals, which its triggers keep (``queries.counter_totals``):
        a few rows per target, so the start does not grow with the ledger."""
        totals = queries.counter_totals(store)
        index = {repr(b): i for i, b in enumerate(LATENCY_BUCKETS)}
        # Bounds changed since the trigger was made: bin every stored latency again (a ledger scan).
        rebin = any(t.kind == "latency" and t.k1 != "+Inf" and t.k1 not in index for t in totals)
        with self._lock:
            for t in totals:
                if t.kind == "probes":
                    self._probes[(t.target, t.k1, t.k2)] = t.n
                    # Every target with results has token series, as before totals were kept.
                    for direction in ("input", "output"):
                        self._tokens.setdefault((t.target, direction), 0)
                elif t.kind == "errors":
                    self._errors[(t.target, t.k1)] = t.n
                elif t.kind == "tokens":
                    self._tokens[(t.target, t.k1)] = t.n
                elif t.kind == "cost" and t.x:  # like live counting: no cost series without a recorded cost
                    self._cost[t.target] = t.x
                elif t.kind == "runs":
                    self._runs[(t.target, t.k1)] = t.n
        # Per target: bucket counts, seconds' sum, count; from the totals, or binned again from the rows.
        latency: dict[str, tuple[list[int], float, int]] = {}
        if rebin:
            latency = {
                k: (h.buckets, h.total, h.count) for k, h in queries.latency_histograms(store, LATENCY_BUCKETS).items()
            }
        else:
            for t in totals:
                if t.kind == "latency":
                    buckets, total, count = latency.get(t.target, ([0] * len(LATENCY_BUCKETS), 0.0, 0))
                    if t.k1 in index:
                        buckets[index[t.k1]] += t.n
                    latency[t.target] = (buckets, total + t.x, count + t.n)
        with self._lock:
            for target, (buckets, total, count) in latency.items():
                self._lat_buckets[target] = [
                    a + b for a, b in zip(self._lat_buckets.get(target, [0] * len(buckets)), buckets, strict=True)
                ]
                self._lat_sum[target] = self._lat_sum.get(target, 0.0) + total
                self._lat_count[target] += count

    def _observe_latency(self, target: str, seconds: float) -> None:
        with self._lock:
            buckets = self._lat_buckets.setdefault(target, [0] * len(LATENCY_BUCKETS))
            i = bisect.bisect_left(LATENCY_BUCKETS, seconds)
            if i < len(buckets):
                buckets[i] += 1
            self._lat_sum[target] = self._lat_sum.get(target, 0.0) + seconds
            self._lat_count[target] += 1

    def record(self, result_id: int, result: ProbeResult) -> None:
        """Count one committed result."""
        self._observe_latency(result.target, result.latency_s)
        with self._lock:
            self._probes[(result.target, result.family, result.outcome)] += 1
            if result.outcome == "error":
                self._errors[(result.target, result.error_reason or "unknown")] += 1
            if result.outcome != "pass":
                self._recent_failures.append((result_id, result))
            if result.input_tokens:
                self._tokens[(result.target, "input")] += result.input_tokens
            if result.output_tokens:
                self._tokens[(result.target, "output")] += result.output_tokens
            if result.cost_usd:
                self._cost[result.target] = self._cost.get(result.target, 0.0) + result.cost_usd
            info = self._targets.get(result.target)
            if info is not None and result.outcome != "error":
                info.last_success_ts = result.ts
                if result.response_model and not result.canary:
                    info.response_model = self._bounded(
                        result.target, "response_model", result.response_model, result.ts
                    )
                if result.system_fingerprint:
                    info.system_fingerprint = self._bounded(
                        result.target, "system_fingerprint", result.system_fingerprint, result.ts
                    )

    def _bounded(self, target: str, label: str, value: str, ts: float) -> str:
        """``value`` if the target may export it now, else ``OTHER_METADATA`` (caller holds the lock)."""
        seen = self._metadata_seen.setdefault((target, label), {})
        for old in [v for v, last in seen.items() if last < ts - METADATA_WINDOW_S]:
            del seen[old]
        if value not in seen and len(seen) >= MAX_METADATA_VALUES:
            return OTHER_METADATA
        seen[value] = max(ts, seen.get(value, ts))
        return value

    def record_run(self, target: str, status: str, ts: float, reached: bool | None) -> None:
        """Count a finished run; ``reached`` None means the run sent nothing (skipped)."""
        with self._lock:
            self._runs[(target, status)] += 1
            info = self._targets.get(target)
            if info is not None:
                info.last_run_ts = ts
                if reached is not None:
                    info.up = reached

    def set_flags(
        self, target: str, *, circuit_open: bool | None = None, budget: dict[str, bool] | None = None
    ) -> None:
        """Update a target's circuit and budget flags."""
        with self._lock:
            info = self._targets.get(target)
            if info is None:
                return
            if circuit_open is not None:
                info.circuit_open = circuit_open
            if budget is not None:
                info.budget_exhausted = dict(budget)

    def snapshot(self) -> CountersSnapshot:
        """A consistent copy."""
        with self._lock:
            latency = {
                t: Histogram(tuple(b), self._lat_sum.get(t, 0.0), self._lat_count[t])
                for t, b in self._lat_buckets.items()
            }
            targets = {
                k: TargetInfo(**{**v.__dict__, "budget_exhausted": dict(v.budget_exhausted)})
                for k, v in self._targets.items()
            }
            return CountersSnapshot(
                probes=dict(self._probes),
                errors=dict(self._errors),
                tokens=dict(self._tokens),
                cost=dict(self._cost),
                runs=dict(self._runs),
                latency=latency,
                targets=targets,
                recent_failures=tuple(self._recent_failures),
                config_reload_ok=self.config_reload_ok,
            )

    def recent_failures(self) -> list[StoredResult]:
        """Recent non-passing results, newest first."""
        with self._lock:
            items: Iterable[tuple[int, ProbeResult]] = list(self._recent_failures)
        return [StoredResult(id=i, result=r) for i, r in reversed(list(items))]
