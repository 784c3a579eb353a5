"""Bounded retries with exponential backoff and full jitter, and a per-target circuit breaker.

Retry rules (one probe call):
- Only availability errors that may pass are retried: timeouts, refused or reset connections,
  HTTP 5xx, 408 and 429. Any other 4xx and every ``BadResponse`` (malformed JSON, wrong shape,
  empty content, too large, wrong content type, redirects) are final on the first attempt.
- At most ``attempts`` calls in all. Before retry *n* (1-based) the wait is uniform in
  ``[0, min(max_delay_s, base_delay_s * 2**(n-1))]`` ("full jitter").
- A ``Retry-After`` from the endpoint replaces the backoff: the wait is exactly that long. When it
  asks for more than ``max_delay_s`` the call gives up at once instead of retrying early (which
  would ignore the server's request) or stalling the run; the error is recorded as it is.

Circuit rules (one target): ``failure_threshold`` consecutive failed runs (runs in which no call
reached the endpoint) open the circuit; while open, runs are skipped. After ``reset_after_s`` one
trial run is let through (half-open): success closes the circuit, failure opens it again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from agent.config import CircuitConfig, RetryConfig
from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, ProviderError

T = TypeVar("T")
RETRYABLE_STATUSES = frozenset({408, 429})
CircuitState = Literal["closed", "open", "half_open"]


def is_retryable(exc: ProviderError) -> bool:
    """Whether another attempt could succeed: timeouts, connection failures, 5xx, 408, 429."""
    if isinstance(exc, BadResponse):
        return False
    if isinstance(exc, EndpointTimeout | EndpointUnreachable):
        return True
    status = exc.status
    if status is None:
        # An HTTP error without a status is unusual; fall back on its reason.
        return isinstance(exc, EndpointHTTPError) and exc.reason in ("http_5xx", "http_408", "http_429")
    return status in RETRYABLE_STATUSES or status >= 500


def backoff_delay(retry: int, policy: RetryConfig, rng: random.Random) -> float:
    """Full-jitter wait before retry number ``retry`` (1-based)."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (retry - 1))
    return rng.uniform(0.0, ceiling)


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryConfig,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, ProviderError, float], object] | None = None,
) -> T:
    """Await ``call()``, retrying retryable ``ProviderError``s per ``policy``; re-raises the last one."""
    attempt = 1
    while True:
        try:
            return await call()
        except ProviderError as exc:
            if attempt >= policy.attempts or not is_retryable(exc):
                raise
            if exc.retry_after is not None:
                if exc.retry_after > policy.max_delay_s:
                    raise
                delay = exc.retry_after
            else:
                if rng is None:  # made on the first retry: seeding from os.urandom is not free
                    rng = random.Random()
                delay = backoff_delay(attempt, policy, rng)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            await sleep(delay)
            attempt += 1


class CircuitBreaker:
    """Per-target breaker over runs: closed → open after N failed runs → half-open trial → closed."""

    def __init__(self, config: CircuitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._state: CircuitState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> CircuitState:
        """closed, open or half_open (open whose cool-down has passed)."""
        if self._state == "open" and self._clock() - self._opened_at >= self._config.reset_after_s:
            return "half_open"
        return self._state

    @property
    def is_open(self) -> bool:
        """True while the endpoint is not trusted: open, or half-open until a trial run succeeds."""
        return self.state != "closed"

    @property
    def consecutive_failures(self) -> int:
        """Failed runs in a row."""
        return self._failures

    def allow(self) -> bool:
        """Whether a run may call the endpoint now; in half-open state only one trial at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_out:
            self._trial_out = True
            return True
        return False

    def record_success(self) -> None:
        """A run reached the endpoint: close the circuit."""
        self._state = "closed"
        self._failures = 0
        self._trial_out = False

    def record_failure(self) -> None:
        """A run did not reach the endpoint at all: count it; open (again) at the threshold."""
        self._failures += 1
        was_trial = self._trial_out
        self._trial_out = False
        if was_trial or self._failures >= self._config.failure_threshold:
            self._state = "open"
            self._opened_at = self._clock()
