"""HTTP surface: /metrics, /healthz, /readyz, the status page / and a probe's debug view (optional TLS, basic auth).

- The pages (``/``, ``/probe/{id}``) show prompts and model responses. On a listen address that is
  not loopback and without ``web.basic_auth_users`` they answer 403 with a one-line explanation,
  unless ``web.allow_unauthenticated_pages: true`` says so explicitly; ``/metrics``, ``/healthz``
  and ``/readyz`` stay open. (403 rather than refusing to start: the agent keeps probing and
  exporting, and an operator who opens a page is told what to set.)
- The pages render in a worker thread (``run_in_threadpool``), at most ``PAGE_RENDERS`` at once,
  and ``/`` is rendered at most once per ``INDEX_CACHE_S`` (every request in between gets that
  page): a flood of page requests never holds the event loop that answers ``/healthz`` and runs the
  probes.
- ``/probe/{id}`` with anything but a decimal id SQLite can hold answers 404.
- Every response carries ``SECURITY_HEADERS`` (a CSP that allows no script and only the pages' own
  style, by hash; nosniff; no framing; no referrer).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent import __version__
from agent.config import Settings
from agent.ledger.store import Store
from agent.serve.counters import Counters
from agent.serve.status_page import STYLE_CSP_SOURCE, TargetStatus, render_index, render_probe
from agent.serve.webauth import BasicAuthMiddleware, ssl_kwargs

log = logging.getLogger("capmon.web")

#: Sent with every response (pages, metrics, health, 401, 403, 404).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        f"default-src 'none'; style-src {STYLE_CSP_SOURCE}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'".encode(),
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
PAGES_OFF = (
    "capmon: the status pages show prompts and responses, so they are off on a non-loopback listen "
    "address without basic auth. Set web.basic_auth_users, or web.allow_unauthenticated_pages: true "
    "to serve them without auth.\n"
)
#: The status page is rendered at most this often; requests in between get the last rendering.
INDEX_CACHE_S = 1.0
#: Page renderings at once (each holds the GIL while it runs; more requests wait their turn).
PAGE_RENDERS = 2
#: A probe id SQLite can hold: a decimal integer of at most 19 digits (checked against 2**63 - 1 too).
_PROBE_ID = re.compile(r"[0-9]{1,19}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (from ``listen``) only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to any interface


def pages_allowed(settings: Settings) -> bool:
    """Whether ``/`` and ``/probe/{id}`` are served (else they answer 403)."""
    web = settings.web
    return bool(web.basic_auth_users) or web.allow_unauthenticated_pages or is_loopback(settings.listen_host_port[0])


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

    def index_page() -> str:
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
        return render_index(targets, failures, __version__, now=time.time(), redact=redact)

    def probe_page(result_id: int) -> str | None:
        stored = store.result(result_id)
        return None if stored is None else render_probe(stored, redact=redact)

    cached: list[tuple[float, str]] = []  # (monotonic time rendered, page)
    renders = asyncio.Semaphore(PAGE_RENDERS)
    index_lock = asyncio.Lock()

    async def index(_: Request) -> Response:
        if not pages_on:
            return PlainTextResponse(PAGES_OFF, status_code=403)
        async with index_lock:  # one rendering for all the requests that arrive meanwhile
            if not cached or time.monotonic() - cached[0][0] >= INDEX_CACHE_S:
                async with renders:
                    page = await run_in_threadpool(index_page)
                cached[:] = [(time.monotonic(), page)]
            return HTMLResponse(cached[0][1])

    async def probe(request: Request) -> Response:
        if not pages_on:
            return PlainTextResponse(PAGES_OFF, status_code=403)
        raw = request.path_params["result_id"]
        if not _PROBE_ID.fullmatch(raw) or int(raw) > 2**63 - 1:
            return PlainTextResponse("no such probe\n", status_code=404)
        async with renders:
            page = await run_in_threadpool(probe_page, int(raw))
        if page is None:
            return PlainTextResponse("no such probe\n", status_code=404)
        return HTMLResponse(page)

    pages_on = pages_allowed(settings)
    if not pages_on:
        log.warning("status pages off: listening on %s without basic auth (%s)", settings.listen, PAGES_OFF.strip())
    # Outermost first: the security headers reach every response, the 401 included.
    middleware = [Middleware(SecurityHeadersMiddleware)]
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


class SecurityHeadersMiddleware:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
