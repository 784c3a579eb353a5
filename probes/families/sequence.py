"""Sequence-rule induction: find the rule behind the shown terms and give the next term.

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, odd_number, pick, wrap_answer


def _terms(rng: random.Random, difficulty: int, count: int) -> tuple[list[int], str]:
    a = rng.randint(1, 20 * difficulty)
    if difficulty == 1:
        d = rng.randint(1, 9)
        return [a + d * i for i in range(count)], f"add {d}"
    if difficulty == 2:
        d = rng.choice([-1, 1]) * rng.randint(3, 25)
        return [a * 3 + d * i for i in range(count)], f"add {d}"
    if difficulty == 3:
        r = rng.randint(2, 4)
        a = rng.randint(1, 40)
        return [a * r**i for i in range(count)], f"multiply by {r}"
    if difficulty == 4:
        c = rng.randint(-5, 10)
        s = rng.randint(1, 4)
        return [(s + i) ** 2 + c for i in range(count)], f"squares from {s} plus {c}"
    if difficulty == 5:
        d1, d2 = rng.randint(1, 9), rng.randint(1, 9)
        b = rng.randint(20, 60)
        return [a + d1 * (i // 2) if i % 2 == 0 else b - d2 * (i // 2) for i in range(count)], "interleaved"
    if difficulty == 6:
        seq = [rng.randint(1, 60), rng.randint(1, 60)]
        while len(seq) < count:
            seq.append(seq[-1] + seq[-2])
        return seq, "sum of previous two"
    if difficulty == 7:
        d, e = rng.randint(1, 6), rng.randint(1, 4)
        seq = [a]
        while len(seq) < count:
            seq.append(seq[-1] + d + e * (len(seq) - 1))
        return seq, "second differences constant"
    if difficulty == 8:
        k, c = rng.randint(2, 3), rng.randint(-40, 60)
        seq = [rng.randint(1, 30)]
        while len(seq) < count:
            seq.append(seq[-1] * k + c)
        return seq, f"times {k} plus {c}"
    if difficulty == 9:
        r, d, g = rng.randint(2, 3), rng.randint(2, 9), rng.randint(1, 3)
        seq = [g * r ** (i // 2) if i % 2 == 0 else a + d * (i // 2) for i in range(count)]
        return seq, "interleaved geometric and arithmetic"
    seq = [rng.randint(0, 40), rng.randint(1, 40), rng.randint(1, 40)]
    while len(seq) < count:
        seq.append(seq[-1] + seq[-2] + seq[-3])
    return seq, "sum of previous three"


@dataclass(frozen=True)
class SequenceInduction(ProbeFamily):
    """Give the next term of an integer sequence."""

    name = "sequence_induction"
    skill = "induction"
    version = "1"
    levels = (
        "arithmetic, small positive step",
        "arithmetic, larger or negative step",
        "geometric, ratio 2..4",
        "shifted squares",
        "two interleaved arithmetic sequences",
        "each term the sum of the previous two",
        "constant second differences",
        "each term k times the previous plus c",
        "interleaved geometric and arithmetic sequences",
        "each term the sum of the previous three",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        shown = 5 if difficulty < 5 else 7
        # Starting a few terms in multiplies the number of distinct problems per rule.
        skip = rng.randint(0, 3) if difficulty not in (5, 9) else 2 * rng.randint(0, 2)
        seq, rule = _terms(rng, difficulty, skip + shown + 1)
        seq = seq[skip:]
        return Problem(facts={"shown": seq[:-1], "rule": rule}, answer=str(seq[-1]))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        shown: list[int] = problem.facts["shown"]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        text = ", ".join(str(v) for v in shown)
        if novelty == 0:
            prompt = f"What is the next number in the sequence {text}, ...? {fmt}"
        elif novelty == 1:
            prompt = f"Here is a list that follows a rule: {text}. Which number comes next? {fmt}"
        elif novelty == 2:
            odd = "; ".join(odd_number(v, rng) for v in shown)
            prompt = f"Terms (separated by semicolons): {odd}; ?. Find the missing term. {fmt}"
        else:
            rows = "\n".join(f"| {i} | {v} |" for i, v in enumerate(shown, 1))
            who = pick(rng, ("a lighthouse keeper", "an astronomer", "a beekeeper"))
            prompt = (
                f"Every night {who} logs a count that follows one fixed rule:\n| night | count |\n"
                f"|---|---|\n{rows}\nWhat will the count be on night {len(shown) + 1}? {fmt}"
            )
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
