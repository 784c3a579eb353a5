"""Multi-step word problems in the GSM-Symbolic style: random names, objects, units and numbers.

Each problem is a chain of events on one quantity (buy, give away, multiply, halve, share) and,
at higher levels, a final price step. Novelty 2 renames people and adds irrelevant "no-op"
clauses (the GSM-NoOp perturbation); novelty 3 tells the same events as a diary table.
Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import (
    NAMES,
    ODD_NAMES,
    answer_instruction,
    format_for,
    numeric_score,
    odd_number,
    pick,
    wrap_answer,
)

_THINGS = (
    ("apples", "crate"), ("marbles", "jar"), ("stickers", "album"), ("books", "shelf"),
    ("pencils", "box"), ("seashells", "bucket"), ("stamps", "folder"), ("eggs", "basket"),
    ("cards", "deck box"), ("coins", "purse"),
)
_CURRENCIES = ("dollars", "euros", "crowns", "florins", "rupees")
# (steps, max start, max step amount, price step?) per level.
_PLAN = {
    1: (1, 9, 9, False), 2: (2, 20, 9, False), 3: (2, 40, 20, False), 4: (3, 50, 20, False),
    5: (4, 60, 30, False), 6: (4, 80, 30, True), 7: (5, 100, 40, True), 8: (6, 150, 50, True),
    9: (7, 200, 60, True), 10: (8, 300, 80, True),
}
_NOOPS = (
    "{o} also owns a bicycle that is {k} years old.",
    "{k} of the {thing} are a slightly different colour, but they count the same.",
    "The shop where {n} goes is {k} minutes away.",
    "{o} thinks {k} is a lucky number.",
    "It rained for {k} hours that week.",
)


def _events(rng: random.Random, difficulty: int) -> tuple[int, list[tuple[str, int]], int]:
    steps, max_start, max_k, _ = _PLAN[difficulty]
    x = rng.randint(max(2, max_start // 3), max_start)
    start = x
    events: list[tuple[str, int]] = []
    for _ in range(steps):
        choices = ["buy", "give"] + (["times", "half"] if difficulty >= 4 else [])
        kind = pick(rng, choices)
        if kind == "give" and x < 2:
            kind = "buy"
        if kind == "half" and x % 2:
            kind = "buy"
        if kind == "times" and x > 400:
            kind = "give"
        if kind == "buy":
            k = rng.randint(1, max_k)
            x += k
        elif kind == "give":
            k = rng.randint(1, min(max_k, x - 1))
            x -= k
        elif kind == "times":
            k = rng.randint(2, 3)
            x *= k
        else:
            k = 2
            x //= 2
        events.append((kind, k))
    return start, events, x


_TEXT = {
    0: {
        "buy": "{n} buys {k} more {thing}.",
        "give": "{n} gives {k} {thing} to {f}.",
        "times": "{n} then multiplies the collection so it is {k} times as large.",
        "half": "{n} gives half of the {thing} to {f}.",
    },
    1: {
        "buy": "Later, {n} gets another {k} {thing}.",
        "give": "After that, {f} receives {k} of {n}'s {thing}.",
        "times": "Next, the number of {thing} {n} has grows to {k} times what it was.",
        "half": "Then {n} hands exactly half of the {thing} over to {f}.",
    },
}


@dataclass(frozen=True)
class WordProblem(ProbeFamily):
    """Track a quantity through a chain of everyday events."""

    name = "word_problem"
    skill = "math_word"
    version = "1"
    levels = (
        "one event, numbers below 10",
        "two events, add and remove",
        "two events, numbers up to 40",
        "three events, adds multiply and halve",
        "four events, numbers up to 60",
        "four events plus a final price step",
        "five events plus price, numbers up to 100",
        "six events plus price, numbers up to 150",
        "seven events plus price, numbers up to 200",
        "eight events plus price, numbers up to 300",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        start, events, end = _events(rng, difficulty)
        thing, holder = pick(rng, _THINGS)
        price = rng.randint(2, 9) if _PLAN[difficulty][3] else 0
        facts = {
            "start": start, "events": events, "thing": thing, "holder": holder, "price": price,
            "person": rng.randrange(len(NAMES)), "friend": rng.randrange(len(NAMES)),
            "currency": pick(rng, _CURRENCIES),
        }
        return Problem(facts=facts, answer=str(end * price if price else end))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        pool = ODD_NAMES if novelty >= 2 else NAMES
        n = pool[f["person"] % len(pool)]
        friend = pool[f["friend"] % len(pool)]
        if friend == n:
            friend = pool[(f["person"] + 1) % len(pool)]
        thing, price, cur = f["thing"], f["price"], f["currency"]
        num = (lambda v: odd_number(v, rng)) if novelty == 2 else str
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if price:
            question = f"Each of the {thing} sells for {num(price)} {cur}. If {n} sells all of them, " \
                f"how many {cur} does {n} get?"
        else:
            question = f"How many {thing} does {n} have now?"
        if novelty == 3:
            rows = [f"| 1 | start | {f['start']} {thing} in the {f['holder']} |"]
            for i, (ev, k) in enumerate(f["events"], 2):
                what = {
                    "buy": f"bought {k}", "give": f"gave {k} to {friend}",
                    "times": f"collection became {k} times as large", "half": f"gave half to {friend}",
                }[ev]
                rows.append(f"| {i} | {what} | |")
            table = "\n".join(["| day | what happened | note |", "|---|---|---|", *rows])
            prompt = f"This is {n}'s diary about a {f['holder']} of {thing}:\n{table}\n{question} {fmt}"
            return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))
        texts = _TEXT[min(novelty, 1)]
        opening = (f"{n} has {num(f['start'])} {thing} in a {f['holder']}." if novelty != 1
                   else f"There are {num(f['start'])} {thing} in {n}'s {f['holder']}.")
        sentences = [opening]
        for ev, k in f["events"]:
            sentences.append(texts[ev].format(n=n, f=friend, k=num(k), thing=thing))
        if novelty == 2:
            # No-op clauses: true but irrelevant facts, inserted between events.
            for _ in range(1 + len(f["events"]) // 3):
                clause = pick(rng, _NOOPS).format(o=friend, n=n, k=rng.randint(2, 30), thing=thing)
                sentences.insert(rng.randint(1, len(sentences)), clause)
        prompt = " ".join([*sentences, question, fmt])
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
