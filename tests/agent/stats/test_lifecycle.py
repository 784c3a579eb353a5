"""Detector lifecycle: alarm, recovery, re-armed; a second and third change are caught like the first."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pytest

from agent.cli import baseline as cli_baseline
from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine
from tests.agent.stats.test_engine import _result


def _settings(tmp_path: Path, warmup: int = 200) -> Settings:
    target = TargetConfig(
        name="t1",
        base_url="http://x.test/v1",  # type: ignore[arg-type]
        model="m",
        families=["arithmetic"],
        interval_s=3600.0,
        probes_per_run=10,
        fingerprint_prompts=3,
    )
    return Settings(targets=[target], store=tmp_path / "s.db", stats=StatsConfig(warmup_probes=warmup))


def _kinds(store: Store, scope: str, detector: str) -> list[str]:
    return [cp["direction"] for cp in store.change_points() if cp["scope"] == scope and cp["detector"] == detector]


def test_three_changes_each_alarmed_and_each_return_seen_as_recovery(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, _settings(tmp_path))
    rng = random.Random(11)

    def phase(p: float, n: int) -> None:
        for _ in range(n):
            store.add_result(_result(passed=rng.random() < p))
        eng.update()

    phase(0.8, 200)  # warm-up
    phase(0.8, 1000)  # in control: nothing
    assert _kinds(store, "all", "glr_drop") == []
    for bad in (0.4, 0.3, 0.5):  # change A, B, C, each followed by a return to the baseline
        phase(bad, 300)
        assert eng.snapshot().detectors and any(
            d.detected for d in eng.snapshot().detectors if d.family == "all" and d.detector == "glr_drop"
        )
        phase(0.8, 3000)
        assert not any(d.detected for d in eng.snapshot().detectors)
    assert _kinds(store, "all", "glr_drop") == ["drop", "recovery"] * 3
    assert _kinds(store, "all", "cusum_drop_20") == ["drop", "recovery"] * 3
    assert _kinds(store, "all", "cusum_rise_10") == []  # a return to baseline is no "improvement"
    sizes = [cp["size"] for cp in store.change_points() if cp["detector"] == "glr_drop" and cp["scope"] == "all"]
    assert all(s < -0.2 for s in sizes[0::2]) and all(abs(s) < 0.15 for s in sizes[1::2])


def test_fingerprint_lifecycle_and_state_survives_reopen(tmp_path: Path) -> None:
    settings = _settings(tmp_path, warmup=30)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    keys = ["fp:a", "fp:b", "fp:c"]

    def answers(prefix: str, n: int) -> None:
        for i in range(n):
            store.add_result(_result(canary=True, key=keys[i % 3], response=f"{prefix} {keys[i % 3]}"))
        eng.update()

    answers("base", 30)
    answers("base", 300)
    assert _kinds(store, "fingerprint", "fingerprint") == []
    # 60 answers a phase: from a 15-answer warm-up the budget-keeping design needs ~30 disagreements.
    for other in ("quantized", "gateway rewrite", "another model"):
        answers(other, 60)
        assert eng.snapshot().fingerprints["t1"].changed
        answers("base", 60)
        assert not eng.snapshot().fingerprints["t1"].changed
    assert _kinds(store, "fingerprint", "fingerprint") == ["drop", "recovery"] * 3
    # Alarmed, then a restart: still alarmed, and the recovery watch resumes.
    answers("other", 60)
    store.close()
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    assert eng.snapshot().fingerprints["t1"].changed
    answers("base", 60)
    assert not eng.snapshot().fingerprints["t1"].changed


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_baseline.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def test_ack_rearms_the_named_detector(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "capmon.yaml"
    config.write_text(
        "targets:\n  - name: t1\n    base_url: http://x.test/v1\n    model: m\n    families: [arithmetic]\n"
        f"store: {tmp_path / 's.db'}\nstats:\n  warmup_probes: 50\n"
    )
    from agent.config import load_config

    settings = load_config(config)
    store = Store(settings.store)
    eng = StatsEngine(store, settings)
    for i in range(50):
        store.add_result(_result(passed=i % 5 != 0))
    for _ in range(60):
        store.add_result(_result(passed=False))
    eng.update()
    alarmed = {(d.family, d.detector) for d in eng.snapshot().detectors if d.detected}
    assert ("all", "glr_drop") in alarmed and ("arithmetic", "glr_drop") in alarmed
    assert _run("baseline", "ack", "--config", str(config), "--target", "t1", "--detector", "glr_drop") == 0
    assert "acknowledged t1/all/glr_drop" in capsys.readouterr().out
    eng.update()  # the running engine reloads
    after = {(d.family, d.detector) for d in eng.snapshot().detectors if d.detected}
    assert after == alarmed - {("all", "glr_drop"), ("arithmetic", "glr_drop")}
    glr = next(d for d in eng.snapshot().detectors if d.family == "all" and d.detector == "glr_drop")
    assert glr.statistic == 0.0
    assert _run("baseline", "ack", "--config", str(config), "--target", "t1") == 0
    assert not any(d.detected for d in StatsEngine(store, settings).snapshot().detectors)
    assert _run("baseline", "ack", "--config", str(config), "--target", "t1") == 1
