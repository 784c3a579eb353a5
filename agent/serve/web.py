"""HTTP surface: /metrics, /healthz, /readyz, the status page / and a probe's debug view (optional TLS, basic auth)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent import __version__
from agent.config import Settings
from agent.ledger.store import Store
from agent.serve.counters import Counters
from agent.serve.status_page import TargetStatus, render_index, render_probe
from agent.serve.webauth import BasicAuthMiddleware, ssl_kwargs


def build_app(
    settings: Settings,
    metrics_registry: CollectorRegistry,
    counters: Counters,
    store: Store,
    redact: Callable[[str], str],
) -> Starlette:
    """The ASGI app serving capmon's pages; /metrics is prometheus-client's own ASGI app."""
    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if counters.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("starting\n", status_code=503)

    async def index(_: Request) -> Response:
        snap = counters.snapshot()
        counts: dict[str, dict[str, int]] = {}
        for (target, _family, outcome), n in snap.probes.items():
            counts.setdefault(target, {}).setdefault(outcome, 0)
            counts[target][outcome] += n
        targets = [
            TargetStatus(
                name=name,
                provider=info.provider,
                model=info.model,
                last_run_ts=info.last_run_ts,
                passed=counts.get(name, {}).get("pass", 0),
                failed=counts.get(name, {}).get("fail", 0),
                errors=counts.get(name, {}).get("error", 0),
                up=info.up,
                circuit_open=info.circuit_open,
            )
            for name, info in sorted(snap.targets.items())
        ]
        failures = counters.recent_failures()
        return HTMLResponse(render_index(targets, failures, __version__, now=time.time(), redact=redact))

    async def probe(request: Request) -> Response:
        try:
            result_id = int(request.path_params["result_id"])
        except ValueError:
            return PlainTextResponse("bad probe id\n", status_code=400)
        stored = store.result(result_id)
        if stored is None:
            return PlainTextResponse("no such probe\n", status_code=404)
        return HTMLResponse(render_probe(stored, redact=redact))

    middleware = []
    if settings.web.basic_auth_users:
        middleware.append(Middleware(BasicAuthMiddleware, users=settings.web.basic_auth_users))
    return Starlette(
        routes=[
            # Content negotiation (OpenMetrics), gzip and ?name[]= filtering come with it.
            Route("/metrics", _AsgiEndpoint(make_asgi_app(metrics_registry))),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/", index),
            Route("/probe/{result_id}", probe),
        ],
        middleware=middleware,
    )


class _AsgiEndpoint:
    """An ASGI app as a route endpoint: Starlette calls instances (not plain functions) with the raw scope."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def build_server(settings: Settings, app: Starlette) -> uvicorn.Server:
    """A uvicorn server for the app, with TLS when configured; run it with ``await server.serve()``."""
    host, port = settings.listen_host_port
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    tls = ssl_kwargs(settings.web)
    if tls:
        config.ssl_certfile, config.ssl_keyfile = tls["ssl_certfile"], tls["ssl_keyfile"]
    return _AgentServer(config)


class _AgentServer(uvicorn.Server):
    """uvicorn without its own signal handling: the agent owns SIGTERM/SIGINT and drains probes."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
