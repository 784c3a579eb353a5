"""Prometheus export: one collector per source, each building fresh metric families from a snapshot.

Sources: the build (``BuildInfoCollector``), the counters of what the agent did
(``PipelineCollector`` over ``Counters``), the statistics (``StatsCollector`` over the latest
``StatsSnapshot``), and prometheus-client's process collector. capmon probes on its own schedule
(LLM probes are slow and cost money), so a scrape never sends a probe and never recomputes a
statistic: it reads the latest snapshots. HELP texts say so. ``/metrics`` serves the metrics registry
through prometheus-client's ASGI app (``agent.serve.web``).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from agent import __version__
from agent.ledger.schema import LATENCY_BUCKETS
from agent.serve.counters import Counters, CountersSnapshot
from agent.serve.stats_metrics import stats_metric_families
from agent.stats.snapshot import StatsSnapshot

CACHED = "From capmon's own probe schedule (cached, not measured per scrape)."

_EMPTY = CountersSnapshot({}, {}, {}, {}, {}, {}, {}, (), True)


class BuildInfoCollector(Collector):
    """``capmon_build_info``: the version and Python running."""

    def describe(self) -> list[Metric]:
        return list(self.collect())

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily("capmon_build_info", "capmon build information.", labels=["version", "python"])
        build.add_metric([__version__, platform.python_version()], 1)
        yield build


class PipelineCollector(Collector):
    """Targets, probe, error, token, cost and run counters, and latency, from the ``Counters`` counters."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    def describe(self) -> list[Metric]:
        # The families of an empty snapshot: the names, without reading the live counters.
        return list(self._families(_EMPTY))

    def collect(self) -> Iterator[Metric]:
        return self._families(self.counters.snapshot())

    def _families(self, snap: CountersSnapshot) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "capmon_target_info",
            f"Monitored target; response_model and system_fingerprint as last reported "
            f"(at most 4 distinct values each per 24 h, then 'other'). {CACHED}",
            labels=["target", "provider", "model", "response_model", "system_fingerprint"],
        )
        up = GaugeMetricFamily(
            "capmon_target_up",
            f"1 if the target's last run got a usable answer, 0 if all its probes ended in error. {CACHED}",
            labels=["target"],
        )
        last_run = GaugeMetricFamily(
            "capmon_last_run_timestamp_seconds", f"Unix time the target's last run ended. {CACHED}", labels=["target"]
        )
        last_ok = GaugeMetricFamily(
            "capmon_last_success_timestamp_seconds",
            f"Unix time of the target's last probe answered by the endpoint. {CACHED}",
            labels=["target"],
        )
        circuit = GaugeMetricFamily(
            "capmon_circuit_open", f"1 while the target's circuit breaker skips runs. {CACHED}", labels=["target"]
        )
        budget = GaugeMetricFamily(
            "capmon_budget_exhausted",
            f"1 while a budget of the target is used up. {CACHED}",
            labels=["target", "budget"],
        )
        for name, t in sorted(snap.targets.items()):
            info.add_metric([name, t.provider, t.model, t.response_model, t.system_fingerprint], 1)
            if t.up is not None:
                up.add_metric([name], 1 if t.up else 0)
            if t.last_run_ts is not None:
                last_run.add_metric([name], t.last_run_ts)
            if t.last_success_ts is not None:
                last_ok.add_metric([name], t.last_success_ts)
            circuit.add_metric([name], 1 if t.circuit_open else 0)
            for b in ("probes_per_hour", "tokens_per_day", "cost_per_day"):
                budget.add_metric([name, b], 1 if t.budget_exhausted.get(b) else 0)
        yield from (info, up, last_run, last_ok, circuit, budget)

        probes = CounterMetricFamily(
            "capmon_probes",
            f"Probes sent, by outcome (error = endpoint failure, not a capability failure). {CACHED}",
            labels=["target", "family", "outcome"],
        )
        for (target, family, outcome), n in sorted(snap.probes.items()):
            probes.add_metric([target, family, outcome], n)
        yield probes

        errors = CounterMetricFamily(
            "capmon_probe_errors",
            f"Probes that failed at the endpoint, by reason. {CACHED}",
            labels=["target", "reason"],
        )
        for (target, reason), n in sorted(snap.errors.items()):
            errors.add_metric([target, reason], n)
        yield errors

        tokens = CounterMetricFamily(
            "capmon_tokens", f"Tokens reported by the endpoint. {CACHED}", labels=["target", "type"]
        )
        for (target, kind), n in sorted(snap.tokens.items()):
            tokens.add_metric([target, kind], n)
        yield tokens

        cost = CounterMetricFamily(
            "capmon_cost_usd", f"Cost of probes from the price table, in USD. {CACHED}", labels=["target"]
        )
        for target, usd in sorted(snap.cost.items()):
            cost.add_metric([target], usd)
        yield cost

        runs = CounterMetricFamily(
            "capmon_runs",
            f"Probe runs by how they ended (completed, abandoned, failed, skipped). {CACHED}",
            labels=["target", "status"],
        )
        for (target, status), n in sorted(snap.runs.items()):
            runs.add_metric([target, status], n)
        yield runs

        latency = HistogramMetricFamily(
            "capmon_probe_duration_seconds",
            f"Time from sending a probe to its full answer, retries included. {CACHED}",
            labels=["target"],
        )
        for target, h in sorted(snap.latency.items()):
            cumulative, buckets = 0, []
            for bound, n in zip(LATENCY_BUCKETS, h.buckets, strict=True):
                cumulative += n
                buckets.append((_fmt(bound), cumulative))
            buckets.append(("+Inf", h.count))
            latency.add_metric([target], buckets, h.total)
        yield latency

        reload_ok = GaugeMetricFamily(
            "capmon_config_last_reload_successful", "1 if the last configuration load succeeded."
        )
        reload_ok.add_metric([], 1 if snap.config_reload_ok else 0)
        yield reload_ok



class StatsCollector(Collector):
    """The statistics metrics (``agent.serve.stats_metrics``) of the latest ``StatsSnapshot``."""

    def __init__(self, snapshot: Callable[[], StatsSnapshot]) -> None:
        self.snapshot = snapshot

    def describe(self) -> list[Metric]:
        return list(stats_metric_families(StatsSnapshot()))

    def collect(self) -> Iterator[Metric]:
        return iter(stats_metric_families(self.snapshot()))


def _fmt(bound: float) -> str:
    return repr(float(bound))


def build_metrics_registry(
    counters: Counters, stats_snapshot: Callable[[], StatsSnapshot] | None = None
) -> CollectorRegistry:
    """A fresh metrics registry with one collector per source (never the global one).

    Every collector describes its families, so registering two that export the same name fails
    at start instead of producing a broken scrape.
    """
    metrics_registry = CollectorRegistry()
    metrics_registry.register(BuildInfoCollector())
    metrics_registry.register(PipelineCollector(counters))
    if stats_snapshot is not None:
        metrics_registry.register(StatsCollector(stats_snapshot))
    # process_* (CPU, RSS, fds) for capacity planning; a no-op where /proc is missing.
    ProcessCollector(registry=metrics_registry)
    return metrics_registry
