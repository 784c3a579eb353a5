"""Propositional logic: evaluate formulas under a given truth assignment.

What grows: ``connectives`` per formula (1 at level 1, 6 at level 10, then doubling every ten
levels: 96 at level 50, the original top, and 384 at the top, 70), with half as many negations on
random nodes, and more slowly the number of formulas (1 + d//8, 7 from level 48 on), variables
(2..12) and operators (and/or, then implies, xor, iff). Past level 50 only the formulas grow:
seven formulas of 384 connectives (about 2,700 connectives to evaluate, prompts up to about 37k
characters) at the top. Levels 1..50 are generated exactly as before. Formulas are random
binary trees of exactly that many connectives, fully bracketed, so deep levels mean long
bracket matching as well as many evaluations.

The answer is one letter per formula, T or F (e.g. ``TFT``); novelty 3 asks for 1/0 instead.
``Verdict.canonical`` is always the T/F string. Scoring: exact match of the whole string; no
partial credit.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, wrap_answer
from probes.extract import extract_final

#: The last level of the original scale; past it the formula count stays at 7 and only the
#: formulas grow, so the prompt stays bounded.
_OLD_TOP = 50
_VARS = ("P", "Q", "R", "S", "U", "V", "W", "X", "Y", "Z", "K", "M")
_ODD = ("Glim", "Varn", "Tosk", "Brel", "Quon", "Sarp", "Dwen", "Holt", "Jusk", "Lorp", "Mizz", "Nard")
_ALL = ("and", "or", "implies", "xor", "iff")
# Formula: int (variable index) or ("not", f) or (op, f, g).
Formula = Any
_WORDS = {"and": "and", "or": "or", "implies": "implies", "xor": "xor", "iff": "iff"}
_SYMBOLS = {"and": "∧", "or": "∨", "implies": "→", "xor": "⊕", "iff": "↔"}


def connectives(formula: Formula) -> int:
    """How many binary connectives a formula has."""
    if isinstance(formula, int):
        return 0
    if formula[0] == "not":
        return connectives(formula[1])
    return 1 + connectives(formula[1]) + connectives(formula[2])


def negations(formula: Formula) -> int:
    """How many negations a formula has."""
    if isinstance(formula, int):
        return 0
    if formula[0] == "not":
        return 1 + negations(formula[1])
    return negations(formula[1]) + negations(formula[2])


def _tree(rng: random.Random, size: int, nvars: int, ops: tuple[str, ...]) -> Formula:
    """A random formula with exactly ``size`` binary connectives (a random split at each node)."""
    # int(random() * k) rather than randrange: the top level draws hundreds of nodes per item.
    if size == 0:
        return int(rng.random() * nvars)
    left = int(rng.random() * size)
    op = ops[int(rng.random() * len(ops))]
    return (op, _tree(rng, left, nvars, ops), _tree(rng, size - 1 - left, nvars, ops))


def _negate(formula: Formula, marks: set[int], counter: list[int]) -> Formula:
    """The formula with a negation put on each node whose preorder position is in ``marks``."""
    here = counter[0]
    counter[0] += 1
    if not isinstance(formula, int):
        formula = (formula[0], _negate(formula[1], marks, counter), _negate(formula[2], marks, counter))
    return ("not", formula) if here in marks else formula


def _grow(rng: random.Random, size: int, nots: int, nvars: int, ops: tuple[str, ...]) -> Formula:
    """A formula with ``size`` connectives and ``nots`` negations on distinct nodes."""
    tree = _tree(rng, size, nvars, ops)
    marks = set(rng.sample(range(2 * size + 1), nots))
    return _negate(tree, marks, [0])


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
    version = "2"
    top = 70
    grows = "connectives"
    formula = ("formulas = 1 + min(d, 50)//8; "
               "connectives (each) = ceil(0.6*d) up to d=10, then floor(6 * 2**((d-10)/10)); "
               "negations = connectives//2; variables = min(2 + d//3, 12); operators = min(5, 2 + (d-1)//2)")

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        size = math.ceil(0.6 * d) if d <= 10 else math.floor(6 * 2 ** ((d - 10) / 10))
        return {
            "formulas": 1 + min(d, _OLD_TOP) // 8,
            "connectives": size,
            "negations": size // 2,
            "variables": min(2 + d // 3, len(_VARS)),
            "operators": min(len(_ALL), 2 + (d - 1) // 2),
        }

    def chance(self, difficulty: int) -> float:
        return float(2.0 ** -self.plan(difficulty)["formulas"])

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        nvars, ops = p["variables"], _ALL[: p["operators"]]
        assign = [rng.random() < 0.5 for _ in range(nvars)]
        formulas = [_grow(rng, p["connectives"], p["negations"], nvars, ops) for _ in range(p["formulas"])]
        answer = "".join("T" if value(f, assign) else "F" for f in formulas)
        # Which letters (and invented names) stand for the variables: drawn, so that even the
        # one-connective level has many distinct prompts.
        facts = {"assign": assign, "formulas": formulas, "names": rng.sample(range(len(_VARS)), nvars),
                 "odd": rng.sample(range(len(_ODD)), nvars)}
        return Problem(facts=facts, answer=answer)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        assign: list[bool] = problem.facts["assign"]
        formulas = problem.facts["formulas"]
        names = tuple(_ODD[i] for i in problem.facts["odd"]) if novelty == 2 else tuple(
            _VARS[i] for i in problem.facts["names"])
        symbols, neg = (_SYMBOLS, "¬") if novelty in (1, 2) else (_WORDS, "not ")
        values = sorted(f"{names[i]} = {'true' if b else 'false'}" for i, b in enumerate(assign))
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
