"""Anthropic Messages API (``POST {base_url}/messages``)."""

from __future__ import annotations

from typing import Any

import httpx

from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter, as_int, quoted, require

DEFAULT_VERSION = "2023-06-01"
#: Anthropic's ``error.type`` values that mean "try again later", mapped onto capmon's retryable reasons.
_RETRYABLE = {"rate_limit_error": "http_429", "overloaded_error": "http_5xx", "api_error": "http_5xx"}


class AnthropicAdapter(ProviderAdapter):
    """``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version`` headers."""

    provider = "anthropic"

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        url = str(self.target.base_url).rstrip("/") + "/messages"
        headers = {k: v.get_secret_value() for k, v in self.target.headers.items()}
        headers["anthropic-version"] = self.target.api_version or DEFAULT_VERSION
        if self._api_key:
            headers["x-api-key"] = self._api_key
        body: dict[str, Any] = {
            "model": self.target.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "messages": [{"role": "user", "content": request.prompt}],
        }
        if request.system:
            # The Messages API has no "system" role: the system prompt is a top-level field.
            body["system"] = request.system
        return url, headers, body

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        require(isinstance(body, dict), "response is not a JSON object")
        # Some gateways wrap an error in a 200; it is still an error, never an answer.
        kind = _error_type(body)
        require(body.get("type") != "error", f"error object in a 2xx response ({quoted(kind)})", "provider_error")
        content = body.get("content")
        require(isinstance(content, list), "response has no content list")
        texts = [
            block["text"]
            for block in content
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
        ]
        text = "".join(texts)
        require(text.strip() != "", "response has no text content", reason="empty_content")
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        model = body.get("model")
        stop = body.get("stop_reason")
        msg_id = body.get("id")
        return ChatResponse(
            text=text,
            input_tokens=as_int(usage.get("input_tokens")),
            output_tokens=as_int(usage.get("output_tokens")),
            response_model=model if isinstance(model, str) else None,
            finish_reason=stop if isinstance(stop, str) else None,
            request_id=headers.get("request-id") or (msg_id if isinstance(msg_id, str) else None),
        )

    def error_reason(self, status: int, body: Any) -> str:
        """Refine the reason from Anthropic's ``{"type": "error", "error": {"type": ...}}`` body."""
        kind = _error_type(body)
        if kind == "rate_limit_error" and _spend_limit(body):
            # A spent monthly budget does not clear by retrying: not the retryable 429.
            return "quota_exhausted"
        if kind in _RETRYABLE:
            return _RETRYABLE[kind]
        return super().error_reason(status, body)


def _error_type(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        kind = body["error"].get("type")
        return kind if isinstance(kind, str) else None
    return None


def _spend_limit(body: Any) -> bool:
    details = body["error"].get("details") if isinstance(body, dict) else None
    return isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached"
