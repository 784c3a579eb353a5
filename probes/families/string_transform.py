"""String transformations: apply a chain of letter operations to an invented word.

What grows (``plan``): the number of chained operations (``operations``, the main size: one up
to level 3, one more every three levels to 4 at level 10, then doubling every ten levels, 32 at
the top level 40), the word length (``letters = 3 + d``) and the number of distinct operation
kinds in play (``kinds``: upper-case only at level 1, then reverse, doubling, vowel removal,
rotation, pair swaps, Caesar shifts, every-other, sorting and case swapping). Level 1 is one
upper-casing of a four-letter word with a worked example; level 40 (the top before the scale
was extended, unchanged since) is 32 chained operations on a 43-letter word. Above level 40 the
operations keep doubling every ten levels and two more kinds come in (``kinds = 12``): a shift
that depends on each letter's position and an alphabet mirror (atbash), which do not commute
with the permutations and Caesar shifts, so the chain cannot be collapsed into one net
permutation plus one net shift. The top level 70 is 256 chained operations on a 73-letter word
(~20k characters of prompt), every intermediate string needed for the next.
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
#: Operation kinds in the order the levels bring them in.
KINDS = ("upper", "reverse", "double", "drop_vowels", "rotate", "swap_pairs", "caesar", "every_other", "sort",
         "swapcase", "shift_by_position", "atbash")
#: The top before the scale was extended: levels up to here use only the first ten kinds, unchanged.
OLD_TOP = 40

_SAY = {
    0: {
        "reverse": "reverse it (abc -> cba)",
        "upper": "convert it to upper case (abc -> ABC)",
        "double": "write every letter twice in place (abc -> aabbcc)",
        "drop_vowels": "delete every vowel (a, e, i, o, u in either case)",
        "sort": "sort its letters alphabetically (case-insensitive)",
        "rotate": "move its first {k} letters to the end",
        "every_other": "keep only the 1st, 3rd, 5th, ... letters",
        "caesar": "shift every letter {k} places forward in the alphabet (z wraps to a, case kept)",
        "swap_pairs": "swap each adjacent pair of letters (abcde -> badce)",
        "swapcase": "swap the case of every letter (aBc -> AbC)",
        "shift_by_position": "shift the 1st letter 1 place forward in the alphabet, the 2nd 2 places, the 3rd 3 "
                             "places and so on (z wraps to a, case kept; abc -> bdf)",
        "atbash": "replace every letter by its mirror in the alphabet (a<->z, b<->y, c<->x, ..., case kept)",
    },
    1: {
        "reverse": "write it backwards (abc -> cba)",
        "upper": "capitalise every letter (abc -> ABC)",
        "double": "repeat each letter once right after itself (abc -> aabbcc)",
        "drop_vowels": "remove the vowels a, e, i, o and u (any case)",
        "sort": "put the letters in alphabetical order, ignoring case",
        "rotate": "take the first {k} letters off the front and append them at the back",
        "every_other": "drop every letter in an even position (2nd, 4th, ...)",
        "caesar": "replace each letter by the one {k} places later in the alphabet, wrapping z to a",
        "swap_pairs": "exchange letters 1 and 2, 3 and 4, and so on (abcde -> badce)",
        "swapcase": "make capitals small and small letters capitals (aBc -> AbC)",
        "shift_by_position": "move the letter in position i forward by i places in the alphabet, counting "
                             "positions from 1 and wrapping z to a (abc -> bdf)",
        "atbash": "mirror each letter in the alphabet, so a becomes z, b becomes y and so on (case kept)",
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
    if op == "swapcase":
        return s.swapcase()
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
    if op == "shift_by_position":
        return "".join(_shift(c, i) for i, c in enumerate(s, 1))
    if op == "atbash":
        return "".join(chr((ord("A") if c.isupper() else ord("a")) * 2 + 25 - ord(c)) for c in s)
    if op == "swap_pairs":
        return "".join(s[i + 1] + s[i] if i + 1 < len(s) else s[i] for i in range(0, len(s), 2))
    raise ValueError(op)


def invented_word(rng: random.Random, length: int) -> str:
    """A pronounceable invented word of exactly ``length`` letters."""
    letters = [pick(rng, _CONS) if i % 2 == 0 else pick(rng, _VOWELS) for i in range(length)]
    return "".join(letters)


def operations_at(d: int) -> int:
    """Chained operations at level ``d``: 1 + (d-1)//3 up to level 10, then doubling every ten levels."""
    return 1 + (d - 1) // 3 if d <= 10 else int(4 * 2 ** ((d - 10) / 10))


def _allowed(op: str, s: str, letters: int, used: set[str]) -> bool:
    """Whether ``op`` keeps the chain meaningful: the string neither explodes nor vanishes."""
    if op == "double":
        return len(s) <= letters
    if op in ("drop_vowels", "every_other"):
        shrunk = apply(op, 1, s)
        return len(shrunk) >= max(3, letters // 2)
    if op == "sort":  # a sort makes every earlier step matter only as a multiset: once is enough
        return "sort" not in used
    return True


@dataclass(frozen=True)
class StringTransform(ProbeFamily):
    """Apply a chain of letter operations to an invented word."""

    name = "string_transform"
    skill = "string_manipulation"
    version = "2"
    top = 70
    grows = "operations"
    formula = ("operations = 1 + (d-1)//3 to d=10, then floor(4 * 2**((d-10)/10)); letters = 3 + d; "
               "kinds = min(10, 1 + d//2) to d=40, then 12 (position-dependent shifts and alphabet mirrors)")

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        return {"operations": operations_at(d), "letters": 3 + d, "kinds": min(10, 1 + d // 2) if d <= OLD_TOP else 12}

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        letters, pool = p["letters"], KINDS[: p["kinds"]]
        word = invented_word(rng, letters)
        ops: list[tuple[str, int]] = []
        used: set[str] = set()
        s = word
        for _ in range(p["operations"]):
            choices = [op for op in pool if _allowed(op, s, letters, used)]
            op = pick(rng, choices)  # "upper", "reverse", "rotate"... are always allowed
            k = rng.randint(1, max(1, min(len(s) - 1, 3 + difficulty // 4))) if op == "rotate" else (
                rng.randint(1, 5 + difficulty // 8) if op == "caesar" else 0)
            ops.append((op, k))
            used.add(op)
            s = apply(op, k, s)
        return Problem(facts={"word": word, "ops": ops}, answer=s)

    def chance(self, difficulty: int) -> float:
        return 0.0

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
            listed = "; ".join(f"({i}) {s}" for i, s in enumerate(steps, 1))
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
