"""OpenAI Responses API (``POST {base_url}/responses``)."""

from __future__ import annotations

from typing import Any

import httpx

from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter, as_int, quoted, require


class OpenAIResponsesAdapter(ProviderAdapter):
    """``POST {base_url}/responses`` with ``input``, ``instructions`` and ``max_output_tokens``."""

    provider = "openai-responses"

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        url = str(self.target.base_url).rstrip("/") + "/responses"
        headers = {k: v.get_secret_value() for k, v in self.target.headers.items()}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        body: dict[str, Any] = {
            "model": self.target.model,
            "input": request.prompt,
            "max_output_tokens": request.max_tokens,
            "temperature": request.temperature,
            # Probes must not be kept on the vendor side: stored probes are how items leak.
            "store": False,
        }
        if request.system:
            body["instructions"] = request.system
        return url, headers, body

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        require(isinstance(body, dict), "response is not a JSON object")
        status = body.get("status")
        if status == "failed":
            err = body.get("error")
            code = err.get("code") if isinstance(err, dict) else None
            require(False, f"response failed ({quoted(code) if code else 'no code'})", reason="failed")
        incomplete = body.get("incomplete_details")
        why = incomplete.get("reason") if isinstance(incomplete, dict) else None
        if status == "incomplete" and why == "content_filter":
            require(False, "response stopped by the content filter", reason="blocked")
        output = body.get("output")
        require(isinstance(output, list), "response has no output list")
        texts: list[str] = []
        refused = False
        for item in output:
            if not isinstance(item, dict) or item.get("type") != "message":
                continue  # reasoning and tool items carry no answer text
            parts = item.get("content") or []
            require(isinstance(parts, list), "message content is not a list")
            for part in parts:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    # A refusal is the model's behaviour (scored, counted in the refusal rate), not an outage.
                    texts.append(part["refusal"])
                    refused = True
        text = "".join(texts)
        if status == "incomplete" and text.strip() == "":
            shown = quoted(why) if why else "no reason"
            require(False, f"response incomplete ({shown}) with no text", reason="incomplete")
        require(text.strip() != "", "response has no output text", reason="empty_content")
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        model = body.get("model")
        rid = body.get("id")
        finish = why if status == "incomplete" and isinstance(why, str) else status
        if refused:
            finish = "refusal"
        return ChatResponse(
            text=text,
            input_tokens=as_int(usage.get("input_tokens")),
            output_tokens=as_int(usage.get("output_tokens")),
            response_model=model if isinstance(model, str) else None,
            finish_reason=finish if isinstance(finish, str) else None,
            request_id=rid if isinstance(rid, str) else None,
        )
