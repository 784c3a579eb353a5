"""One small interface every model provider implements, and the HTTP plumbing they share.

An adapter turns a ``ChatRequest`` into the provider's wire format, sends it through the injected
``httpx.AsyncClient`` and maps the answer (text, usage, response model id, fingerprint, attribution
headers) onto ``ChatResponse``. Every transport or protocol failure leaves as a ``ProviderError``
subclass with a specific ``reason``; nothing else escapes.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from agent.config import TargetConfig
from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, ProviderError

#: Bodies above this are abandoned unread: a monitor must not be made to buffer 50 MB.
MAX_BODY_BYTES = 2 * 1024 * 1024
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


class ProviderAdapter(ABC):
    """Base class: subclasses implement ``build`` and ``parse``; ``complete`` does the HTTP."""

    provider = ""

    def __init__(self, target: TargetConfig, client: httpx.AsyncClient, api_key: str | None = None) -> None:
        self.target = target
        self.client = client
        self._api_key = api_key

    @abstractmethod
    def build(self, request: ChatRequest) -> tuple[str, dict[str, str], dict[str, Any]]:
        """URL, headers and JSON body for a request."""

    @abstractmethod
    def parse(self, body: Any, headers: httpx.Headers) -> ChatResponse:
        """Map a decoded 2xx body onto ``ChatResponse``; raise ``BadResponse`` on a wrong shape."""

    def error_reason(self, status: int, body: Any) -> str:
        """Reason for a non-2xx status (providers may refine it from their error body)."""
        if status == 429:
            return "http_429"
        if status >= 500:
            return "http_5xx"
        return "http_4xx" if status != 408 else "http_408"

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the mapped response, or raise a ``ProviderError``."""
        url, headers, body = self.build(request)
        try:
            async with self.client.stream(
                "POST", url, headers=headers, json=body, timeout=self.target.timeout_s
            ) as resp:
                raw = await _read_capped(resp, self.target.timeout_s)
        except httpx.TimeoutException as exc:
            raise EndpointTimeout(f"timed out after {self.target.timeout_s:g}s ({type(exc).__name__})") from None
        except httpx.TooManyRedirects:
            raise BadResponse("too many redirects", reason="redirect") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise EndpointUnreachable(f"connection broke: {type(exc).__name__}", reason="reset") from None
        except httpx.ConnectError as exc:
            raise EndpointUnreachable(f"cannot connect: {type(exc).__name__}", reason="connect") from None
        except httpx.TransportError as exc:
            raise EndpointUnreachable(f"transport error: {type(exc).__name__}", reason="connect") from None
        status = resp.status_code
        if 300 <= status < 400:
            raise BadResponse(f"unexpected redirect (HTTP {status})", reason="redirect", status=status)
        decoded = _decode_json(raw) if raw else None
        if status >= 400:
            raise EndpointHTTPError(
                f"HTTP {status}",
                reason=self.error_reason(status, decoded),
                status=status,
                retry_after=parse_retry_after(resp.headers.get("retry-after")),
            )
        ctype = resp.headers.get("content-type", "")
        if "json" not in ctype.lower():
            raise BadResponse(f"content type {ctype or 'missing'!r} is not JSON", reason="content_type", status=status)
        if decoded is None:
            raise BadResponse("body is not valid JSON", reason="malformed_json", status=status)
        parsed = self.parse(decoded, resp.headers)
        return ChatResponse(
            text=parsed.text,
            input_tokens=parsed.input_tokens,
            output_tokens=parsed.output_tokens,
            response_model=parsed.response_model,
            system_fingerprint=parsed.system_fingerprint,
            finish_reason=parsed.finish_reason,
            request_id=parsed.request_id or _request_id(resp.headers),
            status=status,
            headers=attribution_headers(resp.headers),
        )


async def _read_capped(resp: httpx.Response, timeout_s: float) -> bytes:
    """Read the body, refusing more than ``MAX_BODY_BYTES`` and bodies slower than the timeout."""
    length = resp.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise BadResponse(
            f"body of {length} bytes exceeds {MAX_BODY_BYTES}", reason="too_large", status=resp.status_code
        )
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadResponse(f"body exceeds {MAX_BODY_BYTES} bytes", reason="too_large", status=resp.status_code)
        if time.monotonic() > deadline:
            # A body dribbled byte by byte never trips httpx's per-read timeout.
            raise EndpointTimeout(f"body not complete after {timeout_s:g}s")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def attribution_headers(headers: httpx.Headers) -> dict[str, str]:
    """The attribution headers present, capped in length (repeated ones joined as httpx joins them)."""
    # One pass over the (already lower-cased) items: a lookup per wanted name re-scans them all.
    found: dict[str, str] = {}
    for key, value in headers.multi_items():
        if key in _ATTRIBUTION:
            found[key] = f"{found[key]}, {value}" if key in found else value
    return {k: found[k][:200] for k in ATTRIBUTION_HEADERS if k in found}


def _request_id(headers: httpx.Headers) -> str | None:
    for k in ("x-request-id", "request-id", "apim-request-id", "x-goog-request-id"):
        if k in headers:
            return headers[k][:200]
    return None


def require(condition: bool, message: str, reason: str = "bad_shape") -> None:
    """Raise ``BadResponse`` when a response does not have the documented shape."""
    if not condition:
        raise BadResponse(message, reason=reason)


def as_int(value: Any) -> int | None:
    """An int token count, or None when absent or not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ProviderAdapter",
    "ProviderError",
    "attribution_headers",
    "parse_retry_after",
]
