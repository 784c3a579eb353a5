"""One small interface every model provider implements, and the HTTP plumbing they share.

An adapter turns a ``ChatRequest`` into the provider's wire format, sends it through the injected
``httpx.AsyncClient`` and maps the answer (text, usage, response model id, fingerprint, attribution
headers) onto ``ChatResponse``. Every transport or protocol failure leaves as a ``ProviderError``
subclass with a specific ``reason``; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from agent.config import TargetConfig
from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, ProviderError
from agent.providers.decoding import ACCEPT_ENCODING, decode_json, read_body
from agent.providers.limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_CHARS,
    MAX_META_CHARS,
    MAX_QUOTED_CHARS,
    MAX_RETRY_AFTER_S,
    MAX_TOKEN_COUNT,
)

#: Response headers worth keeping for attribution (never auth headers).
ATTRIBUTION_HEADERS = (
    "x-request-id",
    "request-id",
    "openai-processing-ms",
    "openai-version",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-tokens-remaining",
    "x-ms-region",
    "apim-request-id",
    "x-goog-request-id",
    "server-timing",
)
_ATTRIBUTION = frozenset(ATTRIBUTION_HEADERS)
#: Request header values shown as sent on ``/probe/{id}``; every other value is ``REDACTED``.
_SHOWN_HEADERS = frozenset({"accept-encoding", "anthropic-version", "content-type"})
REDACTED = "[redacted]"
#: Stands for the prompt in a stored request record (see ``ProviderAdapter.request_record``).
PROMPT_MARK = "<capmon:prompt>"
#: Request records kept per adapter (one per distinct max_tokens, temperature and system prompt).
_MAX_RECORDS = 64


@dataclass(frozen=True)
class ChatRequest:
    """A single-turn prompt."""

    prompt: str
    max_tokens: int
    temperature: float
    system: str | None = None


@dataclass(frozen=True)
class ChatResponse:
    """What came back, mapped onto one shape."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    response_model: str | None = None
    system_fingerprint: str | None = None
    finish_reason: str | None = None
    request_id: str | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Seconds from sending the request to the first answer text, when the answer was streamed.
    ttft_s: float | None = None


