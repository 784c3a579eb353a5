"""Hostile bodies: compression bombs, lying encodings, endless streams, deep JSON, slow answers.

Each answer is streamed in 64 KiB pieces, as a network delivers it. Memory is the peak of traced
allocations during one ``complete()`` (tracemalloc sees every bytes object zlib and json build).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib

import httpx
import pytest

from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout
from agent.providers.base import ChatResponse
from agent.providers.decoding import check_json_structure
from agent.providers.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES, MAX_WIRE_BYTES
from tests.agent.providers.hostile_wire import REQ, adapter, answer, json_body, streamed, traced_peak
from tests.fault.server import zero_bomb

MiB = 1024 * 1024
#: What one refused bomb may cost above the decoded-body cap: the raw input, zlib's window, one
#: network chunk and the output buffer of one step. Measured: under 3 MiB (see docs/reliability.md).
BOMB_PEAK_BOUND = MAX_BODY_BYTES + 4 * MiB
BOMB_BYTES = 64 * MiB


async def _refused(handler: object, **kw: object) -> tuple[BadResponse, int]:
    ad = adapter(handler, **kw)  # type: ignore[arg-type]
    result, peak = await traced_peak(lambda: ad.complete(REQ))
    assert isinstance(result, BadResponse), f"expected BadResponse, got {result!r}"
    return result, peak


# -- content codings ---------------------------------------------------------------------------------


async def test_stacked_gzip_is_refused_before_decoding() -> None:
    body = gzip.compress(zero_bomb(BOMB_BYTES, "gzip"))  # ~700 bytes
    exc, peak = await _refused(streamed(body, {"content-encoding": "gzip, gzip"}))
    assert exc.reason == "encoding"
    assert peak < 1 * MiB


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "deflate-raw"])
async def test_single_coding_bomb_stops_at_the_cap(coding: str) -> None:
    container = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "zlib", "deflate-raw": "raw"}[coding]
    header = "deflate" if coding == "deflate-raw" else coding
    exc, peak = await _refused(streamed(zero_bomb(BOMB_BYTES, container), {"content-encoding": header}))
    assert exc.reason == "too_large"
    assert peak < BOMB_PEAK_BOUND, f"peak {peak / MiB:.1f} MiB"


async def test_bomb_body_on_an_error_status_is_still_that_status() -> None:
    body = gzip.compress(zero_bomb(BOMB_BYTES, "gzip"))
    ad = adapter(streamed(body, {"content-encoding": "gzip, gzip", "retry-after": "2"}, status=503))
    with pytest.raises(EndpointHTTPError) as info:
        await ad.complete(REQ)
    assert (info.value.reason, info.value.status, info.value.retry_after) == ("http_5xx", 503, 2.0)


async def test_body_claiming_gzip_that_is_not() -> None:
    exc, _ = await _refused(json_body(answer(), {"content-encoding": "gzip"}))
    assert exc.reason == "encoding"


async def test_truncated_gzip_is_refused() -> None:
    whole = gzip.compress(json.dumps(answer()).encode())
    exc, _ = await _refused(streamed(whole[:-8], {"content-encoding": "gzip"}))  # no CRC and length
    assert exc.reason == "encoding"


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "snappy", "gzip;q=1"])
async def test_unknown_or_unrequested_coding_is_refused(coding: str) -> None:
    exc, _ = await _refused(json_body(answer(), {"content-encoding": coding}))
    assert exc.reason == "encoding"


async def test_endless_empty_gzip_members_are_refused_early() -> None:
    """Decoded size stays 0 while the body goes on (each member a fresh decoder: CPU, not memory)."""
    member = gzip.compress(b"")
    body = member * (MAX_WIRE_BYTES // len(member) + 1000)
    start = time.process_time()
    exc, peak = await _refused(streamed(body, {"content-encoding": "gzip"}))
    assert exc.reason == "encoding"
    assert time.process_time() - start < 0.5
    assert peak < BOMB_PEAK_BOUND


async def test_endless_stream_stops_at_the_wire_cap() -> None:
    """One gzip member of empty stored blocks never ends and decodes to nothing: the raw-byte cap ends it."""
    empty_block = b"\x00\x00\x00\xff\xff"  # non-final stored block of length 0
    body = gzip.compress(b"")[:10] + empty_block * (MAX_WIRE_BYTES // len(empty_block) + 1)
    start = time.process_time()
    exc, peak = await _refused(streamed(body, {"content-encoding": "gzip"}))
    assert exc.reason == "too_large"
    assert "on the wire" in str(exc)
    assert time.process_time() - start < 0.5
    assert peak < BOMB_PEAK_BOUND


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("GZip ", gzip.compress),
        ("identity", lambda b: b),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("gzip", lambda b: gzip.compress(b[:20]) + gzip.compress(b[20:])),  # two gzip members
    ],
)
async def test_honest_compressed_answers_are_read(coding: str, encode: object) -> None:
    raw = json.dumps(answer()).encode()
    ad = adapter(streamed(encode(raw), {"content-encoding": coding}))  # type: ignore[operator]
    resp = await ad.complete(REQ)
    assert resp.text == "Answer: 4"


async def test_only_bounded_codings_are_asked_for() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept-encoding"])
        return json_body(answer())(request)

    await adapter(handler).complete(REQ)
    assert seen == ["gzip, deflate"]


async def test_plain_body_over_the_cap_without_length() -> None:
    body = json.dumps(answer("x" * (MAX_BODY_BYTES + 10))).encode()
    exc, peak = await _refused(streamed(body))
    assert exc.reason == "too_large"
    assert peak < BOMB_PEAK_BOUND


# -- JSON --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, MAX_JSON_VALUES])
async def test_deep_json_is_refused(depth: int) -> None:
    exc, _ = await _refused(streamed(b"[" * depth + b"]" * depth))
    assert exc.reason == "too_deep" and exc.status == 200


async def test_deeper_still_is_refused_by_the_value_count() -> None:
    exc, _ = await _refused(streamed(b"[" * 1_000_000 + b"]" * 1_000_000))
    assert exc.reason == "too_complex"


async def test_deep_json_inside_an_answer_is_refused() -> None:
    deep = json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    exc, _ = await _refused(json_body(answer(extra=deep)))
    assert exc.reason == "too_deep"


async def test_deep_json_in_an_error_body_keeps_the_status() -> None:
    ad = adapter(streamed(b"{" * 50_000, status=500))
    with pytest.raises(EndpointHTTPError) as info:
        await ad.complete(REQ)
    assert info.value.reason == "http_5xx"


async def test_brackets_inside_strings_are_text() -> None:
    text = '[{"\\"' * 20_000 + "Answer: 4"
    resp = await adapter(json_body(answer(text))).complete(REQ)
    assert isinstance(resp, ChatResponse) and resp.text == text


async def test_many_tiny_values_are_refused_cheaply() -> None:
    """600 KB of ``{},`` would be ~45 MB of Python dicts."""
    exc, peak = await _refused(json_body(answer(pad=[{}] * 200_000)))
    assert exc.reason == "too_complex"
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_structure_check_at_the_limits() -> None:
    check_json_structure(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    check_json_structure(b"[" + b"0," * (MAX_JSON_VALUES - 1) + b"0]")
    with pytest.raises(BadResponse):
        check_json_structure(b"[" + b"0," * MAX_JSON_VALUES + b"0]")
    with pytest.raises(BadResponse):
        check_json_structure(b'{"a": "\\\\"}' + b"[" * (MAX_JSON_DEPTH + 1))  # escaped backslash ends the string
    # nesting interleaved with closing brackets (no run of opens gives it away)
    check_json_structure(b"[[]" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1))
    with pytest.raises(BadResponse):
        check_json_structure(b"[[]" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    with pytest.raises(BadResponse):
        check_json_structure(b'[{"a":' * 40 + b"0" + b"}]" * 40)
    check_json_structure(b"[]" * 70 + b"]]]")  # unbalanced, shallow: left to json.loads (not JSON)


async def test_interleaved_deep_json_is_refused_quickly() -> None:
    start = time.process_time()
    exc, _ = await _refused(streamed(b"[[]" * 50_000 + b"]" * 50_000))
    assert exc.reason == "too_deep"
    assert time.process_time() - start < 0.3


# -- time --------------------------------------------------------------------------------------------

TIMEOUT_S = 0.3
MARGIN_S = 0.5


async def _timed_out(handler: object) -> float:
    ad = adapter(handler, timeout_s=TIMEOUT_S)  # type: ignore[arg-type]
    start = time.monotonic()
    with pytest.raises(EndpointTimeout) as info:
        # wait_for only so that a missing deadline fails fast instead of hanging the suite
        await asyncio.wait_for(ad.complete(REQ), TIMEOUT_S + 5)
    assert info.value.reason == "timeout"
    return time.monotonic() - start


async def test_no_headers_within_the_deadline() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    assert await _timed_out(handler) < TIMEOUT_S + MARGIN_S


async def test_body_stalling_after_its_first_bytes() -> None:
    assert await _timed_out(streamed(b'{"choices": [', then_stall_s=30)) < TIMEOUT_S + MARGIN_S


async def test_body_dribbled_past_the_deadline() -> None:
    raw = json.dumps(answer()).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        from tests.agent.providers.hostile_wire import Chunks

        pieces = [raw[i : i + 1] for i in range(len(raw))]
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=Chunks(*pieces, delay_s=0.02))

    assert await _timed_out(handler) < TIMEOUT_S + MARGIN_S
