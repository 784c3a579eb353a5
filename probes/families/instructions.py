"""Instruction following with verifiable constraints: word count, keywords, casing, forbidden
letters, first/last word, no commas, maximum word length.

The generator builds a text that satisfies every constraint, so the reference answer is real.
Partial credit (documented): the score is the fraction of constraints the final answer line
satisfies; only all of them counts as a pass. ``Verdict.canonical`` is the bit string of
satisfied constraints (e.g. ``1101``), comparable across renderings.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, wrap_answer
from probes.extract import extract_final

VOCAB = (
    "river", "stone", "lamp", "quiet", "morning", "garden", "silver", "cloud", "window", "bread",
    "market", "green", "small", "happy", "road", "north", "story", "music", "paper", "warm",
    "island", "tower", "bird", "snow", "field", "honest", "gentle", "light", "moon", "coat",
    "cart", "hill", "door", "old", "blue", "tall", "slow", "bright", "sand", "drum", "rain",
    "corn", "goat", "mill", "bell", "song", "ship", "salt", "wind", "plum", "fox", "owl", "cup",
)
TOPICS = ("a harbour at dawn", "a lost umbrella", "a village fair", "an old clock", "a mountain hut",
          "a night train", "a bakery", "a lighthouse")
_FORBID_POOL = "eaoinrstlkwyz"
_WORD = re.compile(r"[A-Za-z']+")
# (word count range, constraint kinds) per level; "words" is always present.
_PLAN: dict[int, tuple[tuple[int, int], tuple[str, ...]]] = {
    1: ((3, 5), ("include",)),
    2: ((4, 6), ("include", "lower")),
    3: ((5, 7), ("include", "include", "lower")),
    4: ((6, 8), ("include", "include", "forbid")),
    5: ((7, 9), ("start", "include", "forbid", "upper")),
    6: ((8, 11), ("start", "end", "include", "include", "forbid")),
    7: ((9, 12), ("start", "end", "include", "forbid", "nocomma", "maxlen")),
    8: ((12, 16), ("start", "end", "include", "include", "include", "forbid", "forbid", "lower")),
    9: ((14, 18), ("start", "end", "include", "include", "forbid", "forbid", "upper", "maxlen", "nocomma")),
    10: ((18, 25), ("start", "end", "include", "include", "include", "forbid", "forbid", "forbid", "lower",
                    "maxlen", "nocomma")),
}

Constraint = tuple[str, str | int]


def check(c: Constraint, text: str) -> bool:
    """Whether ``text`` satisfies one constraint."""
    kind, arg = c
    words = _WORD.findall(text)
    low = [w.casefold() for w in words]
    if kind == "words":
        return len(text.split()) == arg
    if kind == "include":
        return str(arg) in low
    if kind == "lower":
        return any(ch.isalpha() for ch in text) and text == text.lower()
    if kind == "upper":
        return any(ch.isalpha() for ch in text) and text == text.upper()
    if kind == "forbid":
        return str(arg) not in text.casefold()
    if kind == "start":
        return bool(low) and low[0] == arg
    if kind == "end":
        return bool(low) and low[-1] == arg
    if kind == "nocomma":
        return "," not in text
    return all(len(w) <= int(arg) for w in words)


def say(c: Constraint, style: int) -> str:
    """A constraint in words (style 0 plain, 1 paraphrased)."""
    kind, arg = c
    plain = {
        "words": f"use exactly {arg} words", "include": f"include the word '{arg}'",
        "lower": "write everything in lowercase", "upper": "write everything in UPPERCASE",
        "forbid": f"do not use the letter '{arg}' anywhere", "start": f"start with the word '{arg}'",
        "end": f"end with the word '{arg}'", "nocomma": "use no commas",
        "maxlen": f"use no word longer than {arg} letters",
    }
    para = {
        "words": f"the text must be {arg} words long, no more and no fewer",
        "include": f"the word '{arg}' has to appear", "lower": "no capital letters at all",
        "upper": "every letter must be a capital", "forbid": f"the letter '{arg}' is banned",
        "start": f"the first word must be '{arg}'", "end": f"the final word must be '{arg}'",
        "nocomma": "commas are not allowed", "maxlen": f"every word has at most {arg} letters",
    }
    return (para if style else plain)[kind]


@dataclass(frozen=True)
class InstructionFollowing(ProbeFamily):
    """Write one line of text that satisfies verifiable constraints."""

    name = "instruction_following"
    skill = "instruction_following"
    version = "1"
    levels = (
        "exact word count (3-5) and one required word",
        "adds lowercase",
        "two required words, word count and lowercase",
        "two required words and a forbidden letter",
        "first word, required word, forbidden letter, uppercase",
        "first and last word, two required words, forbidden letter",
        "adds no commas and a maximum word length",
        "12-16 words, three required words, two forbidden letters",
        "14-18 words, nine constraints",
        "18-25 words, twelve constraints",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        (lo, hi), kinds = _PLAN[difficulty]
        n = rng.randint(lo, hi)
        maxlen = rng.randint(5, 6) if "maxlen" in kinds else 99
        needed = kinds.count("include") + kinds.count("start") + kinds.count("end")
        # Common letters make the ban bite; redraw until enough vocabulary survives the bans.
        for _ in range(50):
            forbidden = rng.sample(_FORBID_POOL, kinds.count("forbid"))
            usable = [w for w in VOCAB if len(w) <= maxlen and not any(ch in w for ch in forbidden)]
            if len(usable) >= needed + 4:
                break
        else:
            forbidden = list("zkw"[: kinds.count("forbid")])
            usable = [w for w in VOCAB if len(w) <= maxlen and not any(ch in w for ch in forbidden)]
        chosen = rng.sample(usable, needed)
        constraints: list[Constraint] = [("words", n)]
        words: list[str] = []
        start = end = None
        banned = iter(forbidden)
        for kind in kinds:
            if kind in ("include", "start", "end"):
                w = chosen.pop()
                constraints.append((kind, w))
                if kind == "start":
                    start = w
                elif kind == "end":
                    end = w
                else:
                    words.append(w)
            elif kind == "forbid":
                constraints.append((kind, next(banned)))
            elif kind == "maxlen":
                constraints.append((kind, maxlen))
            else:
                constraints.append((kind, ""))
        fill = n - len(words) - (start is not None) - (end is not None)
        words += [pick(rng, usable) for _ in range(fill)]
        rng.shuffle(words)
        text_words = ([start] if start else []) + words + ([end] if end else [])
        text = " ".join(text_words)
        text = text.upper() if "upper" in kinds else text
        topic = pick(rng, TOPICS)
        return Problem(facts={"constraints": constraints, "topic": topic}, answer=text)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        constraints: list[Constraint] = list(problem.facts["constraints"])
        topic = problem.facts["topic"]
        kind = format_for(novelty, rng, ("tag", "json"))
        fmt = answer_instruction(kind, "text")
        if novelty == 2:
            rng.shuffle(constraints)
        rules = [say(c, 1 if novelty in (1, 2) else 0) for c in constraints]
        if novelty == 0:
            listed = "\n".join(f"- {r}" for r in rules)
            prompt = f"Write a single line of text about {topic}. Rules:\n{listed}\n{fmt}"
        elif novelty == 1:
            prompt = f"Compose one line about {topic}; " + "; ".join(rules) + f". {fmt}"
        elif novelty == 2:
            listed = "\n".join(f"({i}) {r}" for i, r in enumerate(rules, 1))
            prompt = (f"Constraints, in no particular order:\n{listed}\nThe subject, which matters less "
                      f"than the constraints, is {topic}; it is fine if the line reads oddly. {fmt}")
        else:
            listed = "\n".join(f"* {r}" for r in rules)
            prompt = (f"A telegraph clerk in a fantasy kingdom charges by the rule, and a customer wants "
                      f"a message about {topic} that obeys all of these:\n{listed}\n{fmt}")
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        bits = [check(c, final) for c in item.problem.facts["constraints"]]
        canonical = "".join("1" if b else "0" for b in bits)
        return Verdict(sum(bits) / len(bits), final, canonical)
