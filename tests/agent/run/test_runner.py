from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable

import httpx
import pytest

from agent.config import Settings
from agent.ledger.store import Store
from agent.providers import adapter_for
from agent.run.budget import BudgetGuard
from agent.run.retry import CircuitBreaker
from agent.run.runner import Member, UnitRunner
from agent.serve.counters import Counters
from agent.serve.exporter import build_metrics_registry
from probes.registry import builtin_registry
from tests.agent.conftest import echo_answer_handler


def _unit(
    settings: Settings, handler: Callable[[httpx.Request], httpx.Response]
) -> tuple[UnitRunner, Store, Counters]:
    store = Store(settings.store)
    store.set_meta("salt", "5a" * 32)  # a fixed salt keeps these tests deterministic
    state = Counters()
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    members = []
    for t in settings.targets:
        state.add_target(t.name, t.provider, t.model)
        members.append(
            Member(
                t,
                adapter_for(t, client),
                CircuitBreaker(t.circuit),
                BudgetGuard(store, t),
                asyncio.Semaphore(t.concurrency),
            )
        )
    return UnitRunner(members, builtin_registry(), store, state, store.salt(), stop=asyncio.Event()), store, state


async def test_correct_answers_pass_and_are_stored(make_settings: Callable[..., Settings]) -> None:
    unit, store, state = _unit(make_settings(), echo_answer_handler())
    (summary,) = await unit.run_once()
    assert summary.status == "completed" and summary.reached
    assert summary.completed == summary.planned == 6 + 1 + 1
    fresh = [r.result for r in store.results() if not r.result.static and not r.result.canary]
    assert len(fresh) == 6 and all(r.outcome == "pass" and r.score == 1.0 for r in fresh)
    r = fresh[0]
    assert r.response_model == "fake-model" and r.system_fingerprint == "fp_1"
    assert r.input_tokens == 20 and r.output_tokens == 5 and r.extracted == r.reference
    metrics = build_metrics_registry(state)
    total = sum(v for (t, _, _), v in state.snapshot().probes.items() if t == "t1")
    assert total == store.count(target="t1") == 8
    assert (
        metrics.get_sample_value("capmon_probes_total", {"target": "t1", "family": "arithmetic", "outcome": "pass"})
        >= 6
    )
    assert metrics.get_sample_value("capmon_probe_duration_seconds_count", {"target": "t1"}) == 8
    assert metrics.get_sample_value("capmon_tokens_total", {"target": "t1", "type": "input"}) == 8 * 20


async def test_wrong_answers_fail(make_settings: Callable[..., Settings]) -> None:
    unit, store, _ = _unit(make_settings(), echo_answer_handler(wrong=True))
    (summary,) = await unit.run_once()
    fresh = [r.result for r in store.results() if not r.result.static and not r.result.canary]
    assert all(r.outcome == "fail" and r.score == 0.0 for r in fresh)
    assert summary.failed >= 6 and summary.errors == 0


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(503, json={"error": "busy"}), "http_5xx"),
        (httpx.Response(429, json={}), "http_429"),
        (httpx.Response(401, json={}), "http_4xx"),
        (httpx.Response(200, text="not json", headers={"content-type": "application/json"}), "malformed_json"),
        (httpx.Response(200, json={"choices": []}), "bad_shape"),
        (httpx.Response(200, text="<html>", headers={"content-type": "text/html"}), "content_type"),
    ],
)
async def test_endpoint_failures_are_errors_not_failures(
    make_settings: Callable[..., Settings], response: httpx.Response, reason: str
) -> None:
    unit, store, state = _unit(make_settings(), lambda _: response)
    (summary,) = await unit.run_once()
    rows = [r.result for r in store.results()]
    assert rows and all(r.outcome == "error" and r.score is None and r.error_reason == reason for r in rows)
    assert summary.failed == 0 and summary.passed == 0
    snap = state.snapshot()
    assert snap.errors[("t1", reason)] == len(rows)
    assert not any(k[2] == "fail" for k in snap.probes)


