"""Streaming against the real SmolLM2 (llama.cpp): the same answers as a plain call, time to first token
recorded, finish reasons normalised; what llama-cpp-python does not send (usage) stays unknown."""

from __future__ import annotations

import httpx
import pytest

from agent.config import TargetConfig
from agent.providers import ChatRequest, adapter_for
from tests.integration.conftest import LlamaServer

PROMPTS = ["What is 2 + 3?", "Name three colours.", "Reverse the word 'capmon'.", "Count from 1 to 30."]


@pytest.mark.integration
async def test_streamed_answers_equal_plain_ones_and_carry_ttft(llama_server: LlamaServer) -> None:
    async with httpx.AsyncClient() as client:

        async def ask(prompt: str, stream: bool) -> object:
            target = TargetConfig(
                name="s", base_url=llama_server.base_url, model="smollm2", stream=stream  # type: ignore[arg-type]
            )
            request = ChatRequest(prompt=prompt, max_tokens=24, temperature=0.0)
            return await adapter_for(target, client).complete(request)

        for prompt in PROMPTS:
            # llama-cpp-python's greedy answer depends on its prompt cache (a prompt asked right after
            # itself can differ from its first asking), streamed or not: the streamed and the plain
            # answer compared are both asked right after the same prompt.
            plain = await ask(prompt, False)
            streamed = await ask(prompt, True)
            again = await ask(prompt, False)
            assert streamed.text == again.text, prompt  # type: ignore[attr-defined]
            assert streamed.finish_reason == plain.finish_reason in ("stop", "length")  # type: ignore[attr-defined]
            assert streamed.ttft_s is not None and 0 < streamed.ttft_s <= 60  # type: ignore[attr-defined]
            assert plain.ttft_s is None and plain.output_tokens  # type: ignore[attr-defined]
            assert streamed.output_tokens is None  # type: ignore[attr-defined]  # no usage in its streams
