"""Verifier and generator tests for the word_problem family."""

from __future__ import annotations

import re

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.word_problem import WordProblem
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_word_problem_noop_clauses_do_not_change_answer() -> None:
    fam = builtin_registry().get("word_problem")
    plain, perturbed = item(fam, 6, 0), item(fam, 6, 2)
    assert plain.problem.answer == perturbed.problem.answer
    assert len(perturbed.prompt.split(". ")) > len(plain.prompt.split(". "))


@pytest.mark.parametrize(
    ("d", "events", "people", "kinds", "price"),
    [(1, 1, 1, 1, 0), (2, 2, 1, 2, 0), (5, 5, 2, 3, 0), (6, 6, 2, 4, 1), (10, 10, 3, 4, 1),
     (20, 39, 5, 4, 1), (30, 116, 7, 4, 1), (40, 304, 9, 4, 1),
     (45, 480, 10, 4, 1), (50, 749, 11, 4, 1)],
)
def test_word_problem_plan(d: int, events: int, people: int, kinds: int, price: int) -> None:
    p = WordProblem().plan(d)
    assert (p["events"], p["people"], p["kinds"], p["price"], p["amount"]) == (events, people, kinds, price, 5 * d)


def _replay(facts: dict[str, object]) -> int:
    """The target's final count (or sale), recomputed from the event list."""
    counts = list(facts["starts"])  # type: ignore[call-overload]
    for actor, kind, k, receiver in facts["events"]:  # type: ignore[attr-defined]
        before = counts[actor]
        after = {"buy": before + k, "get": before + k, "give": before - k, "times": before * k, "half": before - k}
        counts[actor] = after[kind]
        if kind == "half":
            assert 2 * k == before
        if receiver >= 0 and kind in ("give", "half"):
            counts[receiver] += k
    end: int = counts[facts["target"]]  # type: ignore[index]
    return end * facts["price"] if facts["price"] else end  # type: ignore[operator]


@pytest.mark.parametrize("d", [1, 3, 6, 12, 25, 40, 45, 50])
def test_word_problem_matches_plan(d: int) -> None:
    fam = WordProblem()
    p = fam.plan(d)
    kinds = ("get",) if d == 1 else ("buy", "give", "times", "half")[: p["kinds"]]
    for index in range(10):
        it = item(fam, d, index=index)
        f = it.problem.facts
        assert len(f["starts"]) == p["people"] and len(f["events"]) == p["events"]
        assert all(kind in kinds for _, kind, _, _ in f["events"])
        assert all(k <= p["amount"] for _, kind, k, _ in f["events"] if kind in ("buy", "get", "give"))
        assert str(_replay(f)) == it.problem.answer and int(it.problem.answer) >= 0
        assert bool(f["price"]) == bool(p["price"])
        # Every person's start and every event is one sentence of the plain prompt.
        assert it.prompt.count(".") >= p["people"] + p["events"] - (d == 1)  # level 1: one sentence
        table = item(fam, d, 3, index).prompt
        assert len(re.findall(r"\n\| \d+ \|", table)) == p["people"] + p["events"]


def test_word_problem_level_one_is_one_more() -> None:
    for index in range(20):
        it = item(WordProblem(), 1, index=index)
        start, ((_, kind, k, _),) = it.problem.facts["starts"][0], it.problem.facts["events"]
        assert kind == "get" and k == 1 and 1 <= start <= 5 and it.problem.answer == str(start + 1)
        name, thing = re.match(r"(\w+) has \d+ (\w+) and", it.prompt).groups()  # type: ignore[union-attr]
        assert it.prompt.startswith(f"{name} has {start} {thing} and gets 1 more. How many {thing} does {name}")
        assert it.prompt.count(".") == 1 + 1  # has-and-gets, and the format line's period
        assert "gets another 1" in item(WordProblem(), 1, 1, index).prompt  # the paraphrase keeps two sentences


def test_word_problem_chance_counts_level_one_answers() -> None:
    fam = WordProblem()
    answers = {item(fam, 1, index=i).problem.answer for i in range(200)}
    assert answers == {"2", "3", "4", "5", "6"} and fam.chance(1) == pytest.approx(1 / 5)
    assert fam.chance(2) == 0.0


def test_word_problem_top_prompt_fits() -> None:
    fam = WordProblem()
    assert fam.top == 50
    for index in range(5):  # text-heavy: up to ~60k characters, the no-op rendering the longest
        lengths = [len(item(fam, fam.top, n, index).prompt) for n in range(4)]
        assert max(lengths) < 60_000 and min(lengths) > 20_000, lengths
