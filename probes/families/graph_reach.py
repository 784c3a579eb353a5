"""Graph reasoning: how many nodes can be reached from a start node along directed edges.

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, wrap_answer
from probes.families.graph_path import LETTERS, TOWNS

# (nodes, directed edges) per level.
_PLAN = {1: (4, 3), 2: (5, 4), 3: (6, 6), 4: (7, 8), 5: (8, 10), 6: (10, 13), 7: (12, 16), 8: (14, 20),
         9: (17, 25), 10: (20, 30)}


def reachable(n: int, edges: list[tuple[int, int]], source: int) -> set[int]:
    """Nodes reachable from ``source`` (excluding it unless on a cycle back to it)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
    seen: set[int] = set()
    stack = [source]
    while stack:
        for v in adj[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    seen.discard(source)
    return seen


@dataclass(frozen=True)
class GraphReachability(ProbeFamily):
    """Count the nodes reachable from a start node in a directed graph."""

    name = "graph_reachability"
    skill = "graph"
    version = "1"
    levels = tuple(f"{n} nodes, {m} directed edges" for n, m in _PLAN.values())

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, m = _PLAN[difficulty]
        edges: set[tuple[int, int]] = set()
        while len(edges) < m:
            a, b = rng.sample(range(n), 2)
            edges.add((a, b))
        listed = sorted(edges)
        rng.shuffle(listed)
        source = rng.randrange(n)
        count = len(reachable(n, listed, source))
        return Problem(facts={"n": n, "edges": listed, "s": source}, answer=str(count))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = TOWNS if novelty >= 2 else LETTERS
        edges = list(f["edges"])
        if novelty == 2:
            rng.shuffle(edges)
        s = names[f["s"]]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if novelty == 3:
            rows = "\n".join(f"| {names[a]} | {names[b]} |" for a, b in edges)
            prompt = (
                f"A river delta's channels flow one way only:\n| from | to |\n|---|---|\n{rows}\n"
                f"A message in a bottle is dropped at {s}. How many other places can it possibly "
                f"reach? {fmt}"
            )
        else:
            arrows = ", ".join(f"{names[a]} -> {names[b]}" for a, b in edges)
            q = (f"Directed edges: {arrows}. How many nodes other than {s} are reachable from {s}?"
                 if novelty != 1 else
                 f"One-way links: {arrows}. Starting at {s} and following links, how many distinct "
                 f"nodes besides {s} can you visit?")
            prompt = f"{q} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
