"""Azure OpenAI adapter: deployment URL, api-version, api-key header, content filter."""

from __future__ import annotations

import pytest

from agent.errors import BadResponse, EndpointHTTPError
from agent.providers.base import ChatRequest
from tests.agent.providers.provider_wire import SECRET, Endpoint, MakeAdapter

OK = {
    "id": "chatcmpl-az1",
    "object": "chat.completion",
    "model": "gpt-4o-2024-11-20",
    "system_fingerprint": "fp_az",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "12"}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
}
REQ = ChatRequest(prompt="What is 7 + 5?", max_tokens=16, temperature=0.0)
BASE = "https://myres.openai.azure.test"


async def test_request_shape_and_parse(make_adapter: MakeAdapter) -> None:
    headers = {
        "apim-request-id": "apim-1",
        "x-ms-region": "Sweden Central",
        "x-ratelimit-remaining-requests": "99",
    }
    ep = Endpoint(body=OK, headers=headers)
    adapter, _ = make_adapter("azure-openai", BASE, ep, model="gpt4o-prod", api_version="2024-10-21")
    resp = await adapter.complete(REQ)
    req = ep.requests[0]
    assert str(req.url) == BASE + "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    assert req.headers["api-key"] == SECRET
    assert "authorization" not in req.headers
    assert ep.sent == {
        "messages": [{"role": "user", "content": "What is 7 + 5?"}],
        "max_tokens": 16,
        "temperature": 0.0,
    }
    assert resp.text == "12"
    assert resp.response_model == "gpt-4o-2024-11-20"
    assert resp.system_fingerprint == "fp_az"
    assert (resp.input_tokens, resp.output_tokens) == (12, 1)
    assert resp.headers == headers


async def test_content_filter_completion_is_blocked(make_adapter: MakeAdapter) -> None:
    body = {
        **OK,
        "choices": [{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant"}}],
    }
    adapter, _ = make_adapter("azure-openai", BASE, Endpoint(body=body), api_version="2024-10-21")
    with pytest.raises(BadResponse) as info:
        await adapter.complete(REQ)
    assert info.value.reason == "blocked"


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (400, "content_filter", "blocked"),
        (429, "429", "http_429"),
        (503, "ServiceUnavailable", "http_5xx"),
        (404, "DeploymentNotFound", "http_4xx"),
    ],
)
async def test_error_shapes(make_adapter: MakeAdapter, status: int, code: str, reason: str) -> None:
    body = {"error": {"code": code, "message": "x", "status": status}}
    ep = Endpoint(status=status, body=body, headers={"retry-after": "2"})
    adapter, _ = make_adapter("azure-openai", BASE, ep, api_version="2024-10-21")
    with pytest.raises(EndpointHTTPError) as info:
        await adapter.complete(REQ)
    assert info.value.reason == reason
    assert SECRET not in str(info.value)
