"""Verifier and generator tests for the word_problem family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_word_problem_noop_clauses_do_not_change_answer() -> None:
    fam = builtin_registry().get("word_problem")
    plain, perturbed = item(fam, 6, 0), item(fam, 6, 2)
    assert plain.problem.answer == perturbed.problem.answer
    assert len(perturbed.prompt.split(". ")) > len(plain.prompt.split(". "))