class ProviderAdapter(ABC):
    """Base class: subclasses implement ``build`` and ``parse``; ``complete`` does the HTTP."""

    provider = ""

    def __init__(self, target: TargetConfig, client: httpx.AsyncClient, api_key: str | None = None) -> None:
        self.target = target
        self.client = client
        self._api_key = api_key
        self._records: dict[tuple[int, float, str | None], str] = {}

    @abstractmethod
    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        """URL, headers and JSON body for a request."""

    @abstractmethod
    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        """Map a decoded 2xx body onto ``ChatResponse``; raise ``BadResponse`` on a wrong shape."""

    @property
    def streaming(self) -> bool:
        """Whether answers are asked for as an event stream (the target's ``stream``, by provider)."""
        return self.target.streams

    def stream_fields(self) -> dict[str, Any]:
        """Body fields that ask for a streamed answer (adapters that stream override this)."""
        return {}

    async def read_stream(self, resp: httpx.Response, started: float) -> ChatResponse:
        """Read a streamed 2xx answer (``started``: ``perf_counter`` when the request was sent)."""
        raise BadResponse("an event stream came back from a provider capmon does not stream", reason="content_type")

    def prepare(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        """URL, headers and body exactly as sent: ``build`` plus the streaming fields."""
        url, headers, body = self.build(request)
        if self.streaming:
            body.update(self.stream_fields())
        if not any(k.lower() == "accept-encoding" for k in headers):
            headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what is decoded with a bound
        return url, headers, body

    def request_record(self, request: ChatRequest) -> str:
        """The request as sent, as JSON fit to store and show: header values other than a few
        protocol ones replaced by ``[redacted]`` (configured headers are secrets), and the prompt
        replaced by ``PROMPT_MARK`` (the ledger keeps it once, in its own column).

        With the prompt marked, the record depends only on the other fields of the request, so it
        is rendered once per (max_tokens, temperature, system) and kept: every probe stores one.
        """
        key = (request.max_tokens, request.temperature, request.system)
        record = self._records.get(key)
        if record is None:
            marked = ChatRequest(PROMPT_MARK, request.max_tokens, request.temperature, request.system)
            url, headers, body = self.prepare(marked)
            shown = {k: (v if k.lower() in _SHOWN_HEADERS else REDACTED) for k, v in headers.items()}
            record = json.dumps({"method": "POST", "url": url, "headers": shown, "body": body}, sort_keys=True)
            if len(self._records) >= _MAX_RECORDS:  # a bound, whatever temperatures a config asks for
                self._records.clear()
            self._records[key] = record
        return record

    def error_reason(self, status: int, body: Any) -> str:
        """Reason for a non-2xx status (providers may refine it from their error body)."""
        if status == 429:
            return "http_429"
        if status >= 500:
            return "http_5xx"
        return "http_4xx" if status != 408 else "http_408"

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the mapped response, or raise a ``ProviderError``.

        Nothing else leaves: an exception the code below did not foresee becomes ``BadResponse``
        (``malformed`` from ``parse``, ``adapter_error`` elsewhere) with its cause chained, and its
        message names only the exception type (never endpoint text or secrets).
        """
        try:
            return await self._complete(request)
        except ProviderError:
            raise
        except Exception as exc:
            raise BadResponse(f"unexpected {type(exc).__name__} in the adapter", reason="adapter_error") from exc

    async def _complete(self, request: ChatRequest) -> ChatResponse:
        url, headers, body = self.prepare(request)
        timeout_s = self.target.timeout_s
        raw: bytes | None = None
        streamed: ChatResponse | None = None
        started = time.perf_counter()
        try:
            # One deadline for the whole attempt, connect to last byte: httpx's timeouts are per
            # read, so headers or a body dripped a byte at a time would never trip them.
            async with (
                asyncio.timeout(timeout_s),
                self.client.stream("POST", url, headers=headers, json=body, timeout=timeout_s) as resp,
            ):
                status = resp.status_code
                event_stream = "text/event-stream" in resp.headers.get("content-type", "").lower()
                if self.streaming and event_stream and 200 <= status < 300:
                    try:
                        streamed = await self.read_stream(resp, started)
                    except ProviderError as exc:
                        exc.status = exc.status if exc.status is not None else status
                        raise
                else:
                    try:
                        raw = await read_body(resp)
                    except BadResponse:
                        if 200 <= status < 300:
                            raise
                        # An error status is the answer whatever its body: a 503 stays a (retried) 503.
        except TimeoutError:
            raise EndpointTimeout(f"no complete answer within {timeout_s:g}s") from None
        except httpx.TimeoutException as exc:
            raise EndpointTimeout(f"timed out after {timeout_s:g}s ({type(exc).__name__})") from None
        except httpx.TooManyRedirects:
            raise BadResponse("too many redirects", reason="redirect") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise EndpointUnreachable(f"connection broke: {type(exc).__name__}", reason="reset") from None
        except httpx.ConnectError as exc:
            raise EndpointUnreachable(f"cannot connect: {type(exc).__name__}", reason="connect") from None
        except httpx.TransportError as exc:
            raise EndpointUnreachable(f"transport error: {type(exc).__name__}", reason="connect") from None
        except httpx.DecodingError as exc:  # read_body decodes itself; kept so that none can escape
            raise BadResponse(f"undecodable body ({type(exc).__name__})", reason="encoding") from None
        if streamed is not None:
            return self._finish(streamed, status, resp.headers)
        if 300 <= status < 400:
            raise BadResponse(f"unexpected redirect (HTTP {status})", reason="redirect", status=status)
        if status >= 400:
            try:
                reason = self.error_reason(status, decode_json(raw) if raw else None)
            except Exception:  # a hostile error body must not hide the status
                reason = ProviderAdapter.error_reason(self, status, None)
            raise EndpointHTTPError(
                f"HTTP {status}",
                reason=reason,
                status=status,
                retry_after=parse_retry_after(resp.headers.get("retry-after")),
            )
        ctype = resp.headers.get("content-type", "")
        if "json" not in ctype.lower():
            shown = clean_str(ctype, MAX_QUOTED_CHARS) or "missing"
            raise BadResponse(f"content type {shown!r} is not JSON", reason="content_type", status=status)
        decoded = decode_json(raw, status) if raw else None
        if decoded is None:
            raise BadResponse("body is not valid JSON", reason="malformed_json", status=status)
        return self._finish(self._parsed(decoded, resp.headers, status), status, resp.headers)

    def _parsed(self, decoded: Any, headers: httpx.Headers, status: int) -> ChatResponse:
        """``parse`` with every exception it did not foresee made a ``BadResponse``."""
        try:
            return self.parse(decoded, headers)
        except ProviderError:
            raise
        except Exception as exc:  # a shape parse() did not foresee: the endpoint's doing, still an answer
            raise BadResponse(f"unexpected shape ({type(exc).__name__})", reason="malformed", status=status) from exc

    @staticmethod
    def _finish(parsed: ChatResponse, status: int, headers: httpx.Headers) -> ChatResponse:
        """The parsed answer with every endpoint-supplied field bounded and cleaned."""
        return ChatResponse(
            text=clean_text(parsed.text),
            input_tokens=clamp_count(parsed.input_tokens),
            output_tokens=clamp_count(parsed.output_tokens),
            response_model=clean_str(parsed.response_model),
            system_fingerprint=clean_str(parsed.system_fingerprint),
            finish_reason=clean_str(parsed.finish_reason),
            request_id=clean_str(parsed.request_id) or _request_id(headers),
            status=status,
            headers=attribution_headers(headers),
            ttft_s=parsed.ttft_s,
        )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), in ``0..MAX_RETRY_AFTER_S``."""
    if not value:
        return None
    value = value.strip()[:MAX_HEADER_CHARS]
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


_SURROGATE = re.compile("[\ud800-\udfff]")
#: Control and format characters (C0, DEL, C1, bidi overrides, zero-width, line separators).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean_str(value: Any, limit: int = MAX_META_CHARS) -> str | None:
    """An endpoint-supplied string made safe to store, export and show: cut to ``limit``, control and
    format characters (and lone surrogates) removed, other space separators made " ", surrounding space
    stripped; None if nothing is left or ``value`` is not a string."""
    if not isinstance(value, str):
        return None
    cut = value[: limit * 2]  # removals below may shorten it; never scan more than this
    if not cut.isprintable():  # False exactly when it holds a category removed here, or a space other than " "
        cut = "".join(_safe_char(c) for c in cut if c == " " or unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    cut = cut.strip()[:limit]
    return cut or None


def _safe_char(c: str) -> str:
    """A space separator other than " " (no-break, em, ideographic space) as " ": printable everywhere."""
    return " " if c != " " and unicodedata.category(c) == "Zs" else c


def clean_text(text: str) -> str:
    """The model's text with lone surrogates (``"\\ud800"`` in JSON) replaced by U+FFFD: they cannot
    be stored as UTF-8. Its length is bounded by the body cap; everything else is kept as it came."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def clamp_count(value: Any) -> int | None:
    """A token count: an int (never a bool) clamped to ``0..MAX_TOKEN_COUNT``, else None."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return min(max(value, 0), MAX_TOKEN_COUNT)


def attribution_headers(headers: httpx.Headers) -> dict[str, str]:
    """The attribution headers present, cleaned and capped (repeated ones joined as httpx joins them)."""
    # One pass over the (already lower-cased) items: a lookup per wanted name re-scans them all.
    found: dict[str, str] = {}
    for key, value in headers.multi_items():
        if key in _ATTRIBUTION:
            joined = f"{found[key]}, {value}" if key in found else value
            found[key] = joined[: MAX_HEADER_CHARS * 2]
    cleaned = {k: clean_str(found[k], MAX_HEADER_CHARS) for k in ATTRIBUTION_HEADERS if k in found}
    return {k: v for k, v in cleaned.items() if v is not None}


def _request_id(headers: httpx.Headers) -> str | None:
    for k in ("x-request-id", "request-id", "apim-request-id", "x-goog-request-id"):
        if k in headers:
            return clean_str(headers[k], MAX_HEADER_CHARS)
    return None


def require(condition: bool, message: str, reason: str = "bad_shape") -> None:
    """Raise ``BadResponse`` when a response does not have the documented shape."""
    if not condition:
        raise BadResponse(message, reason=reason)


def as_int(value: Any) -> int | None:
    """A token count from a response body: see ``clamp_count``."""
    return clamp_count(value)


def quoted(value: Any) -> str:
    """Endpoint text (an error code, a block reason) fit to quote in an error message."""
    if not isinstance(value, str):
        return type(value).__name__
    return clean_str(value, MAX_QUOTED_CHARS) or "?"


__all__ = [
    "MAX_BODY_BYTES",
    "ChatRequest",
    "ChatResponse",
    "ProviderAdapter",
    "ProviderError",
    "attribution_headers",
    "clamp_count",
    "clean_str",
    "parse_retry_after",
]
