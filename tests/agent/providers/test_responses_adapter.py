"""OpenAI Responses API adapter against a local endpoint speaking the documented shapes."""

from __future__ import annotations

import pytest

from agent.errors import BadResponse, EndpointHTTPError
from agent.providers.base import ChatRequest
from tests.agent.providers.provider_wire import SECRET, Endpoint, MakeAdapter


def response(status: str = "completed", output: list[object] | None = None, **extra: object) -> dict[str, object]:
    return {
        "id": "resp_67ccd2bed1ec8190",
        "object": "response",
        "created_at": 1741476542,
        "status": status,
        "model": "gpt-4.1-2025-04-14",
        "output": output
        if output is not None
        else [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "12", "annotations": []}],
            },
        ],
        "usage": {"input_tokens": 36, "output_tokens": 87, "total_tokens": 123},
        "error": None,
        "incomplete_details": None,
        **extra,
    }


REQ = ChatRequest(prompt="What is 7 + 5?", max_tokens=64, temperature=0.0, system="Be brief.")
BASE = "https://api.openai.test/v1"


async def test_request_shape_and_parse(make_adapter: MakeAdapter) -> None:
    headers = {"x-request-id": "req_9", "openai-processing-ms": "321", "x-ratelimit-remaining-tokens": "1000"}
    adapter, ep = make_adapter("openai-responses", BASE, Endpoint(body=response(), headers=headers))
    resp = await adapter.complete(REQ)
    req = ep.requests[0]
    assert str(req.url) == BASE + "/responses"
    assert req.headers["authorization"] == f"Bearer {SECRET}"
    assert ep.sent == {
        "model": "m",
        "input": "What is 7 + 5?",
        "instructions": "Be brief.",
        "max_output_tokens": 64,
        "temperature": 0.0,
        "store": False,
    }
    assert resp.text == "12"
    assert (resp.input_tokens, resp.output_tokens) == (36, 87)
    assert resp.response_model == "gpt-4.1-2025-04-14"
    assert resp.finish_reason == "completed"
    assert resp.request_id == "resp_67ccd2bed1ec8190"
    assert resp.headers == headers


async def test_incomplete_with_text_is_an_answer(make_adapter: MakeAdapter) -> None:
    out = [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "The sum is"}]}]
    body = response("incomplete", out, incomplete_details={"reason": "max_output_tokens"})
    adapter, _ = make_adapter("openai-responses", BASE, Endpoint(body=body))
    resp = await adapter.complete(REQ)
    assert resp.text == "The sum is"
    assert resp.finish_reason == "max_output_tokens"


async def test_incomplete_without_text_is_an_error(make_adapter: MakeAdapter) -> None:
    out = [{"type": "reasoning", "id": "rs_1", "summary": []}]
    body = response("incomplete", out, incomplete_details={"reason": "max_output_tokens"})
    adapter, _ = make_adapter("openai-responses", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "incomplete"


async def test_content_filter_is_blocked(make_adapter: MakeAdapter) -> None:
    body = response("incomplete", [], incomplete_details={"reason": "content_filter"})
    adapter, _ = make_adapter("openai-responses", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "blocked"


async def test_failed_status(make_adapter: MakeAdapter) -> None:
    body = response("failed", [], error={"code": "server_error", "message": "boom"})
    adapter, _ = make_adapter("openai-responses", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "failed"


async def test_refusal_is_an_answer_marked_refusal(make_adapter: MakeAdapter) -> None:
    out = [{"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help."}]}]
    adapter, _ = make_adapter("openai-responses", BASE, Endpoint(body=response(output=out)))
    resp = await adapter.complete(REQ)
    assert resp.text == "I can't help."
    assert resp.finish_reason == "refusal"


@pytest.mark.parametrize(("status", "reason"), [(429, "http_429"), (500, "http_5xx"), (401, "http_4xx")])
async def test_error_shapes(make_adapter: MakeAdapter, status: int, reason: str) -> None:
    body = {"error": {"message": "x", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    ep = Endpoint(status=status, body=body, headers={"retry-after": "1", "x-ratelimit-remaining-requests": "0"})
    adapter, _ = make_adapter("openai-responses", BASE, ep)
    with pytest.raises(EndpointHTTPError) as info:
        await adapter.complete(REQ)
    assert info.value.reason == reason
    assert info.value.retry_after == 1.0
