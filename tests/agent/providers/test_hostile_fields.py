"""Hostile fields: wrong types, absurd metadata and numbers. An adapter returns a sane ``ChatResponse``
or raises ``BadResponse`` with a reason; no other exception leaves it, and nothing unbounded gets out."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import BadResponse, ProviderError
from agent.providers.base import ChatResponse, parse_retry_after
from agent.providers.limits import MAX_HEADER_CHARS, MAX_META_CHARS, MAX_RETRY_AFTER_S, MAX_TOKEN_COUNT
from tests.agent.providers import test_anthropic_adapter, test_azure_adapter, test_gemini_adapter
from tests.agent.providers.hostile_wire import REQ, SECRET, adapter, answer, json_body
from tests.agent.providers.test_responses_adapter import response as responses_body

OK_BODIES: dict[str, dict[str, Any]] = {
    "openai": answer(),
    "azure-openai": test_azure_adapter.OK,
    "openai-responses": responses_body(),
    "anthropic": test_anthropic_adapter.OK,
    "gemini": test_gemini_adapter.OK,
}


async def _outcome(provider: str, body: Any, headers: dict[str, str] | None = None) -> ChatResponse | BadResponse:
    try:
        return await adapter(json_body(body, headers), provider).complete(REQ)
    except BadResponse as exc:
        return exc


def assert_sane(resp: ChatResponse) -> None:
    """Every field bounded, storable in SQLite and printable in one line."""
    for value in (resp.response_model, resp.system_fingerprint, resp.finish_reason, resp.request_id):
        assert value is None or (isinstance(value, str) and 0 < len(value) <= MAX_META_CHARS and value.isprintable())
    for count in (resp.input_tokens, resp.output_tokens):
        assert count is None or (type(count) is int and 0 <= count <= MAX_TOKEN_COUNT)
    for key, value in resp.headers.items():
        assert len(value) <= MAX_HEADER_CHARS and value.isprintable(), key
    resp.text.encode("utf-8")  # no lone surrogates
    row = (resp.text, resp.input_tokens, resp.output_tokens, resp.response_model, resp.request_id)
    sqlite3.connect(":memory:").execute("select ?, ?, ?, ?, ?", row).fetchone()


# -- wrong types, one provider at a time ---------------------------------------------------------------


def _gemini(**candidate: Any) -> dict[str, Any]:
    body = copy.deepcopy(test_gemini_adapter.OK)
    body["candidates"][0].update(candidate)
    return body


WRONG_TYPES: list[tuple[str, str, Any, str | None]] = [
    # provider, case, body, expected reason (None: a sane ChatResponse)
    ("gemini", "finishReason is a list", _gemini(finishReason=["STOP"]), None),
    ("gemini", "finishReason a list and no parts", _gemini(finishReason=["SAFETY"], content={}), "bad_shape"),
    ("gemini", "finishReason is an object", _gemini(finishReason={"a": 1}, content=None), "bad_shape"),
    ("gemini", "blockReason is a list", {"promptFeedback": {"blockReason": ["SAFETY"]}}, "blocked"),
    ("gemini", "parts is a string", _gemini(content={"parts": "12"}), "bad_shape"),
    ("openai-responses", "content is 5", responses_body(output=[{"type": "message", "content": 5}]), "bad_shape"),
    (
        "openai-responses",
        "content is an object",
        responses_body(output=[{"type": "message", "content": {}}]),
        "empty_content",
    ),
    ("openai-responses", "error code is a list", responses_body("failed", error={"code": [1]}), "failed"),
    ("openai-responses", "status is a list", responses_body(status=["x"]), None),
    ("openai", "choices is an object", answer() | {"choices": {}}, "bad_shape"),
    ("openai", "usage is a list", answer() | {"usage": [1, 2]}, None),
    (
        "azure-openai",
        "message is a list",
        answer() | {"choices": [{"message": [], "finish_reason": "content_filter"}]},
        "blocked",
    ),
    ("anthropic", "content is a string", {**test_anthropic_adapter.OK, "content": "12"}, "bad_shape"),
    ("anthropic", "error type is a list", {"type": "error", "error": {"type": ["x"]}}, "provider_error"),
]


@pytest.mark.parametrize(("provider", "case", "body", "reason"), WRONG_TYPES, ids=[c[1] for c in WRONG_TYPES])
async def test_wrong_types(provider: str, case: str, body: Any, reason: str | None) -> None:
    outcome = await _outcome(provider, body)
    if reason is None:
        assert isinstance(outcome, ChatResponse), outcome
        assert_sane(outcome)
    else:
        assert isinstance(outcome, BadResponse) and outcome.reason == reason, outcome


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _replace(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(body)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return out


@pytest.mark.parametrize("provider", sorted(OK_BODIES))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_anywhere(provider: str, data: st.DataObject) -> None:
    """Replace one value of a good answer (at any depth) with any JSON value: sane answer or BadResponse."""
    ok = OK_BODIES[provider]
    path = data.draw(st.sampled_from(_paths(ok)))
    body = _replace(ok, path, data.draw(_JSON))
    try:
        outcome = asyncio.run(_outcome(provider, body))
    except ProviderError as exc:
        raise AssertionError(f"{type(exc).__name__} is not BadResponse") from exc
    if isinstance(outcome, ChatResponse):
        assert_sane(outcome)


async def test_unforeseen_exception_in_parse_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    ad = adapter(json_body(answer()))

    def broken(body: Any, headers: httpx.Headers) -> ChatResponse:
        raise KeyError(SECRET)

    monkeypatch.setattr(ad, "parse", broken)
    with pytest.raises(BadResponse) as info:
        await ad.complete(REQ)
    assert info.value.reason == "malformed" and info.value.status == 200
    assert isinstance(info.value.__cause__, KeyError)  # kept for the log
    assert SECRET not in str(info.value)


async def test_unforeseen_exception_anywhere_else_is_adapter_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ad = adapter(json_body(answer()))
    monkeypatch.setattr(ad, "build", lambda request: (_ for _ in ()).throw(RuntimeError(SECRET)))
    with pytest.raises(BadResponse) as info:
        await ad.complete(REQ)
    assert info.value.reason == "adapter_error"
    assert isinstance(info.value.__cause__, RuntimeError) and SECRET not in str(info.value)


async def test_cancellation_is_not_swallowed() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    task = asyncio.create_task(adapter(handler).complete(REQ))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- metadata and numbers ------------------------------------------------------------------------------

JUNK = "\x1b[2J\u202e\x00\r\nEvil: 1\u2028" + "x" * 600_000


@pytest.mark.parametrize("provider", sorted(OK_BODIES))
async def test_huge_and_hostile_metadata_is_cut_and_cleaned(provider: str) -> None:
    body = copy.deepcopy(OK_BODIES[provider])
    for key in ("model", "modelVersion", "system_fingerprint", "id", "responseId", "stop_reason"):
        if key in body:
            body[key] = key + JUNK
    junk = "\x1b[2J\x7f" + "x" * 60_000  # what a header can carry (h11 would refuse most controls)
    headers = {h: h + junk for h in ("x-request-id", "server-timing")}
    outcome = await _outcome(provider, body, headers)
    assert isinstance(outcome, ChatResponse), outcome
    assert_sane(outcome)
    assert outcome.response_model is not None and outcome.response_model.startswith(("model[2J", "modelVersion[2J"))
    assert outcome.request_id is not None and len(outcome.request_id) == MAX_META_CHARS


@pytest.mark.parametrize(
    ("claimed", "kept"),
    [
        (10**20, MAX_TOKEN_COUNT),
        (2**63, MAX_TOKEN_COUNT),
        (MAX_TOKEN_COUNT, MAX_TOKEN_COUNT),
        (7, 7),
        (0, 0),
        (-5, 0),
        (True, None),
        (1.5, None),
        (1e300, None),
        ("12", None),
        ([3], None),
    ],
)
async def test_token_counts_are_clamped_ints(claimed: Any, kept: int | None) -> None:
    resp = await adapter(json_body(answer(usage={"prompt_tokens": claimed, "completion_tokens": claimed}))).complete(
        REQ
    )
    assert (resp.input_tokens, resp.output_tokens) == (kept, kept)
    assert_sane(resp)


async def test_gemini_thoughts_sum_is_clamped() -> None:
    body = copy.deepcopy(test_gemini_adapter.OK)
    body["usageMetadata"] = {"candidatesTokenCount": MAX_TOKEN_COUNT, "thoughtsTokenCount": MAX_TOKEN_COUNT}
    outcome = await _outcome("gemini", body)
    assert isinstance(outcome, ChatResponse) and outcome.output_tokens == MAX_TOKEN_COUNT


async def test_lone_surrogates_cannot_reach_the_store() -> None:
    resp = await adapter(json_body(answer("Answer: \ud800 4", model="m\udfff"))).complete(REQ)
    assert resp.text == "Answer: \ufffd 4" and resp.response_model == "m"
    assert_sane(resp)


async def test_error_messages_quote_no_endpoint_text_at_length() -> None:
    outcome = await _outcome("gemini", {"promptFeedback": {"blockReason": "SAFETY" + JUNK}})
    assert isinstance(outcome, BadResponse) and outcome.reason == "blocked"
    assert len(str(outcome)) < 100 and str(outcome).isprintable()
    outcome = await _outcome("openai-responses", responses_body("failed", error={"code": "c" + JUNK}))
    assert isinstance(outcome, BadResponse) and len(str(outcome)) < 100 and str(outcome).isprintable()
    outcome = await _outcome("openai", answer(), {"content-type": "text/html\x1b" + "x" * 5000})
    assert isinstance(outcome, BadResponse) and outcome.reason == "content_type"
    assert len(str(outcome)) < 100 and str(outcome).isprintable()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("nan", None), ("inf", MAX_RETRY_AFTER_S), ("1e400", MAX_RETRY_AFTER_S), ("-3", 0.0), ("2", 2.0),
     ("Fri, 31 Dec 99999 23:59:59 GMT", None), ("9" * 5000, MAX_RETRY_AFTER_S)],
    ids=["nan", "inf", "1e400", "negative", "2", "year-99999", "5000-digits"],
)  # fmt: skip
def test_retry_after_is_bounded(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_clean_str() -> None:
    from agent.providers.base import clean_str

    assert clean_str("  gpt-4o\x00\x1b[0m\u202e\u200b ") == "gpt-4o[0m"
    assert clean_str("é模型") == "é模型"
    assert clean_str("\x00\x01") is None
    assert clean_str(5) is None
    assert clean_str("a" * 1000, 10) == "a" * 10
