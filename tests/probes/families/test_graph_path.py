"""Verifier and generator tests for the graph_path family."""

from __future__ import annotations

import hashlib
import math
import re

from probes.base import Item, ProbeFamily, make_item
from probes.families.graph_path import BAND, GraphShortestPath, distances, node_names

SALT = b"family-tests"
FAM = GraphShortestPath()


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def floyd_warshall(n: int, edges: list[tuple[int, int, int]]) -> list[list[float]]:
    d = [[0 if i == j else math.inf for j in range(n)] for i in range(n)]
    for a, b, w in edges:
        d[a][b] = d[b][a] = min(d[a][b], w)
    for k in range(n):
        for i in range(n):
            for j in range(n):
                d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    return d


def test_graph_path_plan_formula() -> None:
    expected_nodes = {1: 2, 2: 4, 5: 10, 10: 20, 11: 21, 15: 28, 20: 40, 30: 80, 40: 160, 50: 320, 60: 640}
    for d, nodes in expected_nodes.items():
        assert FAM.plan(d)["nodes"] == nodes, d
    assert FAM.plan(1) == {"nodes": 2, "edges": 1, "max_weight": 7}
    assert FAM.plan(10) == {"nodes": 20, "edges": 29, "max_weight": 34}
    assert FAM.plan(40) == {"nodes": 160, "edges": 253, "max_weight": 99}
    assert FAM.plan(60) == {"nodes": 640, "edges": 1021, "max_weight": 99}
    assert FAM.top == 60 and FAM.grows == "nodes" and FAM.chance(FAM.top) == 0.0


def test_graph_path_problem_matches_plan() -> None:
    for d in (1, 2, 7, 10, 20, 40, 45, 60):
        p = FAM.plan(d)
        it = item(FAM, d)
        f = it.problem.facts
        assert f["n"] == p["nodes"] and len(f["edges"]) == p["edges"]
        assert len({(min(a, b), max(a, b)) for a, b, _ in f["edges"]}) == p["edges"], "no repeated edge"
        assert all(1 <= w <= p["max_weight"] and a != b for a, b, w in f["edges"])
        names = node_names(f, 0)
        assert len(set(names)) == p["nodes"] == len(set(node_names(f, 2)))
        # Every edge is listed in the prompt, one per line at novelty 0.
        assert len(re.findall(r"\(weight \d+\)", it.prompt)) == p["edges"]


def test_shortest_path_against_brute_force() -> None:
    for d in (1, 3, 10, 15):
        for index in range(4):
            f = item(FAM, d, 0, index).problem.facts
            n, edges = f["n"], f["edges"]
            expected = floyd_warshall(n, edges)[f["s"]][f["t"]]
            assert expected == int(item(FAM, d, 0, index).problem.answer) == distances(n, edges, f["s"])[f["t"]]


def test_graph_path_endpoints_are_far_apart() -> None:
    # The ends of the hidden line: at least (nodes - 1) / BAND hops between source and target.
    f = item(FAM, 30).problem.facts
    hops = floyd_warshall(f["n"], [(a, b, 1) for a, b, _ in f["edges"]])[f["s"]][f["t"]]
    assert hops >= (f["n"] - 1) / BAND


def test_graph_path_top_level_prompt_is_bounded() -> None:
    prompts = [item(FAM, FAM.top, i % 4, i).prompt for i in range(20)]
    assert max(len(p) for p in prompts) < 40_000


def test_graph_path_bare_answer() -> None:
    it = item(FAM, 1)
    assert FAM.score(it, it.problem.answer).score == 1.0
    assert FAM.score(it, f"A - B = {it.problem.answer}").score == 1.0
    assert FAM.score(it, str(int(it.problem.answer) + 1)).score == 0.0


def old_level_digest(family: ProbeFamily, difficulty: int) -> str:
    """A digest of items 0..2 of a level at every novelty (prompts and answers)."""
    h = hashlib.sha256()
    for index in range(3):
        for novelty in range(4):
            it = make_item(family, b"pinned-old-levels", index, difficulty, novelty)
            h.update(it.prompt.encode() + b"\x00" + it.answer.encode() + b"\x01")
    return h.hexdigest()[:32]


#: Digests of the items at levels 1, 10 and the old top, taken before the scale was
#: extended: the levels already calibrated must never change.
OLD_LEVEL_DIGESTS = {
    1: "6b926c2800946b3735be90863e746467",
    10: "88947af12d03784e2a60203e4f1adca3",
    40: "a277c3f1b042189cd380fb7f72c1349a",
}


def test_graph_path_old_levels_unchanged() -> None:
    for d, expected in OLD_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d
