"""Reading comprehension over an invented world: creatures, their towns, food and heights.

Everything is fictional, so only the passage can answer. Levels move from a direct lookup to
multi-hop questions, counting, superlatives and filtered sums. Answers are a name or a number.
Scoring: exact match (names case-insensitive, numbers exact); no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, score_exact, score_number, wrap_answer
from probes.extract import normalise

_CREATURES = ("glimmerfox", "bramblewick", "thornhopper", "mossgrub", "skyreel", "duskmoth", "emberling",
              "frostnewt", "quillback", "rustbeak", "tidecrawler", "velvetoad", "windmaw", "zephyrkin")
_TOWNS = ("Tarnwick", "Ossel", "Brimholt", "Quenth", "Lurrow", "Vesk")
_FOODS = ("brindleberries", "salt moss", "copper beetles", "cloudroot", "ash plums", "reed honey",
          "glass snails", "sunbark")
# (creatures, question type) per level.
_PLAN = {1: (3, "home"), 2: (5, "food"), 3: (5, "home_of_eater"), 4: (6, "height_of_eater"),
         5: (6, "count_in_town"), 6: (8, "tallest"), 7: (8, "sum_in_town"), 8: (10, "shortest_in_town"),
         9: (10, "count_eaters_taller"), 10: (12, "food_of_tallest_in_town")}


class Creature(NamedTuple):
    """One invented creature."""

    name: str
    town: str
    food: str
    height: int


@dataclass(frozen=True)
class ReadingComprehension(ProbeFamily):
    """Answer questions about a passage describing an invented world."""

    name = "reading_comprehension"
    skill = "comprehension"
    version = "1"
    levels = (
        "3 creatures, where does X live",
        "5 creatures, what does X eat",
        "5 creatures, where does the creature that eats F live (2 hops)",
        "6 creatures, how tall is the creature that eats F",
        "6 creatures, how many live in town T",
        "8 creatures, which is the tallest",
        "8 creatures, total height of those living in T",
        "10 creatures, which living in T is the shortest",
        "10 creatures, how many eating F are taller than H",
        "12 creatures, what does the tallest living in T eat (3 steps)",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, qtype = _PLAN[difficulty]
        names = rng.sample(_CREATURES, n)
        towns = [pick(rng, _TOWNS[: 2 + n // 3]) for _ in names]
        # Distinct foods where a food must identify one creature; shared foods for counting.
        foods = (rng.sample(_FOODS, n) if n <= len(_FOODS) and qtype != "count_eaters_taller"
                 else [pick(rng, _FOODS[:4]) for _ in names])
        heights = rng.sample(range(5, 300), n)
        world = [Creature(*row) for row in zip(names, towns, foods, heights, strict=True)]
        subject = pick(rng, world)
        town = subject.town
        in_town = [c for c in world if c.town == town]
        facts: dict[str, object] = {"world": world, "qtype": qtype, "subject": subject.name, "town": town}
        kind = "name"
        if qtype == "home":
            answer = subject.town
        elif qtype == "food":
            answer = subject.food
        elif qtype == "home_of_eater":
            answer, facts["food"] = subject.town, subject.food
        elif qtype == "height_of_eater":
            answer, facts["food"], kind = str(subject.height), subject.food, "number"
        elif qtype == "count_in_town":
            answer, kind = str(len(in_town)), "number"
        elif qtype == "tallest":
            answer = max(world, key=lambda c: c.height).name
        elif qtype == "sum_in_town":
            answer, kind = str(sum(c.height for c in in_town)), "number"
        elif qtype == "shortest_in_town":
            answer = min(in_town, key=lambda c: c.height).name
        elif qtype == "count_eaters_taller":
            limit = rng.randint(50, 250)
            facts["food"], facts["limit"] = subject.food, limit
            eaters = [c for c in world if c.food == subject.food and c.height > limit]
            answer, kind = str(len(eaters)), "number"
        else:
            answer = max(in_town, key=lambda c: c.height).food
        facts["kind"] = kind
        return Problem(facts=facts, answer=str(answer))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        world: list[Creature] = list(f["world"])
        if novelty >= 2:
            rng.shuffle(world)
        sentences = []
        for c in world:
            a = c.name
            if novelty == 1:
                sentences.append(f"In {c.town} you will find the {a}, a creature {c.height} cm tall "
                                 f"that feeds on {c.food}.")
            else:
                sentences.append(f"The {a} lives in {c.town}. The {a} eats {c.food}. "
                                 f"The {a} is {c.height} cm tall.")
        if novelty == 2:
            sentences.insert(rng.randint(0, len(sentences)),
                             f"Travellers say the roads to {f['town']} are muddy in spring.")
        q = {
            "home": f"Where does the {f['subject']} live?",
            "food": f"What does the {f['subject']} eat?",
            "home_of_eater": f"Where does the creature that eats {f.get('food')} live?",
            "height_of_eater": f"How tall, in cm, is the creature that eats {f.get('food')}?",
            "count_in_town": f"How many of these creatures live in {f['town']}?",
            "tallest": "Which creature is the tallest?",
            "sum_in_town": f"What is the total height, in cm, of all the creatures living in {f['town']}?",
            "shortest_in_town": f"Which creature living in {f['town']} is the shortest?",
            "count_eaters_taller": f"How many creatures that eat {f.get('food')} are taller than "
                                   f"{f.get('limit')} cm?",
            "food_of_tallest_in_town": f"What does the tallest creature living in {f['town']} eat?",
        }[str(f["qtype"])]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "number" if f["kind"] == "number" else "name")
        if novelty == 3:
            rows = "\n".join(f"| {c.name} | {c.town} | {c.food} | {c.height} |" for c in world)
            prompt = (f"From a naturalist's field notebook on the islands of Merrow:\n"
                      f"| creature | town | food | height (cm) |\n|---|---|---|---|\n{rows}\n{q} {fmt}")
        else:
            prompt = " ".join(sentences) + f"\n\n{q} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        if item.problem.facts["kind"] == "number":
            return score_number(response, item.problem.answer)
        verdict = score_exact(response, item.problem.answer, fold_case=True)
        if verdict.canonical is not None and verdict.canonical.startswith("the "):
            # "The glimmerfox" names the glimmerfox.
            canon = verdict.canonical[4:]
            return Verdict(1.0 if canon == normalise(item.problem.answer) else 0.0, verdict.extracted, canon)
        return verdict
