"""Verifier and generator tests for the string_transform family."""

from __future__ import annotations

import math

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.string_transform import KINDS, StringTransform, apply
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_string_operations() -> None:
    assert apply("reverse", 0, "abc") == "cba"
    assert apply("swap_pairs", 0, "abcde") == "badce"
    assert apply("caesar", 2, "yZa") == "aBc"
    assert apply("rotate", 2, "abcde") == "cdeab"
    assert apply("drop_vowels", 0, "bAnIta") == "bnt"
    assert apply("every_other", 0, "abcdef") == "ace"
    assert apply("double", 0, "ab") == "aabb"
    assert apply("swapcase", 0, "aBc") == "AbC"


def test_string_transform_is_case_sensitive() -> None:
    fam = builtin_registry().get("string_transform")
    it = item(fam, 1)
    swapped = it.problem.answer.swapcase()
    assert fam.score(it, f"Answer: {swapped}").score == 0.0


def _expected_operations(d: int) -> int:
    # Written independently of the module: one step per three levels to 10, then x2 per 10 levels.
    if d <= 10:
        return math.ceil(d / 3)
    return math.floor(4 * 2 ** ((d - 10) / 10))


def test_plan_formula() -> None:
    fam = StringTransform()
    assert fam.plan(1) == {"operations": 1, "letters": 4, "kinds": 1}
    assert fam.plan(10)["operations"] == 4
    assert fam.plan(20)["operations"] == 8
    assert fam.plan(30)["operations"] == 16
    assert fam.plan(40)["operations"] == 32
    assert fam.plan(fam.top)["operations"] == 256
    for d in fam.levels:
        p = fam.plan(d)
        assert p["operations"] == _expected_operations(d)
        assert p["letters"] == 3 + d
        assert p["kinds"] == (min(10, 1 + d // 2) if d <= OLD_TOP else len(KINDS))


@pytest.mark.parametrize("difficulty", [1, 2, 7, 10, 18, 25, 40, 41, 70])
def test_problem_follows_the_plan(difficulty: int) -> None:
    fam = StringTransform()
    p = fam.plan(difficulty)
    pool = set(KINDS[: p["kinds"]])
    for index in range(20):
        it = item(fam, difficulty, index=index)
        word, ops = it.problem.facts["word"], it.problem.facts["ops"]
        assert len(word) == p["letters"]
        assert len(ops) == p["operations"]
        assert {op for op, _ in ops} <= pool
        s = word
        for op, k in ops:
            s = apply(op, k, s)
            assert 3 <= len(s) <= 2 * p["letters"]  # the chain neither vanishes nor explodes
        assert s == it.problem.answer
        assert sum(op == "sort" for op, _ in ops) <= 1
        # Every step is spelled out in the prompt.
        assert it.prompt.count(", then ") == len(ops) - 1


def test_level_one_is_a_worked_upper_casing() -> None:
    fam = StringTransform()
    it = item(fam, 1)
    assert it.problem.facts["ops"] == [("upper", 0)]
    assert "(abc -> ABC)" in it.prompt
    assert fam.score(it, it.problem.answer).score == 1.0


def test_top_level_prompt_stays_bounded() -> None:
    fam = StringTransform()
    assert max(len(item(fam, OLD_TOP, n, i).prompt) for i in range(5) for n in range(4)) < 8000
    assert max(len(item(fam, fam.top, n, i).prompt) for i in range(5) for n in range(4)) < 40_000


def test_new_kinds_only_above_the_old_top() -> None:
    fam = StringTransform()
    assert apply("shift_by_position", 0, "abcZ") == "bdfD" and apply("atbash", 0, "aBzm") == "zYan"
    old = {op for i in range(30) for op, _ in item(fam, OLD_TOP, index=i).problem.facts["ops"]}
    new = {op for i in range(10) for op, _ in item(fam, fam.top, index=i).problem.facts["ops"]}
    assert {"shift_by_position", "atbash"} <= new and not {"shift_by_position", "atbash"} & old


OLD_TOP = 40  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 1, 10 and the old top, and every old plan, hash as before the extension."""
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.string_transform import StringTransform as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (1, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "097180deacb4b8096ee1a1a7a9ece7824ae774473707c005eab31e2cd7db7576"
    old_keys = ('operations', 'letters', 'kinds')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(1, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "a9c01216603d5a7009ad414fead73e3c928f58c495f06dfd0e9142f4253b4e1f"
