"""Baselines and detectors never mix generator versions; state written before versions were tracked loads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine
from agent.stats.persistence import PASS_RATIO
from tests.agent.stats.test_engine import _result, _settings


def _versioned(version: str, passed: bool, family: str = "arithmetic") -> ProbeResult:
    return dataclasses.replace(_result(passed=passed, family=family), generator_version=version)


def test_a_new_generator_version_resets_the_family_and_pooled_baselines(tmp_path: Path) -> None:
    settings = _settings(tmp_path, warmup=20, families=["arithmetic", "composition"])
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    # Version 1: 16 of 20 pass in arithmetic; composition (version 1 throughout) fills the pooled scope.
    for i in range(20):
        store.add_result(_versioned("1", i % 5 != 0))
        store.add_result(_versioned("1", True, family="composition"))
    eng.update()
    assert eng.snapshot().baselines[("t1", "arithmetic")] == 16 / 20
    assert ("t1", "all") in eng.snapshot().baselines
    # Version 2 of arithmetic: the old baseline must not judge the new items.
    store.add_result(_versioned("2", False))
    eng.update()
    base = eng.snapshot().baselines
    assert ("t1", "arithmetic") not in base and ("t1", "all") not in base
    assert ("t1", "composition") in base  # other families keep theirs
    stored = {(b["scope"], b["detector"]): b["data"] for b in store.baselines("t1")}
    assert stored[("arithmetic", PASS_RATIO)]["generator_version"] == "2"
    # The new baseline is learned from version-2 results only: 1 + 19 results, 4 of them passing.
    for i in range(19):
        store.add_result(_versioned("2", i % 5 == 0))
    eng.update()
    assert eng.snapshot().baselines[("t1", "arithmetic")] == 4 / 20
    # The version survives a reopen: more version-2 results reset nothing.
    store.close()
    store2 = Store(tmp_path / "s.db")
    eng2 = StatsEngine(store2, settings)
    store2.add_result(_versioned("2", True))
    eng2.update()
    assert eng2.snapshot().baselines[("t1", "arithmetic")] == 4 / 20


def test_state_written_before_versions_were_tracked_adopts_the_next_version(tmp_path: Path) -> None:
    settings = _settings(tmp_path, warmup=20)
    store = Store(tmp_path / "s.db")
    eng = StatsEngine(store, settings)
    for i in range(20):
        store.add_result(_versioned("1", i % 2 == 0))
    eng.update()
    # Strip the version from the stored state, as an older capmon wrote it.
    for s in store.detector_states("t1"):
        data = {k: v for k, v in s["data"].items() if k != "generator_version"}
        store.put_detector_state("t1", str(s["scope"]), str(s["detector"]), data)
    store.close()
    store2 = Store(tmp_path / "s.db")
    eng2 = StatsEngine(store2, settings)
    store2.add_result(_versioned("3", True))
    eng2.update()
    assert eng2.snapshot().baselines[("t1", "arithmetic")] == 10 / 20
