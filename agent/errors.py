"""capmon's exception tree. Third-party exceptions are translated at the boundary.

CapmonError                  base class
├── ConfigError              invalid configuration: carries file, key and problem (exit status 2)
├── StoreError               the SQLite ledger cannot be opened or is corrupt
└── ProviderError            a model endpoint did not give a usable answer (availability, never
    │                        capability): carries a short machine-readable ``reason``
    ├── EndpointTimeout      connect/read/write/pool timeout            reason "timeout"
    ├── EndpointUnreachable  connection refused/reset, DNS, TLS         reason "connect" | "reset"
    ├── EndpointHTTPError    non-2xx status                             reason "http_429" | "http_5xx" | "http_4xx"
    └── BadResponse          2xx but unusable: malformed JSON, wrong shape, empty content,
                             too large, wrong content type, redirects   reason as given
                             (hostile answers: "encoding", "too_large", "too_deep",
                             "too_complex", "malformed"; streams: "incomplete_stream" (ended
                             without a finish reason), "provider_error" (an error event);
                             and "adapter_error" for anything unforeseen inside an adapter:
                             see agent/providers/limits.py)
"""

from __future__ import annotations


class CapmonError(Exception):
    """Base class for capmon errors."""


class ConfigError(CapmonError):
    """Invalid configuration. ``str()`` is the one-line message shown to the user."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class StoreError(CapmonError):
    """The result store cannot be used."""


class ProviderError(CapmonError):
    """An endpoint failure: an availability problem, never a capability failure."""

    reason = "error"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.status = status
        self.retry_after = retry_after


class EndpointTimeout(ProviderError):
    """The endpoint did not answer in time."""

    reason = "timeout"


class EndpointUnreachable(ProviderError):
    """The connection could not be made or broke."""

    reason = "connect"


class EndpointHTTPError(ProviderError):
    """The endpoint answered with a non-2xx status."""

    reason = "http_error"


class BadResponse(ProviderError):
    """A 2xx answer that cannot be used."""

    reason = "bad_response"
