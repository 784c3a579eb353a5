"""Reading a server-sent event stream (``text/event-stream``) with the bounds of a plain body.

The decoded bytes come from ``decoding.iter_body`` (wire and body caps, one content coding), under
the adapter's deadline from connect to last byte. Here each event is cut out as it completes: one
event may hold at most ``MAX_EVENT_BYTES`` (a line that never ends is refused, not buffered), and
each event's data is decoded by ``decode_json`` (depth and value limits). An event that is not JSON
is ``malformed_json``. The stream ends at ``data: [DONE]``; what follows it is not read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agent.errors import BadResponse
from agent.providers.decoding import decode_json
from agent.providers.limits import MAX_EVENT_BYTES

DONE = b"[DONE]"


class EventSplitter:
    """Cuts decoded bytes into the data of complete events (pure; fed chunk by chunk)."""

    def __init__(self, status: int | None = None) -> None:
        self._pending = bytearray()
        self._data: list[bytes] = []
        self._size = 0
        self._status = status

    def feed(self, chunk: bytes) -> list[bytes]:
        """The data of each event completed by ``chunk`` (data lines joined by newlines)."""
        self._pending += chunk
        events: list[bytes] = []
        while True:
            end = self._pending.find(b"\n")
            if end < 0:
                break
            line = bytes(self._pending[:end]).rstrip(b"\r")
            del self._pending[: end + 1]
            if not line:
                if self._data:
                    events.append(b"\n".join(self._data))
                self._data, self._size = [], 0
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
                self._size += len(value)
            # other fields (event:, id:, retry:) and comments (":") carry nothing capmon reads
        if self._size + len(self._pending) > MAX_EVENT_BYTES:
            raise BadResponse(f"stream event exceeds {MAX_EVENT_BYTES} bytes", reason="too_large", status=self._status)
        return events

    def close(self) -> list[bytes]:
        """The last event when the stream ended without the blank line that completes it."""
        tail = self.feed(b"\n\n") if (self._pending or self._data) else []
        return tail


async def json_events(chunks: AsyncIterator[bytes], status: int | None = None) -> AsyncIterator[Any]:
    """Each event's decoded JSON, until ``[DONE]`` (then stops) or the end of the body.

    Yields ``DONE`` itself last when the stream said it was done, so a caller can tell a finished
    stream from one cut short.
    """
    splitter = EventSplitter(status)
    async for chunk in chunks:
        for data in splitter.feed(chunk):
            if data.strip() == DONE:
                yield DONE
                return
            yield _decoded(data, status)
    for data in splitter.close():
        if data.strip() == DONE:
            yield DONE
            return
        yield _decoded(data, status)


def _decoded(data: bytes, status: int | None) -> Any:
    value = decode_json(data, status)
    if value is None:
        raise BadResponse("stream event is not valid JSON", reason="malformed_json", status=status)
    return value
