"""Azure OpenAI chat completions on a deployment URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from agent.providers.base import ChatRequest, ChatResponse, require
from agent.providers.openai import OpenAIChatAdapter


class AzureOpenAIAdapter(OpenAIChatAdapter):
    """``POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version=…`` with ``api-key``.

    ``model`` names the deployment; the response's ``model`` field names the model behind it.
    """

    provider = "azure-openai"

    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        _, headers, body = super().build(request)
        headers.pop("Authorization", None)
        if self._api_key:
            headers["api-key"] = self._api_key
        # The deployment in the path chooses the model; a "model" field would only mislead.
        body.pop("model", None)
        version = quote(self.target.api_version or "", safe="")
        deployment = quote(self.target.model, safe="")
        url = (
            str(self.target.base_url).rstrip("/")
            + f"/openai/deployments/{deployment}/chat/completions?api-version={version}"
        )
        return url, headers, body

    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        if isinstance(body, dict) and isinstance(body.get("choices"), list) and body["choices"]:
            first = body["choices"][0]
            if isinstance(first, dict) and first.get("finish_reason") == "content_filter":
                message = first.get("message")
                content = message.get("content") if isinstance(message, dict) else None
                # Azure's content filter withholds the completion: an availability matter, not a wrong answer.
                filtered = not (isinstance(content, str) and content.strip())
                require(not filtered, "completion withheld by the content filter", reason="blocked")
        return super().parse(body, headers)

    def error_reason(self, status: int, body: Any) -> str:
        """A prompt rejected by Azure's content filter is ``blocked``; otherwise the HTTP class."""
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and err.get("code") == "content_filter":
            return "blocked"
        return super().error_reason(status, body)
