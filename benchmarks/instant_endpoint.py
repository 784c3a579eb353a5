"""An instant OpenAI-compatible endpoint for benchmarks: answers every chat request at once.

Runs as its own process (``python -m benchmarks.instant_endpoint PORT``) so its CPU is not charged
to the agent being measured. It answers arithmetic prompts correctly so scoring does real work.
``GET /_arrivals`` returns the monotonic arrival time of every request since the last such call
(JSON list) and forgets them: a client's steady-state rate, measured at the server.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import sys
import time

_ARITH = re.compile(rb"What is (-?\d+) ([-+*]) (-?\d+)\?")


def _answer(body: bytes) -> bytes:
    m = _ARITH.search(body)
    value = "0"
    if m:
        a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
        value = str(a + b if op == b"+" else a - b if op == b"-" else a * b)
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "instant",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"Answer: {value}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24},
    }
    return json.dumps(payload).encode()


#: Bounded: a long soak that never asks must not grow this process without limit.
_arrivals: collections.deque[float] = collections.deque(maxlen=1_000_000)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET /_arrivals"):
                out = json.dumps(list(_arrivals)).encode()
                _arrivals.clear()
            else:
                _arrivals.append(time.monotonic())
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                out = _answer(body)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(out)).encode()
                + b"\r\n\r\n"
                + out
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    """Serve on 127.0.0.1:port until killed."""
    server = await asyncio.start_server(_handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
