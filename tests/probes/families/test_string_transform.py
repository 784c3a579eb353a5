"""Verifier and generator tests for the string_transform family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.string_transform import apply
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


def test_string_transform_is_case_sensitive() -> None:
    fam = builtin_registry().get("string_transform")
    it = item(fam, 1)
    swapped = it.problem.answer.swapcase()
    assert fam.score(it, f"Answer: {swapped}").score == 0.0


