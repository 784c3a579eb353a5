"""Reading an endpoint's body with bounded memory: content decoding and JSON, both checked as they go.

httpx decodes ``Content-Encoding`` chunk by chunk without a bound on what one chunk inflates to
(and applies stacked codings one after the other), so a 658-byte ``gzip, gzip`` body became 300 MB
before any size check. capmon reads the raw bytes (``Response.aiter_raw``) and decodes them itself:
one coding at most, each step asked for no more than what is left of ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent.errors import BadResponse
from agent.providers.limits import (
    CONTENT_CODINGS,
    MAX_BODY_BYTES,
    MAX_GZIP_MEMBERS,
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    MAX_WIRE_BYTES,
)

#: What capmon asks for: exactly the codings it can decode with a bound.
ACCEPT_ENCODING = "gzip, deflate"


class _Identity:
    eof = True

    def feed(self, data: bytes, limit: int) -> bytes:
        return data

    def flush(self, limit: int) -> bytes:
        return b""


class _Zlib:
    """gzip (any number of members) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding != "deflate"
        self._started = False
        self._members = 1
        self._d = self._new()

    def _new(self, raw: bool = False) -> Any:
        wbits = 16 + zlib.MAX_WBITS if self._gzip else (-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(wbits)

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``; returns at most ``limit`` bytes (``limit`` exactly means: over the budget)."""
        if not self._started and data:
            self._started = True
            if not self._gzip:
                try:
                    return self._feed(data, limit)
                except zlib.error:
                    self._d = self._new(raw=True)  # "deflate" without the zlib wrapper
        return self._feed(data, limit)

    def _feed(self, data: bytes, limit: int) -> bytes:
        out = self._d.decompress(data, limit)
        while self._gzip and self._d.eof and self._d.unused_data and len(out) < limit:
            # Concatenated gzip members decode as one body; the budget is shared.
            rest = self._d.unused_data
            self._members += 1
            if self._members > MAX_GZIP_MEMBERS:
                raise BadResponse(f"more than {MAX_GZIP_MEMBERS} gzip members", reason="encoding")
            self._d = self._new()
            out += self._d.decompress(rest, limit - len(out))
        return bytes(out)

    def flush(self, limit: int) -> bytes:
        # Not ``flush()``: its length is a starting size, not a bound. All input was consumed with
        # output to spare (else the budget was already exceeded), so this returns what is pending.
        return self._feed(b"", limit)


def _decoder_for(header: str | None) -> _Identity | _Zlib:
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        # Each stacked coding multiplies what a byte can become: nothing honest needs two.
        raise BadResponse(f"{len(codings)} stacked content codings refused", reason="encoding")
    if not codings:
        return _Identity()
    if codings[0] not in CONTENT_CODINGS:
        raise BadResponse("content coding not supported", reason="encoding")
    return _Zlib(codings[0])


async def read_body(resp: httpx.Response) -> bytes:
    """The decoded body, or ``BadResponse``: ``too_large`` past the caps, ``encoding`` if undecodable.

    At no point does more than ``MAX_WIRE_BYTES`` of raw input plus ``MAX_BODY_BYTES + 1`` of decoded
    output (and one network chunk) sit in memory.
    """
    body = bytearray()
    async for chunk in iter_body(resp):
        body += chunk
    return bytes(body)


async def iter_body(resp: httpx.Response) -> AsyncIterator[bytes]:
    """The decoded body chunk by chunk, as it arrives, under the caps of ``read_body``.

    ``MAX_WIRE_BYTES`` and ``MAX_BODY_BYTES`` bound the whole body, not a chunk: an event stream that
    never ends is refused as ``too_large`` once it has sent that much (or by the caller's deadline).
    """
    status = resp.status_code
    try:
        content = resp.content
    except httpx.ResponseNotRead:
        pass  # the normal case: a response from the network, not read yet
    else:
        # Built in memory with its content (httpx.MockTransport): httpx has already read and decoded it.
        if len(content) > MAX_BODY_BYTES:
            raise BadResponse(f"body exceeds {MAX_BODY_BYTES} bytes", reason="too_large", status=status)
        yield content
        return
    length = resp.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_WIRE_BYTES:
        raise BadResponse(f"body of {int(length)} bytes exceeds {MAX_WIRE_BYTES}", reason="too_large", status=status)
    decoder = _decoder_for(resp.headers.get("content-encoding"))
    decoded = 0
    wire = 0
    try:
        async for chunk in resp.aiter_raw():
            wire += len(chunk)
            if wire > MAX_WIRE_BYTES:
                raise BadResponse(f"body exceeds {MAX_WIRE_BYTES} bytes on the wire", reason="too_large", status=status)
            out = decoder.feed(chunk, MAX_BODY_BYTES - decoded + 1)
            decoded += len(out)
            if decoded > MAX_BODY_BYTES:
                raise BadResponse(f"decoded body exceeds {MAX_BODY_BYTES} bytes", reason="too_large", status=status)
            if out:
                yield out
        if wire:
            out = decoder.flush(MAX_BODY_BYTES - decoded + 1)
            decoded += len(out)
            if decoded > MAX_BODY_BYTES:
                raise BadResponse(f"decoded body exceeds {MAX_BODY_BYTES} bytes", reason="too_large", status=status)
            if not decoder.eof:
                raise BadResponse("compressed body is truncated", reason="encoding", status=status)
            if out:
                yield out
    except zlib.error as exc:
        raise BadResponse("body does not decode as its content coding says", reason="encoding", status=status) from exc


#: A JSON string, escapes included (unrolled so that it runs in linear time).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")
_TOO_MANY_OPENS = b"[" * (MAX_JSON_DEPTH + 1)


def check_json_structure(raw: bytes, status: int | None = None) -> None:
    """Refuse JSON that nests deeper than ``MAX_JSON_DEPTH`` or holds more than ``MAX_JSON_VALUES``.

    Runs before ``json.loads``: nesting is what makes decoders recurse (``RecursionError``), and many
    tiny containers are what makes 2 MiB of JSON cost 50 MB of Python objects.
    """
    opens = raw.count(b"[") + raw.count(b"{")
    if opens <= MAX_JSON_DEPTH and opens + raw.count(b",") <= MAX_JSON_VALUES:
        return  # counted with the text inside strings, which only adds: a small answer needs no more
    skeleton = _JSON_STRING.sub(b'""', raw)  # brackets and commas inside strings are text
    opens = skeleton.count(b"[") + skeleton.count(b"{")
    if opens + skeleton.count(b",") > MAX_JSON_VALUES:
        raise BadResponse(f"JSON has more than {MAX_JSON_VALUES} values", reason="too_complex", status=status)
    if opens <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than it has containers: the usual case, no scan needed
    # Only the brackets, all square (json.loads still checks that they match). Each pass removes
    # every innermost pair, so the passes it takes to empty the string are the nesting depth.
    brackets = skeleton.translate(_TO_SQUARE, _NOT_BRACKETS)
    if _TOO_MANY_OPENS in brackets:  # the plain form, found at once (the passes take ~30 ms at worst)
        raise BadResponse(f"JSON nests deeper than {MAX_JSON_DEPTH}", reason="too_deep", status=status)
    for _ in range(MAX_JSON_DEPTH):
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            return  # empty, or unbalanced: not JSON, which json.loads reports
        brackets = reduced
    if b"[]" in brackets:
        raise BadResponse(f"JSON nests deeper than {MAX_JSON_DEPTH}", reason="too_deep", status=status)


def decode_json(raw: bytes, status: int | None = None) -> Any:
    """The decoded JSON value; None when it is not JSON; ``BadResponse`` when it is too deep or large."""
    check_json_structure(raw, status)
    try:
        return json.loads(raw)
    except RecursionError as exc:  # cannot happen after the depth check; kept as the last line of defence
        raise BadResponse("JSON nests too deep", reason="too_deep", status=status) from exc
    except (ValueError, UnicodeDecodeError):
        return None
