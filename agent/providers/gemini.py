"""Google Gemini API ``models/{model}:generateContent``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter, as_int, quoted, require

#: Finish reasons that mean the candidate was withheld by a filter rather than answered.
_BLOCKED_FINISH = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
#: google.rpc status names in error bodies that are worth retrying.
_STATUS_REASON = {"RESOURCE_EXHAUSTED": "http_429", "UNAVAILABLE": "http_5xx", "INTERNAL": "http_5xx"}


class GeminiAdapter(ProviderAdapter):
    """``POST {base_url}/models/{model}:generateContent`` with the key in ``x-goog-api-key``."""

    provider = "gemini"

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        model = self.target.model.removeprefix("models/")
        # The key goes in a header, never in the URL's ?key=: URLs end up in logs and traces.
        url = str(self.target.base_url).rstrip("/") + f"/models/{quote(model, safe='')}:generateContent"
        headers = {k: v.get_secret_value() for k, v in self.target.headers.items()}
        if self._api_key:
            headers["x-goog-api-key"] = self._api_key
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": [{"text": request.prompt}]}],
            "generationConfig": {"maxOutputTokens": request.max_tokens, "temperature": request.temperature},
        }
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        return url, headers, body

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        require(isinstance(body, dict), "response is not a JSON object")
        feedback = body.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            require(False, f"prompt blocked ({quoted(feedback['blockReason'])})", reason="blocked")
        candidates = body.get("candidates")
        require(isinstance(candidates, list) and len(candidates) > 0, "response has no candidates")
        first = candidates[0]
        require(isinstance(first, dict), "candidate is not an object")
        finish = first.get("finishReason")
        finish = finish if isinstance(finish, str) else None  # metadata of the wrong type is dropped
        content = first.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) and finish in _BLOCKED_FINISH:
            require(False, f"candidate withheld ({quoted(finish)})", reason="blocked")
        require(isinstance(parts, list), "candidate has no content parts")
        # Thought summaries (thinking models) are not the answer.
        texts = [p["text"] for p in parts or [] if _is_answer_text(p)]
        text = "".join(texts)
        require(text.strip() != "", "candidate has no text", reason="empty_content")
        usage = body.get("usageMetadata") if isinstance(body.get("usageMetadata"), dict) else {}
        output = as_int(usage.get("candidatesTokenCount"))
        thoughts = as_int(usage.get("thoughtsTokenCount"))
        if output is not None and thoughts is not None:
            # Thinking tokens are billed as output: cost per correct answer must include them.
            output += thoughts
        version = body.get("modelVersion")
        rid = body.get("responseId")
        return ChatResponse(
            text=text,
            input_tokens=as_int(usage.get("promptTokenCount")),
            output_tokens=output,
            response_model=version if isinstance(version, str) else None,
            finish_reason=finish,
            request_id=rid if isinstance(rid, str) else None,
        )

    def error_reason(self, status: int, body: Any) -> str:
        """Refine the reason from Google's ``{"error": {"code", "status", "message"}}`` body."""
        err = body.get("error") if isinstance(body, dict) else None
        name = err.get("status") if isinstance(err, dict) else None
        if isinstance(name, str) and name in _STATUS_REASON:
            return _STATUS_REASON[name]
        return super().error_reason(status, body)


def _is_answer_text(part: Any) -> bool:
    return isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
