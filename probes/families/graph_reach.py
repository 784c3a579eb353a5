"""Graph reasoning: how many nodes can be reached from a start node along directed edges.

What grows: ``nodes`` (3 at level 1, 21 at level 10, then doubling every ten levels: 168 at level
40, the original top, and 672 at the top, 60) and ``edges`` (a tree's worth at level 1, about 1.5
per node from level 11: 1007 at the top). Levels 1..40 are generated exactly as before; above
them the same formula runs on, so the top asks for a search by hand over a thousand edges with
hundreds of nodes reached (prompts up to about 26k characters, at novelty 3). The
generator fixes the reachable set first (a third to two thirds of the other nodes, joined by
chains from the start) and adds the other edges only inside that set, among the unreachable
nodes or from them into it: many edges lead into the reachable part, none out of it, so the
answer is known by construction and checked by a search. Level 1 draws the count from 0..2 (version 3;
before, a third to two thirds of two other nodes made the answer always 1, passed by a constant guess).

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, wrap_answer
from probes.families.graph_path import draw_names, node_names


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


def _sizes(difficulty: int, others: int) -> tuple[int, int]:
    """The range the reached count is drawn from: a third to two thirds of the other nodes; at level 1
    (two other nodes) any count, 0..2, since one third to two thirds of two is always 1 (version 3)."""
    if difficulty == 1:
        return 0, others
    return max(1, others // 3), max(1, 2 * others // 3)


@dataclass(frozen=True)
class GraphReachability(ProbeFamily):
    """Count the nodes reachable from a start node in a directed graph."""

    name = "graph_reachability"
    skill = "graph"
    version = "3"
    top = 60
    grows = "nodes"
    formula = "nodes = 2d + 1 up to d=10, then floor(21 * 2**((d-10)/10)); edges = nodes - 1 + nodes*min(d-1, 10)//20"

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        n = 2 * d + 1 if d <= 10 else math.floor(21 * 2 ** ((d - 10) / 10))
        return {"nodes": n, "edges": n - 1 + n * min(d - 1, 10) // 20}

    def chance(self, difficulty: int) -> float:
        # The best blind guess: the count is drawn uniformly from build's range of reached sizes, so a
        # constant guess passes 1 in its width.
        low, high = _sizes(difficulty, self.plan(difficulty)["nodes"] - 1)
        return 1 / (high - low + 1)

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        n, m = p["nodes"], p["edges"]
        order = list(range(n))
        rng.shuffle(order)
        others = n - 1
        low, high = _sizes(difficulty, others)
        size = rng.randint(low, high)
        inside = order[: size + 1]  # the start, then the nodes it reaches
        edges: set[tuple[int, int]] = set()
        for k in range(1, len(inside)):
            # From one of the last few reached nodes: long chains, not a shallow star.
            edges.add((inside[k - rng.randint(1, min(3, k))], inside[k]))
        reached = set(inside)
        while len(edges) < m:
            a = rng.choice(order)
            b = rng.choice(inside if a in reached else order)  # nothing leads out of the reached set
            if a != b:
                edges.add((a, b))
        listed = sorted(edges)
        rng.shuffle(listed)
        source = inside[0]
        count = len(reachable(n, listed, source))
        facts = {"n": n, "edges": listed, "s": source, **draw_names(rng, n)}
        return Problem(facts=facts, answer=str(count))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = node_names(f, novelty)
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
