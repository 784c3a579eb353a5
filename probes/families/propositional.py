"""Propositional logic: evaluate formulas under a given truth assignment.

The answer is one letter per formula, T or F (e.g. ``TFT``); novelty 3 asks for 1/0 instead.
``Verdict.canonical`` is always the T/F string. Scoring: exact match of the whole string; no
partial credit.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, wrap_answer
from probes.extract import extract_final

_VARS = ("P", "Q", "R", "S", "T", "U")
_ODD = ("Glim", "Varn", "Tosk", "Brel", "Quon", "Sarp")
# (formulas, variables, depth, binary operators) per level.
_ALL = ("and", "or", "implies", "xor", "iff")
_PLAN = {
    1: (1, 2, 1, _ALL[:2]), 2: (1, 2, 2, _ALL[:2]), 3: (1, 3, 2, _ALL[:3]), 4: (2, 3, 2, _ALL[:3]),
    5: (2, 3, 3, _ALL[:4]), 6: (2, 4, 3, _ALL), 7: (3, 4, 3, _ALL), 8: (3, 5, 4, _ALL), 9: (3, 6, 4, _ALL),
    10: (4, 6, 5, _ALL),
}
# Formula: int (variable index) or ("not", f) or (op, f, g).
Formula = Any
_WORDS = {"and": "and", "or": "or", "implies": "implies", "xor": "xor", "iff": "iff"}
_SYMBOLS = {"and": "∧", "or": "∨", "implies": "→", "xor": "⊕", "iff": "↔"}


def _grow(rng: random.Random, nvars: int, depth: int, ops: tuple[str, ...]) -> Formula:
    if depth == 0:
        v: Formula = rng.randrange(nvars)
        return ("not", v) if rng.random() < 0.3 else v
    op = ops[rng.randrange(len(ops))]
    left = _grow(rng, nvars, depth - 1, ops)
    right = _grow(rng, nvars, rng.randint(0, depth - 1), ops)
    f: Formula = (op, left, right)
    return ("not", f) if rng.random() < 0.15 else f


def value(f: Formula, assign: list[bool]) -> bool:
    """Truth value of a formula."""
    if isinstance(f, int):
        return assign[f]
    if f[0] == "not":
        return not value(f[1], assign)
    a, b = value(f[1], assign), value(f[2], assign)
    return {"and": a and b, "or": a or b, "implies": (not a) or b, "xor": a != b, "iff": a == b}[f[0]]


def show(f: Formula, names: tuple[str, ...], symbols: dict[str, str], neg: str) -> str:
    """A formula as text, fully bracketed."""
    if isinstance(f, int):
        return names[f]
    if f[0] == "not":
        return f"{neg}{show(f[1], names, symbols, neg)}"
    return f"({show(f[1], names, symbols, neg)} {symbols[f[0]]} {show(f[2], names, symbols, neg)})"


@dataclass(frozen=True)
class PropositionalLogic(ProbeFamily):
    """Evaluate propositional formulas."""

    name = "propositional_logic"
    skill = "logic"
    version = "1"
    levels = (
        "one formula, 2 variables, depth 1, and/or",
        "one formula, depth 2",
        "one formula, 3 variables, adds implies",
        "two formulas",
        "two formulas, depth 3, adds xor",
        "two formulas, 4 variables, adds iff",
        "three formulas, depth 3",
        "three formulas, 5 variables, depth 4",
        "three formulas, 6 variables, depth 4",
        "four formulas, 6 variables, depth 5",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        k, nvars, depth, ops = _PLAN[difficulty]
        assign = [rng.random() < 0.5 for _ in range(nvars)]
        formulas = [_grow(rng, nvars, depth, ops) for _ in range(k)]
        answer = "".join("T" if value(f, assign) else "F" for f in formulas)
        return Problem(facts={"assign": assign, "formulas": formulas}, answer=answer)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        assign: list[bool] = problem.facts["assign"]
        formulas = problem.facts["formulas"]
        names = _ODD if novelty == 2 else _VARS
        symbols, neg = (_SYMBOLS, "¬") if novelty in (1, 2) else (_WORDS, "not ")
        values = [f"{names[i]} = {'true' if b else 'false'}" for i, b in enumerate(assign)]
        if novelty == 2:
            rng.shuffle(values)
        shown = "\n".join(f"{i}. {show(f, names, symbols, neg)}" for i, f in enumerate(formulas, 1))
        kind = format_for(novelty, rng)
        if novelty == 3:
            fmt = answer_instruction(kind, "one digit per formula in order, 1 for true and 0 for false")
            lamps = ", ".join(f"switch {names[i]} is {'up' if b else 'down'}" for i, b in enumerate(assign))
            prompt = (f"In a theatre's lighting desk, {lamps} (up means true, down means false). Each lamp "
                      f"lights when its wiring rule is true:\n{shown}\nWhich lamps light? {fmt}")
            answer = problem.answer.replace("T", "1").replace("F", "0")
            return Rendering(prompt=prompt, answer=wrap_answer(kind, answer))
        fmt = answer_instruction(kind, "one letter per formula in order, T for true or F for false")
        lead = "Given " if novelty != 1 else "Suppose "
        prompt = f"{lead}{', '.join(values)}. Evaluate each formula:\n{shown}\n{fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        canon = truth_string(final, len(item.problem.facts["formulas"]))
        return Verdict(1.0 if canon == item.problem.answer else 0.0, final, canon)


_TOKEN = re.compile(r"[A-Za-z]+|\d+")


def truth_string(text: str, count: int) -> str | None:
    """'TFT' from 'T, F, T', 'true false true', 'TFT', '101'; None unless exactly ``count`` values."""
    marks: list[str] = []
    for token in _TOKEN.findall(text):
        low = token.casefold()
        if low in ("true", "false"):
            marks.append(low[0].upper())
        elif set(token) <= {"T", "F"} or set(token) <= {"0", "1"}:
            # Letters count only in capitals: the "t" of "don't" is not a truth value.
            marks.extend(token)
    if len(marks) != count:
        # Numbered answers ("1. T 2. F") carry digits; drop them when letters alone fit.
        letters = [m for m in marks if m in "TF"]
        marks = letters if len(letters) == count else marks
    if len(marks) != count:
        return None
    return "".join("T" if m in ("T", "1") else "F" for m in marks)
