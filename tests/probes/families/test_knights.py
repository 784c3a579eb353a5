"""Verifier and generator tests for the knights family."""

from __future__ import annotations

import hashlib
import itertools

from probes.base import Item, ProbeFamily, make_item
from probes.families.knights import COMPOUND, KnightsKnaves, solutions, truth

SALT = b"family-tests"
FAM = KnightsKnaves()


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def brute_force(n: int, stmts: list[tuple[str, int, int, int]], told: list[tuple[int, bool]]) -> list[tuple[bool, ...]]:
    """Every consistent assignment, by enumeration (an independent check of the solver)."""
    return [
        assign for assign in itertools.product((True, False), repeat=n)
        if all(assign[v] == k for v, k in told) and all(truth(s, assign) == assign[s[1]] for s in stmts)
    ]


def test_knights_plan_formula() -> None:
    expected_people = {1: 2, 2: 2, 3: 3, 4: 3, 9: 6, 10: 6, 11: 6, 12: 6, 13: 7, 20: 12, 25: 16, 30: 24, 35: 33,
                       45: 67, 55: 135}
    for d, people in expected_people.items():
        assert FAM.plan(d)["people"] == people, d
    assert FAM.plan(1) == {"people": 2, "unknown": 1, "compound": 0}  # one kind is told
    assert FAM.plan(4) == {"people": 3, "unknown": 3, "compound": 1}
    assert FAM.plan(23)["compound"] == 7 and FAM.plan(35)["compound"] == 17  # half the people, past d=23
    assert FAM.plan(55) == {"people": 135, "unknown": 135, "compound": 68}
    assert FAM.top == 55 and FAM.grows == "people"
    assert FAM.chance(1) == 0.5 and FAM.chance(10) == 2.0**-6


def test_knights_puzzle_matches_plan() -> None:
    for d in (1, 3, 4, 8, 10, 20, 35, 45, 55):
        p = FAM.plan(d)
        for index in range(3):
            f = item(FAM, d, 0, index).problem.facts
            n = f["n"]
            assert n == p["people"] == len(f["names"]) == len(f["odd"])
            assert len(f["told"]) == p["people"] - p["unknown"]
            assert {s[1] for s in f["stmts"]} == set(range(n)), "everyone speaks"
            assert sum(s[0] in COMPOUND for s in f["stmts"]) >= p["compound"]
            assert len(f["stmts"]) <= 3 * n + 1


def test_knights_puzzles_have_one_solution() -> None:
    for difficulty in (1, 2, 5, 10, 14):
        for index in range(5):
            f = item(FAM, difficulty, 0, index).problem.facts
            sols = brute_force(f["n"], f["stmts"], f["told"])
            assert sols == solutions(f["n"], f["stmts"], dict(f["told"]))
            assert len(sols) == 1
            assert [i for i, k in enumerate(sols[0]) if k] == f["knights"]
    f = item(FAM, FAM.top).problem.facts
    assert len(solutions(f["n"], f["stmts"], dict(f["told"]), limit=2)) == 1


def test_knights_level_one_is_nearly_stated() -> None:
    it = item(FAM, 1)
    assert it.prompt.count("You are told that") == 1 and it.prompt.count(" says: ") == 2


def test_knights_hard_levels_give_nothing_away() -> None:
    # From level 8 no statement mentions its speaker, so no single claim settles anyone's kind.
    for index in range(5):
        it = item(FAM, 12, 0, index)
        assert " I " not in it.prompt and " me " not in it.prompt and "same kind" not in it.prompt
        assert all(s[1] not in (s[2], s[3]) or s[0] in ("knight", "knave") for s in it.problem.facts["stmts"])


def test_knights_top_level_prompt_is_bounded() -> None:
    prompts = [item(FAM, FAM.top, i % 4, i).prompt for i in range(20)]
    assert max(len(p) for p in prompts) < 40_000
    assert all(len(set(item(FAM, FAM.top, n, 0).prompt.split(", "))) > 100 for n in (0, 2))


def test_knights_novelty3_asks_for_knaves_with_same_canonical() -> None:
    plain, framed = item(FAM, 4, 0), item(FAM, 4, 3)
    assert "tricksters" in framed.prompt
    assert FAM.score(plain, plain.answer).canonical == FAM.score(framed, framed.answer).canonical


def test_knights_requires_explicit_none() -> None:
    # Below level 8 only: with statements about others alone, all knaves and all knights fit the
    # same statements, so no puzzle from level 8 up has "none" (or everyone) as its answer.
    it = next(i for i in (item(FAM, 4, 0, k) for k in range(400)) if not i.problem.facts["knights"])
    assert FAM.score(it, "Answer: none").score == 1.0
    assert FAM.score(it, "Answer: I cannot tell").score == 0.0


def test_knights_bare_and_partial_answers() -> None:
    it = item(FAM, 10)
    knights = it.answer.split(", ")
    assert FAM.score(it, " and ".join(reversed(knights))).score == 1.0
    assert FAM.score(it, f"The knights are {', '.join(knights)}.").score == 1.0
    if len(knights) > 1:
        assert FAM.score(it, f"Answer: {knights[0]}").score == 0.0


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
    1: "3905cf238f56c8312201038c08fc6938",
    10: "0aff1e550454797249f9572a2aa96f73",
    35: "d0f205209f4ba737a4dec5adb8aa84b4",
}


def test_knights_old_levels_unchanged() -> None:
    for d, expected in OLD_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d


def test_knights_large_puzzles_answer_one_letter_per_person() -> None:
    # Past 42 people (above the old top) a list of names would outgrow an answer marker's capture.
    for novelty, yes in ((0, "K"), (3, "G")):
        it = item(FAM, FAM.top, novelty, 2)
        f = it.problem.facts
        letters = it.problem.answer if novelty == 0 else it.problem.answer.replace("K", "G").replace("N", "T")
        assert len(letters) == f["n"] == 135 and [i for i, c in enumerate(letters) if c == yes] == f["knights"]
        assert FAM.score(it, f"Answer: {letters}").score == 1.0
        assert FAM.score(it, " ".join(letters.lower())).score == 1.0
        assert FAM.score(it, letters[:-1]).score == 0.0
        flipped = letters[:5] + ("T" if letters[5] == "G" else "G" if novelty else "N" if letters[5] == "K" else "K")
        assert FAM.score(it, flipped + letters[6:]).score == 0.0
