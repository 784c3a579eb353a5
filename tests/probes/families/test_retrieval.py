"""Verifier and generator tests for the retrieval family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_needle_chain_facts_are_in_the_prompt() -> None:
    fam = builtin_registry().get("needle_retrieval")
    for difficulty, hops in ((3, 1), (7, 2), (10, 3)):
        it = item(fam, difficulty)
        assert len(it.problem.facts["chain"]) == hops
        assert all(fact in it.prompt for fact in it.problem.facts["chain"])


