"""OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama, TGI, gateways)."""

from __future__ import annotations

from typing import Any

import httpx

from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter, as_int, require


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
