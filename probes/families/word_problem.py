"""Multi-step word problems in the GSM-Symbolic style: a ledger of everyday events among people.

Several people each hold some objects; a chain of events (buy, give to someone, multiply, give
half away) changes their counts, and the question asks for one person's final count or, from
level 6, the money that person gets for selling all of them. What grows with the level ``d``:

* ``events = round(d * 1.07**max(0, d-10))``: the chain's length, the main size (1 at level 1,
  10 at 10, 39 at 20, 116 at 30, 304 at 40, 480 at 45, 749 at the top level 50); past level 10
  it at least doubles every ten levels. A frontier model without tools still tracked 304 events
  among 9 people at level 40; the top asks for 749 among 11, where "gives half" events make a
  person's count depend on the giver's, so most of the ledger must be tracked. The top stops at
  50 because the prompt is about 26k characters plain and 56k with the no-op clauses.
* ``people = 1 + d // 5`` whose counts must all be tracked (events pass objects between them);
  ``amount = 5d`` bounds the numbers; ``kinds = min(4, 1 + d // 2)`` event kinds (buy; give;
  multiply; give half); ``price = min(1, d // 6)`` adds the final sale.

Level 1 is the smallest instance: one person who gets one more ("Dara has 3 books and gets 1
more."), the only level that uses the "get" event; SmolLM2-135M got "buys 2 more books" right in
0 of 12, "Dara gets 1 more." as its own sentence about 40 % of the time and the one-sentence form
about 60 %. Level 2 on is unchanged. Novelty 2
renames people and adds irrelevant "no-op" clauses (the GSM-NoOp perturbation); novelty 3 tells
the same events as a ledger table. Scoring: exact integer match on the extracted final number;
no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import (
    NAMES,
    ODD_NAMES,
    answer_instruction,
    format_for,
    odd_number,
    pick,
    wrap_answer,
)
from probes.families.arithmetic import iround, score_integer

_THINGS = (
    ("apples", "crate"), ("marbles", "jar"), ("stickers", "album"), ("books", "shelf"),
    ("pencils", "box"), ("seashells", "bucket"), ("stamps", "folder"), ("eggs", "basket"),
    ("cards", "deck box"), ("coins", "purse"),
)
_CURRENCIES = ("dollars", "euros", "crowns", "florins", "rupees")
_KINDS = ("buy", "give", "times", "half")
#: Level 1's single event: one more, in the plainest words (counts as a "buy" everywhere else).
_GET = "get"
#: A collection multiplies only while it is at most this large, so answers stay a few digits long.
_TIMES_LIMIT = 200
_NOOPS = (
    "{o} also owns a bicycle that is {k} years old.",
    "{k} of the {thing} are a slightly different colour, but they count the same.",
    "The shop where {n} goes is {k} minutes away.",
    "{o} thinks {k} is a lucky number.",
    "It rained for {k} hours that week.",
)
#: Sentences per event kind, for novelty 0 and 1; ``{b}`` is the receiver.
_TEXT = {
    0: {
        "buy": "{a} buys {k} more {thing}.",
        "get": "{a} gets {k} more.",
        "give": "{a} gives {k} {thing} to {b}.",
        "times": "{a}'s {thing} then become {k} times as many.",
        "half": "{a} gives half of {a}'s {thing} to {b}.",
    },
    1: {
        "buy": "Later, {a} gets another {k} {thing}.",
        "get": "Later, {a} gets another {k} {thing}.",
        "give": "After that, {b} receives {k} of {a}'s {thing}.",
        "times": "Next, the number of {thing} {a} has grows to {k} times what it was.",
        "half": "Then {a} hands exactly half of {a}'s {thing} over to {b}.",
    },
}

#: An event: (actor, kind, amount, receiver); receiver is a person's index, -1 for the outsider.
Event = tuple[int, str, int, int]


def _events(rng: random.Random, p: dict[str, int], counts: list[int]) -> list[Event]:
    kinds = _KINDS[: p["kinds"]]
    people, amount = p["people"], p["amount"]
    events: list[Event] = []
    for _ in range(p["events"]):
        actor = rng.randrange(people)
        x = counts[actor]
        kind = pick(rng, kinds)
        if (kind == "give" and x < 2) or (kind == "half" and (x % 2 or x < 2)):
            kind = "buy"
        if kind == "times" and x > _TIMES_LIMIT:
            kind = "give" if "give" in kinds else "buy"
        receiver = -1
        if kind in ("give", "half") and people > 1 and rng.random() < 0.75:
            receiver = pick(rng, [i for i in range(people) if i != actor])
        if kind == "buy":
            k = rng.randint(1, amount)
            if p["events"] == 1:  # level 1: one more (drawn anyway, so rng's stream is kept)
                kind, k = _GET, 1
            counts[actor] += k
        elif kind == "give":
            k = rng.randint(1, min(amount, x - 1))
            counts[actor] -= k
        elif kind == "times":
            k = rng.randint(2, 3)
            counts[actor] *= k
        else:
            k = x // 2
            counts[actor] -= k
        if receiver >= 0:
            counts[receiver] += k
        events.append((actor, kind, k, receiver))
    return events


@dataclass(frozen=True)
class WordProblem(ProbeFamily):
    """Track several people's quantities through a chain of everyday events."""

    name = "word_problem"
    skill = "math_word"
    version = "3"
    top = 50
    grows = "events"
    formula = (
        "events = round(d * 1.07**max(0, d-10)) (d=1: one 'gets 1 more'); people = 1 + d//5; amount = 5d; "
        "kinds = min(4, 1 + d//2); price from d=6"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        return {
            "events": iround(d * 1.07 ** max(0, d - 10)),
            "people": 1 + d // 5,
            "amount": 5 * d,
            "kinds": min(4, 1 + d // 2),
            "price": min(1, d // 6),
        }

    def chance(self, difficulty: int) -> float:
        """Level 1's answer is a start count in ``amount//3..amount`` plus one: a blind guess hits
        one in that many; above it the counts spread too widely for a guess to matter."""
        if difficulty > 1:
            return 0.0
        amount = self.plan(difficulty)["amount"]
        return 1 / (amount - max(1, amount // 3) + 1)

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        amount = p["amount"]
        starts = [rng.randint(max(1, amount // 3), amount) for _ in range(p["people"])]
        counts = list(starts)
        events = _events(rng, p, counts)
        target = rng.randrange(p["people"])
        thing, holder = pick(rng, _THINGS)
        price = rng.randint(2, 9) if p["price"] else 0
        # Name slots: people first, then the outsider; indices valid in both name pools.
        names = rng.sample(range(min(len(NAMES), len(ODD_NAMES))), p["people"] + 1)
        facts: dict[str, Any] = {
            "starts": starts, "events": events, "target": target, "thing": thing,
            "holder": holder, "price": price, "names": names, "currency": pick(rng, _CURRENCIES),
        }
        end = counts[target]
        return Problem(facts=facts, answer=str(end * price if price else end))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        pool = ODD_NAMES if novelty >= 2 else NAMES
        names = [pool[i] for i in f["names"]]
        people, outsider = names[:-1], names[-1]
        thing, price, cur = f["thing"], f["price"], f["currency"]
        t = people[f["target"]]
        num = (lambda v: odd_number(v, rng)) if novelty == 2 else str
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if price:
            question = (f"Each of the {thing} sells for {num(price)} {cur}. If {t} sells all of "
                        f"{t}'s {thing}, how many {cur} does {t} get?")
        else:
            question = f"How many {thing} does {t} have now?"

        def receiver(r: int) -> str:
            return outsider if r < 0 else people[r]

        if novelty == 3:
            rows = [f"| 0 | {a} | starts with {x} {thing} |" for a, x in zip(people, f["starts"], strict=True)]
            for i, (actor, ev, k, r) in enumerate(f["events"], 1):
                what = {
                    "buy": f"bought {k}", _GET: f"got {k}", "give": f"gave {k} to {receiver(r)}",
                    "times": f"collection became {k} times as large", "half": f"gave half to {receiver(r)}",
                }[ev]
                rows.append(f"| {i} | {people[actor]} | {what} |")
            table = "\n".join(["| step | who | what happened |", "|---|---|---|", *rows])
            prompt = f"This is a ledger of {thing} kept in a {f['holder']}:\n{table}\n{question} {fmt}"
            return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))
        texts = _TEXT[min(novelty, 1)]
        owned = list(zip(people, f["starts"], strict=True))
        if novelty == 1:
            sentences = [f"There are {x} {thing} in {a}'s {f['holder']}." for a, x in owned]
        else:
            sentences = [f"{a} has {num(x)} {thing}." for a, x in owned]
        for actor, ev, k, r in f["events"]:
            sentences.append(texts[ev].format(a=people[actor], b=receiver(r), k=num(k), thing=thing))
        if novelty == 0 and f["events"][0][1] == _GET:  # level 1 in one sentence: "has 5 and gets 1 more"
            sentences = [f"{people[0]} has {f['starts'][0]} {thing} and gets 1 more."]
        if novelty == 2:
            # No-op clauses: true but irrelevant facts, inserted between events.
            for _ in range(1 + len(f["events"]) // 3):
                clause = pick(rng, _NOOPS).format(o=outsider, n=t, k=rng.randint(2, 30), thing=thing)
                sentences.insert(rng.randint(1, len(sentences)), clause)
        prompt = " ".join([*sentences, question, fmt])
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return score_integer(response, item.problem.answer)
