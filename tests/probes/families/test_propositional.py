"""Verifier and generator tests for the propositional family."""

from __future__ import annotations

import hashlib
import math
import re

from probes.base import Item, ProbeFamily, make_item
from probes.families.propositional import PropositionalLogic, connectives, negations, truth_string

SALT = b"family-tests"
FAM = PropositionalLogic()


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def parse_and_eval(text: str, values: dict[str, bool]) -> bool:
    """Evaluate a rendered novelty-0 formula with a parser of its own (an independent check)."""
    tokens = re.findall(r"\(|\)|[A-Za-z]+", text)
    pos = 0

    def expr() -> bool:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "not":
            return not expr()
        if tok != "(":
            return values[tok]
        left = expr()
        op = tokens[pos]
        pos += 1
        right = expr()
        assert tokens[pos] == ")"
        pos += 1
        return {"and": left and right, "or": left or right, "implies": (not left) or right,
                "xor": left != right, "iff": left == right}[op]

    result = expr()
    assert pos == len(tokens)
    return result


def test_propositional_plan_formula() -> None:
    expected_size = {1: 1, 2: 2, 3: 2, 5: 3, 9: 6, 10: 6, 11: 6, 13: 7, 20: 12, 30: 24, 40: 48, 50: 96, 60: 192,
                     70: 384}
    for d, size in expected_size.items():
        assert FAM.plan(d)["connectives"] == size, d
    assert FAM.plan(1) == {"formulas": 1, "connectives": 1, "negations": 0, "variables": 2, "operators": 2}
    assert FAM.plan(50) == {"formulas": 7, "connectives": 96, "negations": 48, "variables": 12, "operators": 5}
    assert FAM.plan(70) == {"formulas": 7, "connectives": 384, "negations": 192, "variables": 12, "operators": 5}
    assert [FAM.plan(d)["formulas"] for d in (7, 8, 16, 24, 56, 70)] == [1, 2, 3, 4, 7, 7]
    assert FAM.top == 70 and FAM.grows == "connectives"
    assert FAM.chance(1) == 0.5 and FAM.chance(50) == 2.0**-7


def test_propositional_problem_matches_plan() -> None:
    for d in (1, 2, 6, 10, 25, 50, 60, 70):
        p = FAM.plan(d)
        f = item(FAM, d).problem.facts
        assert len(f["formulas"]) == p["formulas"] and len(f["assign"]) == p["variables"]
        assert all(connectives(x) == p["connectives"] for x in f["formulas"])
        assert all(negations(x) == p["negations"] for x in f["formulas"])


def test_propositional_answer_matches_an_independent_evaluation() -> None:
    for d in (1, 4, 10, 20, 40, 55, 70):
        for index in range(5):
            it = item(FAM, d, 0, index)
            given, _, rest = it.prompt.partition(". Evaluate each formula:\n")
            values = {name: word == "true" for name, word in re.findall(r"(\w+) = (true|false)", given)}
            lines = [ln.split(". ", 1)[1] for ln in rest.splitlines() if re.match(r"\d+\. ", ln)]
            answer = "".join("T" if parse_and_eval(ln, values) else "F" for ln in lines)
            assert answer == it.problem.answer == it.answer


def test_propositional_top_level_prompt_is_bounded() -> None:
    prompts = [item(FAM, FAM.top, i % 4, i).prompt for i in range(20)]
    assert max(len(p) for p in prompts) < 40_000
    assert math.isclose(FAM.chance(FAM.top), 2.0 ** -FAM.plan(FAM.top)["formulas"])


def test_truth_string_parsing() -> None:
    assert truth_string("T, F, T", 3) == "TFT"
    assert truth_string("true false", 2) == "TF"
    assert truth_string("101", 3) == "TFT"
    assert truth_string("1. T 2. F", 2) == "TF"
    assert truth_string("I don't know", 1) is None
    assert truth_string("TF", 3) is None


def test_propositional_bare_answer_scores() -> None:
    it = item(FAM, 1)
    assert FAM.score(it, it.problem.answer).score == 1.0
    assert FAM.score(it, "true" if it.problem.answer == "T" else "false").score == 1.0
    assert FAM.score(it, "F" if it.problem.answer == "T" else "T").score == 0.0


def test_propositional_novelty3_uses_digits() -> None:
    it = item(FAM, 7, 3)
    assert set(it.answer) & {"0", "1"}
    assert FAM.score(it, it.answer).canonical == it.problem.answer


def old_level_digest(family: ProbeFamily, difficulty: int) -> str:
    """A digest of items 0..2 of a level at every novelty (prompts and answers)."""
    h = hashlib.sha256()
    for index in range(3):
        for novelty in range(4):
            it = make_item(family, b"pinned-old-levels", index, difficulty, novelty)
            h.update(it.prompt.encode() + b"\x00" + it.answer.encode() + b"\x01")
    return h.hexdigest()[:32]


#: Digests of the items at levels 1, 10 and the old top, taken before the scale was
#: extended: the levels already calibrated must never change.
OLD_LEVEL_DIGESTS = {
    1: "7444943c041d3441d744b71d1327c553",
    10: "df532812aecdd078ce45c83a0f7cd41a",
    50: "496f8f43b692c01b02b68ecc5f0d8fd8",
}


def test_propositional_old_levels_unchanged() -> None:
    for d, expected in OLD_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d
