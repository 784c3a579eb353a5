"""Prometheus metric families for the signals (``agent.stats.signals``), from a ``StatsSnapshot``.

Per target at most 10 + 6 + 2 series: each compared value on the baseline and recent side, each
budgeted test's latched alarm, and the two info flags. Values are cached like every statistic.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from agent.stats.snapshot import StatsSnapshot

_CACHED = (
    " Cached: computed from the ledger on capmon's own schedule (at most every stats.refresh_interval_s),"
    " not per scrape."
)
#: What each compared value is, for the HELP text.
_VALUES = (
    "truncation and refusal: share of answered probes (finish_reason=length; content_filter or a refusal"
    " phrase); output_length: median output tokens (answer characters when the endpoint sends no usage);"
    " latency and ttft: median seconds. side=baseline: the warm-up; side=recent: the last answered probes."
)


def signal_metric_families(snapshot: StatsSnapshot) -> Iterable[Metric]:
    """capmon_signal_value, capmon_signal_alarm, capmon_signal_info_changed."""
    value = GaugeMetricFamily(
        "capmon_signal_value", "A signal's value. " + _VALUES + _CACHED, labels=["target", "signal", "side"]
    )
    alarm = GaugeMetricFamily(
        "capmon_signal_alarm",
        "1 while a signal test is in alarm (latched until its recovery test crosses): truncation, refusal,"
        " shorter, longer, latency, ttft rose against the baseline. False alarms share the target's"
        " stats.false_alarms_per_month." + _CACHED,
        labels=["target", "signal"],
    )
    info = GaugeMetricFamily(
        "capmon_signal_info_changed",
        "1 once the served model id (signal=served_model) or a response header that held one value through"
        " the baseline (signal=headers) took a value not seen before (info; not an alarm)." + _CACHED,
        labels=["target", "signal"],
    )
    for v in snapshot.signals:
        for signal, pair in sorted(v.values.items()):
            for side, x in zip(("baseline", "recent"), pair, strict=True):
                if x is not None:
                    value.add_metric([v.target, signal, side], float(x))
        for signal, latched in sorted(v.alarms.items()):
            alarm.add_metric([v.target, signal], float(latched))
        info.add_metric([v.target, "served_model"], float("served_model" in v.info))
        info.add_metric([v.target, "headers"], float(any(s.startswith("header ") for s in v.info)))
    yield from (value, alarm, info)
