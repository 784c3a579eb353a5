"""Retrieval from a long synthetic context: follow a chain of boxes to a vault's code.

What grows (``plan``): the context length in sentences (``lines = floor(8 * 2**((c-1)/5))`` with
``c = min(d, 35)``: 8 at level 1, 27 at level 10, 891 from level 35 on, ~10-11k tokens), the
chain length (``hops = 1 + (c-1)//2``: the code stated outright at level 1, 18 hops from level
35), the number of vaults asked at once (``vaults``: 1 up to level 35, then
``floor(2**((d-35)/4))``, 13 at the top level 50; the answer is the sum of their codes, so every
chain must be followed, 234 lookups at level 50) and the main size
``reads = lines * max(vaults, steps)`` (one search of the context per vault's chain, or per walk
step). A frontier model without tools followed one 18-hop chain through 891 lines every time (5/5
at level 35, version 2's top) and up to 8 chains summed (2/2 at 43, 1/1 at 47, version 3).
Above level 47 (version 4) the answer is a walk instead of a sum: ``vaults = min(16,
floor(2**((d-35)/4)))`` chains are numbered in the question, ``a`` starts at a given residue, and
each of ``steps = floor(8 * 2**((d-47)/5))`` steps (9 at level 48, 12,416 at the top 100) reads
the code of vault ``a mod vaults`` and sets ``a = (31 * a + code + i) mod 10007``; the answer is
the last ``a``. Every step's vault depends on every earlier code and update, so one wrong code or
one slip in any step changes the answer, and the steps double every five levels.
Near-identical distractors (``decoys``: other vaults, other boxes whose numbers differ
from the chain's by one digit or a swap, pointing on or holding numbers; up to 60 % of the
lines) and ``corrections`` from level 11 (later lines that overrule an earlier pointer or
number, for chain and decoy boxes alike, so every hop needs a second look). Levels 1..35 are
generated exactly as in version 2, levels 36..47 exactly as in version 3.
Filler facts are invented (objects, colours, rooms, weights), so nothing outside the context
helps. Novelty 2 adds two more harmless decoys; novelty 3 shows the context as a log table.
Scoring: exact integer match on the extracted final number; no partial credit.
The context is the same ~10-11k tokens from level 35 to the top.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

_OBJECTS = ("kettle", "lantern", "compass", "ledger", "teapot", "saddle", "violin", "anchor", "mirror",
            "barrel", "easel", "helmet", "loom", "quill", "sextant", "thimble")
_COLOURS = ("red", "grey", "golden", "green", "violet", "brown", "white", "black", "amber", "blue")
_ROOMS = ("attic", "cellar", "pantry", "study", "gallery", "workshop", "library", "stable")
_VAULTS = ("crimson", "northern", "sunken", "hollow", "iron", "glass", "silent", "western", "coral", "eastern",
           "amber", "granite")
#: More vault names, drawn only above the old top (where up to 13 vaults are asked at once).
_MORE_VAULTS = ("copper", "marble", "velvet", "frozen", "ashen", "golden", "rusted", "hidden", "southern",
                "emerald", "broken", "ivory", "obsidian", "scarlet", "misty", "lunar")
#: The top before the scale was extended: levels 1..OLD_TOP are generated exactly as before.
OLD_TOP = 35
#: The last level generated as in version 3 (calibrated: a frontier model passed 47): above it the
#: answer is a walk over the vaults' codes.
V3_TOP = 47
#: The walk's update: a = (WALK_MULT * a + code + step) mod WALK_PRIME.
WALK_MULT, WALK_PRIME = 31, 10007
#: Vaults whose chains the walk visits, at most (their chains and the decoys fill the 891 lines).
MAX_VAULTS = 16
#: Lines that are decoys at most (the rest are the chain, corrections and plain filler).
MAX_DECOY_SHARE = 0.6


def _filler(rng: random.Random) -> str:
    # One draw split into colour, object, room and weight: contexts run to ~900 lines.
    r = rng.randrange(len(_COLOURS) * len(_OBJECTS) * len(_ROOMS) * 998)
    r, grams = divmod(r, 998)
    r, room = divmod(r, len(_ROOMS))
    colour, obj = divmod(r, len(_OBJECTS))
    return f"The {_COLOURS[colour]} {_OBJECTS[obj]} in the {_ROOMS[room]} weighs {grams + 2} grams."


def start_line(vault: str, box: int) -> str:
    """The line that says where a vault's code is kept."""
    return f"The code of the {vault} vault is kept in box {box}."


