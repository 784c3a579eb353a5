"""The agent's transport: a quiet origin keeps one pool, a busy one fills small pools in order, a request
counts until its response is closed (or fails), and origins never share a pool; over real sockets a
request at a time reuses one connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from agent.providers.pools import SplitPools

A = ("http", "a.test", None)


class _Body(httpx.AsyncByteStream):
    """A body read as it arrives, as a real connection's is (content given up front is read at once)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"ok"


def _counting(made: list[httpx.MockTransport], fail: bool = False) -> SplitPools:
    def reply(request: httpx.Request) -> httpx.Response:
        if fail:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, stream=_Body())

    def new_pool() -> httpx.AsyncBaseTransport:
        made.append(httpx.MockTransport(reply))
        return made[-1]

    return SplitPools(per_pool=4, max_pools=3, new_pool=new_pool)


async def test_a_quiet_origin_keeps_one_pool_and_a_busy_one_fills_pools_in_order() -> None:
    made: list[httpx.MockTransport] = []
    transport = _counting(made)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(6):  # one request at a time: always the first pool
            assert (await client.get("http://a.test/x")).text == "ok"
        assert transport.pools(A) == [0] and len(made) == 1
        async with AsyncExitStack() as held:
            for _ in range(10):  # held open: in flight until closed
                await held.enter_async_context(client.stream("GET", "http://a.test/x"))
            assert transport.pools(A) == [4, 4, 2]
            for _ in range(3):  # all pools at four, none left to open: the least busy
                await held.enter_async_context(client.stream("GET", "http://a.test/x"))
            assert transport.pools(A) == [5, 4, 4] and len(made) == 3
            assert (await client.get("http://b.test/y")).text == "ok"  # another origin, its own pool
            assert transport.pools(("http", "b.test", None)) == [0] and len(made) == 4
        assert transport.pools(A) == [0, 0, 0]  # every response closed
        response = await client.get("http://a.test/x")
        assert response.text == "ok" and transport.pools(A) == [0, 0, 0]
    assert transport.pools(A) == []  # closed with the client


async def test_a_failed_request_is_not_left_in_flight() -> None:
    made: list[httpx.MockTransport] = []
    transport = _counting(made, fail=True)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                await client.get("http://a.test/x")
        assert transport.pools(A) == [0] and len(made) == 1


@pytest.fixture
def server() -> Iterator[tuple[str, list[int]]]:
    """A real HTTP/1.1 server on 127.0.0.1 recording the client port of each request."""
    ports: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            ports.append(self.client_address[1])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", ports
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_over_real_sockets_one_at_a_time_reuses_one_connection(server: tuple[str, list[int]]) -> None:
    url, ports = server
    transport = SplitPools(per_pool=2)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(5):
            assert (await client.get(url)).text == "ok"
        assert len(set(ports)) == 1  # keep-alive: one connection, as with one pool
        ports.clear()
        replies = await asyncio.gather(*(client.get(url) for _ in range(12)))
        assert [r.text for r in replies] == ["ok"] * 12
        origin = ("http", "127.0.0.1", int(url.split(":")[2].rstrip("/")))
        assert len(transport.pools(origin)) >= 2 and sum(transport.pools(origin)) == 0


async def test_a_body_read_before_it_is_returned_is_not_left_in_flight() -> None:
    def new_pool() -> httpx.AsyncBaseTransport:
        return httpx.MockTransport(lambda request: httpx.Response(200, content=b"ok"))  # read at once

    transport = SplitPools(per_pool=1, new_pool=new_pool)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(4):
            async with client.stream("GET", "http://a.test/x") as response:
                assert await response.aread() == b"ok"
        assert transport.pools(A) == [0]
