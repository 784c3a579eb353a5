"""Knights and knaves: knights always tell the truth, knaves always lie; find who is a knight.

Puzzles are generated from a hidden assignment and extended with statements until exactly one
assignment is consistent (checked by brute force), so the answer is unique.
Novelty 3 asks for the knaves instead; ``Verdict.canonical`` is always the set of knights by
position (e.g. ``knights:0,2``), so answers to every rendering compare equal.
Scoring: exact set match; no partial credit.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import NAMES, ODD_NAMES, answer_instruction, format_for, wrap_answer
from probes.extract import extract_final

# Statement: (form, speaker, a, b); forms: knight, knave, both, oneknave, same, diff.
Stmt = tuple[str, int, int, int]
_NEG = {"knight": "knave", "knave": "knight", "both": "oneknave", "oneknave": "both", "same": "diff",
        "diff": "same"}
# (people, statement forms) per level.
# Purely relative statements (X is a knight, same kind) never break the knight/knave flip
# symmetry, so every level includes a compound form that can mention the speaker.
_PLAN = {
    1: (2, ("knave", "oneknave")), 2: (2, ("knight", "knave", "both", "oneknave")),
    3: (3, ("knight", "knave", "oneknave")), 4: (3, ("knight", "knave", "both", "oneknave")),
    5: (4, ("knight", "knave", "both", "oneknave")), 6: (4, tuple(_NEG)), 7: (5, tuple(_NEG)),
    8: (5, ("both", "oneknave", "same", "diff")), 9: (6, tuple(_NEG)), 10: (7, ("oneknave", "same", "diff")),
}


def truth(stmt: Stmt, assign: tuple[bool, ...]) -> bool:
    """Whether a statement's content is true under an assignment (True = knight)."""
    form, speaker, a, b = stmt
    if form == "knight":
        return assign[a]
    if form == "knave":
        return not assign[a]
    if form == "both":
        return assign[a] and assign[b]
    if form == "oneknave":
        return not (assign[a] and assign[b])
    if form == "same":
        return assign[speaker] == assign[a]
    return assign[speaker] != assign[a]


def solutions(n: int, stmts: list[Stmt]) -> list[tuple[bool, ...]]:
    """Every assignment under which each speaker's statement is true exactly when they are a knight."""
    return [
        assign for assign in itertools.product((True, False), repeat=n)
        if all(truth(s, assign) == assign[s[1]] for s in stmts)
    ]


def _say(stmt: Stmt, names: list[str]) -> str:
    form, speaker, a, b = stmt
    who, x, y = names[speaker], names[a], ("I" if b == speaker else names[b])
    text = {
        "knight": f"{x} is a knight.", "knave": f"{x} is a knave.",
        "both": f"{x} and {y} are both knights." if b != speaker else f"{x} and I are both knights.",
        "oneknave": f"At least one of {x} and {'me' if b == speaker else y} is a knave.",
        "same": f"{x} and I are the same kind.", "diff": f"{x} and I are different kinds.",
    }[form]
    return f"{who} says: \"{text}\""