def pointer_line(box: int, to: int) -> str:
    """The line that sends one box on to the next."""
    return f"Box {box} holds a note pointing to box {to}."


def number_line(box: int, number: int) -> str:
    """The line that says what number a box holds."""
    return f"Box {box} contains the number {number}."


def _correction(kind: str, subject: str | int, new: int, old: int) -> str:
    if kind == "start":
        return f"Correction: the code of the {subject} vault is kept in box {new}, not in box {old}."
    if kind == "ptr":
        return f"Correction: the note in box {subject} points to box {new}, not to box {old}."
    return f"Correction: box {subject} contains the number {new}, not {old}."


def _line(kind: str, subject: str | int, value: int) -> str:
    if kind == "start":
        return start_line(str(subject), value)
    if kind == "ptr":
        return pointer_line(int(subject), value)
    return number_line(int(subject), value)


class _Ids:
    """Box numbers drawn without repeats, many of them one digit away from a chain box."""

    def __init__(self, rng: random.Random, digits: int) -> None:
        self.rng, self.digits, self.lo, self.hi = rng, digits, 10 ** (digits - 1), 10**digits - 1
        self.used: set[int] = set()

    def fresh(self) -> int:
        while True:
            x = self.rng.randint(self.lo, self.hi)
            if x not in self.used:
                self.used.add(x)
                return x

    def lookalike(self, of: int) -> int:
        """An unused box number one changed digit (or one swap of adjacent digits) away from ``of``."""
        for _ in range(8):
            pos, digit = divmod(self.rng.randrange(10 * self.digits), 10)
            place: int = 10**pos
            old = of // place % 10
            if digit == old and pos + 1 < self.digits:  # swap this digit with the next higher one
                higher = of // (10 * place) % 10
                x = of + (higher - old) * place + (old - higher) * 10 * place
            else:
                x = of + (digit - old) * place
            if self.lo <= x <= self.hi and x not in self.used:
                self.used.add(x)
                return x
        return self.fresh()


