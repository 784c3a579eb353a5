"""Time to armed: exported per detector; at the defaults the fingerprint arms within the first hour and
catches a silent swap made 30 minutes in."""

from __future__ import annotations

from pathlib import Path

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.store import Store
from agent.serve.stats_metrics import stats_metric_families
from agent.stats.engine import StatsEngine
from tests.agent.stats.test_engine import _metrics, _result


def test_fingerprint_arms_in_the_first_hour_and_catches_a_swap_at_the_defaults(tmp_path: Path) -> None:
    # Defaults: no families named (all 17), 20 probes and 3 canary prompts every 300 s, warm-up 500.
    target = TargetConfig(name="t1", base_url="http://x.test/v1", model="m")  # type: ignore[arg-type]
    settings = Settings(targets=[target], store=tmp_path / "s.db", stats=StatsConfig())
    store = Store(tmp_path / "s.db")
    now = [0.0]
    eng = StatsEngine(store, settings, clock=lambda: now[0])
    keys = [f"fp:{j}" for j in range(3)]

    def arming() -> dict[tuple[str, str], tuple[bool, int, float]]:
        return {(a.family, a.detector): (a.armed, a.probes_to_armed, a.seconds_to_armed) for a in eng.snapshot().arming}

    start = arming()
    assert start[("all", "fingerprint")] == (False, 15, 5 * 300.0)  # 5 answers per prompt: 5 runs
    assert start[("all", "glr_drop")] == (False, 500, 25 * 300.0)  # 20 items a run
    assert start[("arithmetic", "glr_drop")] == (False, 500, 425 * 300.0)  # 20/17 items a run
    # The signal tests see every answered probe: 20 fresh + 2 static + 3 canaries = 25 a run, 500 = 20 runs.
    assert start[("all", "signals")] == (False, 500, 20 * 300.0)
    assert len(start) == 4 * 18 + 1 + 1
    detected_at = None
    for run in range(16):  # 80 minutes
        now[0] = run * 300.0
        answer = "base" if run < 6 else "swapped"  # silent swap 30 minutes in
        for k in keys:
            store.add_result(_result(canary=True, key=k, response=f"{answer} {k}", ts=now[0]))
        eng.update()
        if run == 4:
            assert arming()[("all", "fingerprint")] == (True, 0, 0.0)
        if detected_at is None and eng.snapshot().fingerprints["t1"].changed:
            detected_at = now[0]
    # Armed after 25 minutes; from a 15-answer warm-up the design that keeps the budget in expectation
    # over the agreement's posterior needs ~24 disagreeing answers (8 runs): caught 35 minutes after the
    # swap (docs/statistics.md, "Time to armed"); the earlier design caught it in 4 runs but its expected
    # false-alarm rate over warm-ups was far above its share.
    assert detected_at is not None and 1800.0 < detected_at <= 1800.0 + 2700.0
    assert arming()[("all", "fingerprint")][0] is False  # alarmed: not armed until recovery or ack
    metrics = _metrics(eng.snapshot())
    lab = {"target": "t1", "family": "all", "detector": "glr_drop"}
    assert metrics.get_sample_value("capmon_detector_armed", lab) == 0.0
    assert metrics.get_sample_value("capmon_detector_probes_to_armed", lab) == 500.0
    assert metrics.get_sample_value("capmon_detector_seconds_to_armed", lab) == 7500.0
    # 48 canary answers so far reached the signal tests' warm-up: 452 to go, 19 runs of 25.
    assert arming()[("all", "signals")] == (False, 452, 19 * 300.0)
    for i in range(452):
        store.add_result(_result(canary=True, key=keys[i % 3], response="swapped", ts=now[0] + 1))
    eng.update()
    assert arming()[("all", "signals")] == (True, 0, 0.0)
    names = {m.name for m in stats_metric_families(eng.snapshot())}
    assert {"capmon_detector_armed", "capmon_detector_probes_to_armed", "capmon_detector_seconds_to_armed"} <= names
