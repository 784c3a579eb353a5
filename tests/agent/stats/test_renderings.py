"""Renderings of one item are one probe: detectors and pooled intervals see one outcome per item."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger import queries
from agent.ledger.store import Store
from agent.stats.cusum import Cusum
from agent.stats.detectors import CusumDetector
from agent.stats.engine import StatsEngine
from agent.stats.signals import SIGNALS
from tests.agent.stats.test_engine import _result

NOVELTIES = [0, 1, 2, 3]


def _settings(tmp_path: Path, warmup: int = 40) -> Settings:
    target = TargetConfig(
        name="t1",
        base_url="http://x.test/v1",  # type: ignore[arg-type]
        model="m",
        families=["arithmetic"],
        novelties=NOVELTIES,
        probes_per_run=20,
    )
    return Settings(
        targets=[target],
        store=tmp_path / "s.db",
        stats=StatsConfig(warmup_probes=warmup, windows_s=[3600.0]),
    )


def _item(store: Store, seed: int, passed: bool, ts: float = 1000.0) -> None:
    """One item rendered at every novelty, every rendering with the same outcome (correlation 1)."""
    for nov in NOVELTIES:
        store.add_result(
            _result(passed=passed, novelty=nov, seed=seed, key=f"arithmetic:fresh:1:{seed}", ts=ts)
        )


def test_primary_novelty_sql_matches_python_and_covers_every_novelty(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    for seed in range(400):
        _item(store, seed * 7919 + 3, True)
    cells = queries.cell_counts(store, primary={"t1": NOVELTIES})
    by_nov = {c.novelty: c.total for c in cells}
    expected = Counter(NOVELTIES[(s * 7919 + 3) % 4] for s in range(400))  # independent: seed mod 4
    assert by_nov == dict(expected) and min(by_nov.values()) >= 80
    assert all(queries.primary_novelty(s, [3, 1, 0, 2]) == NOVELTIES[s % 4] for s in range(50))
    # An unconfigured target's primary rendering is novelty 0.
    assert {c.novelty for c in queries.cell_counts(store, primary={})} == {0}


def test_perfectly_correlated_renderings_count_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings, clock=lambda: 1500.0)
    rng = random.Random(5)
    outcomes = [rng.random() < 0.8 for _ in range(40)]
    for seed, passed in enumerate(outcomes):
        _item(store, seed, passed)
    eng.update()
    base = {b["scope"]: b["data"] for b in store.baselines()}
    # 40 items (160 renderings) are the 40-probe warm-up: the baseline has n = 40, one per item.
    assert base["all"]["n"] == 40
    assert base["all"]["p0"] == sum(outcomes) / 40
    # The detector statistic equals an oracle CUSUM fed one outcome per item.
    det = eng._scopes[("t1", "all")].detectors["cusum_drop_10"]
    assert isinstance(det, CusumDetector)
    oracle = Cusum(det.design)
    tail = [rng.random() < 0.6 for _ in range(30)]
    for seed, passed in enumerate(tail, start=1000):
        _item(store, seed, passed)
        oracle.update(passed)
    eng.update()
    assert det.cusum.state == oracle.state
    # Pooled interval: samples are items; per novelty: one rendering per item.
    ratios = {(r.family, r.difficulty, r.novelty): r for r in eng.snapshot().ratios}
    assert ratios[("all", "all", "all")].total == 70
    assert all(ratios[("arithmetic", "all", str(v))].total == 70 for v in NOVELTIES)


def test_design_rate_counts_items_not_renderings(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    # 20 probes a run over 4 novelties = 5 items a run, one family + pooled: ARL0 = rate x D / F.
    runs = 30 * 86400 / 300.0
    detectors = 4 * 2 + 1 + len(SIGNALS)  # the signal tests share the budget too
    assert eng.arl0("t1", "all") == 5 * runs * detectors


def test_detector_count_comes_from_the_configuration_from_the_first_design(tmp_path: Path) -> None:
    # No families named: the target probes every registered family (17 built in), so its budget is
    # split over 4 specs x (17 + 1) scopes + the fingerprint + the signal tests from the first result
    # on, however few families the ledger has seen so far.
    settings = Settings(
        targets=[TargetConfig(name="t1", base_url="http://x.test/v1", model="m")],  # type: ignore[arg-type]
        store=tmp_path / "s.db",
        stats=StatsConfig(warmup_probes=40),
    )
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    runs = 30 * 86400 / 300.0
    detectors = 4 * (17 + 1) + 1 + len(SIGNALS)
    before = eng.arl0("t1", "all")
    assert before == 20 * runs * detectors
    assert eng.arl0("t1", "arithmetic") == 20 / 17 * runs * detectors
    for seed in range(50):
        store.add_result(_result(passed=True, seed=seed * 4))  # one family seen so far
    eng.update()
    assert eng.arl0("t1", "all") == before
    design = eng._scopes[("t1", "all")].detectors["cusum_drop_10"].design
    assert design is not None and design.arl0 == before
    # Fewer shifts configured: fewer detectors share the budget.
    fewer = Settings(
        targets=settings.targets, store=tmp_path / "s.db", stats=StatsConfig(warmup_probes=40, shifts=[0.1])
    )
    assert StatsEngine(store, fewer).arl0("t1", "all") == 20 * runs * (3 * 18 + 1 + len(SIGNALS))