def plan_at(d: int) -> dict[str, int]:
    """The size parameters at level ``d`` (see the module docstring)."""
    c = min(d, OLD_TOP)  # the context stops growing at the old top: ~10k tokens already
    lines = int(8 * 2 ** ((c - 1) / 5))
    vaults = 1 if d <= OLD_TOP else min(MAX_VAULTS, int(2 ** ((d - OLD_TOP) / 4)))
    steps = 0 if d <= V3_TOP else int(8 * 2 ** ((d - V3_TOP) / 5))
    return {
        "reads": lines * max(vaults, steps),
        "lines": lines,
        "hops": 1 + (c - 1) // 2,
        "decoys": int(lines * min(MAX_DECOY_SHARE, (d - 1) / 30)),
        "corrections": max(0, (d - 9) // 2),
        "vaults": vaults,
        "steps": steps,
    }


@dataclass(frozen=True)
class NeedleRetrieval(ProbeFamily):
    """Find a fact (or follow a chain of facts) in a long invented context."""

    name = "needle_retrieval"
    skill = "retrieval"
    version = "4"
    top = 100
    grows = "reads"
    formula = ("c = min(d, 35); lines = floor(8 * 2**((c-1)/5)); hops = 1 + (c-1)//2; "
               "decoys = floor(lines * min(0.6, (d-1)/30)); corrections = max(0, (d-9)//2); "
               "vaults = 1 to d=35, then min(16, floor(2**((d-35)/4))) (to d=47 the answer is the sum of their "
               "codes); steps = 0 to d=47, then floor(8 * 2**((d-47)/5)) dependent updates "
               "a = (31a + code of vault a mod vaults + i) mod 10007; reads = lines * max(vaults, steps)")

    def plan(self, difficulty: int) -> dict[str, int]:
        return plan_at(difficulty)

    def chance(self, difficulty: int) -> float:
        """Open codes and sums (0); above level 47 a blind guess of a residue mod 10007."""
        return 1 / WALK_PRIME if difficulty > V3_TOP else 0.0

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        if difficulty > OLD_TOP:
            return _build_vaults(rng, p)
        hops = p["hops"]
        ids = _Ids(rng, 3 if difficulty < 12 else 4)
        vault, *others = rng.sample(_VAULTS, len(_VAULTS))
        code = rng.randint(1000, 99999)
        # The chain as facts (kind, subject, value): start -> box -> ... -> box holding the code.
        boxes = [ids.fresh() for _ in range(hops - 1)]
        chain: list[tuple[str, str | int, int]]
        if hops == 1:
            chain = [("start_code", vault, code)]
        else:
            chain = [("start", vault, boxes[0])]
            chain += [("ptr", a, b) for a, b in itertools.pairwise(boxes)]
            chain.append(("num", boxes[-1], code))
        truth = [self._text(f) for f in chain]
        # Decoys: other vaults, and boxes one digit away from chain boxes that point on or hold numbers.
        decoys: list[tuple[str, str | int, int]] = []
        near = list(boxes) or [ids.fresh()]  # grows: decoys look like chain boxes and like each other
        for _ in range(p["decoys"]):
            roll = rng.random()
            if others and (roll < 0.1 or hops == 1):
                value = ids.lookalike(pick(rng, near)) if hops > 1 else rng.randint(1000, 99999)
                decoys.append(("start" if hops > 1 else "start_code", others.pop(), value))
                continue
            box = ids.lookalike(pick(rng, near))
            near.append(box)
            if roll < 0.55:
                decoys.append(("ptr", box, ids.lookalike(pick(rng, near))))
            else:
                decoys.append(("num", box, rng.randint(1000, 99999)))
        # Corrections: the first line about a fact states a stale value; a later line overrules it.
        stale_text: list[str] = []
        corrections: list[str] = []
        # A stale pointer leads to a decoy box that exists, so missing a correction gives a wrong code.
        dead_ends = [int(f[1]) for f in decoys if f[0] in ("ptr", "num")]
        correctable = [i for i, f in enumerate(chain) if f[0] != "start_code"]
        rng.shuffle(correctable)
        decoy_ptrs = [i for i, f in enumerate(decoys) if f[0] in ("ptr", "num")]
        rng.shuffle(decoy_ptrs)
        for j in range(p["corrections"]):
            pool, target = (chain, correctable) if j % 2 == 0 and correctable else (decoys, decoy_ptrs)
            if not target:
                pool, target = (decoys, decoy_ptrs) if decoy_ptrs else (chain, correctable)
            idx = target.pop()
            kind, subject, value = pool[idx]
            if kind == "num":
                stale = rng.randint(1000, 99999)
            else:
                stale = pick(rng, dead_ends) if dead_ends else ids.lookalike(value)
            pool[idx] = (kind, subject, stale)
            stale_text.append(self._text(pool[idx]))
            corrections.append(_correction(kind, subject, value, stale))
        facts_text = [self._text(f) for f in chain] + [self._text(f) for f in decoys]
        fillers = [_filler(rng) for _ in range(p["lines"] - len(facts_text) - len(corrections))]
        lines = facts_text + corrections + fillers
        rng.shuffle(lines)
        # Every correction comes after the line it overrules.
        for old, new in zip(stale_text, corrections, strict=True):
            i, j = lines.index(old), lines.index(new)
            if j < i:
                lines[i], lines[j] = new, old
        return Problem(facts={"lines": lines, "vault": vault, "others": others[:2], "hops": hops,
                              "chain": truth, "stale": stale_text, "corrections": corrections},
                       answer=str(code))

    @staticmethod
    def _text(fact: tuple[str, str | int, int]) -> str:
        kind, subject, value = fact
        if kind == "start_code":
            return f"The code of the {subject} vault is {value}."
        return _line(kind, subject, value)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        lines = list(f["lines"])
        if novelty == 2:
            for other in f["others"]:
                decoy = f"The code of the {other} vault is {rng.randint(1000, 99999)}."
                lines.insert(rng.randint(0, len(lines)), decoy)
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "number")
        rule = " Later corrections overrule earlier lines." if any(x.startswith("Correction") for x in lines) else ""
        asked: list[str] = list(f.get("asked", [f["vault"]]))
        many = ", ".join(asked[:-1]) + f" and {asked[-1]}" if len(asked) > 1 else ""
        q = (f"What is the sum of the codes of the {many} vaults?" if many else
             f"What is the code of the {f['vault']} vault?")
        if "walk" in f:
            q = walk_question(asked, *f["walk"])
        if novelty == 3 and "walk" in f:
            log = "\n".join(f"[{i:04d}] {line}" for i, line in enumerate(lines, 1))
            prompt = (f"A night watchman's log from a great house:\n{log}\n"
                      f"The owner's lock wants a number.{rule} {q} {fmt}")
        elif novelty == 3:
            log = "\n".join(f"[{i:04d}] {line}" for i, line in enumerate(lines, 1))
            locked = (f"the {many} vaults.{rule} The master key is the sum of their codes. What is it?" if many
                      else f"the {f['vault']} vault.{rule} Which code opens it?")
            prompt = f"A night watchman's log from a great house:\n{log}\nThe owner is locked out of {locked} {fmt}"
        elif novelty == 1:
            prompt = f"Read the notes below, then answer.{rule}\n\n{' '.join(lines)}\n\n{q} {fmt}"
        else:
            prompt = "Context:\n" + "\n".join(lines) + f"\n\nQuestion: {q}{rule} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)



