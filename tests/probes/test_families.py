"""Per-family verifier tests: each verifier's own quirks, partial credit and generator facts."""

from __future__ import annotations

import random

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_families_use_only_their_rng() -> None:
    # Reseeding the global random module must not change any item.
    fam = builtin_registry().get("word_problem")
    random.seed(1)
    a = item(fam, 7, 2)
    random.seed(2)
    b = item(fam, 7, 2)
    assert a.prompt == b.prompt


