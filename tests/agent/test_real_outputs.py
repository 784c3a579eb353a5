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
    ("arithmetic", 1, 0): ("12", True),  # "9 + 3 = 12" — no "Answer:" line, equation result
    ("arithmetic", 1, 3): ("8", False),  # computes 12, then invents steps: "Therefore, the answer is 8."
    ("arithmetic", 2, 0): ("2", False),  # "7 - 3 = 2"
    ("arithmetic", 2, 3): ("0", False),  # "...arrived at the number 0 with no fractional part."
    ("arithmetic", 3, 0): ("2", False),  # "5 - 7 = 2." — trailing period
    ("arithmetic", 3, 3): ("6", False),  # asked for \boxed{}, wrote "The final answer is 6."
    ("word_problem", 1, 0): ("6", True),  # "...and gets 1 more, so she now has 6 seashells." (last number)
    ("word_problem", 1, 3): ("1", False),  # "The final integer inside \\boxed{} is 1."
    ("word_problem", 2, 3): ("2", False),  # "Gorsa has 2 stamps left."
    ("word_problem", 3, 0): ("78", False),  # "The answer is: 78"
    ("word_problem", 3, 3): ("5", False),  # {"answer": 5}
    ("string_transform", 1, 3): ("ABC", False),  # "The final result is: ABC." (copied the example)
}
# Left unlabelled: replies a person cannot read one final answer from ("zera = ABC" then a code
# fence; "5" then "Ximena has 2 more seashells."; a Python function instead of a word).


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
