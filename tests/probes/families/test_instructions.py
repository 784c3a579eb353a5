"""Verifier and generator tests for the instructions family."""

from __future__ import annotations

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.instructions import InstructionFollowing, check

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_instruction_constraints() -> None:
    assert check(("words", 3), "one two three")
    assert not check(("words", 3), "one two")
    assert check(("include", "moon"), "the Moon rises")
    assert not check(("forbid", "e"), "tree")
    assert check(("start", "blue"), "Blue sky")
    assert check(("end", "owl"), "an owl")
    assert not check(("lower", ""), "Hello")
    assert check(("maxlen", 4), "tiny word")


def test_instruction_partial_credit() -> None:
    fam = InstructionFollowing()
    it = item(fam, 6)
    n = len(it.problem.facts["constraints"])
    words = it.problem.answer.split()
    # Dropping the last word breaks the word count and the last-word rule only.
    verdict = fam.score(it, "Answer: " + " ".join(words[:-1]))
    assert 0.0 < verdict.score < 1.0
    assert verdict.score == pytest.approx((n - 2) / n)
    assert verdict.canonical is not None and verdict.canonical.count("0") == 2


