"""Anthropic Messages API adapter against a local endpoint speaking the documented shapes."""

from __future__ import annotations

import pytest

from agent.errors import BadResponse, EndpointHTTPError
from agent.providers.base import ChatRequest
from tests.agent.providers.provider_wire import SECRET, Endpoint, MakeAdapter

OK = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [{"type": "text", "text": "The answer is "}, {"type": "text", "text": "12."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 21, "output_tokens": 7},
}
REQ = ChatRequest(prompt="What is 7 + 5?", max_tokens=64, temperature=0.0, system="Answer briefly.")
BASE = "https://api.anthropic.test/v1"


async def test_request_shape_and_parse(make_adapter: MakeAdapter) -> None:
    headers = {
        "request-id": "req_abc",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-tokens-remaining": "79000",
        "x-api-key": SECRET,  # an echo of the key must never be kept
        "set-cookie": "session=1",
    }
    adapter, ep = make_adapter("anthropic", BASE, Endpoint(body=OK, headers=headers))
    resp = await adapter.complete(REQ)
    req = ep.requests[0]
    assert str(req.url) == BASE + "/messages"
    assert req.headers["x-api-key"] == SECRET
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers
    assert ep.sent == {
        "model": "m",
        "max_tokens": 64,
        "temperature": 0.0,
        "system": "Answer briefly.",
        "messages": [{"role": "user", "content": "What is 7 + 5?"}],
    }
    assert resp.text == "The answer is 12."
    assert (resp.input_tokens, resp.output_tokens) == (21, 7)
    assert resp.response_model == "claude-sonnet-4-20250514"
    assert resp.finish_reason == "end_turn"
    assert resp.request_id == "req_abc"
    assert resp.headers == {
        "request-id": "req_abc",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-tokens-remaining": "79000",
    }
    assert SECRET not in repr(resp)


async def test_api_version_from_target_and_no_system(make_adapter: MakeAdapter) -> None:
    adapter, ep = make_adapter("anthropic", BASE, Endpoint(body=OK), api_version="2024-01-01")
    await adapter.complete(ChatRequest(prompt="hi", max_tokens=5, temperature=0.5))
    assert ep.requests[0].headers["anthropic-version"] == "2024-01-01"
    assert "system" not in ep.sent


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (529, "overloaded_error", "http_5xx"),
        (500, "api_error", "http_5xx"),
        (429, "rate_limit_error", "http_429"),
        (400, "invalid_request_error", "http_4xx"),
        (401, "authentication_error", "http_4xx"),
    ],
)
async def test_error_shapes(make_adapter: MakeAdapter, status: int, kind: str, reason: str) -> None:
    body = {"type": "error", "error": {"type": kind, "message": "nope"}, "request_id": "req_err"}
    ep = Endpoint(status=status, body=body, headers={"retry-after": "7", "request-id": "req_err"})
    adapter, _ = make_adapter("anthropic", BASE, ep)
    with pytest.raises(EndpointHTTPError) as info:
        await adapter.complete(REQ)
    assert info.value.reason == reason
    assert info.value.status == status
    assert info.value.retry_after == 7.0
    assert SECRET not in str(info.value)


async def test_spend_limit_is_not_a_retryable_429(make_adapter: MakeAdapter) -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "limit",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    adapter, _ = make_adapter("anthropic", BASE, Endpoint(status=429, body=body))
    with pytest.raises(EndpointHTTPError) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "quota_exhausted"


async def test_error_object_in_200_is_an_error(make_adapter: MakeAdapter) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    adapter, _ = make_adapter("anthropic", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "provider_error"


async def test_no_text_blocks_is_empty_content(make_adapter: MakeAdapter) -> None:
    body = {
        **OK,
        "content": [{"type": "tool_use", "id": "x", "name": "f", "input": {}}],
        "stop_reason": "refusal",
    }
    adapter, _ = make_adapter("anthropic", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "empty_content"


async def test_missing_usage_gives_none(make_adapter: MakeAdapter) -> None:
    body = {k: v for k, v in OK.items() if k != "usage"}
    adapter, _ = make_adapter("anthropic", BASE, Endpoint(body=body))
    resp = await adapter.complete(REQ)
    assert (resp.input_tokens, resp.output_tokens) == (None, None)
    assert resp.request_id == "msg_01XFDUDYJgAACzvnptvVoYEL"