async def test_unreachable_endpoint_marks_target_down(make_settings: Callable[..., Settings]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    unit, store, state = _unit(make_settings(), refuse)
    (summary,) = await unit.run_once()
    assert summary.status == "failed" and summary.reached is False
    assert all(r.result.error_reason == "connect" for r in store.results())
    assert state.snapshot().targets["t1"].up is False


async def test_stop_abandons_unsent_probes(make_settings: Callable[..., Settings]) -> None:
    unit, store, _ = _unit(make_settings(concurrency=1), echo_answer_handler())
    unit.stop.set()
    (summary,) = await unit.run_once()
    assert summary.completed == 0 and summary.abandoned == summary.planned
    assert store.count() == 0
    assert store.runs("t1")[0]["abandoned"] == summary.planned


async def test_comparison_group_gets_identical_items(make_settings: Callable[..., Settings], tmp_path: object) -> None:
    base = make_settings(group="g")
    second = base.targets[0].model_copy(update={"name": "t2"})
    settings = base.model_copy(update={"targets": [base.targets[0], second]})
    unit, store, _ = _unit(settings, echo_answer_handler())
    await unit.run_once()
    keys = {
        t: sorted((r.result.item_key, r.result.novelty, r.result.prompt) for r in store.results(target=t))
        for t in ("t1", "t2")
    }
    assert keys["t1"] == keys["t2"] and len(keys["t1"]) == 8


async def test_next_run_uses_fresh_items(make_settings: Callable[..., Settings]) -> None:
    unit, store, _ = _unit(make_settings(), echo_answer_handler())
    await unit.run_once()
    await unit.run_once()
    fresh = [r.result for r in store.results() if not r.result.static and not r.result.canary]
    # Small levels have few distinct prompts (1-digit sums), so freshness is checked on item indexes.
    assert sorted(r.item_index for r in fresh) == list(range(12))


async def test_adaptive_probing_concentrates_near_the_frontier(make_settings: Callable[..., Settings]) -> None:
    # The fake model only parses "What is a op b?": it solves the low arithmetic levels and fails
    # the higher ones, so it has a frontier inside 1..10; a staircase must settle around it.
    levels = list(range(1, 11))
    unit, store, _ = _unit(
        make_settings(adaptive=True, difficulties=levels, probes_per_run=10, static_per_run=0, fingerprint_prompts=0),
        echo_answer_handler(),
    )
    for _ in range(8):
        await unit.run_once()
    rows = [r.result for r in store.results()]
    ratio = {
        d: sum(r.outcome == "pass" for r in rows if r.difficulty == d) / max(1, sum(r.difficulty == d for r in rows))
        for d in levels
    }
    frontier = max((d for d in levels if ratio[d] >= 0.5), default=1)
    last = [r.difficulty for r in rows[-30:]]
    assert 1 < frontier < 10, ratio
    # The staircase centres between the last passing and first failing level; a quarter of probes
    # explore uniformly, so the median (not the mean) tracks the centre.
    assert abs(statistics.median(last) - (frontier + 0.5)) <= 1.0, (ratio, last)
    # Concentrated: most late probes within two levels of the frontier (uniform would give ~45%).
    assert sum(abs(d - frontier) <= 2 for d in last) >= 0.7 * len(last)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, text="not json", headers={"content-type": "application/json"}),
    ],
)
async def test_a_target_whose_probes_all_end_in_error_is_down(
    make_settings: Callable[..., Settings], response: httpx.Response
) -> None:
    """Reached (HTTP 200) but no usable answer: capmon_target_up must be 0, or no alert fires."""
    unit, _, state = _unit(make_settings(), lambda _: response)
    (summary,) = await unit.run_once()
    assert summary.errors == summary.completed > 0
    assert state.snapshot().targets["t1"].up is False
    assert build_metrics_registry(state).get_sample_value("capmon_target_up", {"target": "t1"}) == 0


async def test_an_unforeseen_exception_becomes_an_error_result(make_settings: Callable[..., Settings]) -> None:
    """Whatever escapes the adapter or the scoring: an `internal_error` result, and the run finishes."""
    unit, store, state = _unit(make_settings(), echo_answer_handler())
    calls = 0

    async def broken(request: object) -> object:
        nonlocal calls
        calls += 1
        raise RecursionError("maximum recursion depth exceeded")

    unit.members[0].adapter.complete = broken  # type: ignore[method-assign,assignment]
    (summary,) = await asyncio.wait_for(unit.run_once(), timeout=10)
    rows = [r.result for r in store.results()]
    assert len(rows) == summary.planned == calls
    assert {(r.outcome, r.error_reason, r.score) for r in rows} == {("error", "internal_error", None)}
    assert [run["status"] for run in store.runs("t1")] == ["failed"]
    assert state.snapshot().errors == {("t1", "internal_error"): len(rows)}
    assert state.snapshot().targets["t1"].up is False


async def test_a_planning_failure_fails_the_run_instead_of_escaping(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    unit, store, state = _unit(make_settings(), echo_answer_handler())

    def explode(*args: object, **kwargs: object) -> object:
        raise ValueError("generator bug")

    monkeypatch.setattr("agent.run.runner.plan_run", explode)
    (summary,) = await unit.run_once()
    assert summary.status == "failed" and summary.completed == 0
    assert [run["status"] for run in store.runs("t1")] == ["failed"]
    assert state.snapshot().runs == {("t1", "failed"): 1}
    assert state.snapshot().targets["t1"].up is False


async def test_a_ledger_that_refuses_everything_does_not_leave_the_run_hanging(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    unit, store, _ = _unit(make_settings(), echo_answer_handler())

    def refuse(results: object) -> list[int]:
        raise OSError("disk full")

    monkeypatch.setattr(store, "add_results", refuse)
    (summary,) = await asyncio.wait_for(unit.run_once(), timeout=10)
    assert summary.completed == 0 and summary.abandoned == summary.planned
    assert [run["status"] for run in store.runs("t1")] == ["failed"]


async def test_each_probe_keeps_its_evidence(make_settings: Callable[..., Settings]) -> None:
    """finish reason (normalised), attempts with the failed one's reason, the request as sent, headers."""
    import json as _json

    from agent.providers.base import PROMPT_MARK
    from tests.agent.conftest import openai_body

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        body = openai_body("Answer: 0")
        body["choices"][0]["finish_reason"] = "length"
        return httpx.Response(200, json=body, headers={"x-request-id": "req-9", "authorization": "Bearer no"})

    settings = make_settings(
        probes_per_run=1, static_per_run=0, fingerprint_prompts=0, concurrency=1, headers={"X-Key": "sk-live-secret"},
        retry={"attempts": 2, "base_delay_s": 0.001, "max_delay_s": 0.001},
    )
    unit, store, _ = _unit(settings, handler)
    await unit.run_once()
    (row,) = [s.result for s in store.results()]
    assert row.finish_reason == "length" and row.attempts == 2 and row.ttft_s is None
    (failed,) = _json.loads(row.attempt_log or "[]")
    assert failed["reason"] == "http_5xx" and failed["status"] == 503 and 0 <= failed["wait_s"] <= 0.001
    assert _json.loads(row.headers or "{}") == {"x-request-id": "req-9"}
    assert row.request is not None and "sk-live-secret" not in row.request
    sent = _json.loads(row.request)
    assert sent["headers"]["X-Key"] == "[redacted]"
    assert sent["body"]["messages"][-1]["content"] == PROMPT_MARK and sent["body"]["stream"] is True
