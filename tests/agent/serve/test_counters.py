"""Counters: endpoint-reported metadata cannot churn capmon_target_info's series."""

from __future__ import annotations

from agent.serve.counters import MAX_METADATA_VALUES, METADATA_WINDOW_S, OTHER_METADATA, Counters
from agent.serve.exporter import build_metrics_registry
from tests.agent.ledger.test_store import _result


def _info_series(state: Counters) -> set[tuple[str, str]]:
    registry = build_metrics_registry(state)
    return {
        (s.labels["response_model"], s.labels["system_fingerprint"])
        for metric in registry.collect()
        if metric.name == "capmon_target_info"
        for s in metric.samples
    }


def test_a_new_model_name_per_answer_exports_a_bounded_number_of_series() -> None:
    state = Counters()
    state.add_target("t1", "openai", "m")
    exported: set[tuple[str, str]] = set()
    for i in range(200):
        state.record(i, _result(ts=1000.0 + i, response_model=f"model-{i}", system_fingerprint=f"fp-{i}"))
        exported |= _info_series(state)
    models = {m for m, _ in exported}
    fingerprints = {f for _, f in exported}
    # The first values as reported, then one "other": never 200 series.
    assert models == {f"model-{i}" for i in range(MAX_METADATA_VALUES)} | {OTHER_METADATA}
    assert fingerprints == {f"fp-{i}" for i in range(MAX_METADATA_VALUES)} | {OTHER_METADATA}


def test_a_value_seen_before_is_exported_again_and_old_values_leave_the_window() -> None:
    state = Counters()
    state.add_target("t1", "openai", "m")
    for i in range(MAX_METADATA_VALUES):
        state.record(i, _result(ts=1000.0, response_model=f"model-{i}"))
    state.record(10, _result(ts=1001.0, response_model="model-0"))
    assert state.snapshot().targets["t1"].response_model == "model-0"
    state.record(11, _result(ts=1002.0, response_model="model-new"))
    assert state.snapshot().targets["t1"].response_model == OTHER_METADATA
    # A day later the old values are forgotten: a genuine model change shows under its own name.
    state.record(12, _result(ts=1003.0 + METADATA_WINDOW_S, response_model="model-new"))
    assert state.snapshot().targets["t1"].response_model == "model-new"
