"""The agent's HTTP transport: each origin's requests spread over small connection pools, filled in order.

httpcore's connection pool walks every connection it holds each time a request starts or ends, and
for each idle one counts the idle connections again (``AsyncConnectionPool._assign_requests_to_
connections``, httpcore 1.0): its CPU per request grows with the connections in the pool, faster
than linearly. One pool for all of an agent's connections made that cost grow with the number of
targets and their concurrency: a bare httpx loop at concurrency 16 spent 3.1 ms of CPU per request on
one pool and 1.6 ms on these split pools (``python -m benchmarks.overhead --rounds 4 --concurrency
16``, least of four rounds, 2026-12-03, on a slow spell of this 2-core machine).

``SplitPools`` keeps, per origin (scheme, host, port), a list of pools and sends each request to the
first one with fewer than ``per_pool`` requests in flight, opening another pool when all are that
busy (up to ``max_pools``; then the least busy). A target probed one request at a time keeps reusing
the first pool's connection, as with one pool; a busy one spreads over a few small pools. A request
is in flight until its response is closed. Every pool shares one SSL context.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

#: Requests in flight per pool before the next pool of the origin is used.
PER_POOL = 4
#: Pools per origin; past it, requests go to the least busy pool.
MAX_POOLS = 64


@dataclass
class _Pool:
    transport: httpx.AsyncBaseTransport
    busy: int = 0


class _Release(httpx.AsyncByteStream):
    """A response body that marks its request done in its pool when closed (once)."""

    def __init__(self, stream: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._stream = stream
        self._pool: _Pool | None = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.busy -= 1
        await self._stream.aclose()


class SplitPools(httpx.AsyncBaseTransport):
    """An httpx transport over per-origin lists of small pools (see the module docstring).

    ``new_pool`` makes one pool's transport (default: ``httpx.AsyncHTTPTransport`` with ``limits`` and
    the shared SSL context, honouring ``SSL_CERT_FILE`` as httpx's default client does).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        per_pool: int = PER_POOL,
        max_pools: int = MAX_POOLS,
        new_pool: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._per_pool = per_pool
        self._max_pools = max_pools
        self._new_pool = new_pool or self._http_pool
        self._limits = limits or httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._ssl: ssl.SSLContext | None = None
        self._pools: dict[tuple[str, str, int | None], list[_Pool]] = {}

    def _http_pool(self) -> httpx.AsyncBaseTransport:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # once: each context loads the CA bundle
        return httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits)

    def pools(self, origin: tuple[str, str, int | None]) -> list[int]:
        """Requests in flight in each pool of ``origin`` (scheme, host, port), in order."""
        return [p.busy for p in self._pools.get(origin, [])]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        pools = self._pools.setdefault((url.scheme, url.host, url.port), [])
        pool = next((p for p in pools if p.busy < self._per_pool), None)
        if pool is None:
            if len(pools) < self._max_pools:
                pool = _Pool(self._new_pool())
                pools.append(pool)
            else:
                pool = min(pools, key=lambda p: p.busy)
        pool.busy += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.busy -= 1
            raise
        if isinstance(response.stream, httpx.AsyncByteStream) and not response.is_closed:
            response.stream = _Release(response.stream, pool)
        else:
            pool.busy -= 1  # a body already read (or none to read asynchronously): nothing stays open
        return response

    async def aclose(self) -> None:
        for pools in self._pools.values():
            for pool in pools:
                await pool.transport.aclose()
        self._pools.clear()
