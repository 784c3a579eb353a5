"""The tamper proxy against a scripted upstream, read through capmon's own OpenAI-compatible adapter.

The proxy is the instrument of the live signal tests; these check that each mode does what it says
(and only that) before a real model is put behind it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from agent.config import TargetConfig
from agent.providers import adapter_for
from agent.providers.base import ChatRequest, ChatResponse
from agent.stats.fingerprint import is_refusal
from benchmarks.tamper_proxy import DEFAULT_REFUSAL, TamperProxy

ANSWER = "Answer: 42"


class Upstream:
    """A model that answers ANSWER (streamed when asked) and remembers the bodies it got."""

    def __init__(self, name: str = "smollm2") -> None:
        self.name = name
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if body.get("stream"):
            chunks = [
                {"model": self.name, "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}]}
                for part in ("Answer: ", "42")
            ]
            chunks.append({"model": self.name, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
        return httpx.Response(
            200,
            json={
                "model": self.name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
            },
        )


async def _ask(proxy: TamperProxy, *, stream: bool, max_tokens: int = 32) -> ChatResponse:
    """One chat request through the proxy app (lifespan run, no sockets) with capmon's adapter."""
    target = TargetConfig(name="t", base_url="http://proxy/v1", model="smollm2", stream=stream)  # type: ignore[arg-type]
    async with proxy.app.router.lifespan_context(proxy.app):
        transport = httpx.ASGITransport(app=proxy.app)
        async with httpx.AsyncClient(transport=transport) as client:
            request = ChatRequest(prompt="What is 40 + 2?", max_tokens=max_tokens, temperature=0.0)
            return await adapter_for(target, client).complete(request)


def _proxy(*upstreams: Upstream, **kw: Any) -> TamperProxy:
    def route(request: httpx.Request) -> httpx.Response:
        index = 1 if request.url.host == "up2" else 0
        return upstreams[index](request)

    hosts = ["http://up1/v1", "http://up2/v1"][: len(upstreams)]
    return TamperProxy(hosts, upstream_transport=httpx.MockTransport(route), **kw)


@pytest.mark.parametrize("stream", [False, True])
async def test_pass_forwards_the_request_and_answer_unchanged(stream: bool) -> None:
    up = Upstream()
    got = await _ask(_proxy(up), stream=stream)
    assert (got.text, got.finish_reason, got.response_model) == (ANSWER, "stop", "smollm2")
    assert up.bodies[0]["max_tokens"] == 32 and up.bodies[0]["messages"][-1]["content"] == "What is 40 + 2?"
    assert bool(up.bodies[0].get("stream")) is stream
    assert (got.ttft_s is not None) is stream


async def test_upstream2_sends_to_the_second_model() -> None:
    first, second = Upstream("a"), Upstream("b")
    proxy = _proxy(first, second)
    proxy.set_mode("upstream2")
    got = await _ask(proxy, stream=True)
    assert not first.bodies and len(second.bodies) == 1 and got.response_model == "b"
    assert proxy.counts["upstream2"] == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_refuse_answers_a_refusal_without_asking_the_model(stream: bool) -> None:
    up = Upstream()
    proxy = _proxy(up)
    proxy.set_mode("refuse")
    got = await _ask(proxy, stream=stream)
    assert not up.bodies
    assert got.text == DEFAULT_REFUSAL and is_refusal(got.text)
    # A normal answer in shape: the model name asked for and finish_reason stop, so only the text says it.
    assert got.finish_reason == "stop" and got.response_model == "smollm2"


@pytest.mark.parametrize("stream", [False, True])
async def test_delay_holds_the_answer_and_the_first_token(stream: bool) -> None:
    up = Upstream()
    proxy = _proxy(up, delay_s=0.3)
    started = time.perf_counter()
    await _ask(proxy, stream=stream)
    plain = time.perf_counter() - started
    proxy.set_mode("delay")
    started = time.perf_counter()
    got = await _ask(proxy, stream=stream)
    delayed = time.perf_counter() - started
    assert got.text == ANSWER and delayed >= 0.3 and delayed > plain
    if stream:
        assert got.ttft_s is not None and got.ttft_s >= 0.3


@pytest.mark.parametrize("stream", [False, True])
async def test_model_id_renames_the_served_model_only(stream: bool) -> None:
    proxy = _proxy(Upstream(), served_model="cheaper-mini")
    proxy.set_mode("model_id")
    got = await _ask(proxy, stream=stream)
    assert got.response_model == "cheaper-mini" and got.text == ANSWER and got.finish_reason == "stop"


async def test_max_tokens_caps_the_request_and_system_prompt_prepends_one() -> None:
    up = Upstream()
    proxy = _proxy(up, max_tokens_cap=4)
    proxy.set_mode("max_tokens")
    await _ask(proxy, stream=False, max_tokens=64)
    proxy.set_mode("system_prompt")
    await _ask(proxy, stream=False)
    assert up.bodies[0]["max_tokens"] == 4
    assert up.bodies[1]["messages"][0] == {"role": "system", "content": proxy.system_prompt}


def test_unknown_mode_is_refused() -> None:
    proxy = _proxy(Upstream())
    with pytest.raises(ValueError, match="unknown mode"):
        proxy.set_mode("nope")
    with pytest.raises(ValueError, match="second upstream"):
        proxy.set_mode("upstream2")
