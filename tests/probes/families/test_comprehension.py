"""Verifier and generator tests for the comprehension family."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.comprehension import NUMERIC, QUESTIONS, ReadingComprehension
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def _name_item(fam: ReadingComprehension, kind: str) -> Item:
    for index in range(200):
        for d in (6, 7, 8, 9):
            it = item(fam, d, index=index)
            if it.problem.facts["kind"] == kind:
                return it
    raise AssertionError(kind)


def test_comprehension_accepts_article() -> None:
    fam = ReadingComprehension()
    it = _name_item(fam, "creature")
    assert fam.score(it, f"Answer: The {it.problem.answer}.").score == 1.0
    other = next(c.name for c in it.problem.facts["world"] if c.name != it.problem.answer)
    assert fam.score(it, f"Answer: The {it.problem.answer} and the {other}").score == 0.0
    assert fam.score(it, f"Answer: {other}").score == 0.0


def test_a_sentence_naming_the_right_town_passes() -> None:
    fam = builtin_registry().get("reading_comprehension")
    it = item(fam, 1)
    subject, town = it.problem.facts["subject"], it.problem.answer
    assert fam.score(it, f"The {subject} lives in {town}.").score == 1.0
    wrong = next(c.town for c in it.problem.facts["world"] if c.town != town)
    assert fam.score(it, f"The {subject} lives in {wrong}.").score == 0.0
    assert fam.score(it, f"Answer: {town}zq").score == 0.0


def test_plan_formula() -> None:
    fam = ReadingComprehension()
    assert fam.plan(1) == {"reads": 3, "creatures": 3, "attributes": 1, "steps": 1, "questions": 1, "walk": 0,
                           "packed": 0}
    assert fam.top == 100 and fam.plan(fam.top)["creatures"] == 304 and fam.plan(fam.top)["questions"] == 16
    assert fam.plan(50)["walk"] == 0 and fam.plan(51)["walk"] == 18 and fam.plan(fam.top)["walk"] == 16384
    for d in fam.levels:
        creatures = max(3, math.floor(2 * 2 ** ((min(d, 30) - 1) / 4)))
        questions = 1 if d <= 30 else math.floor(2 ** ((min(d, 50) - 30) / 5))
        walk = 0 if d <= 50 else math.floor(16 * 2 ** ((d - 50) / 5))
        assert fam.plan(d) == {
            "reads": creatures * max(questions, walk),
            "creatures": creatures,
            "attributes": min(3, d),
            "steps": 1 if d < 3 else 2 if d < 6 else 3 if d < 9 else 4,
            "questions": questions,
            "walk": walk,
            "packed": int(d > 1),
        }
        if d > 1:
            assert fam.plan(d)["reads"] >= fam.plan(d - 1)["reads"]
    # Above the calibrated top the dependent steps double every five levels.
    assert all(fam.plan(d + 5)["walk"] >= 2 * fam.plan(d)["walk"] - 1 for d in range(51, fam.top - 4))


def _solve(it: Item) -> str:
    """Answer from the facts with a separate reading of each question type."""
    f = it.problem.facts
    w = list(f["world"])
    q = f["qtype"]
    town_of = {c.name: c.town for c in w}
    in_town = [c for c in w if c.town == f.get("town")]
    eats = [c for c in w if c.food == f.get("food")]
    by_height = sorted(w, key=lambda c: c.height)
    answers: dict[str, Callable[[], str]] = {
        "home": lambda: town_of[f["subject"]],
        "food": lambda: next(c.food for c in w if c.name == f["subject"]),
        "height": lambda: str(next(c.height for c in w if c.name == f["subject"])),
        "home_of_eater": lambda: eats[0].town if len(eats) == 1 else "?",
        "height_of_eater": lambda: str(eats[0].height) if len(eats) == 1 else "?",
        "count_in_town": lambda: str(len(in_town)),
        "tallest": lambda: by_height[-1].name,
        "sum_in_town": lambda: str(sum(c.height for c in in_town)),
        "shortest_in_town": lambda: next(c for c in by_height if c.town == f["town"]).name,
        "count_eaters_taller": lambda: str(len([c for c in eats if c.height > f["limit"]])),
        "food_of_tallest_in_town": lambda: [c for c in by_height if c.town == f["town"]][-1].food,
        "sum_in_town_eating": lambda: str(sum(c.height for c in in_town if c in eats)),
        "count_in_town_taller_than": lambda: str(
            len([c for c in in_town if c.height > next(x.height for x in w if x.name == f["subject"])])),
        "range_in_town": lambda: str(max(c.height for c in in_town) - min(c.height for c in in_town)),
        "home_of_second_tallest_eater": lambda: [c for c in by_height if c in eats][-2].town,
    }
    return answers[q]()


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 6, 8, 9, 10, 15, 22, 30])
def test_problem_follows_the_plan(difficulty: int) -> None:
    fam = ReadingComprehension()
    p = fam.plan(difficulty)
    for index in range(15):
        it = item(fam, difficulty, index=index)
        f = it.problem.facts
        world = list(f["world"])
        assert len(world) == p["creatures"] == len({c.name for c in world})
        assert f["qtype"] in [q for q, needs in QUESTIONS[p["steps"]] if needs <= p["attributes"]]
        assert (f["kind"] == "number") == (f["qtype"] in NUMERIC)
        assert _solve(it) == it.problem.answer
        # Every creature is in the passage, with exactly the planned attributes.
        assert all(f"The {c.name} lives in {c.town}." in it.prompt for c in world)
        assert (" eats " in it.prompt) == (p["attributes"] >= 2)
        assert (" cm tall." in it.prompt) == (p["attributes"] >= 3)


def test_chance_is_a_blind_name_guess() -> None:
    fam = ReadingComprehension()
    assert fam.chance(1) == pytest.approx(1 / 3)  # three creatures in three towns (version 5)
    assert 0.0 < fam.chance(30) < 0.1
    assert fam.chance(31) == fam.chance(50) == 0.0  # 31..50: the answer is a sum of numbers
    assert fam.chance(51) == fam.chance(fam.top) == pytest.approx(1 / 10007)  # above: a residue mod 10007


def _answer_from_prompt(prompt: str) -> int:
    """Read the passage and the numbered questions from the prompt text alone, answer each, add up."""
    world = {m[0]: [m[1], m[2], int(m[3])] for m in re.findall(
        r"The (\w+) lives in (\w+)\. The \1 eats ([\w ]+?)\. The \1 is (\d+) cm tall\.", prompt)}
    total = 0
    asked = re.findall(r"^\d+\. (.+)$", prompt, re.M) or [prompt.rsplit("\n", 1)[-1].split("?")[0] + "?"]
    for q in asked:
        if m := re.fullmatch(r"What is the total height, in cm, of all the creatures living in (\w+)\?", q):
            total += sum(h for t, _, h in world.values() if t == m[1])
        elif m := re.fullmatch(r"What is the total height, in cm, of all the creatures that live in (\w+) "
                               r"and eat ([\w ]+)\?", q):
            total += sum(h for t, f, h in world.values() if t == m[1] and f == m[2])
        elif m := re.fullmatch(r"How many creatures that eat ([\w ]+) are taller than (\d+) cm\?", q):
            total += sum(f == m[1] and h > int(m[2]) for _, f, h in world.values())
        elif m := re.fullmatch(r"How many creatures living in (\w+) are taller than the (\w+)\?", q):
            total += sum(t == m[1] and h > world[m[2]][2] for t, _, h in world.values())
        else:
            m = re.fullmatch(r"By how many cm is the tallest creature living in (\w+) taller than the shortest "
                             r"creature living in \1\?", q)
            assert m, q
            heights = [h for t, _, h in world.values() if t == m[1]]
            total += max(heights) - min(heights)
    return total


@pytest.mark.parametrize("difficulty", [31, 35, 40, 45, 50])
def test_combined_questions_answer_from_the_prompt(difficulty: int) -> None:
    """Above 30 an independent reader of the prompt text alone gets the reference sum."""
    fam = ReadingComprehension()
    p = fam.plan(difficulty)
    for index in range(6):
        it = item(fam, difficulty, index=index)
        parts = it.problem.facts["parts"]
        numbered = set(re.findall(r"^\d+\. (.+)$", it.prompt, re.M))
        assert len(parts) == p["questions"] == (len(numbered) if p["questions"] > 1 else 1)
        assert len(it.problem.facts["world"]) == 304
        assert _answer_from_prompt(it.prompt) == int(it.problem.answer)
        assert all(len(item(fam, difficulty, n, index).prompt) < 48_000 for n in range(4))  # ~12k tokens


def _world_from_prompt(text: str) -> dict[str, tuple[str, str, int]]:
    """Every creature's (town, food, height) read from a passage in any of the four renderings."""
    world = {m[0]: (m[1], m[2], int(m[3])) for m in re.findall(
        r"The (\w+) lives in (\w+)\. The \1 eats ([\w ]+?)\. The \1 is (\d+) cm tall\.", text)}
    world |= {m[1]: (m[0], m[3], int(m[2])) for m in re.findall(
        r"In (\w+) you will find the (\w+), a creature (\d+) cm tall and feeding on ([\w ]+?)\.", text)}
    world |= {m[0]: (m[1], m[2], int(m[3])) for m in re.findall(
        r"^\| (\w+) \| (\w+) \| ([\w ]+?) \| (\d+) \|$", text, re.M)}
    return world


