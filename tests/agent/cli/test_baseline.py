"""``capmon baseline pin|show|reset`` against a real store, and a running engine picking the change up."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from agent.cli import baseline as cli_baseline
from agent.config import load_config
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine
from tests.agent.stats.test_engine import _result


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_baseline.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "capmon.yaml"
    path.write_text(
        "targets:\n  - name: t1\n    base_url: http://x.test/v1\n    model: m\n    families: [arithmetic]\n"
        f"store: {tmp_path / 's.db'}\nstats:\n  warmup_probes: 1000\n"
    )
    return path


def test_pin_show_reset(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_config(config)
    store = Store(settings.store)
    now = time.time()
    for i in range(100):
        store.add_result(_result(passed=i % 4 != 0, ts=now - 60))
    eng = StatsEngine(store, settings)
    eng.update()
    assert not eng.snapshot().baselines  # warm-up of 1000 not reached

    assert _run("baseline", "pin", "--config", str(config), "--target", "t1") == 0
    assert "pinned t1/all: pass ratio 0.750 over 100 probes" in capsys.readouterr().out
    store.add_result(_result(passed=False, ts=now))
    eng.update()  # the version stamp makes the running engine reload and design its detectors
    snap = eng.snapshot()
    assert snap.baselines[("t1", "all")] == pytest.approx(0.75)
    assert {d.detector for d in snap.detectors if d.family == "all"} >= {"cusum_drop_10", "glr_drop"}
    assert all(b["pinned"] for b in store.baselines("t1"))

    assert _run("baseline", "show", "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "pass ratio 0.750 over 100 probes (pinned" in out and "cusum_drop_10" in out

    assert _run("baseline", "reset", "--config", str(config), "--target", "t1") == 0
    assert store.baselines("t1") == [] and store.detector_states("t1") == []
    eng.update()
    assert not eng.snapshot().baselines


def test_pin_without_results_or_bad_window(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("baseline", "pin", "--config", str(config), "--target", "t1") == 1
    assert _run("baseline", "pin", "--config", str(config), "--target", "t1", "--window", "soon") == 2
    assert "not a duration" in capsys.readouterr().err
