"""A misbehaving OpenAI-compatible endpoint for fault-injection tests (raw asyncio sockets).

Each request gets one *mode*: the next entry of ``script`` if any, else the mode named in the path
(``/f/<mode>/v1/chat/completions``), else ``mode``. Modes:

    ok               a valid chat completion (arithmetic prompts answered correctly)
    slow             ``ok`` after ``slow_s`` seconds (in-flight probes for shutdown tests)
    hang             read the request, never answer
    hang_body        send the headers, then nothing
    close            close the connection without an answer
    reset            send the headers and half the body, then a TCP RST
    429 / 429_retry_after / 400 / 401 / 404 / 408 / 500 / 502 / 503   that status (Retry-After: 1)
    malformed_json   200, JSON content type, body that is not JSON
    no_choices / empty_choices / empty_content / null_content / not_object   wrong JSON shapes
    huge             a 50 MB body with Content-Length
    huge_chunked     a 50 MB chunked body without Content-Length
    dribble          a valid body sent one byte every 50 ms
    wrong_ctype      200 text/html
    redirect         302 to itself, forever
    echo_key         401 whose error message repeats the Authorization header (as careless gateways do)

Hostile modes (an attacker's endpoint rather than a broken one):

    gzip_bomb        ``Content-Encoding: gzip, gzip``: ~700 bytes that decode to 300 MB
    gzip_bomb_single ``Content-Encoding: gzip``: ~300 KB that decode to 300 MB
    fake_gzip        ``Content-Encoding: gzip`` on a plain JSON body
    unknown_encoding ``Content-Encoding: zstd`` (never asked for) on a plain JSON body
    header_drip      the status line and headers one byte every ``HEADER_DRIP_DELAY_S``, forever
    deep_json        200 with ``[`` x 100 000 then ``]`` x 100 000
    huge_metadata    a valid answer whose model, fingerprint, id and finish reason are 400 KB each
                     (with control characters), plus an 8 KB ``x-request-id`` header
    huge_numbers     a valid answer claiming ``prompt_tokens: 10**20`` and ``completion_tokens: -5``
    wrong_types      200 JSON of the right shape with every field the wrong type (``content: 5``,
                     ``finish_reason`` a list, ``model`` an object, token counts strings)

Streamed modes (``text/event-stream``, chunked, as an OpenAI-compatible server streams):

    stream_ok        a valid stream: one chunk per word, a finish reason, a usage chunk, ``[DONE]``
    stream_endless   valid content chunks forever, never finishing
    stream_drip      valid content chunks one every ``DRIBBLE_DELAY_S``, forever (under the body cap)
    stream_huge_event  one ``data:`` line of 50 MB that never ends
    stream_malformed   a valid first chunk, then an event that is not JSON
    stream_no_done   content chunks, then the body ends: no finish reason, no ``[DONE]``
    stream_error     content chunks, then an error event

Connection refused is a closed port: ``pause()`` stops listening, ``resume()`` listens again.
Run standalone (``python -m tests.fault.server --port N --mode ok``) for soak and crash tests.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import gzip
import json
import re
import socket
import struct
import threading
import zlib
from typing import Any

MODES = [
    "ok",
    "slow",
    "hang",
    "hang_body",
    "close",
    "reset",
    "429",
    "429_retry_after",
    "400",
    "401",
    "404",
    "408",
    "500",
    "502",
    "503",
    "malformed_json",
    "no_choices",
    "empty_choices",
    "empty_content",
    "null_content",
    "not_object",
    "huge",
    "huge_chunked",
    "dribble",
    "wrong_ctype",
    "redirect",
    "echo_key",
    "gzip_bomb",
    "gzip_bomb_single",
    "fake_gzip",
    "unknown_encoding",
    "header_drip",
    "deep_json",
    "huge_metadata",
    "huge_numbers",
    "wrong_types",
    "stream_ok",
    "stream_endless",
    "stream_drip",
    "stream_huge_event",
    "stream_malformed",
    "stream_no_done",
    "stream_error",
]
HUGE_BYTES = 50 * 1024 * 1024
DRIBBLE_DELAY_S = 0.05
HEADER_DRIP_DELAY_S = 0.2
BOMB_BYTES = 300 * 1024 * 1024
DEEP_JSON_LEVELS = 100_000
HUGE_META_CHARS = 400_000
_REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 408: "Request Timeout",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 302: "Found", 200: "OK"}  # fmt: skip
_ARITH = re.compile(r"What is (-?\d+) ([-+*]) (-?\d+)\?")


def completion(prompt: str, content: Any = "__answer__") -> dict[str, Any]:
    """A chat-completions body; the default content answers arithmetic prompts correctly."""
    if content == "__answer__":
        m = _ARITH.search(prompt)
        answer = "0"
        if m:
            a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
            answer = str(a + b if op == "+" else a - b if op == "-" else a * b)
        content = f"Answer: {answer}"
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "model": "fault-model",
        "system_fingerprint": "fp_fault",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": max(1, len(prompt) // 4), "completion_tokens": 4, "total_tokens": 0},
    }


class FaultServer:
    """The endpoint, serving on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, port: int = 0, mode: str = "ok") -> None:
        self.mode = mode
        self.slow_s = 1.5
        self.script: collections.deque[str] = collections.deque()
        self.seen: collections.Counter[str] = collections.Counter()
        self.paths: list[str] = []
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-server", daemon=True)
        self._lock = threading.Lock()

    # -- control (from the test's thread) -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port."""
        return self._port

    @property
    def base_url(self) -> str:
        """Base URL for a target (mode chosen by ``mode``/``script``)."""
        return f"http://127.0.0.1:{self._port}/v1"

    def url_for(self, mode: str) -> str:
        """Base URL whose requests always get ``mode``."""
        return f"http://127.0.0.1:{self._port}/f/{mode}/v1"

    @property
    def requests(self) -> int:
        """Requests answered so far (any mode)."""
        return sum(self.seen.values())

    def start(self) -> FaultServer:
        """Start listening; returns self."""
        self._thread.start()
        self.resume()
        return self

    def resume(self) -> None:
        """Listen (again) on the same port."""
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    def pause(self) -> None:
        """Stop listening: new connections are refused."""
        asyncio.run_coroutine_threadsafe(self._unlisten(), self._loop).result(10)

    def stop(self) -> None:
        """Stop listening, drop connections and end the thread."""
        with contextlib.suppress(Exception):
            self.pause()

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    # -- serving (in the server's loop) ----------------------------------------------------------------

    async def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._connection, sock=sock, backlog=512)

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _next_mode(self, path: str) -> str:
        with self._lock:
            if self.script:
                return self.script.popleft()
        m = re.match(r"/f/([a-z0-9_]+)/", path)
        return m.group(1) if m else self.mode

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                mode = self._next_mode(path)
                self.seen[mode] += 1
                self.paths.append(path)
                if not await self._respond(mode, path, body, headers, reader, writer):
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(
        self,
        mode: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request in ``mode``; False closes the connection."""
        try:
            prompt = str(json.loads(body)["messages"][-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            prompt = ""
        if mode == "ok":
            return await _send(writer, 200, json.dumps(completion(prompt)).encode())
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
            return await _send(writer, 200, json.dumps(completion(prompt)).encode())
        if mode == "hang":
            await reader.read()  # until the client gives up and closes
            return False
        if mode == "hang_body":
            writer.write(_head(200, {"content-type": "application/json", "content-length": "500"}))
            await writer.drain()
            await reader.read()
            return False
        if mode == "close":
            return False
        if mode == "reset":
            data = json.dumps(completion(prompt)).encode()
            writer.write(_head(200, {"content-type": "application/json", "content-length": str(len(data))}))
            writer.write(data[: len(data) // 2])
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if mode.isdigit() or mode == "429_retry_after":
            status = int(mode[:3])
            extra = {"retry-after": "1"} if mode == "429_retry_after" else {}
            err = json.dumps({"error": {"message": "injected fault", "type": "fault", "code": status}}).encode()
            return await _send(writer, status, err, extra=extra)
        if mode == "echo_key":
            msg = f"Incorrect API key provided: {headers.get('authorization', '')}"
            return await _send(writer, 401, json.dumps({"error": {"message": msg, "code": 401}}).encode())
        if mode == "malformed_json":
            return await _send(writer, 200, b'{"choices": [{"message": {"content": "Answer: 1"')
        shapes: dict[str, Any] = {
            "no_choices": {"id": "x", "object": "chat.completion", "model": "m"},
            "empty_choices": {**completion(prompt), "choices": []},
            "empty_content": completion(prompt, ""),
            "null_content": completion(prompt, None),
            "not_object": ["choices"],
        }
        if mode in shapes:
            return await _send(writer, 200, json.dumps(shapes[mode]).encode())
        if mode in ("huge", "huge_chunked"):
            await _send_huge(writer, chunked=mode == "huge_chunked")
            return False
        if mode == "dribble":
            data = json.dumps(completion(prompt)).encode()
            writer.write(_head(200, {"content-type": "application/json", "content-length": str(len(data))}))
            for i in range(len(data)):
                writer.write(data[i : i + 1])
                await writer.drain()
                await asyncio.sleep(DRIBBLE_DELAY_S)
            return True
        if mode in ("gzip_bomb", "gzip_bomb_single"):
            single = gzip_bomb()
            data, coding = (single, "gzip") if mode == "gzip_bomb_single" else (gzip.compress(single), "gzip, gzip")
            return await _send(writer, 200, data, extra={"content-encoding": coding})
        if mode in ("fake_gzip", "unknown_encoding"):
            coding = "gzip" if mode == "fake_gzip" else "zstd"
            data = json.dumps(completion(prompt)).encode()
            return await _send(writer, 200, data, extra={"content-encoding": coding})
        if mode == "header_drip":
            head = _head(200, {"content-type": "application/json", "x-pad": "a" * 4000})
            for i in range(len(head)):
                writer.write(head[i : i + 1])
                await writer.drain()
                await asyncio.sleep(HEADER_DRIP_DELAY_S)
            return False
        if mode == "deep_json":
            return await _send(writer, 200, b"[" * DEEP_JSON_LEVELS + b"]" * DEEP_JSON_LEVELS)
        if mode == "huge_metadata":
            junk = "\x1b[31m\u202e" + "m" * HUGE_META_CHARS
            data = json.dumps(
                {
                    **completion(prompt),
                    "model": "fault-model" + junk,
                    "system_fingerprint": "fp" + junk,
                    "id": "id" + junk,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"content": completion(prompt)["choices"][0]["message"]["content"]},
                            "finish_reason": "stop" + junk,
                        }
                    ],
                }
            ).encode()
            return await _send(writer, 200, data, extra={"x-request-id": "r" * 8000})
        if mode == "huge_numbers":
            body = completion(prompt)
            body["usage"] = {"prompt_tokens": 10**20, "completion_tokens": -5, "total_tokens": 1e300}
            return await _send(writer, 200, json.dumps(body).encode())
        if mode == "wrong_types":
            body = completion(prompt, 5)
            body["model"] = {"name": ["x"]}
            body["system_fingerprint"] = 7
            body["choices"][0]["finish_reason"] = ["stop"]
            body["usage"] = {"prompt_tokens": "lots", "completion_tokens": [1]}
            return await _send(writer, 200, json.dumps(body).encode())
        if mode.startswith("stream_"):
            await _send_stream(writer, mode, prompt)
            return False
        if mode == "wrong_ctype":
            return await _send(writer, 200, b"<html><body>Answer: 4</body></html>", ctype="text/html")
        if mode == "redirect":
            host = f"127.0.0.1:{self._port}"
            return await _send(writer, 302, b"", extra={"location": f"http://{host}{path}"})
        return await _send(writer, 500, f"unknown fault mode {mode}".encode(), ctype="text/plain")


@functools.cache
def gzip_bomb() -> bytes:
    """``BOMB_BYTES`` of zeros, gzipped (about 300 KB; gzipped once more, about 640 bytes)."""
    return zero_bomb(BOMB_BYTES, "gzip")


def zero_bomb(size: int, container: str = "gzip") -> bytes:
    """``size`` zero bytes (a multiple of 1 MiB) compressed as ``gzip``, ``zlib`` or ``raw`` deflate.

    Built from one compressed 1 MiB segment repeated (a full flush makes segments independent), so
    that a 300 MB bomb takes a fraction of a second rather than compressing 300 MB.
    """
    block = bytes(1024 * 1024)
    count, rest = divmod(size, len(block))
    assert rest == 0, "size must be a multiple of 1 MiB"
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = (comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)) * count + comp.flush()
    if container == "raw":
        return deflated
    if container == "zlib":
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(block, adler)
        return b"\x78\xda" + deflated + struct.pack(">I", adler)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + deflated + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    data: bytes,
    *,
    ctype: str = "application/json",
    extra: dict[str, str] | None = None,
) -> bool:
    headers = {"content-type": ctype, "content-length": str(len(data)), **(extra or {})}
    writer.write(_head(status, headers) + data)
    await writer.drain()
    return True


async def _send_huge(writer: asyncio.StreamWriter, *, chunked: bool) -> None:
    chunk = b'{"pad": "' + b"x" * 65_000 + b'"}\n'
    headers = {"content-type": "application/json"}
    headers.update({"transfer-encoding": "chunked"} if chunked else {"content-length": str(HUGE_BYTES)})
    writer.write(_head(200, headers))
    sent = 0
    while sent < HUGE_BYTES:
        piece = chunk[: HUGE_BYTES - sent]
        writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        sent += len(piece)
        await writer.drain()  # raises once the client has hung up
    if chunked:
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def stream_chunk(content: str | None = None, finish: str | None = None, usage: Any = None) -> bytes:
    """One ``data:`` event of a streamed chat completion."""
    delta = {} if content is None else {"content": content}
    body: dict[str, Any] = {
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "model": "fault-model",
        "system_fingerprint": "fp_fault",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def _send_stream(writer: asyncio.StreamWriter, mode: str, prompt: str) -> None:
    writer.write(_head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"}))

    async def send(data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()  # raises once the client has hung up

    words = str(completion(prompt)["choices"][0]["message"]["content"]).split(" ")
    for i, word in enumerate(words):
        await send(stream_chunk(word if i == 0 else " " + word))
    if mode == "stream_ok":
        await send(stream_chunk(finish="stop"))
        usage = {"prompt_tokens": max(1, len(prompt) // 4), "completion_tokens": 4, "total_tokens": 0}
        await send(stream_chunk(usage=usage))
        await send(b"data: [DONE]\n\n")
    elif mode in ("stream_endless", "stream_drip"):
        while True:
            await send(stream_chunk(" more" * 100 if mode == "stream_endless" else " x"))
            if mode == "stream_drip":
                await asyncio.sleep(DRIBBLE_DELAY_S)
    elif mode == "stream_huge_event":
        await send(b"data: {\"pad\": \"")
        for _ in range(HUGE_BYTES // 65_000):
            await send(b"x" * 65_000)
    elif mode == "stream_malformed":
        await send(b"data: {\"choices\": [{\"delta\": \n\n")
    elif mode == "stream_error":
        await send(b'data: {"error": {"message": "overloaded", "code": "server_error"}}\n\n')
    writer.write(b"0\r\n\r\n")  # a body that ends cleanly: what is missing is in the stream
    await writer.drain()


def main() -> None:
    """Serve in the foreground until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok", choices=MODES)
    args = parser.parse_args()
    server = FaultServer(args.port, args.mode).start()
    print(server.port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
