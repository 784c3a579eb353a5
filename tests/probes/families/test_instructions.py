"""Verifier and generator tests for the instructions family."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.instructions import REPEATED_FROM, SINGLE_FROM, InstructionFollowing, check

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
    assert check(("position", 2, "owl"), "an owl sat")
    assert not check(("position", 4, "owl"), "an owl sat")
    assert check(("count", "owl", 2), "owl and OWL")
    assert not check(("count", "owl", 1), "owl and owl")
    assert check(("before", "an", "owl"), "an owl an")
    assert not check(("before", "owl", "an"), "an owl an")
    assert not check(("before", "cat", "an"), "an owl")
    assert check(("letters", "o", 3), "Owl or cow")
    assert not check(("letters", "o", 2), "Owl or cow")


def test_instruction_partial_credit() -> None:
    fam = InstructionFollowing()
    it = item(fam, 6)
    constraints = it.problem.facts["constraints"]
    words = it.problem.answer.split()
    shorter = " ".join(words[:-1])
    verdict = fam.score(it, "Answer: " + shorter)
    broken = [c for c in constraints if not check(c, shorter)]
    assert ("words", len(words), "") in broken  # the word count always breaks
    assert verdict.score == pytest.approx(1 - len(broken) / len(constraints))
    assert 0.0 < verdict.score < 1.0
    assert verdict.canonical is not None and verdict.canonical.count("0") == len(broken)


def test_plan_formula() -> None:
    fam = InstructionFollowing()
    assert fam.plan(1) == {"constraints": 2, "words": 1, "forbidden_letters": 0}
    assert fam.plan(30) == {"constraints": 44, "words": 59, "forbidden_letters": 4}
    assert fam.plan(fam.top) == {"constraints": 88, "words": 59, "forbidden_letters": 4}
    for d in fam.levels:
        assert fam.plan(d) == {
            "constraints": d + 1 if d <= 10 else math.floor(11 * 2 ** ((d - 10) / 10)),
            "words": min(2 * d - 1, 59),
            "forbidden_letters": min(4, d // 4),
        }


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 7, 8, 10, 12, 14, 20, 30])
def test_problem_follows_the_plan(difficulty: int) -> None:
    fam = InstructionFollowing()
    p = fam.plan(difficulty)
    for index in range(15):
        it = item(fam, difficulty, index=index)
        constraints = it.problem.facts["constraints"]
        kinds = Counter(c[0] for c in constraints)
        assert len(constraints) == p["constraints"] == len(set(constraints))
        assert kinds["words"] == 1 and ("words", p["words"], "") in constraints
        assert len(it.problem.answer.split()) == p["words"]
        assert kinds["forbid"] == p["forbidden_letters"]
        singles = {k for k, start in SINGLE_FROM.items() if difficulty >= start}
        assert {"start", "end", "nocomma", "maxlen"} & singles == {"start", "end", "nocomma", "maxlen"} & set(kinds)
        assert ("case" in singles) == (kinds["lower"] + kinds["upper"] == 1)
        repeated = {k for k, start in REPEATED_FROM.items() if difficulty >= start}
        allowed = {"words", "forbid", "lower", "upper", *singles, *repeated}
        assert set(kinds) <= allowed
        assert all(check(c, it.problem.answer) for c in constraints)
        assert fam.score(it, it.answer).score == 1.0


def test_level_one_names_its_one_word() -> None:
    fam = InstructionFollowing()
    it = item(fam, 1)
    (word,) = [c[1] for c in it.problem.facts["constraints"] if c[0] == "include"]
    assert it.problem.answer == word and f"'{word}'" in it.prompt
    assert fam.score(it, f"{word}").score == 1.0


def test_top_level_is_consistent_and_bounded() -> None:
    """At the new top the reference line meets all 88 constraints (all distinct) in a short prompt."""
    fam = InstructionFollowing()
    for n in range(4):
        it = make_item(fam, b"family-tests", n, fam.top, n)
        constraints = it.problem.facts["constraints"]
        assert len(constraints) == len(set(constraints)) == 88
        assert fam.score(it, it.answer).score == 1.0 and len(it.prompt) < 40_000


OLD_TOP = 30  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 1, 10 and the old top, and every old plan, hash as before the extension."""
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.instructions import InstructionFollowing as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (1, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "3b85191b5371c51601b8fe038e76d9aae1d3850bec3add778e11815b5794552b"
    old_keys = ('constraints', 'words', 'forbidden_letters')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(1, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "35737d12a7dfab01f5f9ff6cf03ad93ada0bb8b11bbd3ea705ee019d1ee9f3a9"
