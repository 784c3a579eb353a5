"""Answer extraction on real SmolLM2-135M-Instruct outputs, captured from llama.cpp at temperature 0.

Recapture with ``python -m tests.agent.data.capture_smollm2`` when generation changes.

The expected extractions were read off each response by hand: what a person would take as the
model's final answer, whether it is right or wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.base import make_item
from probes.registry import builtin_registry

DATA = json.loads((Path(__file__).parent / "data" / "smollm2_responses.json").read_text())

# (family, difficulty, novelty) -> (expected extraction, passes?)
HAND_LABELLED = {
    ("arithmetic", 1, 0): ("15", True),  # "9 + 6 = 15" — no "Answer:" line, equation result
    ("arithmetic", 2, 0): ("27", False),  # "60 + 19 = 27." — trailing period
    ("arithmetic", 2, 3): ("19", False),  # "The answer is 19." — asked for <answer> tags, wrote prose
    ("arithmetic", 3, 0): ("10", False),  # equation then "The answer is 10."
    ("word_problem", 1, 3): ("2", False),  # "Elvanor has 2 books left."
    ("word_problem", 2, 0): ("24", False),  # several equations; the last result is the answer
    ("word_problem", 2, 3): ("2", False),
    ("string_transform", 1, 0): ("zera", False),  # "'Answer: zera" inside a code fence; case matters
    ("string_transform", 1, 3): ("Alejonkai", False),  # "The final result is:\nAlejonkai."
    ("string_transform", 3, 3): ("cuhovu-huhvoo", False),
}


def _record(family: str, difficulty: int, novelty: int) -> dict[str, object]:
    return next(r for r in DATA if (r["family"], r["difficulty"], r["novelty"]) == (family, difficulty, novelty))


@pytest.mark.parametrize("key", sorted(HAND_LABELLED))
def test_extraction_matches_a_human_reading(key: tuple[str, int, int]) -> None:
    family_name, difficulty, novelty = key
    rec = _record(*key)
    family = builtin_registry().get(family_name)
    item = make_item(family, str(rec["salt"]).encode(), int(rec["index"]), difficulty, novelty)  # type: ignore[call-overload]
    assert item.prompt == rec["prompt"], "generation changed: python -m tests.agent.data.capture_smollm2"
    verdict = family.score(item, str(rec["response"]))
    expected, passes = HAND_LABELLED[key]
    assert verdict.extracted is not None and verdict.extracted.strip(".") == expected
    assert (verdict.score == 1.0) is passes


def test_every_captured_response_scores_within_bounds() -> None:
    registry = builtin_registry()
    for rec in DATA:
        family = registry.get(str(rec["family"]))
        item = make_item(
            family, str(rec["salt"]).encode(), int(rec["index"]), int(rec["difficulty"]), int(rec["novelty"])
        )  # type: ignore[call-overload]
        verdict = family.score(item, str(rec["response"]))
        assert 0.0 <= verdict.score <= 1.0
        # The reference itself, written the way the prompt asks, always passes.
        assert family.score(item, item.answer).score == 1.0
