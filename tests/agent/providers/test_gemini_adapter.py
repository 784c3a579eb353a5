"""Gemini generateContent adapter against a local endpoint speaking the documented shapes."""

from __future__ import annotations

import pytest

from agent.errors import BadResponse, EndpointHTTPError
from agent.providers.base import ChatRequest
from tests.agent.providers.provider_wire import SECRET, Endpoint, MakeAdapter

OK = {
    "candidates": [
        {
            "content": {"parts": [{"text": "7 + 5 = "}, {"text": "12"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5, "totalTokenCount": 14},
    "modelVersion": "gemini-2.0-flash-001",
    "responseId": "resp-gem-1",
}
REQ = ChatRequest(prompt="What is 7 + 5?", max_tokens=32, temperature=0.0, system="Be brief.")
BASE = "https://generativelanguage.test/v1beta"


async def test_request_shape_and_parse(make_adapter: MakeAdapter) -> None:
    ep = Endpoint(body=OK, headers={"x-goog-request-id": "g-1", "server-timing": "gfet4t7; dur=412"})
    adapter, _ = make_adapter("gemini", BASE, ep, model="models/gemini-2.0-flash")
    resp = await adapter.complete(REQ)
    req = ep.requests[0]
    assert str(req.url) == BASE + "/models/gemini-2.0-flash:generateContent"
    assert SECRET not in str(req.url)  # the key never goes in the URL
    assert req.headers["x-goog-api-key"] == SECRET
    assert ep.sent == {
        "contents": [{"role": "user", "parts": [{"text": "What is 7 + 5?"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 32, "temperature": 0.0},
    }
    assert resp.text == "7 + 5 = 12"
    assert (resp.input_tokens, resp.output_tokens) == (9, 5)
    assert resp.response_model == "gemini-2.0-flash-001"
    assert resp.request_id == "resp-gem-1"
    assert resp.finish_reason == "STOP"
    assert resp.headers == {"x-goog-request-id": "g-1", "server-timing": "gfet4t7; dur=412"}


async def test_thoughts_excluded_from_text_but_billed(make_adapter: MakeAdapter) -> None:
    body = {
        **OK,
        "candidates": [
            {
                "content": {"parts": [{"text": "let me think", "thought": True}, {"text": "12"}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "thoughtsTokenCount": 40},
    }
    adapter, _ = make_adapter("gemini", BASE, Endpoint(body=body))
    resp = await adapter.complete(REQ)
    assert resp.text == "12"
    assert resp.output_tokens == 42


async def test_prompt_blocked(make_adapter: MakeAdapter) -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}}
    adapter, _ = make_adapter("gemini", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "blocked"


async def test_candidate_withheld_by_safety(make_adapter: MakeAdapter) -> None:
    body = {"candidates": [{"finishReason": "SAFETY", "index": 0}], "modelVersion": "g"}
    adapter, _ = make_adapter("gemini", BASE, Endpoint(body=body))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "blocked"


@pytest.mark.parametrize(
    ("status", "name", "reason"),
    [
        (429, "RESOURCE_EXHAUSTED", "http_429"),
        (503, "UNAVAILABLE", "http_5xx"),
        (400, "INVALID_ARGUMENT", "http_4xx"),
        (403, "PERMISSION_DENIED", "http_4xx"),
    ],
)
async def test_error_shapes(make_adapter: MakeAdapter, status: int, name: str, reason: str) -> None:
    body = {"error": {"code": status, "message": "quota", "status": name}}
    adapter, _ = make_adapter("gemini", BASE, Endpoint(status=status, body=body, headers={"retry-after": "3"}))
    with pytest.raises(EndpointHTTPError) as info:
        await adapter.complete(REQ)
    assert info.value.reason == reason
    assert info.value.retry_after == 3.0
    assert SECRET not in str(info.value)


async def test_no_candidates_is_bad_shape(make_adapter: MakeAdapter) -> None:
    adapter, _ = make_adapter("gemini", BASE, Endpoint(body={"candidates": []}))
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "bad_shape"
