"""The engine over a real Store: warm-up, detection, reopen, fingerprint, snapshot, metrics."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger import queries
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.serve.stats_metrics import stats_metric_families
from agent.stats.engine import StatsEngine
from agent.stats.fingerprint import learn_baseline
from agent.stats.snapshot import StatsSnapshot

_counter = itertools.count()


def _result(
    target: str = "t1",
    *,
    family: str = "arithmetic",
    passed: bool = True,
    ts: float = 1000.0,
    difficulty: int = 1,
    novelty: int = 0,
    error: bool = False,
    canary: bool = False,
    static: bool = False,
    response: str = "Answer: 1",
    key: str | None = None,
    model: str = "m1",
    canonical: str | None = None,
    seed: int | None = None,
) -> ProbeResult:
    i = next(_counter)
    outcome = "error" if error else "pass" if passed else "fail"
    return ProbeResult(
        ts=ts,
        run_id="r",
        target=target,
        provider="openai",
        model="m",
        family=family,
        difficulty=difficulty,
        novelty=novelty,
        item_index=i,
        seed=i if seed is None else seed,
        item_key=key or f"{family}:fresh:{difficulty}:{i}",
        static=static,
        canary=canary,
        generator_version="1",
        prompt="p",
        response=None if error else response,
        extracted=None,
        canonical=canonical,
        reference="1",
        score=None if error else float(passed),
        outcome=outcome,
        error_reason="timeout" if error else None,
        http_status=None,
        latency_s=0.5,
        input_tokens=10,
        output_tokens=5,
        response_model=model,
        system_fingerprint=None,
        cost_usd=0.001,
    )


def _settings(tmp_path: Path, warmup: int = 50, **target: object) -> Settings:
    fields: dict[str, object] = {
        "name": "t1",
        "base_url": "http://x.test/v1",
        "model": "m",
        "families": ["arithmetic"],
        "interval_s": 3600.0,
        "probes_per_run": 10,
    }
    fields.update(target)
    return Settings(
        targets=[TargetConfig(**fields)],
        store=tmp_path / "s.db",  # type: ignore[arg-type]
        stats=StatsConfig(warmup_probes=warmup, windows_s=[3600.0, 86400.0]),
    )


class _Fixed(Collector):
    def __init__(self, snap: StatsSnapshot) -> None:
        self.snap = snap

    def collect(self) -> list[Metric]:
        return list(stats_metric_families(self.snap))


def _metrics(snap: StatsSnapshot) -> CollectorRegistry:
    metrics = CollectorRegistry()
    metrics.register(_Fixed(snap))
    return metrics


def test_warmup_then_drop_detected_and_errors_ignored(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings, clock=lambda: 2000.0)
    rng = random.Random(1)
    for _ in range(50):
        store.add_result(_result(passed=rng.random() < 0.8))
        store.add_result(_result(error=True))  # availability errors never count
    assert eng.update() == 50
    base = {(b["scope"]): b["data"]["p0"] for b in store.baselines()}
    assert set(base) == {"arithmetic", "all"} and 0.6 < base["all"] < 0.9
    snap = eng.snapshot()
    names = {d.detector for d in snap.detectors if d.family == "all"}
    assert {"cusum_drop_10", "cusum_drop_20", "cusum_rise_10", "glr_drop"} <= names
    assert not any(d.detected for d in snap.detectors)
    # Everything fails now: the drop detectors must fire, and their change points be stored.
    for _ in range(200):
        store.add_result(_result(passed=False))
        eng.update()
        if store.change_points():
            break
    cps = store.change_points()
    assert cps and all(cp["direction"] == "drop" for cp in cps)
    assert any(cp["size"] is not None and cp["size"] < -0.5 for cp in cps)
    snap = eng.snapshot()
    metrics = _metrics(snap)
    fired = {d.detector for d in snap.detectors if d.detected}
    assert fired
    det = sorted(fired)[0]
    fam = next(d.family for d in snap.detectors if d.detected and d.detector == det)
    labels = {"target": "t1", "family": fam, "detector": det}
    assert metrics.get_sample_value("capmon_regression_detected", labels) == 1.0
    total = sum(snap.change_points.values())
    assert total == len(cps)


def test_state_survives_reopen(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    for i in range(60):
        store.add_result(_result(passed=i % 5 != 0))
    eng.update()
    for _ in range(7):
        store.add_result(_result(passed=False))
    eng.update()
    before = {(d.family, d.detector): d.statistic for d in eng.snapshot().detectors}
    assert any(v > 0 for v in before.values())
    assert 0 < eng.urgency("t1") < 1 and eng.urgency("other") == 0
    history = queries.recent_outcomes(store, "t1", limit=10)["arithmetic"]
    assert history == [(1, True)] * 3 + [(1, False)] * 7
    store.close()
    store2 = Store(tmp_path / "s.db")
    eng2 = StatsEngine(store2, settings)
    after = {(d.family, d.detector): d.statistic for d in eng2.snapshot().detectors}
    assert after == before
    assert eng2.update() == 0  # nothing re-fed after the reopen
    store2.add_result(_result(passed=False))
    assert eng2.update() == 1


def test_fingerprint_tolerates_nondeterminism_and_fires_on_model_change(tmp_path: Path) -> None:
    settings = _settings(tmp_path, warmup=60, fingerprint_prompts=3)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    rng = random.Random(2)
    keys = ["fp:a", "fp:b", "fp:c"]

    def canary(k: str, agree: float, model: str = "m1") -> ProbeResult:
        text = f"answer of {k}" if rng.random() < agree else f"variant {rng.randrange(5)} of {k}"
        return _result(canary=True, key=k, response=text, model=model)

    for i in range(60):
        store.add_result(canary(keys[i % 3], 0.7))
    eng.update()
    fp = eng.snapshot().fingerprints["t1"]
    assert not fp.warming_up and not fp.changed
    for i in range(600):  # same endpoint, same 70% self-agreement: no alarm
        store.add_result(canary(keys[i % 3], 0.7))
    eng.update()
    assert not eng.snapshot().fingerprints["t1"].changed
    for i in range(200):  # a different model behind the endpoint: the old answers stop coming back
        store.add_result(canary(keys[i % 3], 0.05))
        eng.update()
        if eng.snapshot().fingerprints["t1"].changed:
            break
    assert i < 60
    cp = store.change_points()[-1]
    assert cp["detector"] == "fingerprint" and cp["size"] < -0.4 and 0 < cp["probes"] <= i + 1
    metrics = _metrics(eng.snapshot())
    assert metrics.get_sample_value("capmon_fingerprint_changed", {"target": "t1"}) == 1.0


def test_learn_baseline_modal_answers() -> None:
    b = learn_baseline([("k", "a  b", None, None), ("k", "a b", "m", None), ("k", "c", None, "fp1")])
    assert b.answers == {"k": "a b"} and b.agreement == pytest.approx(2.5 / 4)
    assert b.models == ("m",) and b.fingerprints == ("fp1",)


def test_snapshot_metrics_ratios_frontier_leakage_paired(tmp_path: Path) -> None:
    settings = Settings(
        targets=[
            TargetConfig(name=n, base_url="http://x.test/v1", model="m", group="g", novelties=[0, 1])  # type: ignore[arg-type]
            for n in ("a", "b")
        ],
        store=tmp_path / "s.db",
        stats=StatsConfig(warmup_probes=1000),
    )
    store = Store(tmp_path / "s.db")
    rng = random.Random(3)
    now = 100_000.0
    for i in range(300):
        d = 1 + i % 10
        key = f"arithmetic:fresh:{d}:{i}"
        for target, shift in (("a", 0.0), ("b", 1.0)):
            p = 1 / (1 + 2.718 ** (d - 5 - shift))
            for nov in (0, 1):
                store.add_result(
                    _result(
                        target,
                        passed=rng.random() < p,
                        ts=now - 60,
                        difficulty=d,
                        novelty=nov,
                        key=key,
                        canonical=str(i),
                        seed=i,
                    )
                )
    for i in range(40):
        store.add_result(_result("a", passed=True, ts=now - 60, difficulty=1 + i % 10, static=True))
    store.add_result(_result("a", passed=True, ts=now - 7200, seed=0))  # outside the 1h window, inside 24h
    eng = StatsEngine(store, settings, clock=lambda: now)
    eng.update()
    metrics = _metrics(eng.snapshot())
    lab = {"target": "a", "family": "all"}
    # Pooled over novelties: one (primary) rendering per item.
    assert metrics.get_sample_value("capmon_pass_ratio_samples", {**lab, "window": "1h"}) == 300
    assert metrics.get_sample_value("capmon_pass_ratio_samples", {**lab, "window": "24h"}) == 301
    for nov in ("0", "1"):  # per novelty: every rendering
        per_nov = {"target": "a", "family": "arithmetic", "novelty": nov, "window": "24h"}
        assert (metrics.get_sample_value("capmon_novelty_scored_probes", per_nov) or 0) >= 300
    r = metrics.get_sample_value("capmon_pass_ratio", {**lab, "window": "1h"})
    lo = metrics.get_sample_value("capmon_pass_ratio_lower", {**lab, "window": "1h"})
    hi = metrics.get_sample_value("capmon_pass_ratio_upper", {**lab, "window": "1h"})
    assert r is not None and lo is not None and hi is not None and lo < r < hi
    d50 = metrics.get_sample_value("capmon_frontier_level", {"target": "a", "family": "arithmetic"})
    assert d50 is not None and 4 < d50 < 6
    gap = metrics.get_sample_value("capmon_leakage_gap_ratio", {"target": "a", "family": "arithmetic"})
    assert gap is not None and gap > 0.2
    assert metrics.get_sample_value("capmon_consistency_ratio", {"target": "a", "family": "arithmetic"}) is not None
    diff = metrics.get_sample_value(
        "capmon_paired_difference_ratio",
        {"group": "g", "target": "b", "baseline_target": "a", "family": "all"},
    )
    assert diff is not None and diff > 0.05
    assert metrics.get_sample_value("capmon_ability_logits", {"target": "b"}) is not None
    assert metrics.get_sample_value("capmon_response_length_tokens_mean", {"target": "a"}) == 5.0
    help_texts = [m.documentation for m in stats_metric_families(eng.snapshot())]
    assert all("not per scrape" in h for h in help_texts)
