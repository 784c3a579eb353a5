"""Knights and knaves: knights always tell the truth, knaves always lie; find who is a knight.

What grows: the number of ``people`` (2 at level 1, 6 at level 10, then doubling every ten levels:
24 at level 30, 33 at level 35, the original top, and 135 at the top, 55) and, with it, the
share of compound statements (two people in one claim, or the speaker in relation to someone),
which call for case analysis instead of following a chain. At levels 1..3 the narrator tells
the kind of one person (``unknown`` is one less than ``people``), so level 1 is one step:
"Alice is a knight; Alice says Bruno is a knave".

Puzzles are generated from a hidden assignment: every person speaks once, then statements that
rule out a surviving alternative are added until exactly one assignment is consistent. A small
propagating solver (not brute force over 2**people) checks the uniqueness, so the top level stays
fast. From level 8 compound statements never mention their speaker, so no single claim settles
anyone's kind and solving takes case analysis; a side effect is that from there on the answer is
never "none" or everyone (all knaves and all knights would fit the same claims about others).
Past level 35 the same formulas run on (about 136 statements among 135 people at the top, prompts
near 8k characters), with larger pools of names used only for puzzles of more than 42 people, so
levels 1..35 are generated exactly as before. Those larger puzzles are answered with one letter
per person in the order listed (K/N, or G/T for guides and tricksters at novelty 3), since a list
of sixty names would outgrow what an answer marker captures.
Novelty 3 asks for the knaves instead; ``Verdict.canonical`` is always the set of knights by
position (e.g. ``knights:0,2``), so answers to every rendering compare equal.
Scoring: exact set match; no partial credit.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import NAMES, ODD_NAMES, answer_instruction, format_for, wrap_answer
from probes.extract import extract_final

#: Everyday names (novelty 0..1) and invented ones (novelty 2..3), enough for the top level.
PEOPLE = (*NAMES, "Aiko", "Bjorn", "Carmen", "Dmitri", "Elif", "Felix", "Greta", "Hugo", "Ines",
          "Jonas", "Kenji", "Lucia", "Marek", "Nils", "Olga", "Pablo")
ODD_PEOPLE = (*ODD_NAMES, "Abrel", "Bosqin", "Cartheny", "Drevan", "Eskaly", "Fornith", "Galdrey",
              "Harnel", "Ithrin", "Jessamor", "Kirvane", "Luthry", "Mendrel", "Nolvary", "Ostrel",
              "Pirneth", "Quillan", "Rovask")
#: Larger pools, used only for puzzles bigger than the old top's (past ``len(PEOPLE)`` people).
MANY_PEOPLE = tuple(dict.fromkeys(PEOPLE + tuple(
    a + b for b in ("a", "en", "ia", "o", "us", "ina", "ric", "wyn", "el", "iro")
    for a in ("Al", "Bel", "Cor", "Dar", "Em", "Fen", "Gar", "Hal", "Ir", "Jor", "Kal", "Lor", "Mar", "Nor",
              "Os", "Per", "Quin", "Ros", "Tav", "Ul")
    if a + b not in PEOPLE)))
MANY_ODD = tuple(dict.fromkeys(ODD_PEOPLE + tuple(
    a + b for b in ("qua", "vex", "zil", "orth", "ix", "umb", "esk", "ond", "yth", "arn")
    for a in ("Bry", "Cwen", "Dro", "Fyx", "Glo", "Hrak", "Jyn", "Kro", "Lyth", "Mnor", "Pry", "Qel",
              "Skar", "Thro", "Vyr", "Wex", "Xan", "Zor", "Yth", "Gwy")
    if a + b not in ODD_PEOPLE)))

# Statement: (form, speaker, a, b). Simple forms mention one other person; compound forms two
# people (b may be the speaker) or the speaker's own kind.
Stmt = tuple[str, int, int, int]
SIMPLE = ("knight", "knave")
COMPOUND = ("both", "oneknave", "either", "bothknaves", "same", "diff")
PLAIN = COMPOUND[:4]
_NEG = {"knight": "knave", "knave": "knight", "both": "oneknave", "oneknave": "both", "either": "bothknaves",
        "bothknaves": "either", "same": "diff", "diff": "same"}
_TOLD_UNTIL = 3  # levels at which the narrator tells one person's kind
_PLAIN_FROM = 8  # from this level compound statements are about two others, never the speaker


def truth(stmt: Stmt, assign: Sequence[bool]) -> bool:
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
    if form == "either":
        return assign[a] or assign[b]
    if form == "bothknaves":
        return not (assign[a] or assign[b])
    if form == "same":
        return assign[speaker] == assign[a]
    return assign[speaker] != assign[a]


def _mentions(stmt: Stmt) -> tuple[int, ...]:
    form, speaker, a, b = stmt
    if form in SIMPLE or form in ("same", "diff"):
        return (speaker, a)
    return tuple(sorted({speaker, a, b}))


def solutions(
    n: int, stmts: list[Stmt], told: dict[int, bool] | None = None, limit: int = 0
) -> list[tuple[bool, ...]]:
    """Assignments under which each speaker's statement is true exactly when they are a knight.

    ``told`` fixes some people's kinds; ``limit`` > 0 stops after that many solutions. A
    backtracking search that propagates every statement with one person left open.
    """
    cons = [(_mentions(s), s) for s in stmts]
    watch: list[list[int]] = [[] for _ in range(n)]
    for ci, (vs, _) in enumerate(cons):
        for v in vs:
            watch[v].append(ci)
    order = sorted(range(n), key=lambda v: -len(watch[v]))
    found: list[tuple[bool, ...]] = []

    def holds(ci: int, assign: list[bool | None]) -> bool:
        stmt = cons[ci][1]
        return truth(stmt, assign) == assign[stmt[1]]  # type: ignore[arg-type]

    def propagate(assign: list[bool | None], queue: list[int]) -> bool:
        while queue:
            var = queue.pop()
            for ci in watch[var]:
                open_ = [v for v in cons[ci][0] if assign[v] is None]
                if not open_:
                    if not holds(ci, assign):
                        return False
                elif len(open_) == 1:
                    v = open_[0]
                    fits = []
                    for value in (True, False):
                        assign[v] = value
                        if holds(ci, assign):
                            fits.append(value)
                    assign[v] = None
                    if not fits:
                        return False
                    if len(fits) == 1:
                        assign[v] = fits[0]
                        queue.append(v)
        return True

    def search(assign: list[bool | None]) -> None:
        var = next((v for v in order if assign[v] is None), None)
        if var is None:
            found.append(tuple(bool(x) for x in assign))
            return
        for value in (True, False):
            trial = list(assign)
            trial[var] = value
            if propagate(trial, [var]):
                search(trial)
            if limit and len(found) >= limit:
                return

    start: list[bool | None] = [None] * n
    for v, kind in (told or {}).items():
        start[v] = kind
    if propagate(start, list(told or {})):
        search(start)
    return found


def _say(stmt: Stmt, names: list[str]) -> str:
    form, speaker, a, b = stmt
    who, x = names[speaker], names[a]
    y, me = ("I", "me") if b == speaker else (names[b], names[b])
    text = {
        "knight": f"{x} is a knight.", "knave": f"{x} is a knave.",
        "both": f"{x} and {y} are both knights.", "oneknave": f"At least one of {x} and {me} is a knave.",
        "either": f"At least one of {x} and {me} is a knight.", "bothknaves": f"{x} and {y} are both knaves.",
        "same": f"{x} and I are the same kind.", "diff": f"{x} and I are different kinds.",
    }[form]
    return f"{who} says: \"{text}\""


def _statement(rng: random.Random, n: int, speaker: int, about: int, compound: bool,
               assign: tuple[bool, ...], plain: bool) -> Stmt:
    """A true-to-the-speaker's-kind statement by ``speaker`` that mentions ``about``.

    ``plain`` compound statements are about two other people: none of them gives a kind away on
    its own (as "X and I are the same kind" or "X and I are both knaves" do), so solving takes
    case analysis.
    """
    form = rng.choice((PLAIN if plain else COMPOUND) if compound else SIMPLE)
    b = rng.choice([i for i in range(n) if i != about and (i != speaker or not plain)])
    stmt: Stmt = (form, speaker, about, b)
    if truth(stmt, assign) != assign[speaker]:
        stmt = (_NEG[form], speaker, about, b)
    return stmt


@dataclass(frozen=True)
class KnightsKnaves(ProbeFamily):
    """Decide who tells the truth on the island of knights and knaves."""

    name = "knights_knaves"
    skill = "logic"
    version = "2"
    top = 55
    grows = "people"
    formula = ("people = 2 + (d-1)//2 up to d=10, then floor(6 * 2**((d-10)/10)); "
               "unknown = people - (1 if d <= 3 else 0); compound = ceil(people * clamp(d-3, 0, 20) / 40)")

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        people = 2 + (d - 1) // 2 if d <= 10 else math.floor(6 * 2 ** ((d - 10) / 10))
        unknown = people - (1 if d <= _TOLD_UNTIL else 0)
        compound = math.ceil(people * min(max(d - 3, 0), 20) / 40)
        return {"people": people, "unknown": unknown, "compound": compound}

    def chance(self, difficulty: int) -> float:
        return float(2.0 ** -self.plan(difficulty)["unknown"])

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        n = p["people"]
        for _ in range(50):
            assign = tuple(rng.random() < 0.5 for _ in range(n))
            told = {v: assign[v] for v in rng.sample(range(n), n - p["unknown"])}
            speakers = list(range(n))
            rng.shuffle(speakers)
            hard = set(rng.sample(range(n), p["compound"]))
            plain = difficulty >= _PLAIN_FROM
            stmts = [
                _statement(rng, n, s, rng.choice([i for i in range(n) if i != s]), k in hard, assign, plain)
                for k, s in enumerate(speakers)
            ]
            while len(stmts) <= 3 * n:
                sols = solutions(n, stmts, told, limit=2)
                if len(sols) == 1:
                    return self._problem(rng, n, stmts, told, assign)
                alt = next(s for s in sols if s != assign)
                stmts.append(self._ruling_out(rng, n, alt, assign, p["compound"] / n, plain))
        raise RuntimeError("no unique knights-and-knaves puzzle in 50 tries")  # pragma: no cover

    @staticmethod
    def _ruling_out(rng: random.Random, n: int, alt: tuple[bool, ...], assign: tuple[bool, ...],
                    share: float, plain: bool) -> Stmt:
        """A statement, true to the hidden assignment, that ``alt`` (another solution) breaks."""
        differ = [v for v in range(n) if alt[v] != assign[v]]
        stmt: Stmt = ("knight", 0, 0, 0)
        for _ in range(12):
            about = rng.choice(differ)
            speaker = rng.choice([i for i in range(n) if i != about])
            stmt = _statement(rng, n, speaker, about, rng.random() < share, assign, plain)
            if truth(stmt, alt) != alt[speaker]:
                break
        return stmt

    @staticmethod
    def _problem(rng: random.Random, n: int, stmts: list[Stmt], told: dict[int, bool],
                 assign: tuple[bool, ...]) -> Problem:
        people, odd_people = _pools(n)
        picks = rng.sample(range(len(people)), n)
        odd = rng.sample(range(len(odd_people)), n)
        knights = [i for i in range(n) if assign[i]]
        facts = {"n": n, "stmts": stmts, "told": sorted(told.items()), "names": picks, "odd": odd,
                 "knights": knights}
        if n > len(PEOPLE):
            return Problem(facts=facts, answer=_letters(n, knights, "KN"))
        return Problem(facts=facts, answer=_listing([people[p] for p in picks], knights))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = names_for(problem, novelty)
        said = [_say(s, names) for s in f["stmts"]]
        if novelty == 2:
            rng.shuffle(said)
        kind = format_for(novelty, rng)
        people = ", ".join(names)
        if novelty == 3:
            told = [f"It is known that {names[v]} is {'an honest guide' if k else 'a trickster'}."
                    for v, k in f["told"]]
            knaves = [i for i in range(f["n"]) if i not in f["knights"]]
            fmt = answer_instruction(kind, "comma-separated names of the liars, or none")
            if f["n"] > len(PEOPLE):
                fmt = answer_instruction(kind, f"one letter per person in the order listed above ({names[0]} "
                                               "first): G for an honest guide, T for a trickster")
            prompt = (
                f"In a village story, {people} are each either an honest guide, who only ever says true "
                "things, or a trickster, who only ever says false things (a 'knight' is an honest guide, "
                "a 'knave' a trickster). " + " ".join([*told, *said]) + f" Who are the tricksters? {fmt}"
            )
            shown = _letters(f["n"], f["knights"], "GT") if f["n"] > len(PEOPLE) else _listing(names, knaves)
            return Rendering(prompt=prompt, answer=wrap_answer(kind, shown))
        told = [f"You are told that {names[v]} is a {'knight' if k else 'knave'}." for v, k in f["told"]]
        fmt = answer_instruction(kind, "comma-separated names of the knights, or none")
        if f["n"] > len(PEOPLE):
            fmt = answer_instruction(kind, f"one letter per person in the order listed above ({names[0]} first): "
                                           "K for knight, N for knave")
        intro = (
            f"On an island, knights always tell the truth and knaves always lie. You meet {people}."
            if novelty != 1 else
            f"{people} live where every person is a knight (never lies) or a knave (always lies)."
        )
        prompt = " ".join([intro, *told, *said, f"Which of them are knights? {fmt}"])
        if f["n"] > len(PEOPLE):
            return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))
        return Rendering(prompt=prompt, answer=wrap_answer(kind, _listing(names, f["knights"])))

    def score(self, item: Item, response: str) -> Verdict:
        f = item.problem.facts
        names = names_for(item.problem, item.novelty)
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        if f["n"] > len(PEOPLE):
            letters = _LETTER_SEP.sub("", final).upper()
            yes, no = "GT" if item.novelty == 3 else "KN"
            if len(letters) != f["n"] or set(letters) - {yes, no}:
                return Verdict(0.0, final, None)
            found = [i for i, c in enumerate(letters) if c == yes]
            return Verdict(1.0 if found == sorted(f["knights"]) else 0.0, final,
                           "knights:" + ",".join(str(i) for i in found))
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
    people, odd_people = _pools(f["n"])
    return [odd_people[i] for i in f["odd"]] if novelty >= 2 else [people[i] for i in f["names"]]


def _pools(n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The name pools for a puzzle of ``n`` people: the original ones up to the old top's size."""
    return (PEOPLE, ODD_PEOPLE) if n <= len(PEOPLE) else (MANY_PEOPLE, MANY_ODD)


_TOKEN = re.compile(r"[A-Za-z]+")
_NONE = re.compile(r"\b(?:none|nobody|no one)\b", re.IGNORECASE)


def named(text: str, names: list[str]) -> set[int]:
    """Positions of the names mentioned in ``text``."""
    folded = {n.casefold(): i for i, n in enumerate(names)}
    return {folded[w.casefold()] for w in _TOKEN.findall(text) if w.casefold() in folded}


_LETTER_SEP = re.compile(r"[\s,;.|/-]+")


def _letters(n: int, knights: list[int], pair: str) -> str:
    """Past 42 people (above the old top) the answer is one letter per person: a list of names
    would outgrow what an answer marker captures (400 characters)."""
    chosen = set(knights)
    return "".join(pair[0] if i in chosen else pair[1] for i in range(n))


def _listing(names: list[str], chosen: list[int]) -> str:
    return ", ".join(sorted(names[i] for i in chosen)) or "none"
