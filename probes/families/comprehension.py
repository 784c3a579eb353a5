"""Reading comprehension over an invented world: creatures, their towns, food and heights.

What grows (``plan``): the number of creatures described (``creatures = floor(2 * 2**((c-1)/4))``
with ``c = min(d, 30)``, at least 3: 3 at level 1, 9 at level 10, 304 from level 30 on, ~28k characters),
the attributes given per creature (``attributes = min(3, d)``: town, then food, then height) and
the reasoning steps the question needs (``steps = min(4, 1 + d//3)``): a direct lookup (1), a
two-hop lookup, count or superlative (2), a filtered sum, count or superlative (3), and two
filters or a rank combined with a difference or a second hop (4). Above level 30 (version 2's
top, which a frontier model without tools passed 5/5: its questions touched a handful of
creatures) the passage stays the same size and the prompt asks ``questions`` distinct numeric
questions (1 up to level 30, then ``floor(2**((d-30)/5))``, 16 at the top level 50: town totals
over some fifty heights, filtered counts and sums, ranges) and wants the sum of their answers;
the main size is ``reads = creatures * questions`` (each question is its own pass over the
passage). Levels 1..30 are generated exactly as in version 2, 31..50 exactly as in version 3.
A frontier model without tools passed version 3 up to its top (2/2 at 50: 16 questions over 304
creatures summed correctly). Above level 50 (version 4) the passage stays the same and the prompt
asks for a walk of ``walk = floor(16 * 2**((d-50)/5))`` dependent steps (18 at level 51, 16,384 at
the top 100): ``a`` starts at a given residue, and each step sums the heights of the creatures in
the town numbered ``a mod 6`` eating the food numbered ``(a // 6) mod 8`` and taller than ``a mod 900``
cm (a filtered pass over the passage whose filter depends on the previous result), then sets
``a = (31 * a + s + i) mod 10007``; the answer is the last ``a``, so one wrong height or one slip in
any step changes it, and the steps double every five levels.
Level 1 (version 5) lists its three facts one per line under "Read the notes below, then answer."
(``packed = 0``); from level 2 on the facts run together as one paragraph. Levels 4..100 are
generated exactly as in version 4.
Everything is fictional, so only the passage can answer. Answers are a name or a number.
Scoring: numbers exact; a name answer passes when the final answer names the right one and
no other of its kind (so "The glimmerfox lives in Tarnwick." answers "where?"); no partial credit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, score_number, wrap_answer
from probes.extract import extract_final, normalise

_HEADS = ("glimmer", "bramble", "thorn", "moss", "sky", "dusk", "ember", "frost", "quill", "rust", "tide",
          "velvet", "wind", "zephyr", "ash", "brine", "cinder", "dew", "fern", "gloam", "hollow", "ivy",
          "marsh", "pebble")
_TAILS = ("fox", "wick", "hopper", "grub", "reel", "moth", "ling", "newt", "back", "beak", "crawler", "toad",
          "maw", "kin", "wing", "snout", "tail", "horn", "fin", "paw")
#: Every creature name: a head and a tail, so many differ in one part only.
CREATURES = tuple(h + t for h in _HEADS for t in _TAILS)
TOWNS = ("Tarnwick", "Ossel", "Brimholt", "Quenth", "Lurrow", "Vesk")
FOODS = ("brindleberries", "salt moss", "copper beetles", "cloudroot", "ash plums", "reed honey",
         "glass snails", "sunbark", "fog lichen")
#: Foods the world draws from; the last one is kept back for a creature that must be the only eater.
_SHARED_FOODS = len(FOODS) - 1
#: Question types by the number of reasoning steps they need, and the attributes they read.
QUESTIONS: dict[int, tuple[tuple[str, int], ...]] = {
    1: (("home", 1), ("food", 2), ("height", 3)),
    2: (("home_of_eater", 2), ("height_of_eater", 3), ("count_in_town", 1), ("tallest", 3)),
    3: (("sum_in_town", 3), ("shortest_in_town", 3), ("count_eaters_taller", 3), ("food_of_tallest_in_town", 3)),
    4: (("sum_in_town_eating", 3), ("count_in_town_taller_than", 3), ("range_in_town", 3),
        ("home_of_second_tallest_eater", 3)),
}
NUMERIC = {"height", "height_of_eater", "count_in_town", "sum_in_town", "count_eaters_taller",
           "sum_in_town_eating", "count_in_town_taller_than", "range_in_town"}
#: What kind of name a name question answers with.
ANSWER_KIND = {"home": "town", "food": "food", "home_of_eater": "town", "tallest": "creature",
               "shortest_in_town": "creature", "food_of_tallest_in_town": "food",
               "home_of_second_tallest_eater": "town"}


class Creature(NamedTuple):
    """One invented creature."""

    name: str
    town: str
    food: str
    height: int


#: The top before the scale was extended: levels 1..OLD_TOP are generated exactly as before.
OLD_TOP = 30
#: Numeric question types a combined question (above the old top) draws its parts from.
PART_TYPES = ("sum_in_town", "count_eaters_taller", "sum_in_town_eating", "count_in_town_taller_than",
              "range_in_town")


#: The last level generated as in version 3 (calibrated: a frontier model passed 50).
V3_TOP = 50
#: The walk's update above V3_TOP: a = (WALK_MULT * a + s + step) mod WALK_PRIME.
WALK_MULT, WALK_PRIME = 31, 10007
#: The height threshold of a walk step is a mod HEIGHT_MOD (heights run 5..916).
HEIGHT_MOD = 900


def plan_at(d: int) -> dict[str, int]:
    """The size parameters at level ``d`` (see the module docstring)."""
    # Version 5: at least three creatures (a blind pick of a town is right a third of the time, not
    # half), and at level 1 one fact per line under a "read the notes" header (packed = 0), the
    # layout a 135M model reads reliably (SmolLM2: 22/24 against 6/12 for two facts run together).
    creatures = max(3, int(2 * 2 ** ((min(d, OLD_TOP) - 1) / 4)))
    questions = 1 if d <= OLD_TOP else int(2 ** ((min(d, V3_TOP) - OLD_TOP) / 5))
    walk = 0 if d <= V3_TOP else int(16 * 2 ** ((d - V3_TOP) / 5))
    return {"reads": creatures * max(questions, walk), "creatures": creatures, "attributes": min(3, d),
            "steps": min(4, 1 + d // 3), "questions": questions, "walk": walk, "packed": int(d > 1)}


def walk_sum(world: list[Creature], town: str, food: str, limit: int) -> int:
    """A walk step's read: the total height of the creatures in ``town`` eating ``food`` taller than ``limit``."""
    return sum(c.height for c in world if c.town == town and c.food == food and c.height > limit)


