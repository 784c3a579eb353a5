"""``capmon calibrate`` with a fake endpoint: staircase per family, budget limits, table, stored frontier."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from agent.cli import main
from agent.cli.calibrate import calibrate
from agent.config import Settings
from agent.ledger import queries
from agent.ledger.store import Store
from agent.run.runner import Member, UnitRunner
from probes.registry import builtin_registry
from tests.agent.conftest import echo_answer_handler


def test_calibration_finds_the_fake_models_frontier_and_stores_it(make_settings: Callable[..., Settings]) -> None:
    # The fake answers "What is a op b?" correctly, which arithmetic asks at levels 1-5 only (level 6
    # adds a third operand): its frontier lies between 5 and 6.
    settings = make_settings(families=["arithmetic"], difficulties="1-30")
    transport = httpx.MockTransport(echo_answer_handler())
    (cal,) = asyncio.run(calibrate(settings, "t1", 24, transport=transport))
    assert cal.family == "arithmetic" and cal.probes == 24 and cal.scored == 24
    assert 5 <= cal.d50 <= 6 and cal.lower <= 5.5 <= cal.upper and cal.censored == "none"
    assert cal.tokens == 24 * 25  # the fake reports 20 + 5 tokens per call
    store = Store(settings.store)
    # Ordinary recorded probes: fresh, plain wording, in the ledger.
    rows = [r.result for r in store.results()]
    assert len(rows) == 24 and all(not r.static and not r.canary and r.novelty == 0 for r in rows)
    version = builtin_registry().get("arithmetic").version
    (stored,) = queries.calibrations(store, "t1")
    assert (stored.family, stored.d50, stored.probes, stored.generator_version) == ("arithmetic", cal.d50, 24, version)
    store.close()


def test_the_daemons_staircase_starts_at_the_calibrated_frontier(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(families=["arithmetic", "composition"])
    store = Store(settings.store)
    store.put_calibration(
        "t1", "composition", "1", d50=17.0, lower=15.0, upper=19.0, censored="none", probes=30, tokens=0, cost_usd=None
    )
    unit = UnitRunner(
        [Member(settings.targets[0], None, None, None)],  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        store,
        None,  # type: ignore[arg-type]
        b"salt",
        stop=asyncio.Event(),
        committer=object(),  # type: ignore[arg-type]
    )
    choose = unit._adaptive_chooser()
    rng = random.Random(3)
    picks = [choose("composition", list(range(1, 36)), rng) for _ in range(200)]
    # Three quarters of probes on the staircase at 16..18, a quarter uniform over 1..35.
    assert sum(16 <= p <= 18 for p in picks) >= 0.65 * len(picks)
    low = [choose("arithmetic", list(range(1, 31)), rng) for _ in range(200)]
    assert sum(p <= 3 for p in low) >= 0.65 * len(low)
    store.close()


def test_the_token_budget_stops_calibration(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(families=["arithmetic", "composition"], difficulties="1-40", concurrency=4)
    transport = httpx.MockTransport(echo_answer_handler())
    # 25 tokens a probe, batches of 4 (the concurrency): checked before each batch,
    # so 0, 100, 200 -> 12 probes, then stop.
    cals = asyncio.run(calibrate(settings, "t1", 24, max_tokens_total=250, transport=transport))
    assert [(c.family, c.probes) for c in cals] == [("arithmetic", 12)]


def test_the_command_prints_a_table_and_refuses_bad_arguments(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(families=["arithmetic"], difficulties="1-30")
    config = tmp_path / "c.yaml"
    target = settings.targets[0].model_dump(mode="json", exclude_none=True)
    config.write_text(yaml.safe_dump({"store": str(settings.store), "targets": [target]}))
    assert main(["calibrate", "-c", str(config), "--target", "nope"]) == 2
    assert "unknown target 'nope'" in capsys.readouterr().err
    assert main(["calibrate", "-c", str(config), "--target", "t1", "--probes-per-family", "1"]) == 2
    real = calibrate

    async def fake_transport(*args: object, **kwargs: object) -> object:
        return await real(*args, **kwargs, transport=httpx.MockTransport(echo_answer_handler()))  # type: ignore[arg-type]

    monkeypatch.setattr("agent.cli.calibrate.calibrate", fake_transport)
    assert main(["calibrate", "-c", str(config), "--target", "t1", "--probes-per-family", "8"]) == 0
    out = capsys.readouterr().out
    assert "capmon calibrate: t1" in out and "arithmetic" in out and "8/8" in out
    assert not math.isnan(queries.calibrations(Store(settings.store), "t1")[0].d50)
