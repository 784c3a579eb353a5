"""Signal tests: the false-alarm promise held in an A/A simulation, each kind of change caught by its
own signal, and change points that say what moved."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from agent.ledger.store import Store
from agent.stats import persistence, signals
from agent.stats.signal_watch import SignalWatch
from tests.agent.ledger.test_store import _result


def _obs(rng: random.Random, *, trunc: float = 0.02, refuse: float = 0.01, length: float = 1.0,
         slow: float = 1.0, model: str = "m-1") -> signals.Observation:  # fmt: skip
    """One in-control answered probe, with optional changes: truncation share, refusal share, a
    length factor, a latency factor."""
    return signals.Observation(
        truncated=rng.random() < trunc,
        refused=rng.random() < refuse,
        length=float(max(1, round(rng.lognormvariate(math.log(60), 0.6) * length))),
        latency_s=rng.gammavariate(4.0, 0.1) * slow,
        ttft_s=rng.gammavariate(4.0, 0.01) * slow,
        model=model,
        headers={"openai-version": "2020-10-01"},
    )


def test_wilson_upper_and_quantile_against_hand_values() -> None:
    # p=0, n=100, z=1.645: z^2/(n+z^2) = 2.706/102.706 = 0.02635
    assert signals.wilson_upper(0, 100) == pytest.approx(0.02635, abs=1e-4)
    assert signals.wilson_upper(50, 100) == pytest.approx(0.5809, abs=1e-3)
    assert signals.quantile([5, 1, 3, 2, 4], 0.5) == 3 and signals.quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9


def test_a_share_test_crosses_at_ln_arl0_and_recovers() -> None:
    t = signals.ShareTest.design(0, 100, 0.25, arl0=1000.0)
    assert t.h == pytest.approx(math.log(1000))
    steps = 0
    while t.update(True) != "alarm":
        steps += 1
    # Each hit adds ln(p1/p0) = ln(0.276/0.026) = 2.36 nats: 6.9 / 2.36 -> the 3rd hit crosses.
    assert steps == math.ceil(t.h / math.log(t.p1 / t.p0)) - 1
    assert t.latched and t.progress == 1.0
    events = [t.update(False) for _ in range(200)]
    assert "recovery" in events and not t.latched


def test_a_over_a_false_alarms_stay_within_the_budget() -> None:
    """Baselines estimated from 200 probes, then 400 in-control probes per replication: the share of
    replications in which any of the six tests alarms stays below the union bound 6 x 400 / ARL0."""
    rng = random.Random(16)
    arl0, horizon, reps = 24_000.0, 400, 300
    alarmed = 0
    for _ in range(reps):
        base = signals.learn([_obs(rng) for _ in range(200)])
        tests = signals.design_tests(base, arl0)
        assert set(tests) == set(signals.SIGNALS)
        hit = False
        for _ in range(horizon):
            o = _obs(rng)
            for name, x in signals.indicators(base, o).items():
                hit |= tests[name].update(x) == "alarm"
        alarmed += hit
    bound = len(signals.SIGNALS) * horizon / arl0  # 0.1
    assert alarmed / reps <= bound, f"{alarmed} of {reps} A/A replications alarmed (bound {bound:.2f})"


def test_a_over_a_with_ties_short_warm_up_and_a_busier_host_stays_within_the_budget() -> None:
    """What the live A/A on SmolLM2 met (docs/statistics.md, signals): short answers whose lengths tie
    with the median, a 20-probe warm-up, and latencies 10 % longer after it (the host got busier). The
    sign test's baseline share must count off-median values only, and 10 % slower is no alarm."""
    rng = random.Random(20)
    arl0, horizon, reps = 24_000.0, 400, 300

    def obs(drift: float = 1.0) -> signals.Observation:
        o = _obs(rng, slow=drift)
        return signals.Observation(**{**o.__dict__, "length": float(rng.choice((9, 10, 10, 10, 10, 11)))})

    alarmed: dict[str, int] = {}
    for _ in range(reps):
        base = signals.learn([obs() for _ in range(20)])
        tests = signals.design_tests(base, arl0)
        fired: set[str] = set()
        for _ in range(horizon):
            for name, x in signals.indicators(base, obs(1.1)).items():
                if tests[name].update(x) == "alarm":
                    fired.add(name)
        for name in fired:
            alarmed[name] = alarmed.get(name, 0) + 1
    any_alarm = sum(alarmed.values())  # (replication, test) pairs that alarmed: at least the replications
    bound = len(signals.SIGNALS) * horizon / arl0  # 0.1
    assert any_alarm / reps <= bound, f"A/A alarms per test over {reps} replications: {alarmed}"


