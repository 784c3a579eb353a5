"""String transformations: apply a chain of letter operations to an invented word.

Levels grow the word length, the number of chained operations and the set of operations
(reverse and upper-case first; Caesar shifts, rotations and pair swaps later).
Scoring: exact, case-sensitive match of the final answer (markdown, quotes and a trailing
period ignored); no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, score_exact, wrap_answer

_CONS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"
_BASIC = ("reverse", "upper", "double")
_MID = (*_BASIC, "drop_vowels", "sort")
_ALL = (*_MID, "rotate", "every_other", "caesar", "swap_pairs")
# (word length, chained operations, operation pool) per level.
_PLAN = {
    1: (4, 1, ("reverse", "upper")), 2: (5, 1, _BASIC), 3: (6, 1, _MID), 4: (7, 2, _BASIC),
    5: (8, 2, _MID), 6: (9, 2, _ALL), 7: (10, 3, _ALL), 8: (12, 3, _ALL), 9: (14, 4, _ALL),
    10: (16, 5, _ALL),
}

_SAY = {
    0: {
        "reverse": "reverse it",
        "upper": "convert it to upper case",
        "double": "write every letter twice in place (abc -> aabbcc)",
        "drop_vowels": "delete every vowel (a, e, i, o, u in either case)",
        "sort": "sort its letters alphabetically (case-insensitive)",
        "rotate": "move its first {k} letters to the end",
        "every_other": "keep only the 1st, 3rd, 5th, ... letters",
        "caesar": "shift every letter {k} places forward in the alphabet (z wraps to a, case kept)",
        "swap_pairs": "swap each adjacent pair of letters (abcde -> badce)",
    },
    1: {
        "reverse": "write it backwards",
        "upper": "capitalise every letter",
        "double": "repeat each letter once right after itself (abc -> aabbcc)",
        "drop_vowels": "remove the vowels a, e, i, o and u (any case)",
        "sort": "put the letters in alphabetical order, ignoring case",
        "rotate": "take the first {k} letters off the front and append them at the back",
        "every_other": "drop every letter in an even position (2nd, 4th, ...)",
        "caesar": "replace each letter by the one {k} places later in the alphabet, wrapping z to a",
        "swap_pairs": "exchange letters 1 and 2, 3 and 4, and so on (abcde -> badce)",
    },
}


def _shift(c: str, k: int) -> str:
    base = ord("A") if c.isupper() else ord("a")
    return chr(base + (ord(c) - base + k) % 26)


def apply(op: str, k: int, s: str) -> str:
    """One operation on a string."""
    if op == "reverse":
        return s[::-1]
    if op == "upper":
        return s.upper()
    if op == "double":
        return "".join(c + c for c in s)
    if op == "drop_vowels":
        return "".join(c for c in s if c.lower() not in _VOWELS)
    if op == "sort":
        return "".join(sorted(s, key=lambda c: (c.lower(), c)))
    if op == "rotate":
        return s[k:] + s[:k]
    if op == "every_other":
        return s[::2]
    if op == "caesar":
        return "".join(_shift(c, k) for c in s)
    if op == "swap_pairs":
        return "".join(s[i + 1] + s[i] if i + 1 < len(s) else s[i] for i in range(0, len(s), 2))
    raise ValueError(op)


def invented_word(rng: random.Random, length: int) -> str:
    """A pronounceable invented word of exactly ``length`` letters."""
    letters = [pick(rng, _CONS) if i % 2 == 0 else pick(rng, _VOWELS) for i in range(length)]
    return "".join(letters)


@dataclass(frozen=True)
class StringTransform(ProbeFamily):
    """Apply a chain of letter operations to an invented word."""

    name = "string_transform"
    skill = "string_manipulation"
    version = "1"
    levels = (
        "4 letters, reverse or upper-case",
        "5 letters, one of reverse / upper-case / double",
        "6 letters, adds vowel removal and sorting",
        "7 letters, two basic operations",
        "8 letters, two operations incl. vowel removal and sorting",
        "9 letters, two operations from all nine (Caesar, rotation, pair swap...)",
        "10 letters, three operations",
        "12 letters, three operations",
        "14 letters, four operations",
        "16 letters, five operations",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        length, steps, pool = _PLAN[difficulty]
        word = invented_word(rng, length)
        ops: list[tuple[str, int]] = []
        s = word
        for _ in range(steps):
            op = pick(rng, pool)
            if op == "drop_vowels" and not any(c.lower() not in _VOWELS for c in s):
                op = "reverse"
            k = rng.randint(1, max(1, min(5, len(s) - 1)))
            ops.append((op, k))
            s = apply(op, k, s)
        return Problem(facts={"word": word, "ops": ops}, answer=s)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        word, ops = problem.facts["word"], problem.facts["ops"]
        say = _SAY[1 if novelty in (1, 2) else 0]
        steps = [say[op].format(k=k) for op, k in ops]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "resulting string")
        if novelty == 0:
            prompt = f"Take the string '{word}' and " + ", then ".join(steps) + f". {fmt}"
        elif novelty == 1:
            listed = " ".join(f"Step {i}: {s}." for i, s in enumerate(steps, 1))
            prompt = f"Start from the letters \"{word}\". {listed} {fmt}"
        elif novelty == 2:
            listed = "; ".join(f"({chr(97 + i)}) {s}" for i, s in enumerate(steps))
            noise = pick(rng, ("The word means nothing in any language.", "Spaces are never added.",
                               "Digits never appear here."))
            prompt = f"«{word}» is the input. {noise} In order: {listed}. {fmt}"
        else:
            stations = "\n".join(f"Station {i}: {s}." for i, s in enumerate(steps, 1))
            prompt = (
                f"A courier carries the secret word {word} through the relay stations of a "
                f"mountain pass. Each station changes the word before passing it on:\n{stations}\n"
                f"Which word reaches the last valley? {fmt}"
            )
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return score_exact(response, item.problem.answer)