def walk(world: list[Creature], towns: list[str], foods: list[str], start: int, steps: int) -> int:
    """``a`` after ``steps`` updates; each step's filter (town a mod 6, food (a // 6) mod 8, threshold
    a mod 900) comes from the last ``a``."""
    table: dict[tuple[str, str], list[int]] = {}
    for c in world:
        table.setdefault((c.town, c.food), []).append(c.height)
    a = start
    for i in range(1, steps + 1):
        heights = table.get((towns[a % len(towns)], foods[a // len(towns) % len(foods)]), [])
        s = sum(h for h in heights if h > a % HEIGHT_MOD)
        a = (WALK_MULT * a + s + i) % WALK_PRIME
    return a


def _walk_problem(rng: random.Random, world: list[Creature], p: dict[str, int]) -> Problem:
    """Above version 3's levels: a walk of dependent filtered sums over the passage."""
    towns = rng.sample(sorted({c.town for c in world}), len({c.town for c in world}))
    foods = rng.sample(sorted({c.food for c in world}), len({c.food for c in world}))
    start = rng.randrange(WALK_PRIME)
    facts: dict[str, object] = {"world": world, "qtype": "walk", "kind": "number", "attributes": p["attributes"],
                                "walk": (towns, foods, start, p["walk"])}
    return Problem(facts=facts, answer=str(walk(world, towns, foods, start, p["walk"])))


def walk_question(towns: list[str], foods: list[str], start: int, steps: int) -> str:
    """The question of a walk item: every step's filter depends on the previous step's result."""
    t = ", ".join(f"{i} {x}" for i, x in enumerate(towns))
    f = ", ".join(f"{i} {x}" for i, x in enumerate(foods))
    return (f"Number the towns {t}; number the foods {f}. Start with a = {start}. Then for each step "
            f"i = 1, 2, ..., {steps}: let s be the total height, in cm, of the creatures that live in the town "
            f"numbered a mod {len(towns)}, eat the food numbered (a // {len(towns)}) mod {len(foods)} (a divided by "
            f"{len(towns)}, rounded down) and are taller than "
            f"a mod {HEIGHT_MOD} cm (s = 0 if there are none), and set a = ({WALK_MULT} * a + s + i) mod "
            f"{WALK_PRIME}. What is a after step {steps}?")


def _counts(n: int) -> tuple[int, int]:
    """How many towns and shared foods a world of ``n`` creatures uses."""
    return min(len(TOWNS), 2 + n // 3), min(_SHARED_FOODS, 2 + n // 3)


def _question(qtype: str, world: list[Creature], rng: random.Random) -> tuple[dict[str, object], str] | None:
    """The question's parameters and answer, or None when this world cannot pose it."""
    subject = pick(rng, world)
    town, food = subject.town, subject.food
    in_town = [c for c in world if c.town == town]
    eaters = [c for c in world if c.food == food]
    if qtype == "home":
        return {"subject": subject.name}, subject.town
    if qtype == "food":
        return {"subject": subject.name}, subject.food
    if qtype == "height":
        return {"subject": subject.name}, str(subject.height)
    if qtype in ("home_of_eater", "height_of_eater"):
        if len(eaters) != 1:
            return None
        return {"food": food}, subject.town if qtype == "home_of_eater" else str(subject.height)
    if qtype == "count_in_town":
        return {"town": town}, str(len(in_town))
    if qtype == "tallest":
        return {}, max(world, key=lambda c: c.height).name
    if qtype == "sum_in_town":
        return {"town": town}, str(sum(c.height for c in in_town))
    if qtype == "shortest_in_town":
        return {"town": town}, min(in_town, key=lambda c: c.height).name
    if qtype == "count_eaters_taller":
        limit = rng.randint(20, 280)
        return {"food": food, "limit": limit}, str(sum(c.height > limit for c in eaters))
    if qtype == "food_of_tallest_in_town":
        return {"town": town}, max(in_town, key=lambda c: c.height).food
    if qtype == "sum_in_town_eating":
        return {"town": town, "food": food}, str(sum(c.height for c in in_town if c.food == food))
    if qtype == "count_in_town_taller_than":
        other = pick(rng, world)
        return {"town": town, "subject": other.name}, str(sum(c.height > other.height for c in in_town))
    if qtype == "range_in_town":
        if len(in_town) < 2:
            return None
        heights = [c.height for c in in_town]
        return {"town": town}, str(max(heights) - min(heights))
    if len(eaters) < 2:  # home_of_second_tallest_eater
        return None
    return {"food": food}, sorted(eaters, key=lambda c: -c.height)[1].town


_ASK: dict[str, Callable[[dict[str, object]], str]] = {
    "home": lambda f: f"Where does the {f['subject']} live?",
    "food": lambda f: f"What does the {f['subject']} eat?",
    "height": lambda f: f"How tall, in cm, is the {f['subject']}?",
    "home_of_eater": lambda f: f"Where does the creature that eats {f['food']} live?",
    "height_of_eater": lambda f: f"How tall, in cm, is the creature that eats {f['food']}?",
    "count_in_town": lambda f: f"How many of these creatures live in {f['town']}?",
    "tallest": lambda f: "Which creature is the tallest?",
    "sum_in_town": lambda f: f"What is the total height, in cm, of all the creatures living in {f['town']}?",
    "shortest_in_town": lambda f: f"Which creature living in {f['town']} is the shortest?",
    "count_eaters_taller": lambda f: f"How many creatures that eat {f['food']} are taller than {f['limit']} cm?",
    "food_of_tallest_in_town": lambda f: f"What does the tallest creature living in {f['town']} eat?",
    "sum_in_town_eating": lambda f: (f"What is the total height, in cm, of all the creatures that live in "
                                     f"{f['town']} and eat {f['food']}?"),
    "count_in_town_taller_than": lambda f: (f"How many creatures living in {f['town']} are taller than the "
                                            f"{f['subject']}?"),
    "range_in_town": lambda f: (f"By how many cm is the tallest creature living in {f['town']} taller than the "
                                f"shortest creature living in {f['town']}?"),
    "home_of_second_tallest_eater": lambda f: (f"Where does the second-tallest of the creatures that eat "
                                               f"{f['food']} live?"),
}


def _world(rng: random.Random, n: int) -> list[Creature]:
    """``n`` creatures with distinct names and heights, towns and foods drawn for them."""
    n_towns, n_foods = _counts(n)
    names = rng.sample(CREATURES, n)
    heights = rng.sample(range(5, 5 + max(300, 3 * n)), n)
    # Small worlds give every creature its own town, so a lookup is never answered by luck.
    towns = rng.sample(TOWNS[:n_towns], n) if n <= n_towns else [pick(rng, TOWNS[:n_towns]) for _ in names]
    return [Creature(name, town, pick(rng, FOODS[:n_foods]), h)
            for name, town, h in zip(names, towns, heights, strict=True)]


def _combined(rng: random.Random, world: list[Creature], p: dict[str, int]) -> Problem:
    """Above the old top: several distinct numeric questions over one world; the answer is their sum.

    Every part needs its own pass over the whole passage (a town's total height adds some fifty
    three-digit numbers), and one slip in any part fails the item.
    """
    parts: list[tuple[str, dict[str, object], str]] = []
    seen: set[str] = set()
    while len(parts) < p["questions"]:
        qtype = pick(rng, PART_TYPES)
        asked = _question(qtype, world, rng)
        if asked is None:
            continue
        params, answer = asked
        text = _ASK[qtype](params)
        if text not in seen:
            seen.add(text)
            parts.append((qtype, params, answer))
    total = sum(int(a) for _, _, a in parts)
    facts: dict[str, object] = {"world": world, "qtype": "sum_of_parts", "kind": "number",
                                "attributes": p["attributes"], "parts": parts}
    return Problem(facts=facts, answer=str(total))


def _describe(c: Creature, attributes: int, novelty: int) -> str:
    a = c.name
    if novelty == 1:
        parts = [f"In {c.town} you will find the {a}"]
        if attributes >= 3:
            parts.append(f", a creature {c.height} cm tall")
        if attributes >= 2:
            parts.append(f"{' and' if attributes >= 3 else ','} feeding on {c.food}")
        return "".join(parts) + "."
    text = f"The {a} lives in {c.town}."
    if attributes >= 2:
        text += f" The {a} eats {c.food}."
    if attributes >= 3:
        text += f" The {a} is {c.height} cm tall."
    return text


@dataclass(frozen=True)
class ReadingComprehension(ProbeFamily):
    """Answer questions about a passage describing an invented world."""

    name = "reading_comprehension"
    skill = "comprehension"
    version = "5"
    top = 100
    grows = "reads"
    formula = ("creatures = max(3, floor(2 * 2**((min(d, 30)-1)/4))); packed (facts run together) from d=2; "
               "attributes = min(3, d); steps = min(4, 1 + d//3); "
               "questions = 1 to d=30, then floor(2**((min(d, 50)-30)/5)) numeric questions whose answers are "
               "summed (to d=50); walk = 0 to d=50, then floor(16 * 2**((d-50)/5)) dependent filtered sums "
               "a = (31a + s + i) mod 10007; reads = creatures * max(questions, walk)")

    def plan(self, difficulty: int) -> dict[str, int]:
        return plan_at(difficulty)

    def _types(self, difficulty: int) -> list[str]:
        p = self.plan(difficulty)
        return [q for q, needs in QUESTIONS[p["steps"]] if needs <= p["attributes"]]

    def chance(self, difficulty: int) -> float:
        """A blind guess of a name among those of its kind in the passage; numbers count as open."""
        if difficulty > V3_TOP:
            return 1 / WALK_PRIME  # a residue mod 10007
        if difficulty > OLD_TOP:
            return 0.0  # a sum of numeric answers
        n = self.plan(difficulty)["creatures"]
        towns, foods = _counts(n)
        size = {"town": towns, "food": foods, "creature": n}
        types = self._types(difficulty)
        return sum(1 / size[ANSWER_KIND[q]] for q in types if q not in NUMERIC) / len(types)

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        world = _world(rng, p["creatures"])
        if difficulty > V3_TOP:
            return _walk_problem(rng, world, p)
        if difficulty > OLD_TOP:
            return _combined(rng, world, p)
        n = p["creatures"]
        types = self._types(difficulty)
        qtype = pick(rng, types)
        if qtype in ("home_of_eater", "height_of_eater"):
            # The food named in the question must identify one creature: give one the kept-back food.
            i = rng.randrange(n)
            world[i] = world[i]._replace(food=FOODS[-1])
            rng.shuffle(world)
        asked = None
        for _ in range(20):
            asked = _question(qtype, world, rng)
            if asked is not None:
                break
            qtype = pick(rng, [q for q in types if q not in ("home_of_eater", "height_of_eater")])
        if asked is None:  # unreachable: counts, sums and superlatives exist in every world
            raise ValueError(f"no {qtype} question in this world")
        params, answer = asked
        kind = "number" if qtype in NUMERIC else ANSWER_KIND[qtype]
        facts: dict[str, object] = {"world": world, "qtype": qtype, "kind": kind,
                                    "attributes": p["attributes"], "packed": p["packed"], **params}
        return Problem(facts=facts, answer=answer)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        world: list[Creature] = list(f["world"])
        attributes = int(f["attributes"])
        if novelty >= 2:
            rng.shuffle(world)
        sentences = [_describe(c, attributes, novelty) for c in world]
        if novelty == 2:
            sentences.insert(rng.randint(0, len(sentences)),
                             f"Travellers say the roads to {pick(rng, TOWNS)} are muddy in spring.")
        parts: list[tuple[str, dict[str, object], str]] = list(f.get("parts", []))
        if "walk" in f:
            q = walk_question(*f["walk"])
        elif len(parts) == 1:  # levels 31..34: one numeric question, asked plainly
            q = _ASK[parts[0][0]](parts[0][1])
        elif parts:
            asked = "\n".join(f"{i}. {_ASK[qtype](params)}" for i, (qtype, params, _) in enumerate(parts, 1))
            q = (f"Answer each of these {len(parts)} questions about the creatures above:\n{asked}\n"
                 f"What is the sum of the {len(parts)} answers?")
        else:
            q = _ASK[str(f["qtype"])](dict(f))
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "number" if f["kind"] == "number" else "name")
        if novelty == 3:
            columns = ("creature", "town", "food", "height (cm)")[: attributes + 1]
            cells = [(c.name, c.town, c.food, str(c.height))[: attributes + 1] for c in world]
            rows = "\n".join("| " + " | ".join(row) + " |" for row in cells)
            head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
            prompt = f"From a naturalist's field notebook on the islands of Merrow:\n{head}\n{rows}\n{q} {fmt}"
        elif not f.get("packed", 1):
            prompt = "Read the notes below, then answer.\n\n" + "\n".join(sentences) + f"\n\n{q} {fmt}"
        else:
            prompt = " ".join(sentences) + f"\n\n{q} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        f = item.problem.facts
        if f["kind"] == "number":
            return score_number(response, item.problem.answer)
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        world: list[Creature] = list(f["world"])
        kind = str(f["kind"])
        names = {c.town if kind == "town" else c.food if kind == "food" else c.name for c in world}
        said = normalise(final)
        named = [x for x in names if re.search(rf"\b{re.escape(x.casefold())}\b", said)]
        if len(named) != 1:  # none, or several of the kind ("the glimmerfox and the mossgrub")
            return Verdict(0.0, final, said)
        canon = named[0].casefold()
        return Verdict(1.0 if canon == item.problem.answer.casefold() else 0.0, final, canon)
