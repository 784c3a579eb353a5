"""Verifier and generator tests for the graph_path family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.graph_path import GraphShortestPath, distances

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_shortest_path_against_brute_force() -> None:
    fam = GraphShortestPath()
    it = item(fam, 3)
    f = it.problem.facts
    n, edges = f["n"], f["edges"]
    # Floyd-Warshall as an independent check of Dijkstra.
    d = [[0 if i == j else float("inf") for j in range(n)] for i in range(n)]
    for a, b, w in edges:
        d[a][b] = d[b][a] = min(d[a][b], w)
    for k in range(n):
        for i in range(n):
            for j in range(n):
                d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    assert d[f["s"]][f["t"]] == int(it.problem.answer) == distances(n, edges, f["s"])[f["t"]]


