"""Graph reasoning: shortest path cost in a weighted undirected graph given as an edge list.

What grows: ``nodes`` (2 at level 1, a single edge, so the answer is stated; 20 at level 10;
then doubling every ten levels: 160 at level 40, the original top, and 640 at the top, 60),
``edges`` (about 1.6 per node: 1021 at the top) and the largest weight (up to 99).

Nodes lie on a hidden line and edges join nodes at most ``BAND`` places apart; the question
asks for the route between the two ends of the line, so the best route runs through at least a
third of the nodes and competes with many near-equal rivals, unlike a random graph whose far
ends are a few hops apart. Past 24 nodes the names are two-letter codes (towns with suffixes at
novelty 2 and up; past 216 nodes, only above the old top, a larger pool of towns with short
suffixes). Levels 1..40 are generated exactly as before; above them the same formula runs on,
so the top asks for Dijkstra by hand over a thousand edges (prompts up to about 37k characters,
at novelty 2).

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, wrap_answer

LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWX")
TOWNS = (
    "Ardel", "Brisk", "Corvan", "Dunmere", "Eskor", "Fallow", "Grint", "Holm", "Ister", "Jarro",
    "Kelm", "Lorn", "Mardle", "Nisk", "Ostry", "Pell", "Quarn", "Rusk", "Sable", "Tarn", "Ulm",
    "Vesk", "Wold", "Yarl",
)
#: Two-letter codes for graphs too big for single letters, and town names for the same sizes.
CODES = tuple(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
MORE_TOWNS = TOWNS + tuple(t + end for end in ("ford", "wick", "ton", "mouth", "by", "stead", "holm", "ley")
                           for t in TOWNS)
#: Town names for graphs past ``MORE_TOWNS`` (beyond the old tops): short endings keep prompts bounded.
ENDINGS = ("by", "ton", "ley", "ham", "den", "wick", "ford", "dale", "holm", "port", "gate", "well", "wood",
           "more", "side", "burn", "cote", "hay", "ness", "bank", "brook", "cross", "field", "hill", "mead",
           "moor", "stow", "wade", "worth", "combe")
MANY_TOWNS = TOWNS + tuple(t + end for end in ENDINGS for t in TOWNS)
#: Nodes sit on a hidden line and edges join nodes at most this many places apart, so the
#: shortest route between the ends runs through about n / BAND nodes and has many rivals.
BAND = 3

Edge = tuple[int, int, int]


def _pools(n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    small = n <= len(LETTERS)
    towns = TOWNS if small else MORE_TOWNS if n <= len(MORE_TOWNS) else MANY_TOWNS
    return (LETTERS if small else CODES), towns


def draw_names(rng: random.Random, n: int) -> dict[str, list[int]]:
    """Facts choosing the node names: positions in the plain pool and in the town pool."""
    plain, towns = _pools(n)
    return {"names": rng.sample(range(len(plain)), n), "towns": rng.sample(range(len(towns)), n)}


def node_names(facts: Mapping[str, Any], novelty: int) -> list[str]:
    """The nodes' names in a rendering: letters (two-letter codes past 24 nodes), towns from novelty 2."""
    plain, towns = _pools(len(facts["names"]))
    return [towns[i] for i in facts["towns"]] if novelty >= 2 else [plain[i] for i in facts["names"]]


def band_graph(rng: random.Random, n: int, m: int, max_w: int) -> tuple[list[Edge], list[int]]:
    """A connected weighted graph of ``m`` edges on ``n`` nodes laid on a hidden line.

    Every node joins one of the ``BAND`` nodes before it (a spanning tree), then random extra
    edges join nodes at most ``BAND`` places apart. Returns the edges (shuffled, labels random)
    and the labels in line order.
    """
    label = list(range(n))
    rng.shuffle(label)
    pairs: dict[tuple[int, int], int] = {}
    for i in range(1, n):
        j = i - rng.randint(1, min(BAND, i))
        pairs[(j, i)] = rng.randint(1, max_w)
    room = sum(min(BAND, i) for i in range(n))
    while len(pairs) < min(m, room):
        i = rng.randrange(1, n)
        pairs.setdefault((i - rng.randint(1, min(BAND, i)), i), rng.randint(1, max_w))
    edges = [(label[a], label[b], w) if rng.random() < 0.5 else (label[b], label[a], w)
             for (a, b), w in pairs.items()]
    rng.shuffle(edges)
    return edges, label


def distances(n: int, edges: list[Edge], source: int) -> list[float]:
    """Dijkstra's shortest distances from ``source``."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for a, b, w in edges:
        adj[a].append((b, w))
        adj[b].append((a, w))
    dist = [float("inf")] * n
    dist[source] = 0
    heap = [(0.0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            if d + w < dist[v]:
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return dist


@dataclass(frozen=True)
class GraphShortestPath(ProbeFamily):
    """Cheapest route between two nodes of a weighted graph."""

    name = "graph_shortest_path"
    skill = "graph"
    version = "2"
    top = 60
    grows = "nodes"
    formula = ("nodes = 2d up to d=10, then floor(20 * 2**((d-10)/10)); edges = nodes - 1 + floor(0.6*(nodes-2)); "
               f"max_weight = min(99, 4 + 3d); edges join nodes at most {BAND} apart on a hidden line")

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        n = 2 * d if d <= 10 else math.floor(20 * 2 ** ((d - 10) / 10))
        return {"nodes": n, "edges": n - 1 + math.floor(0.6 * (n - 2)), "max_weight": min(99, 4 + 3 * d)}

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        n = p["nodes"]
        edges, line = band_graph(rng, n, p["edges"], p["max_weight"])
        # From one end of the hidden line to the other: the longest route the graph has.
        source, target = line[0], line[-1]
        cost = int(distances(n, edges, source)[target])
        facts = {"n": n, "edges": edges, "s": source, "t": target, **draw_names(rng, n)}
        return Problem(facts=facts, answer=str(cost))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = node_names(f, novelty)
        edges = list(f["edges"])
        if novelty >= 1:
            rng.shuffle(edges)
        s, t = names[f["s"]], names[f["t"]]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if novelty == 3:
            rows = "\n".join(f"| {names[a]} | {names[b]} | {w} |" for a, b, w in edges)
            prompt = (
                f"A ferry company runs these two-way crossings:\n| port | port | hours |\n|---|---|---|\n"
                f"{rows}\nA traveller wants to go from {s} to {t} as quickly as possible. "
                f"How many hours does the fastest trip take? {fmt}"
            )
        else:
            sep = "\n" if novelty == 0 else "; "
            listed = sep.join(f"{names[a]} - {names[b]} (weight {w})" for a, b, w in edges)
            lead = ("Undirected weighted edges:" if novelty == 0 else
                    "The roads below go both ways; the number is the length:")
            if novelty == 2:
                listed = listed.replace(" - ", " <-> ")
            prompt = f"{lead}\n{listed}\nWhat is the length of the shortest path from {s} to {t}? {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
