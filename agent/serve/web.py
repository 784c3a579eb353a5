"""HTTP surface: /metrics, /healthz, /readyz, the status page / and a probe's debug view."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent import __version__
from agent.config import Settings
from agent.ledger.store import Store
from agent.serve.state import AgentState
from agent.serve.status_page import TargetStatus, render_index, render_probe
from agent.serve.webauth import BasicAuthMiddleware, ssl_kwargs


def build_app(
    settings: Settings,
    registry: CollectorRegistry,
    state: AgentState,
    store: Store,
    redact: Callable[[str], str],
) -> Starlette:
    """The ASGI app serving capmon's pages."""

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if state.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("starting\n", status_code=503)

    async def index(_: Request) -> Response:
        snap = state.snapshot()
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
        return HTMLResponse(render_index(targets, state.recent_failures(), __version__, now=time.time(), redact=redact))

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
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/", index),
            Route("/probe/{result_id}", probe),
        ],
        middleware=middleware,
    )


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
