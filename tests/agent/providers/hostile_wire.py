"""Hostile answers on an in-memory transport: streamed bodies (read as the network would deliver them)."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from agent.config import TargetConfig
from agent.providers import adapter_for
from agent.providers.base import ChatRequest, ProviderAdapter

T = TypeVar("T")
REQ = ChatRequest(prompt="What is 2 + 2?", max_tokens=16, temperature=0.0)
BASES = {
    "openai": "https://api.openai.test/v1",
    "azure-openai": "https://res.openai.azure.test",
    "openai-responses": "https://api.openai.test/v1",
    "anthropic": "https://api.anthropic.test/v1",
    "gemini": "https://generativelanguage.test/v1beta",
}
SECRET = "sk-hostile-SECRET-4242"


def answer(content: Any = "Answer: 4", **extra: Any) -> dict[str, Any]:
    """An OpenAI chat completion."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m-1",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
        **extra,
    }


class Chunks(httpx.AsyncByteStream):
    """A body delivered in pieces, optionally slowly (never read before the adapter reads it)."""

    def __init__(self, *chunks: bytes, delay_s: float = 0.0, then_stall_s: float = 0.0) -> None:
        self.chunks, self.delay_s, self.then_stall_s = chunks, delay_s, then_stall_s
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self.sent += len(chunk)
            yield chunk
        if self.then_stall_s:
            await asyncio.sleep(self.then_stall_s)


def split(data: bytes, size: int = 65_536) -> list[bytes]:
    """``data`` in network-sized pieces."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def adapter(
    handler: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]],
    provider: str = "openai",
    timeout_s: float = 5.0,
) -> ProviderAdapter:
    fields: dict[str, Any] = {"name": "t", "provider": provider, "base_url": BASES[provider], "model": "m"}
    if provider == "azure-openai":
        fields["api_version"] = "2024-10-21"
    cfg = TargetConfig(**fields, timeout_s=timeout_s)
    return adapter_for(cfg, httpx.AsyncClient(transport=httpx.MockTransport(handler)), SECRET)


def streamed(
    body: bytes, headers: dict[str, str] | None = None, status: int = 200, **chunking: Any
) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with ``body`` streamed in 64 KiB pieces."""

    def handler(request: httpx.Request) -> httpx.Response:
        hdrs = {"content-type": "application/json", **(headers or {})}
        return httpx.Response(status, headers=hdrs, stream=Chunks(*split(body), **chunking))

    return handler


def json_body(value: Any, headers: dict[str, str] | None = None, status: int = 200) -> Callable[..., httpx.Response]:
    """A handler answering with ``value`` as JSON."""
    return streamed(json.dumps(value).encode(), headers, status)


async def traced_peak(call: Callable[[], Awaitable[T]]) -> tuple[T | Exception, int]:
    """Run ``call``; return its result (or the exception it raised) and the peak of traced allocations."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        result: T | Exception = await call()
    except Exception as exc:  # the caller asserts on it
        result = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak - base
