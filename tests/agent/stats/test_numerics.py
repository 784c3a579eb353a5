"""Numerics against independent computations: the quasi-stationary law, Newcombe's method 10, id changes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from agent.stats.cusum import _transitions, design, quasi_stationary, steady_state_arl
from agent.stats.intervals import wilson
from agent.stats.paired import paired_difference
from tests.agent.stats.test_engine import _result, _settings


@pytest.mark.parametrize(("p0", "p1", "arl0"), [(0.8, 0.7, 500.0), (0.8, 0.7, 1e4), (0.95, 0.5, 2e5)])
def test_quasi_stationary_law_matches_brute_force_power_iteration(p0: float, p1: float, arl0: float) -> None:
    d = design(p0, p1, arl0)
    q = _transitions(d.inc_pass, d.inc_fail, d.threshold, p0).T.tocsr()
    x = np.zeros(d.threshold)
    x[0] = 1.0  # the statistic's law given no alarm yet, run for a long time: the quasi-stationary law
    for _ in range(50_000):
        x = q @ x
        x /= x.sum()
    for _ in range(3):  # the same answer every call (ARPACK varied)
        pi = quasi_stationary(d.inc_pass, d.inc_fail, d.threshold, p0)
        assert np.abs(pi - x).sum() < 1e-9
    # ARLs from every state by a dense solve of (I - Q) L = 1 (independent of the sparse one).
    dense = np.eye(d.threshold) - _transitions(d.inc_pass, d.inc_fail, d.threshold, p1).toarray()
    expected = float(x @ np.linalg.solve(dense, np.ones(d.threshold)))
    assert steady_state_arl(d.inc_pass, d.inc_fail, d.threshold, p0, p1) == pytest.approx(expected, rel=1e-9)


def _newcombe10(e: int, f: int, g: int, h: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Newcombe (1998, Stat Med 17:2635) method 10 from the paper's formulas: e both, f only first,
    g only second, h neither; Wilson limits of each margin; phi with the corrected numerator."""
    n = e + f + g + h
    p1, p2 = (e + f) / n, (e + g) / n
    l1, u1 = wilson(e + f, n, confidence)
    l2, u2 = wilson(e + g, n, confidence)
    a = e * h - f * g
    c = a - n / 2 if a > n / 2 else (a if a < 0 else 0.0)
    phi = c / math.sqrt((e + f) * (g + h) * (e + g) * (f + h))
    d = p1 - p2
    delta = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    eps = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return d, d - delta, d + eps


@pytest.mark.parametrize("cells", [(12, 9, 2, 21), (30, 5, 1, 4), (10, 2, 8, 30), (5, 0, 3, 2)])
def test_paired_interval_is_newcombe_method_10(cells: tuple[int, int, int, int]) -> None:
    e, f, g, h = cells
    a = [True] * (e + f) + [False] * (g + h)
    b = [True] * e + [False] * f + [True] * g + [False] * h
    r = paired_difference(a, b)
    d, lo, hi = _newcombe10(*cells)
    assert (r.diff, r.lower, r.upper) == pytest.approx((d, lo, hi), abs=1e-12)
    if cells == (12, 9, 2, 21):  # Newcombe's example: difference 7/44
        assert r.diff == pytest.approx(0.1591, abs=5e-5)
        assert (round(r.lower, 4), round(r.upper, 4)) == (0.0112, 0.2954)


def test_model_id_change_is_info_not_a_change_point(tmp_path: Path) -> None:
    from agent.ledger.store import Store
    from agent.stats.engine import StatsEngine

    settings = _settings(tmp_path, warmup=30, fingerprint_prompts=3)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    keys = ["fp:a", "fp:b", "fp:c"]
    for i in range(60):
        store.add_result(_result(canary=True, key=keys[i % 3], response=f"same {keys[i % 3]}"))
    eng.update()
    for i in range(30):  # the provider relabels the model; the answers are unchanged
        store.add_result(_result(canary=True, key=keys[i % 3], response=f"same {keys[i % 3]}", model="m2"))
    eng.update()
    fp = eng.snapshot().fingerprints["t1"]
    assert fp.id_changed and not fp.changed
    assert store.change_points() == []