@pytest.mark.parametrize(
    ("change", "signal"),
    [
        ({"trunc": 0.9}, "truncation"),
        ({"refuse": 0.6}, "refusal"),
        ({"length": 0.16}, "shorter"),
        ({"length": 3.0}, "longer"),
        ({"slow": 3.0}, "latency"),
    ],
)
def test_each_change_is_caught_by_its_own_signal(change: dict[str, float], signal: str) -> None:
    rng = random.Random(7)
    base = signals.learn([_obs(rng) for _ in range(200)])
    tests = signals.design_tests(base, 24_000.0)
    first: str | None = None
    n = 0
    while n < 100:
        n += 1
        o = _obs(rng, **change)
        for name, x in signals.indicators(base, o).items():
            if tests[name].update(x) == "alarm" and first is None:
                first = name
        if first:
            break
    assert first == signal, f"{change}: first alarm {first}"
    assert n <= 40  # within a couple of runs of 20 probes


def test_a_change_point_says_what_moved(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    watch = SignalWatch(store, lambda target: 24_000.0, warmup=100)
    rng = random.Random(3)

    def result(o: signals.Observation, ts: float) -> object:
        return _result(
            ts=ts, target="t1", finish_reason="length" if o.truncated else "stop", output_tokens=int(o.length or 0),
            latency_s=o.latency_s, response_model=o.model, headers=json.dumps(o.headers),
        )  # fmt: skip

    for i in range(100):
        watch.feed(result(_obs(rng, trunc=0.0), float(i)))  # type: ignore[arg-type]
    for i in range(100, 160):  # answers cut off at a few tokens, from a relabelled model
        o = _obs(rng, trunc=1.0, length=0.16, model="m-1-cheap")
        watch.feed(result(o, float(i)))  # type: ignore[arg-type]
    watch.save()
    points = store.change_points(target="t1")
    assert points[0]["detector"] == "truncation" and points[0]["direction"] == "rise"
    # At the alarm, "after" is what the test saw since the change began: every answer cut off.
    assert signals.headline(points[0]["evidence"]).startswith("answers truncated: finish_reason=length 0 % → 100 %")
    text = signals.headline(watch.evidence("t1"))  # 60 probes on: the whole recent window has changed
    assert "answers truncated: finish_reason=length 0 % → 100 %" in text
    assert "output length -8" in text and "served model m-1 → m-1-cheap" in text
    # The state survives a restart.
    again = SignalWatch(store, lambda target: 24_000.0, warmup=100)
    assert [v.alarms["truncation"] for v in again.views()] == [True]
    store.close()


def test_acknowledging_re_arms_a_latched_signal_test(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    watch = SignalWatch(store, lambda target: 24_000.0, warmup=50)
    rng = random.Random(5)
    for i in range(50):
        watch.feed(_result(ts=float(i), target="t1", finish_reason="stop", latency_s=_obs(rng).latency_s))
    for i in range(50, 90):  # every answer cut off: truncation alarms and latches
        watch.feed(_result(ts=float(i), target="t1", finish_reason="length", latency_s=_obs(rng).latency_s))
    watch.save()
    assert [v.alarms["truncation"] for v in watch.views()] == [True]
    assert persistence.acknowledge(store, "t1", "refusal") == []  # not alarmed: nothing to re-arm
    assert persistence.acknowledge(store, "t1") == ["signals/truncation"]
    again = SignalWatch(store, lambda target: 24_000.0, warmup=50)
    view = again.views()[0]
    assert view.alarms["truncation"] is False
    # Re-armed against the same baseline: the change still there, it alarms again.
    for i in range(90, 130):
        again.feed(_result(ts=float(i), target="t1", finish_reason="length", latency_s=_obs(rng).latency_s))
    assert [v.alarms["truncation"] for v in again.views()] == [True]
    store.close()
