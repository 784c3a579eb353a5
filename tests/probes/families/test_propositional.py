"""Verifier and generator tests for the propositional family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.propositional import PropositionalLogic, truth_string

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_truth_string_parsing() -> None:
    assert truth_string("T, F, T", 3) == "TFT"
    assert truth_string("true false", 2) == "TF"
    assert truth_string("101", 3) == "TFT"
    assert truth_string("1. T 2. F", 2) == "TF"
    assert truth_string("I don't know", 1) is None
    assert truth_string("TF", 3) is None


def test_propositional_novelty3_uses_digits() -> None:
    fam = PropositionalLogic()
    it = item(fam, 7, 3)
    assert set(it.answer) & {"0", "1"}
    assert fam.score(it, it.answer).canonical == it.problem.answer


