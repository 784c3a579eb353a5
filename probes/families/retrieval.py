"""Retrieval from a long synthetic context: one needle first, then chains of two and three hops.

Filler facts are invented (objects, colours, rooms, weights), so nothing outside the context
helps. Novelty 2 adds near-miss distractors (other vaults, other lockers); novelty 3 shows the
context as a log table. Scoring: exact integer match on the extracted final number; no partial
credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

_OBJECTS = ("kettle", "lantern", "compass", "ledger", "teapot", "saddle", "violin", "anchor", "mirror",
            "barrel", "easel", "helmet", "loom", "quill", "sextant", "thimble")
_COLOURS = ("red", "grey", "golden", "green", "violet", "brown", "white", "black", "amber", "blue")
_ROOMS = ("attic", "cellar", "pantry", "study", "gallery", "workshop", "library", "stable")
_VAULTS = ("crimson", "northern", "sunken", "hollow", "iron", "glass", "silent", "western", "coral")
# (filler sentences, hops) per level.
_PLAN = {1: (8, 1), 2: (15, 1), 3: (30, 1), 4: (60, 1), 5: (100, 1), 6: (30, 2), 7: (60, 2),
         8: (100, 2), 9: (60, 3), 10: (120, 3)}


def _filler(rng: random.Random) -> str:
    return (f"The {pick(rng, _COLOURS)} {pick(rng, _OBJECTS)} in the {pick(rng, _ROOMS)} "
            f"weighs {rng.randint(2, 999)} grams.")


@dataclass(frozen=True)
class NeedleRetrieval(ProbeFamily):
    """Find a fact (or follow a chain of facts) in a long invented context."""

    name = "needle_retrieval"
    skill = "retrieval"
    version = "1"
    levels = tuple(
        f"{n} filler facts, " + ("one needle" if h == 1 else f"{h}-hop chain") for n, h in _PLAN.values()
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, hop_count = _PLAN[difficulty]
        vault, other_vault = rng.sample(_VAULTS, 2)
        code = rng.randint(1000, 99999)
        lockers = rng.sample(range(10, 99), 2 * hop_count)
        chain: list[str] = []
        if hop_count == 1:
            chain.append(f"The code of the {vault} vault is {code}.")
        elif hop_count == 2:
            chain.append(f"The code of the {vault} vault is kept in locker {lockers[0]}.")
            chain.append(f"Locker {lockers[0]} contains the number {code}.")
        else:
            chain.append(f"The code of the {vault} vault is kept in locker {lockers[0]}.")
            chain.append(f"Locker {lockers[0]} holds only a key to drawer {lockers[1]}.")
            chain.append(f"Drawer {lockers[1]} contains the number {code}.")
        fillers = [_filler(rng) for _ in range(n)]
        # Hops are spread through the context, never adjacent, so each one must be found.
        positions = sorted(rng.sample(range(n + 1), len(chain)))
        decoys = [f"Locker {lockers[-1]} contains the number {rng.randint(1000, 99999)}.",
                  f"The code of the {other_vault} vault is {rng.randint(1000, 99999)}."]
        return Problem(facts={"fillers": fillers, "chain": chain, "positions": positions, "vault": vault,
                              "decoys": decoys}, answer=str(code))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        lines = list(f["fillers"])
        for offset, (pos, fact) in enumerate(zip(f["positions"], f["chain"], strict=True)):
            lines.insert(pos + offset, fact)
        if novelty == 2:
            for decoy in f["decoys"]:
                lines.insert(rng.randint(0, len(lines)), decoy)
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "number")
        q = f"What is the code of the {f['vault']} vault?"
        if novelty == 3:
            log = "\n".join(f"[{i:04d}] {line}" for i, line in enumerate(lines, 1))
            prompt = (f"A night watchman's log from a great house:\n{log}\nThe owner is locked out of the "
                      f"{f['vault']} vault. Which code opens it? {fmt}")
        elif novelty == 1:
            prompt = f"Read the notes below, then answer.\n\n{' '.join(lines)}\n\n{q} {fmt}"
        else:
            prompt = "Context:\n" + "\n".join(lines) + f"\n\nQuestion: {q} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
