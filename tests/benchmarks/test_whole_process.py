"""``benchmarks.whole_process``: the steady-state rate is measured at the endpoint, start-up outside it."""

from __future__ import annotations

import httpx
import pytest

from benchmarks.footprint import instant_endpoint
from benchmarks.whole_process import steady_rate


def test_steady_rate_leaves_start_up_and_tail_outside() -> None:
    # 1,000 requests at 200/s after a 3-second start with 20 requests trickling in, and a slow tail.
    start = [i * 0.15 for i in range(20)]
    body = [3.0 + i / 200 for i in range(960)]
    tail = [body[-1] + 0.5 * (i + 1) for i in range(20)]
    assert steady_rate(start + body + tail) == pytest.approx(200, rel=1e-9)
    assert steady_rate([1.0]) != steady_rate([1.0])  # one arrival: no rate (NaN)


def test_the_instant_endpoint_reports_and_forgets_arrivals() -> None:
    with instant_endpoint() as base:
        root = base.removesuffix("/v1")
        httpx.get(root + "/_arrivals", timeout=10)
        body = {"model": "instant", "messages": [{"role": "user", "content": "What is 2 + 3?"}]}
        with httpx.Client(timeout=10) as client:
            answers = [client.post(base + "/chat/completions", json=body).json() for _ in range(3)]
            first = client.get(root + "/_arrivals").json()
            second = client.get(root + "/_arrivals").json()
    assert answers[0]["choices"][0]["message"]["content"] == "Answer: 5"
    assert len(first) == 3 and first == sorted(first)
    assert second == []
