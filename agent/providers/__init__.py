"""Provider adapters: one module per provider, all behind ``ProviderAdapter``."""

from __future__ import annotations

import httpx

from agent.config import Provider, TargetConfig
from agent.providers.anthropic import AnthropicAdapter
from agent.providers.azure import AzureOpenAIAdapter
from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter
from agent.providers.gemini import GeminiAdapter
from agent.providers.openai import OpenAIChatAdapter
from agent.providers.responses import OpenAIResponsesAdapter

#: One adapter per provider name; the names themselves are spelled once, in ``config.Provider``.
_ADAPTERS: dict[Provider, type[ProviderAdapter]] = {
    "openai": OpenAIChatAdapter,
    "openai-responses": OpenAIResponsesAdapter,
    "azure-openai": AzureOpenAIAdapter,
    "anthropic": AnthropicAdapter,
    "gemini": GeminiAdapter,
}


def adapter_for(target: TargetConfig, client: httpx.AsyncClient, api_key: str | None = None) -> ProviderAdapter:
    """The adapter for a target's provider."""
    try:
        cls = _ADAPTERS[target.provider]
    except KeyError:
        raise NotImplementedError(f"provider {target.provider!r} has no adapter yet") from None
    return cls(target, client, api_key)


__all__ = ["ChatRequest", "ChatResponse", "ProviderAdapter", "adapter_for"]
