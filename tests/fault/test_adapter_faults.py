"""Every injected fault reaches the provider adapter as a ProviderError with a specific reason."""

from __future__ import annotations

import time

import httpx
import pytest

from agent.config import TargetConfig
from agent.errors import BadResponse, EndpointUnreachable, ProviderError
from agent.llama import free_port
from agent.providers import ChatRequest, adapter_for
from agent.providers.base import MAX_BODY_BYTES
from tests.fault.expected import EXPECTED
from tests.fault.server import FaultServer

TIMEOUT_S = 1.0
REQUEST = ChatRequest(prompt="What is 2 + 2?", max_tokens=16, temperature=0.0)


def _target(base_url: str) -> TargetConfig:
    return TargetConfig(name="fault", base_url=base_url, model="m", timeout_s=TIMEOUT_S)  # type: ignore[arg-type]


async def _complete(base_url: str, *, follow_redirects: bool = False) -> tuple[ProviderError, float]:
    async with httpx.AsyncClient(follow_redirects=follow_redirects) as client:
        adapter = adapter_for(_target(base_url), client, "sk-test-key")
        start = time.monotonic()
        with pytest.raises(ProviderError) as info:
            await adapter.complete(REQUEST)
        return info.value, time.monotonic() - start


@pytest.mark.parametrize("mode", sorted(EXPECTED))
async def test_fault_gives_specific_reason(fault_server: FaultServer, mode: str) -> None:
    exc, elapsed = await _complete(fault_server.url_for(mode))
    cls, reason = EXPECTED[mode]
    assert isinstance(exc, cls), f"{mode}: got {type(exc).__name__}({exc.reason}): {exc}"
    assert exc.reason == reason
    # Nothing may hold the agent much past the timeout (dribbled and 50 MB bodies included).
    assert elapsed < TIMEOUT_S + 3.0
    assert fault_server.seen[mode] >= 1


async def test_ok_mode_is_a_valid_answer(fault_server: FaultServer) -> None:
    async with httpx.AsyncClient() as client:
        resp = await adapter_for(_target(fault_server.base_url), client).complete(REQUEST)
    assert resp.text == "Answer: 4"
    assert resp.response_model == "fault-model"
    assert resp.system_fingerprint == "fp_fault"


async def test_status_and_retry_after_are_carried(fault_server: FaultServer) -> None:
    exc, _ = await _complete(fault_server.url_for("429_retry_after"))
    assert exc.status == 429 and exc.retry_after == 1.0
    exc, _ = await _complete(fault_server.url_for("429"))
    assert exc.status == 429 and exc.retry_after is None
    exc, _ = await _complete(fault_server.url_for("503"))
    assert exc.status == 503


async def test_refused_connection() -> None:
    exc, elapsed = await _complete(f"http://127.0.0.1:{free_port()}/v1")
    assert isinstance(exc, EndpointUnreachable) and exc.reason == "connect"
    assert elapsed < 2.0


async def test_redirect_loop_with_a_following_client(fault_server: FaultServer) -> None:
    exc, elapsed = await _complete(fault_server.url_for("redirect"), follow_redirects=True)
    assert isinstance(exc, BadResponse) and exc.reason == "redirect"
    assert fault_server.seen["redirect"] > 1  # it did follow, and stopped
    assert elapsed < TIMEOUT_S + 3.0


async def test_huge_body_is_not_buffered(fault_server: FaultServer) -> None:
    """The 50 MB body is abandoned near the cap, not read whole."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):
        exc, _ = await _complete(fault_server.url_for("huge_chunked"))
        assert exc.reason == "too_large"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib * 1024 < 10 * MAX_BODY_BYTES


async def test_secret_key_not_in_any_error_text(fault_server: FaultServer) -> None:
    for mode in EXPECTED:
        exc, _ = await _complete(fault_server.url_for(mode))
        assert "sk-test-key" not in str(exc) and "sk-test-key" not in repr(exc.args)


async def test_a_stream_is_read_as_the_same_answer_with_its_first_token_timed(fault_server: FaultServer) -> None:
    async with httpx.AsyncClient() as client:
        streamed = await adapter_for(_target(fault_server.url_for("stream_ok")), client).complete(REQUEST)
        plain = await adapter_for(_target(fault_server.url_for("ok")), client).complete(REQUEST)
    assert (streamed.text, streamed.finish_reason, streamed.response_model) == ("Answer: 4", "stop", "fault-model")
    assert (streamed.input_tokens, streamed.output_tokens) == (plain.input_tokens, plain.output_tokens) == (3, 4)
    assert streamed.system_fingerprint == plain.system_fingerprint == "fp_fault"
    assert streamed.ttft_s is not None and 0 < streamed.ttft_s < TIMEOUT_S
    assert plain.ttft_s is None  # the fault server answers JSON to a stream request: read as it came
