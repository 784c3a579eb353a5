"""What each injected fault must become: the ProviderError class and its reason."""

from __future__ import annotations

from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, ProviderError

#: fault mode → (exception class, reason)
EXPECTED: dict[str, tuple[type[ProviderError], str]] = {
    "hang": (EndpointTimeout, "timeout"),
    "hang_body": (EndpointTimeout, "timeout"),
    "dribble": (EndpointTimeout, "timeout"),
    "close": (EndpointUnreachable, "reset"),
    "reset": (EndpointUnreachable, "reset"),
    "429": (EndpointHTTPError, "http_429"),
    "429_retry_after": (EndpointHTTPError, "http_429"),
    "408": (EndpointHTTPError, "http_408"),
    "400": (EndpointHTTPError, "http_4xx"),
    "401": (EndpointHTTPError, "http_4xx"),
    "404": (EndpointHTTPError, "http_4xx"),
    "500": (EndpointHTTPError, "http_5xx"),
    "502": (EndpointHTTPError, "http_5xx"),
    "503": (EndpointHTTPError, "http_5xx"),
    "malformed_json": (BadResponse, "malformed_json"),
    "no_choices": (BadResponse, "bad_shape"),
    "empty_choices": (BadResponse, "bad_shape"),
    "not_object": (BadResponse, "bad_shape"),
    "empty_content": (BadResponse, "empty_content"),
    "null_content": (BadResponse, "empty_content"),
    "huge": (BadResponse, "too_large"),
    "huge_chunked": (BadResponse, "too_large"),
    "wrong_ctype": (BadResponse, "content_type"),
    "redirect": (BadResponse, "redirect"),
    # hostile endpoints (docs/reliability.md, "Hostile endpoints")
    "gzip_bomb": (BadResponse, "encoding"),
    "gzip_bomb_single": (BadResponse, "too_large"),
    "fake_gzip": (BadResponse, "encoding"),
    "unknown_encoding": (BadResponse, "encoding"),
    "header_drip": (EndpointTimeout, "timeout"),
    "deep_json": (BadResponse, "too_deep"),
    "wrong_types": (BadResponse, "bad_shape"),
    # hostile streams (agent/providers/stream.py)
    "stream_endless": (BadResponse, "too_large"),
    "stream_drip": (EndpointTimeout, "timeout"),
    "stream_huge_event": (BadResponse, "too_large"),
    "stream_malformed": (BadResponse, "malformed_json"),
    "stream_no_done": (BadResponse, "incomplete_stream"),
    "stream_error": (BadResponse, "provider_error"),
}

#: Faults after which another attempt may succeed (the retry policy retries exactly these).
RETRYABLE = {m for m, (_, r) in EXPECTED.items() if r in ("timeout", "reset", "http_429", "http_408", "http_5xx")}
