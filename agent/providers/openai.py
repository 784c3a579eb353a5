"""OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama, TGI, gateways).

Streamed (``stream: true``, the default for this provider) the chunks are folded into the body a
non-streamed call returns, and that body goes through the same ``parse``: both paths give the same
answer. A stream must end with ``[DONE]`` or a finish reason; one that stops before either is
``incomplete_stream``, as is an error event in the middle of a stream (``provider_error``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx

from agent.errors import BadResponse
from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter, as_int, quoted, require
from agent.providers.decoding import iter_body
from agent.providers.stream import DONE, json_events


class OpenAIChatAdapter(ProviderAdapter):
    """``POST {base_url}/chat/completions``."""

    provider = "openai"

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        url = str(self.target.base_url).rstrip("/") + "/chat/completions"
        headers = {k: v.get_secret_value() for k, v in self.target.headers.items()}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        body = {
            "model": self.target.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        return url, headers, body

    def stream_fields(self) -> dict[str, Any]:
        """``stream``, and ``stream_options.include_usage`` unless the target turned it off."""
        fields: dict[str, Any] = {"stream": True}
        if self.target.stream_usage:
            fields["stream_options"] = {"include_usage": True}
        return fields

    async def read_stream(self, resp: httpx.Response, started: float) -> ChatResponse:
        """Fold the chunks into one completion body, timing the first text, and parse it."""
        folded = _Folded()
        ttft: float | None = None
        done = False
        async for event in json_events(iter_body(resp), resp.status_code):
            if event is DONE:
                done = True
                break
            if folded.add(event) and ttft is None:
                ttft = time.perf_counter() - started
        if folded.finish is None:
            ending = "[DONE] without a finish reason" if done else "the stream ended before the answer finished"
            raise BadResponse(ending, reason="incomplete_stream", status=resp.status_code)
        parsed = self._parsed(folded.body(), resp.headers, resp.status_code)
        return dataclasses.replace(parsed, ttft_s=ttft)

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        require(isinstance(body, dict), "response is not a JSON object")
        choices = body.get("choices")
        require(isinstance(choices, list) and len(choices) > 0, "response has no choices")
        first = choices[0]
        require(isinstance(first, dict), "choice is not an object")
        message = first.get("message")
        require(isinstance(message, dict), "choice has no message")
        content = message.get("content")
        require(content is not None, "message content is null", reason="empty_content")
        require(isinstance(content, str), "message content is not text")
        require(content.strip() != "", "message content is empty", reason="empty_content")
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        fingerprint = body.get("system_fingerprint")
        model = body.get("model")
        return ChatResponse(
            text=content,
            input_tokens=as_int(usage.get("prompt_tokens")),
            output_tokens=as_int(usage.get("completion_tokens")),
            response_model=model if isinstance(model, str) else None,
            system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
            finish_reason=first.get("finish_reason") if isinstance(first.get("finish_reason"), str) else None,
            request_id=body.get("id") if isinstance(body.get("id"), str) else None,
        )


class _Folded:
    """The chunks of a streamed chat completion folded into the body of a non-streamed one."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.finish: str | None = None
        self.meta: dict[str, Any] = {}
        self.usage: Any = None

    def add(self, chunk: Any) -> bool:
        """Take one chunk; True when it carried answer text."""
        require(isinstance(chunk, dict), "stream chunk is not a JSON object")
        if isinstance(chunk.get("error"), dict):
            code = chunk["error"].get("code") or chunk["error"].get("type")
            require(False, f"error event in the stream ({quoted(code)})", reason="provider_error")
        for key in ("id", "model", "system_fingerprint"):
            if isinstance(chunk.get(key), str):
                self.meta[key] = chunk[key]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return False  # the usage chunk has no choices
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str):
            self.finish = choice["finish_reason"]
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(text, str) and text:
            self.parts.append(text)
            return True
        return False

    def body(self) -> dict[str, Any]:
        """The completion body this stream stands for."""
        content = "".join(self.parts)
        body: dict[str, Any] = {
            **self.meta,
            "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": self.finish}],
        }
        if self.usage is not None:
            body["usage"] = self.usage
        return body
