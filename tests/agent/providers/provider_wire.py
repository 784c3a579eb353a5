"""A local endpoint (httpx.MockTransport) that records what it was sent, and an adapter factory."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from agent.config import TargetConfig
from agent.providers import adapter_for
from agent.providers.base import ProviderAdapter

SECRET = "sk-test-SECRET-value-123"


@dataclass
class Endpoint:
    """Answers every request with (status, json body, headers) and keeps the requests."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raw = json.dumps(self.body).encode()
        return httpx.Response(self.status, content=raw, headers={"content-type": "application/json", **self.headers})

    @property
    def sent(self) -> Any:
        return json.loads(self.requests[-1].content)


MakeAdapter = Callable[..., tuple[ProviderAdapter, Endpoint]]


def adapter_factory() -> MakeAdapter:
    def make(provider: str, base_url: str, endpoint: Endpoint, **target: Any) -> tuple[ProviderAdapter, Endpoint]:
        cfg = TargetConfig(name="t", provider=provider, base_url=base_url, model=target.pop("model", "m"), **target)
        client = httpx.AsyncClient(transport=httpx.MockTransport(endpoint.handler))
        return adapter_for(cfg, client, SECRET), endpoint

    return make
