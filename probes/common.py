"""Pieces the built-in families share: answer formats, name pools, number styles, verdict helpers.

Answer formats: every prompt states one. Novelty 0..2 ask for a last line ``Answer: <x>``;
novelty 3 switches to an unfamiliar one (``<answer>`` tags, ``\\boxed{}`` or a JSON object), and
the rendering's reference answer is written in that format.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import TypeVar

from probes.base import Item, Verdict
from probes.extract import extract_choice, extract_final, extract_number, normalise

T = TypeVar("T")

#: Strings of which every prompt contains at least one: how it states the answer format.
FORMAT_MARKERS = ("Answer:", "<answer>", "\\boxed{", "\"answer\"", "JSON object")

FORMAT_KINDS = ("tag", "boxed", "json")

NAMES = (
    "Alice", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jaya", "Kofi",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Ximena", "Yusuf", "Zara",
)
#: Unfamiliar names for surface perturbation (novelty 2): invented, so no prior knowledge applies.
ODD_NAMES = (
    "Brixa", "Codlen", "Durvik", "Elvanor", "Fenwyth", "Gorsa", "Hulbrin", "Istra", "Jorvel",
    "Kaltrin", "Lumeth", "Morvaine", "Nessaly", "Orrin", "Pellith", "Quarvo", "Rethany", "Sybrel",
    "Tovrin", "Ulvane", "Vexmor", "Wendrith", "Yarrow", "Zolvin",
)
_SMALL = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """One element of ``seq`` drawn with ``rng``."""
    return seq[rng.randrange(len(seq))]


def number_words(n: int) -> str:
    """English words for an integer in -999..999 (digits beyond that)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _SMALL[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens - 2] + ("-" + _SMALL[unit] if unit else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _SMALL[hundreds] + " hundred" + (" and " + number_words(rest) if rest else "")
    return str(n)


def odd_number(n: int, rng: random.Random) -> str:
    """An unusual but unambiguous way to write an integer (words, spaced or comma groups)."""
    style = rng.randrange(3)
    if style == 0 and abs(n) < 1000:
        return number_words(n)
    if style == 1 and abs(n) >= 1000:
        return f"{n:,}".replace(",", " ")
    if abs(n) >= 1000:
        return f"{n:,}"
    return f"{n:+d}" if n > 0 and style == 2 else str(n)


def answer_instruction(kind: str, what: str = "number") -> str:
    """The sentence telling the model how to write its final answer."""
    if kind == "tag":
        return f"Write only the final {what} between <answer> and </answer>."
    if kind == "boxed":
        return f"Write the final {what} inside \\boxed{{}}."
    if kind == "json":
        return f'Reply with a JSON object of the form {{"answer": <{what}>}}.'
    return f"Give the final answer on the last line as 'Answer: <{what}>'."


def wrap_answer(kind: str, value: str) -> str:
    """The reference answer ``value`` written in answer format ``kind``."""
    if kind == "tag":
        return f"<answer>{value}</answer>"
    if kind == "boxed":
        return f"\\boxed{{{value}}}"
    if kind == "json":
        return json.dumps({"answer": value})
    return value


def format_for(novelty: int, rng: random.Random, kinds: Sequence[str] = FORMAT_KINDS) -> str:
    """The answer format kind for a novelty level: the 'Answer:' line below 3, else unfamiliar."""
    return pick(rng, kinds) if novelty >= 3 else "line"


def score_number(response: str, expected: str, *, rel_tol: float = 0.0, abs_tol: float = 0.0) -> Verdict:
    """1.0 when the response's final number equals ``expected`` (within tolerance), else 0.0."""
    found = extract_number(response)
    if found is None:
        return Verdict(0.0, None, None)
    ok = math.isclose(float(found), float(expected), rel_tol=rel_tol, abs_tol=abs_tol)
    return Verdict(1.0 if ok else 0.0, found, found)


def score_exact(response: str, expected: str, *, fold_case: bool = False) -> Verdict:
    """1.0 when the final answer equals ``expected`` (markdown, quotes, trailing period ignored)."""
    found = extract_final(response)
    if found is None:
        return Verdict(0.0, None, None)
    canon = normalise(found) if fold_case else " ".join(found.split())
    target = normalise(expected) if fold_case else " ".join(expected.split())
    return Verdict(1.0 if canon == target else 0.0, found, canon)


def score_choice(response: str, expected: str, choices: tuple[str, ...]) -> Verdict:
    """1.0 when the response names ``expected`` among ``choices`` (case-insensitive words)."""
    found = extract_choice(response, choices)
    if found is None:
        return Verdict(0.0, None, None)
    return Verdict(1.0 if found.casefold() == expected.casefold() else 0.0, found, found.casefold())


def numeric_score(item: Item, response: str) -> Verdict:
    """Score against the problem's numeric answer (exact)."""
    return score_number(response, item.problem.answer)