def _build_vaults(rng: random.Random, p: dict[str, int]) -> Problem:
    """Above the old top: several vaults' chains in one context; the answer is the sum of their codes.

    Every vault's chain has the old top's length; decoy boxes look like chain boxes; corrections
    fall on chain links (every other one) and decoys alike, and a stale pointer leads to a decoy.
    """
    hops, k = p["hops"], p["vaults"]
    ids = _Ids(rng, 4)
    names = rng.sample(_VAULTS + _MORE_VAULTS, len(_VAULTS) + len(_MORE_VAULTS))
    asked, others = names[:k], names[k:]
    chain: list[tuple[str, str | int, int]] = []
    codes: list[int] = []
    for vault in asked:
        boxes = [ids.fresh() for _ in range(hops - 1)]
        codes.append(rng.randint(1000, 99999))
        chain.append(("start", vault, boxes[0]))
        chain += [("ptr", a, b) for a, b in itertools.pairwise(boxes)]
        chain.append(("num", boxes[-1], codes[-1]))
    truth = [NeedleRetrieval._text(f) for f in chain]
    near = [int(f[1]) for f in chain if f[0] != "start"]
    decoys: list[tuple[str, str | int, int]] = []
    for _ in range(p["decoys"]):
        roll = rng.random()
        if others and roll < 0.05:
            decoys.append(("start", others.pop(), ids.lookalike(pick(rng, near))))
            continue
        box = ids.lookalike(pick(rng, near))
        near.append(box)
        decoys.append(("ptr", box, ids.lookalike(pick(rng, near))) if roll < 0.55 else
                      ("num", box, rng.randint(1000, 99999)))
    dead_ends = [int(f[1]) for f in decoys if f[0] in ("ptr", "num")]
    correctable = list(range(len(chain)))
    rng.shuffle(correctable)
    decoy_ptrs = [i for i, f in enumerate(decoys) if f[0] in ("ptr", "num")]
    rng.shuffle(decoy_ptrs)
    stale_text: list[str] = []
    corrections: list[str] = []
    for j in range(p["corrections"]):
        pool, target = (chain, correctable) if j % 2 == 0 or not decoy_ptrs else (decoys, decoy_ptrs)
        idx = target.pop()
        kind, subject, value = pool[idx]
        stale = rng.randint(1000, 99999) if kind == "num" else pick(rng, dead_ends)
        pool[idx] = (kind, subject, stale)
        stale_text.append(NeedleRetrieval._text(pool[idx]))
        corrections.append(_correction(kind, subject, value, stale))
    facts_text = [NeedleRetrieval._text(f) for f in chain + decoys]
    fillers = [_filler(rng) for _ in range(p["lines"] - len(facts_text) - len(corrections))]
    lines = facts_text + corrections + fillers
    rng.shuffle(lines)
    for old, new in zip(stale_text, corrections, strict=True):
        i, j = lines.index(old), lines.index(new)
        if j < i:
            lines[i], lines[j] = new, old
    facts = {"lines": lines, "vault": asked[0], "asked": asked, "others": others[:2], "hops": hops,
             "chain": truth, "stale": stale_text, "corrections": corrections, "codes": codes}
    if not p["steps"]:
        return Problem(facts=facts, answer=str(sum(codes)))
    start = rng.randrange(WALK_PRIME)
    return Problem(facts={**facts, "walk": (start, p["steps"])}, answer=str(walk(start, p["steps"], codes)))


def walk(start: int, steps: int, codes: list[int]) -> int:
    """Above version 3's levels: ``a`` after ``steps`` updates, each reading the code of vault ``a mod k``."""
    a = start
    for i in range(1, steps + 1):
        a = (WALK_MULT * a + codes[a % len(codes)] + i) % WALK_PRIME
    return a


def walk_question(asked: list[str], start: int, steps: int) -> str:
    """The question of a walk item: every step's vault depends on the previous step's result."""
    order = ", ".join(f"{i} {v}" for i, v in enumerate(asked))
    return (f"Number the vaults in this order: {order}. Start with a = {start}. Then for each step i = 1, 2, "
            f"..., {steps}: take the vault whose number is a mod {len(asked)}, and set a = ({WALK_MULT} * a + "
            f"that vault's code + i) mod {WALK_PRIME}. What is a after step {steps}?")
