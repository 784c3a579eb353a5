"""Provider adapters: one module per provider, all behind ``ProviderAdapter``."""

from __future__ import annotations

import httpx

from agent.config import TargetConfig
from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter
from agent.providers.openai import OpenAIChatAdapter

_ADAPTERS: dict[str, type[ProviderAdapter]] = {
    "openai": OpenAIChatAdapter,
}


def adapter_for(target: TargetConfig, client: httpx.AsyncClient, api_key: str | None = None) -> ProviderAdapter:
    """The adapter for a target's provider."""
    try:
        cls = _ADAPTERS[target.provider]
    except KeyError:
        raise NotImplementedError(f"provider {target.provider!r} has no adapter yet") from None
    return cls(target, client, api_key)


__all__ = ["ChatRequest", "ChatResponse", "ProviderAdapter", "adapter_for"]
