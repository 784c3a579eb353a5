"""Verifier and generator tests for the graph_reach family."""

from __future__ import annotations

import hashlib
from collections import Counter

from probes.base import Item, ProbeFamily, make_item
from probes.families.graph_path import node_names
from probes.families.graph_reach import GraphReachability, reachable

SALT = b"family-tests"
FAM = GraphReachability()


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def closure(n: int, edges: list[tuple[int, int]], source: int) -> set[int]:
    """Reachable nodes by repeated relaxation (an independent check of the search)."""
    seen = {source}
    while True:
        more = {b for a, b in edges if a in seen} - seen
        if not more:
            break
        seen |= more
    return seen - {source}


def test_reachability() -> None:
    assert reachable(4, [(0, 1), (1, 2), (3, 0)], 0) == {1, 2}
    assert reachable(3, [(0, 1), (1, 0)], 0) == {1}


def test_graph_reach_plan_formula() -> None:
    expected_nodes = {1: 3, 2: 5, 10: 21, 11: 22, 20: 42, 30: 84, 40: 168, 50: 336, 60: 672}
    for d, nodes in expected_nodes.items():
        assert FAM.plan(d)["nodes"] == nodes, d
    assert FAM.plan(1) == {"nodes": 3, "edges": 2}
    assert FAM.plan(10) == {"nodes": 21, "edges": 29}
    assert FAM.plan(40) == {"nodes": 168, "edges": 251}
    assert FAM.plan(60) == {"nodes": 672, "edges": 1007}
    assert FAM.top == 60 and FAM.grows == "nodes"
    # The reached count is uniform on [others // 3, 2 * others // 3] (at d=1 on 0..2): 3 values at d=1,
    # 57 at 40, 225 at 60.
    assert FAM.chance(1) == 1 / 3 and FAM.chance(40) == 1 / 57 and FAM.chance(60) == 1 / 225


def test_graph_reach_problem_matches_plan() -> None:
    for d in (1, 2, 6, 10, 25, 40, 48, 60):
        p = FAM.plan(d)
        for index in range(4):
            it = item(FAM, d, 0, index)
            f = it.problem.facts
            n, edges = f["n"], f["edges"]
            assert n == p["nodes"] and len(edges) == len(set(edges)) == p["edges"]
            assert all(a != b for a, b in edges)
            assert it.prompt.count(" -> ") == p["edges"]
            assert len(set(node_names(f, 0))) == n == len(set(node_names(f, 3)))
            count = len(closure(n, edges, f["s"]))
            assert str(count) == it.problem.answer
            # A third to two thirds of the other nodes: neither everything nor nothing (level 1: any count).
            low, high = (0, 2) if d == 1 else (max(1, (n - 1) // 3), max(1, 2 * (n - 1) // 3))
            assert low <= count <= high


def test_graph_reach_top_level_prompt_is_bounded() -> None:
    prompts = [item(FAM, FAM.top, i % 4, i).prompt for i in range(20)]
    assert max(len(p) for p in prompts) < 40_000


def old_level_digest(family: ProbeFamily, difficulty: int) -> str:
    """A digest of items 0..2 of a level at every novelty (prompts and answers)."""
    h = hashlib.sha256()
    for index in range(3):
        for novelty in range(4):
            it = make_item(family, b"pinned-old-levels", index, difficulty, novelty)
            h.update(it.prompt.encode() + b"\x00" + it.answer.encode() + b"\x01")
    return h.hexdigest()[:32]


#: Digests of the items at levels 1, 10 and the old top, taken before the scale was
#: extended: the levels already calibrated must never change (level 1 retaken for version 3,
#: whose level 1 answer is no longer always 1; levels 2 and up unchanged).
OLD_LEVEL_DIGESTS = {
    1: "804053650e2e819ed46bf981851d2655",
    10: "8286f6d85c929b231d82de645bfc4bf6",
    40: "a583fa04e8b27c70adabfdb2b847b2f9",
}


def test_graph_reach_old_levels_unchanged() -> None:
    for d, expected in OLD_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d


def test_graph_reach_chance_is_the_best_blind_guess() -> None:
    # Oracle: the modal answer's share over many generated items (a constant guess of it passes that often).
    family = GraphReachability()
    for d in (1, 2, 3, 6):
        answers = Counter(make_item(family, b"chance", i, d, 0).answer for i in range(400))
        modal = answers.most_common(1)[0][1] / 400
        assert abs(family.chance(d) - modal) < 0.08, (d, answers)
    assert family.chance(1) == 1 / 3  # 3 nodes, the count one of 0, 1, 2 (version 3)
