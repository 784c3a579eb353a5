"""Shared fixtures for agent unit tests: a fake OpenAI-compatible transport and settings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from agent.config import Settings, TargetConfig

if TYPE_CHECKING:
    from tests.agent.report.report_fixtures import SimLedger


def openai_body(content: str, *, model: str = "fake-model", fingerprint: str | None = "fp_1") -> dict[str, object]:
    """A chat-completions response body."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
    }


def echo_answer_handler(wrong: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    """A handler that answers arithmetic prompts correctly (or wrongly), anything else with 'Answer: 0'."""

    def handler(request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        m = re.search(r"What is (-?\d+) ([-+*]) (-?\d+)\?", prompt)
        answer = "0"
        if m:
            a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
            value = a + b if op == "+" else a - b if op == "-" else a * b
            answer = str(value + (1 if wrong else 0))
        return httpx.Response(200, json=openai_body(f"Let me think.\nAnswer: {answer}"))

    return handler


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with one target (overridable fields)."""

    def make(**target_fields: object) -> Settings:
        fields: dict[str, object] = {
            "name": "t1",
            "provider": "openai",
            "base_url": "http://model.test/v1",
            "model": "fake-model",
            "families": ["arithmetic"],
            "probes_per_run": 6,
            "static_per_run": 1,
            "fingerprint_prompts": 1,
            "difficulties": [1, 2],
            "retry": {"attempts": 1},
        }
        fields.update(target_fields)
        return Settings(targets=[TargetConfig(**fields)], store=tmp_path / "capmon.db")  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimLedger]:
    """A simulated ledger with two grouped targets, built once per module (rendering charts takes seconds).

    Shared by the report tests and the ``capmon report`` command's tests.
    """
    from tests.agent.report.report_fixtures import fill_ledger

    led = fill_ledger(tmp_path_factory.mktemp("ledger") / "capmon.db")
    yield led
    led.store.close()
