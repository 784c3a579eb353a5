"""Graph reasoning: shortest path cost in a weighted undirected graph given as an edge list.

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWX")
TOWNS = (
    "Ardel", "Brisk", "Corvan", "Dunmere", "Eskor", "Fallow", "Grint", "Holm", "Ister", "Jarro",
    "Kelm", "Lorn", "Mardle", "Nisk", "Ostry", "Pell", "Quarn", "Rusk", "Sable", "Tarn", "Ulm",
    "Vesk", "Wold", "Yarl",
)
# (nodes, extra edges beyond a spanning tree, max weight) per level.
_PLAN = {
    1: (4, 1, 5), 2: (5, 2, 5), 3: (6, 3, 9), 4: (7, 4, 9), 5: (8, 5, 9), 6: (10, 7, 12),
    7: (12, 9, 15), 8: (14, 12, 20), 9: (17, 15, 20), 10: (20, 20, 25),
}

Edge = tuple[int, int, int]


def random_graph(rng: random.Random, n: int, extra: int, max_w: int) -> list[Edge]:
    """A connected undirected weighted graph: a random spanning tree plus ``extra`` edges."""
    order = list(range(n))
    rng.shuffle(order)
    edges: dict[tuple[int, int], int] = {}
    for i in range(1, n):
        a, b = order[i], order[rng.randrange(i)]
        edges[(min(a, b), max(a, b))] = rng.randint(1, max_w)
    tries = 0
    while len(edges) < n - 1 + extra and tries < 20 * extra:
        tries += 1
        a, b = rng.sample(range(n), 2)
        edges.setdefault((min(a, b), max(a, b)), rng.randint(1, max_w))
    return [(a, b, w) for (a, b), w in edges.items()]


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


def hops(n: int, edges: list[Edge], source: int) -> list[int]:
    """Unweighted hop counts from ``source`` (for picking far-apart endpoints)."""
    return [int(d) for d in distances(n, [(a, b, 1) for a, b, _ in edges], source)]


@dataclass(frozen=True)
class GraphShortestPath(ProbeFamily):
    """Cheapest route between two nodes of a weighted graph."""

    name = "graph_shortest_path"
    skill = "graph"
    version = "1"
    levels = tuple(f"{n} nodes, {n - 1 + e} edges, weights up to {w}" for n, e, w in _PLAN.values())

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, extra, max_w = _PLAN[difficulty]
        edges = random_graph(rng, n, extra, max_w)
        source = rng.randrange(n)
        h = hops(n, edges, source)
        far = max(h)
        target = pick(rng, [i for i in range(n) if h[i] >= max(1, far - 1)])
        cost = int(distances(n, edges, source)[target])
        return Problem(facts={"n": n, "edges": edges, "s": source, "t": target}, answer=str(cost))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = TOWNS if novelty >= 2 else LETTERS
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