def _walk_from_prompt(prompt: str) -> int:
    """Answer a walk item from its prompt text alone: parse the passage and the rule, run every step."""
    m = re.search(r"Number the towns (.*?); number the foods (.*?)\. Start with a = (\d+)\. Then for each step "
                  r"i = 1, 2, \.\.\., (\d+): let s be the total height, in cm, of the creatures that live in the "
                  r"town numbered a mod (\d+), eat the food numbered \(a // (\d+)\) mod (\d+) \(a divided by "
                  r"\d+, rounded down\) and are taller than a mod (\d+) cm \(s = 0 if there are none\), and set "
                  r"a = \((\d+) \* a \+ s \+ i\) mod (\d+)\. What is a after step \4\?", prompt)
    assert m, prompt[-900:]
    towns = [x.split(" ", 1)[1] for x in m[1].split(", ")]
    foods = [x.split(" ", 1)[1] for x in m[2].split(", ")]
    assert int(m[5]) == int(m[6]) == len(towns) and int(m[7]) == len(foods)
    world = _world_from_prompt(prompt[: m.start()])
    assert len(world) == 304
    a = int(m[3])
    for i in range(1, int(m[4]) + 1):
        town, food, limit = towns[a % len(towns)], foods[a // len(towns) % len(foods)], a % int(m[8])
        s = sum(h for t, f, h in world.values() if t == town and f == food and h > limit)
        a = (int(m[9]) * a + s + i) % int(m[10])
    return a


@pytest.mark.parametrize("difficulty", [51, 52, 60, 75, 100])
def test_walk_answers_from_the_prompt(difficulty: int) -> None:
    """Above level 50 an independent reader of the prompt text alone (every novelty) gets the reference."""
    fam = ReadingComprehension()
    for index in range(2):
        for novelty in range(4):
            it = item(fam, difficulty, novelty, index)
            assert str(_walk_from_prompt(it.prompt)) in it.answer
            assert f"..., {fam.plan(difficulty)['walk']}:" in it.prompt and len(it.prompt) < 48_000


def test_walk_filters_vary_and_answers_spread() -> None:
    """The walk's filters reach most (town, food) pairs and the answers spread over the residues."""
    fam = ReadingComprehension()
    answers = set()
    for index in range(6):
        f = item(fam, 75, index=index).problem.facts
        towns, foods, start, steps = f["walk"]
        a, pairs, nonzero = start, set(), 0
        for i in range(1, steps + 1):
            pair = (towns[a % 6], foods[a // 6 % 8])
            pairs.add(pair)
            s = sum(c.height for c in f["world"] if (c.town, c.food) == pair and c.height > a % 900)
            nonzero += s > 0
            a = (31 * a + s + i) % 10007
        assert len(pairs) >= 40 and nonzero >= steps // 3
        answers.add(a)
    assert len(answers) == 6


#: Version 3 added levels 31..50 (numeric questions summed); these pin them (kept by versions 4 and 5).
V3_DIGESTS = {31: "2ca11ee1792740bf4c770b6e1ff61f3c", 40: "a645af8bfc342623c2268f4dc2f225cd",
              50: "5497c2813998a4a90d2a135bfcc69d39"}
#: Version 4 added levels 51..100 (a walk of dependent filtered sums); these pin them.
V4_DIGESTS = {51: "263bf846b569042c50c695a51e99198d", 75: "4da79efe2272f14d048011d333d62693",
              100: "e34b291ab53f484296e77da8b9b084e6"}


@pytest.mark.parametrize("digests", [V3_DIGESTS, V4_DIGESTS])
def test_version_3_and_4_levels_pinned(digests: dict[int, str]) -> None:
    import hashlib

    fam = ReadingComprehension()
    assert fam.version == "5"  # version 5 changed levels 1..3 only
    for d, expected in digests.items():
        h = hashlib.sha256()
        for i in range(3):
            for n in range(4):
                it = make_item(fam, b"pin-v3-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
        assert h.hexdigest()[:32] == expected, d


OLD_TOP = 30  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 4, 10 and the old top, and the old plans from level 4, hash as in version 4.

    Version 5 changed levels 1..3 only (three creatures, level 1 one fact per line; pinned below);
    these digests were taken from version 4's code and equal version 5's.
    """
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.comprehension import ReadingComprehension as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (4, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "93738898bdd53723b8099b2c87054ff33860cc83ec79b7f84ef2e47ea4598704"
    old_keys = ('creatures', 'attributes', 'steps')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(4, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "05def93274d90186b676849a237d3c57f3e1b810e6e8048330e857fcb4ca78aa"


def test_version_5_low_levels_pinned() -> None:
    """Levels 1..3 as version 5 made them; level 1 lists one fact per line under a header."""
    import hashlib

    fam = ReadingComprehension()
    h = hashlib.sha256()
    for d in (1, 2, 3):
        for i in range(3):
            for n in range(4):
                it = make_item(fam, b"pin-v5-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "e5b1edfb76f6e0670e5ce6279313d4adb3eea856962eaf228a7fcb5f61f35711"
    it = make_item(fam, b"layout", 0, 1, 0)
    facts = it.prompt.split("\n\n")[1].split("\n")
    assert it.prompt.startswith("Read the notes below, then answer.\n\n") and len(facts) == 3
    assert all(re.fullmatch(r"The \w+ lives in \w+\.", line) for line in facts)
