"""Retry policy and circuit breaker: which errors are retried, how long it waits, when it opens."""

from __future__ import annotations

import random

import pytest

from agent.config import CircuitConfig, RetryConfig
from agent.errors import BadResponse, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, ProviderError
from agent.run.retry import CircuitBreaker, backoff_delay, call_with_retry, is_retryable


class Flaky:
    """A call that raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def http(status: int, retry_after: float | None = None) -> EndpointHTTPError:
    reason = "http_429" if status == 429 else "http_5xx" if status >= 500 else "http_4xx"
    return EndpointHTTPError(f"HTTP {status}", reason=reason, status=status, retry_after=retry_after)


RETRYABLE = [
    EndpointTimeout("t"),
    EndpointUnreachable("refused", reason="connect"),
    EndpointUnreachable("reset", reason="reset"),
    http(500),
    http(502),
    http(503),
    http(504),
    http(408),
    http(429),
]
FINAL = [
    http(400),
    http(401),
    http(403),
    http(404),
    http(422),
    BadResponse("x", reason="malformed_json"),
    BadResponse("x", reason="bad_shape"),
    BadResponse("x", reason="empty_content"),
    BadResponse("x", reason="too_large"),
    BadResponse("x", reason="content_type"),
    BadResponse("x", reason="redirect", status=302),
]


@pytest.mark.parametrize("exc", RETRYABLE, ids=lambda e: f"{type(e).__name__}-{e.reason}-{e.status}")
async def test_retryable_errors_are_retried_until_success(exc: ProviderError) -> None:
    call, sleeps = Flaky(exc, exc), Sleeps()
    assert is_retryable(exc)
    result = await call_with_retry(call, RetryConfig(attempts=3), sleep=sleeps, rng=random.Random(1))
    assert result == "ok"
    assert call.calls == 3
    assert len(sleeps.delays) == 2


@pytest.mark.parametrize("exc", FINAL, ids=lambda e: f"{type(e).__name__}-{e.reason}-{e.status}")
async def test_final_errors_are_never_retried(exc: ProviderError) -> None:
    call, sleeps = Flaky(exc), Sleeps()
    assert not is_retryable(exc)
    with pytest.raises(type(exc)) as info:
        await call_with_retry(call, RetryConfig(attempts=5), sleep=sleeps)
    assert info.value is exc
    assert call.calls == 1
    assert sleeps.delays == []


async def test_attempts_are_bounded_and_last_error_raised() -> None:
    errors = [http(503) for _ in range(10)]
    call, sleeps = Flaky(*errors), Sleeps()
    with pytest.raises(EndpointHTTPError) as info:
        await call_with_retry(call, RetryConfig(attempts=4), sleep=sleeps, rng=random.Random(0))
    assert call.calls == 4
    assert len(sleeps.delays) == 3
    assert info.value is errors[3]


async def test_single_attempt_means_no_retry() -> None:
    call, sleeps = Flaky(http(503)), Sleeps()
    with pytest.raises(EndpointHTTPError):
        await call_with_retry(call, RetryConfig(attempts=1), sleep=sleeps)
    assert call.calls == 1


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    policy = RetryConfig(attempts=10, base_delay_s=0.5, max_delay_s=3.0)
    rng = random.Random(42)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        samples = [backoff_delay(retry, policy, rng) for _ in range(2000)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # full jitter spreads over the whole range, not just near the ceiling
        assert min(samples) < 0.1 * ceiling
        assert max(samples) > 0.9 * ceiling


async def test_delays_passed_to_sleep_respect_the_cap() -> None:
    policy = RetryConfig(attempts=8, base_delay_s=1.0, max_delay_s=2.5)
    call, sleeps = Flaky(*[EndpointTimeout("t") for _ in range(7)]), Sleeps()
    assert await call_with_retry(call, policy, sleep=sleeps, rng=random.Random(3)) == "ok"
    assert len(sleeps.delays) == 7
    assert all(0 <= d <= 2.5 for d in sleeps.delays)


async def test_retry_after_replaces_backoff() -> None:
    call, sleeps = Flaky(http(429, retry_after=1.75), http(503, retry_after=0.0)), Sleeps()
    policy = RetryConfig(attempts=3, base_delay_s=0.5, max_delay_s=5.0)
    assert await call_with_retry(call, policy, sleep=sleeps) == "ok"
    assert sleeps.delays == [1.75, 0.0]


async def test_retry_after_beyond_max_delay_gives_up_instead_of_retrying_early() -> None:
    err = http(429, retry_after=120.0)
    call, sleeps = Flaky(err), Sleeps()
    with pytest.raises(EndpointHTTPError) as info:
        await call_with_retry(call, RetryConfig(attempts=5, max_delay_s=30.0), sleep=sleeps)
    assert info.value is err
    assert call.calls == 1
    assert sleeps.delays == []


async def test_429_without_retry_after_uses_backoff() -> None:
    call, sleeps = Flaky(http(429)), Sleeps()
    policy = RetryConfig(attempts=2, base_delay_s=0.2, max_delay_s=1.0)
    assert await call_with_retry(call, policy, sleep=sleeps, rng=random.Random(5)) == "ok"
    assert len(sleeps.delays) == 1 and 0 <= sleeps.delays[0] <= 0.2


async def test_on_retry_is_told_attempt_error_and_delay() -> None:
    seen: list[tuple[int, str, float]] = []
    errs = [EndpointTimeout("t"), http(502, retry_after=0.5)]
    call = Flaky(*errs)
    await call_with_retry(
        call,
        RetryConfig(attempts=3),
        sleep=Sleeps(),
        rng=random.Random(0),
        on_retry=lambda n, e, d: seen.append((n, e.reason, d)),
    )
    assert [s[:2] for s in seen] == [(1, "timeout"), (2, "http_5xx")]
    assert seen[1][2] == 0.5


async def test_non_provider_exceptions_propagate_untouched() -> None:
    calls = 0

    async def boom() -> str:
        nonlocal calls
        calls += 1
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await call_with_retry(boom, RetryConfig(attempts=3), sleep=Sleeps())
    assert calls == 1


# -- circuit breaker -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_circuit_opens_after_threshold_consecutive_failures() -> None:
    clock = Clock()
    cb = CircuitBreaker(CircuitConfig(failure_threshold=3, reset_after_s=60), clock=clock)
    for _ in range(2):
        assert cb.allow()
        cb.record_failure()
        assert not cb.is_open
    assert cb.allow()
    cb.record_failure()
    assert cb.is_open and cb.state == "open"
    assert not cb.allow()
    clock.now += 59
    assert not cb.allow()


def test_success_resets_the_failure_count() -> None:
    cb = CircuitBreaker(CircuitConfig(failure_threshold=2, reset_after_s=60), clock=Clock())
    cb.record_failure()
    cb.record_success()
    cb.record_failure()
    assert not cb.is_open
    assert cb.consecutive_failures == 1


def test_half_open_allows_one_trial_then_closes_on_success() -> None:
    clock = Clock()
    cb = CircuitBreaker(CircuitConfig(failure_threshold=1, reset_after_s=30), clock=clock)
    cb.record_failure()
    assert not cb.allow()
    clock.now += 30
    assert cb.state == "half_open" and cb.is_open
    assert cb.allow()
    assert not cb.allow()  # only one trial in flight
    cb.record_success()
    assert cb.state == "closed" and not cb.is_open
    assert cb.allow() and cb.allow()


def test_failed_trial_reopens_for_a_full_cool_down() -> None:
    clock = Clock()
    cb = CircuitBreaker(CircuitConfig(failure_threshold=5, reset_after_s=30), clock=clock)
    for _ in range(5):
        cb.record_failure()
    clock.now += 31
    assert cb.allow()
    cb.record_failure()
    assert cb.state == "open"
    clock.now += 29
    assert not cb.allow()
    clock.now += 1
    assert cb.allow()
