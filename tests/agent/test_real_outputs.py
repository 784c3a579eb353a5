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
    ("arithmetic", 1, 0): ("22", False),  # "3 + 9 = 22": no "Answer:" line, the equation's result
    ("arithmetic", 1, 3): ("18", False),  # "The answer is 18.": asked for <answer> tags, wrote prose
    ("arithmetic", 2, 0): ("26", False),  # a chain of equations, then "The answer is indeed 26."
    ("arithmetic", 2, 3): ("12", False),  # prose, then a fenced JSON object with "answer": 12
    ("arithmetic", 3, 0): ("1", False),  # "304 - 587 = 1.": trailing period
    ("arithmetic", 3, 3): ("129", False),  # asked for \boxed{}, ends "The final integer is 129."
    ("word_problem", 1, 0): ("6", False),  # "she has 4 + 2 = 6 cards.": result inside a sentence
    ("word_problem", 1, 3): ("2", True),  # "Brixa has 2 cards left": asked for JSON, right in prose
    ("word_problem", 2, 0): ("2", False),  # six numbered steps; "6. The answer is 2."
    ("word_problem", 2, 3): ("12", False),
    ("word_problem", 3, 0): ("20", False),  # "The answer is: 20"
    ("word_problem", 3, 3): ("12", False),  # a bare "12" and a blank line
}
# The string_transform captures are code, broken JSON or garbage with no answer a person could
# point to, so they are only checked for bounded scores below.


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
