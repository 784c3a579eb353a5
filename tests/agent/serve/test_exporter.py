"""One collector per source, each describing itself; /metrics through prometheus-client's ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from agent.config import Settings
from agent.ledger.store import Store
from agent.serve.counters import Counters
from agent.serve.exporter import PipelineCollector, build_metrics_registry
from agent.serve.web import build_app
from agent.stats.snapshot import StatsSnapshot


def test_every_collector_describes_itself_so_duplicates_fail_at_registration() -> None:
    state = Counters()
    metrics = build_metrics_registry(state, StatsSnapshot)
    names = metrics._get_names(PipelineCollector(state))  # what the registry reserves for it
    assert "capmon_probes_total" in names and "capmon_probe_duration_seconds_bucket" in names
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        metrics.register(PipelineCollector(state))


def test_metrics_endpoint_negotiates_gzips_and_filters(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    state = Counters()
    state.add_target("t1", "openai", "m")
    store = Store(tmp_path / "m.db")
    client = TestClient(build_app(settings, build_metrics_registry(state, StatsSnapshot), state, store, str))
    plain = client.get("/metrics")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/plain")
    assert "capmon_target_info" in plain.text and "capmon_build_info" in plain.text
    om = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["content-type"].startswith("application/openmetrics-text") and om.text.endswith("# EOF\n")
    zipped = client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("content-encoding") == "gzip" and "capmon_build_info" in zipped.text  # decoded
    only = client.get("/metrics", params={"name[]": "capmon_target_up"})
    assert "capmon_target_info" not in only.text and "capmon_build_info" not in only.text
    store.close()
