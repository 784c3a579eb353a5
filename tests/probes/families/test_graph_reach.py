"""Verifier and generator tests for the graph_reach family."""

from __future__ import annotations

from probes.families.graph_reach import reachable

SALT = b"family-tests"


def test_reachability() -> None:
    assert reachable(4, [(0, 1), (1, 2), (3, 0)], 0) == {1, 2}
    assert reachable(3, [(0, 1), (1, 0)], 0) == {1}