@dataclass(frozen=True)
class KnightsKnaves(ProbeFamily):
    """Decide who tells the truth on the island of knights and knaves."""

    name = "knights_knaves"
    skill = "logic"
    version = "1"
    levels = (
        "2 people, statements about one other",
        "2 people, adds same-kind / different-kind",
        "3 people, simple statements",
        "3 people, adds both / at-least-one-knave",
        "4 people, compound statements",
        "4 people, all statement kinds",
        "5 people, all statement kinds",
        "5 people, only compound and relative statements",
        "6 people, all statement kinds",
        "7 people, only compound and relative statements",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, forms = _PLAN[difficulty]
        every = list(itertools.product((True, False), repeat=n))
        for _ in range(200):
            assign = tuple(rng.random() < 0.5 for _ in range(n))
            stmts: list[Stmt] = []
            # Assignments still consistent with every statement so far, narrowed incrementally.
            alive = every
            while len(stmts) < 3 * n:
                speaker = rng.randrange(n) if stmts and len(stmts) >= n else len(stmts)
                form = forms[rng.randrange(len(forms))]
                others = [i for i in range(n) if i != speaker]
                a = rng.choice(others)
                b = rng.choice([i for i in range(n) if i != a])
                stmt: Stmt = (form, speaker, a, b)
                if truth(stmt, assign) != assign[speaker]:
                    stmt = (_NEG[form], speaker, a, b)
                stmts.append(stmt)
                alive = [x for x in alive if truth(stmt, x) == x[stmt[1]]]
                if len(stmts) >= n and len(alive) == 1:
                    picks = rng.sample(range(len(NAMES)), n)
                    odd = rng.sample(range(len(ODD_NAMES)), n)
                    knights = [i for i in range(n) if assign[i]]
                    facts = {"n": n, "stmts": stmts, "names": picks, "odd": odd, "knights": knights}
                    return Problem(facts=facts, answer=_listing([NAMES[p] for p in picks], knights))
        raise RuntimeError("no unique knights-and-knaves puzzle in 200 tries")  # pragma: no cover

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = names_for(problem, novelty)
        said = [_say(s, names) for s in f["stmts"]]
        if novelty == 2:
            rng.shuffle(said)
        kind = format_for(novelty, rng)
        people = ", ".join(names)
        if novelty == 3:
            knaves = [i for i in range(f["n"]) if i not in f["knights"]]
            fmt = answer_instruction(kind, "comma-separated names of the liars, or none")
            prompt = (
                f"In a village story, {people} are each either an honest guide, who only ever says true "
                "things, or a trickster, who only ever says false things (a 'knight' is an honest guide, "
                "a 'knave' a trickster). " + " ".join(said) + f" Who are the tricksters? {fmt}"
            )
            return Rendering(prompt=prompt, answer=wrap_answer(kind, _listing(names, knaves)))
        fmt = answer_instruction(kind, "comma-separated names of the knights, or none")
        intro = (
            f"On an island, knights always tell the truth and knaves always lie. You meet {people}."
            if novelty != 1 else
            f"{people} live where every person is a knight (never lies) or a knave (always lies)."
        )
        prompt = " ".join([intro, *said, f"Which of them are knights? {fmt}"])
        return Rendering(prompt=prompt, answer=wrap_answer(kind, _listing(names, f["knights"])))

    def score(self, item: Item, response: str) -> Verdict:
        f = item.problem.facts
        names = names_for(item.problem, item.novelty)
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        chosen = named(final, names)
        if not chosen and not _NONE.search(final):
            # An empty list must be said ("none"); silence or "I don't know" names nobody.
            return Verdict(0.0, final, None)
        knights = sorted(set(range(f["n"])) - chosen) if item.novelty == 3 else sorted(chosen)
        canonical = "knights:" + ",".join(str(i) for i in knights)
        return Verdict(1.0 if knights == sorted(f["knights"]) else 0.0, final, canonical)


def names_for(problem: Problem, novelty: int) -> list[str]:
    """The names a rendering uses (invented ones at novelty 2 and up)."""
    f = problem.facts
    return [ODD_NAMES[i] for i in f["odd"]] if novelty >= 2 else [NAMES[i] for i in f["names"]]


_TOKEN = re.compile(r"[A-Za-z]+")
_NONE = re.compile(r"\b(?:none|nobody|no one)\b", re.IGNORECASE)


def named(text: str, names: list[str]) -> set[int]:
    """Positions of the names mentioned in ``text``."""
    folded = {n.casefold(): i for i, n in enumerate(names)}
    return {folded[w.casefold()] for w in _TOKEN.findall(text) if w.casefold() in folded}


def _listing(names: list[str], chosen: list[int]) -> str:
    return ", ".join(sorted(names[i] for i in chosen)) or "none"
