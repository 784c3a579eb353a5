"""Verifier and generator tests for the sequence family."""

from __future__ import annotations

import itertools

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_sequence_rules() -> None:
    fam = builtin_registry().get("sequence_induction")
    first = item(fam, 1)
    shown = first.problem.facts["shown"]
    step = shown[1] - shown[0]
    assert all(b - a == step for a, b in itertools.pairwise(shown))
    assert int(first.problem.answer) == shown[-1] + step
    fib = item(fam, 6)
    s = [*fib.problem.facts["shown"], int(fib.problem.answer)]
    assert all(s[i] == s[i - 1] + s[i - 2] for i in range(2, len(s)))
