"""Every statistics metric named in the brief comes out of one snapshot, with the agreed labels."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from agent.serve.stats_metrics import stats_metric_families
from agent.stats.frontier import Ability, Frontier, fit_frontier
from agent.stats.gradient import novelty_gradient
from agent.stats.leakage import newcombe_difference
from agent.stats.paired import paired_difference
from agent.stats.snapshot import DetectorView, FingerprintView, PairedView, RatioCell, StatsSnapshot

BRIEF_NAMES = {
    "capmon_pass_ratio",
    "capmon_pass_ratio_lower",
    "capmon_pass_ratio_upper",
    "capmon_pass_ratio_samples",
    "capmon_difficulty_passed_probes",
    "capmon_difficulty_scored_probes",
    "capmon_novelty_passed_probes",
    "capmon_novelty_scored_probes",
    "capmon_frontier_level",
    "capmon_frontier_level_lower",
    "capmon_frontier_level_upper",
    "capmon_ability_logits",
    "capmon_ability_logits_lower",
    "capmon_ability_logits_upper",
    "capmon_novelty_gradient_slope",
    "capmon_novelty_gradient_slope_lower",
    "capmon_novelty_gradient_slope_upper",
    "capmon_leakage_gap_ratio",
    "capmon_leakage_gap_ratio_lower",
    "capmon_leakage_gap_ratio_upper",
    "capmon_consistency_ratio",
    "capmon_detector_statistic",
    "capmon_detector_threshold",
    "capmon_regression_detected",
    "capmon_improvement_detected",
    "capmon_change_points",
    "capmon_fingerprint_agreement_ratio",
    "capmon_fingerprint_changed",
    "capmon_refusal_ratio",
    "capmon_response_length_tokens_mean",
    "capmon_baseline_pass_ratio",
    "capmon_paired_difference_ratio",
    "capmon_paired_difference_ratio_lower",
    "capmon_paired_difference_ratio_upper",
    "capmon_cost_per_correct_usd",
    "capmon_detector_armed",
    "capmon_detector_probes_to_armed",
    "capmon_detector_seconds_to_armed",
    "capmon_fingerprint_id_changed",
    "capmon_signal_value",
    "capmon_signal_alarm",
    "capmon_signal_info_changed",
}


def _snapshot() -> StatsSnapshot:
    grad = novelty_gradient([0, 1], [8, 6], [10, 10])
    assert grad is not None
    return StatsSnapshot(
        ratios=(RatioCell("t", "all", "all", "all", "1h", 8, 10, 0.8, 0.5, 0.95),),
        frontiers={("t", "f"): fit_frontier([1, 2, 3], [10, 10, 10], [10, 10, 10])},
        abilities={"t": Ability(0.5, 0.1, 0.9, 2)},
        gradients={("t", "f"): grad},
        leakage={("t", "f"): newcombe_difference(9, 10, 5, 10)},
        consistency={("t", "f"): 0.75},
        detectors=(
            DetectorView("t", "all", "cusum_drop_10", "drop", 1.5, 5.3, True),
            DetectorView("t", "all", "cusum_rise_10", "rise", 0.0, 5.8, False),
        ),
        change_points={("t", "all", "cusum_drop_10", "drop"): 2},
        fingerprints={"t": FingerprintView("t", 0.7, False, False)},
        refusal={"t": 0.01},
        response_length={"t": 12.0},
        baselines={("t", "all"): 0.8},
        paired=(PairedView("g", "t", "u", "all", paired_difference([True, False], [False, False])),),
        cost_per_correct={"t": 0.002},
    )


class _Fixed(Collector):
    def collect(self) -> list[Metric]:
        return list(stats_metric_families(_snapshot()))


def test_all_brief_names_and_values() -> None:
    names = {m.name for m in stats_metric_families(_snapshot())}
    assert names == BRIEF_NAMES
    metrics = CollectorRegistry()
    metrics.register(_Fixed())
    lab = {"target": "t", "family": "all", "detector": "cusum_drop_10"}
    assert metrics.get_sample_value("capmon_regression_detected", lab) == 1.0
    assert metrics.get_sample_value("capmon_improvement_detected", {**lab, "detector": "cusum_rise_10"}) == 0.0
    assert metrics.get_sample_value("capmon_change_points_total", {**lab, "direction": "drop"}) == 2.0
    assert metrics.get_sample_value("capmon_frontier_level_upper", {"target": "t", "family": "f"}) == math.inf
    assert metrics.get_sample_value("capmon_frontier_level", {"target": "t", "family": "f"}) == 3.0
    assert (
        metrics.get_sample_value(
            "capmon_paired_difference_ratio", {"group": "g", "target": "t", "baseline_target": "u", "family": "all"}
        )
        == 0.5
    )
    assert (
        metrics.get_sample_value(
            "capmon_pass_ratio_samples",
            {"target": "t", "family": "all", "window": "1h"},
        )
        == 10
    )


def test_empty_snapshot_yields_families_without_samples() -> None:
    metrics = list(stats_metric_families(StatsSnapshot()))
    assert {m.name for m in metrics} == BRIEF_NAMES
    assert all(not m.samples for m in metrics)


def _cell(family: str, d: str, v: str, window: str, k: int, n: int) -> RatioCell:
    return RatioCell("t", family, d, v, window, k, n, k / n, 0.0, 1.0)


def test_levels_are_counts_in_the_longest_window_nearest_the_frontier() -> None:
    # Twelve difficulty levels probed in 24h (and one in 1h); two novelty levels for "f", one for "g".
    cells = [_cell("f", str(d), "all", "24h", 13 - d, 12) for d in range(1, 13)]
    cells += [_cell("f", "all", str(v), "24h", 30 + v, 72) for v in (0, 1)]
    cells += [_cell("g", "2", "all", "24h", 1, 4), _cell("g", "all", "0", "24h", 1, 4)]
    cells += [_cell("f", "3", "all", "1h", 1, 2), _cell("f", "all", "all", "1h", 1, 2)]
    cells += [_cell("f", "all", "all", "24h", 66, 144), _cell("all", "all", "all", "24h", 67, 148)]
    frontier = Frontier(6.4, 5.9, 6.9, 1.0, "none", 144, 6.4, 0.0, 0.1)
    snap = StatsSnapshot(ratios=tuple(cells), frontiers={("t", "f"): frontier})
    fams = {m.name: m for m in stats_metric_families(snap)}
    scored = {
        (s.labels["family"], s.labels["difficulty"], s.labels["window"]): s.value
        for s in fams["capmon_difficulty_scored_probes"].samples
    }
    passed = {
        (s.labels["family"], s.labels["difficulty"]): s.value for s in fams["capmon_difficulty_passed_probes"].samples
    }
    # Nearest d50 = 6.4: 6 (0.4), 7 (0.6), 5 (1.4), 8 (1.6), 4 (2.4), 9 (2.6).
    assert sorted(int(d) for f, d, _ in scored if f == "f") == [4, 5, 6, 7, 8, 9]
    assert {w for _, _, w in scored} == {"24h"}
    assert scored[("g", "2", "24h")] == 4 and passed[("g", "2")] == 1
    assert passed[("f", "4")] == 9 and scored[("f", "4", "24h")] == 12
    novelty = {(s.labels["family"], s.labels["novelty"]): s.value for s in fams["capmon_novelty_passed_probes"].samples}
    assert novelty == {("f", "0"): 30, ("f", "1"): 31}
    ratio = {(s.labels["family"], s.labels["window"]): s.value for s in fams["capmon_pass_ratio"].samples}
    assert ratio == {("f", "1h"): 0.5, ("f", "24h"): 66 / 144, ("all", "24h"): 67 / 148}
    assert all(set(s.labels) == {"target", "family", "window"} for s in fams["capmon_pass_ratio_samples"].samples)


def test_a_censored_frontier_keeps_the_levels_at_its_end() -> None:
    cells = [_cell("f", str(d), "all", "24h", 12, 12) for d in range(1, 11)]
    frontier = fit_frontier(list(range(1, 11)), [12] * 10, [12] * 10)
    assert frontier.censored == "above"  # all passed: the frontier lies past the top level probed
    snap = StatsSnapshot(ratios=tuple(cells), frontiers={("t", "f"): frontier})
    fams = {m.name: m for m in stats_metric_families(snap)}
    levels = sorted(int(s.labels["difficulty"]) for s in fams["capmon_difficulty_scored_probes"].samples)
    assert levels == [5, 6, 7, 8, 9, 10]


def test_signal_families_carry_each_value_alarm_and_info_flag() -> None:
    from prometheus_client import CollectorRegistry

    from agent.stats.snapshot import SignalView

    view = SignalView(
        "t1",
        {"truncation": (0.0, 0.91), "output_length": (120.0, 19.0), "ttft": (None, None)},
        {"truncation": True, "shorter": False},
        ("header openai-version",),
    )
    reg = CollectorRegistry()

    class _C:
        def collect(self):  # type: ignore[no-untyped-def]
            from agent.serve.signal_metrics import signal_metric_families

            return signal_metric_families(StatsSnapshot(signals=(view,)))

    reg.register(_C())  # type: ignore[arg-type]
    get = reg.get_sample_value
    assert get("capmon_signal_value", {"target": "t1", "signal": "truncation", "side": "recent"}) == 0.91
    assert get("capmon_signal_value", {"target": "t1", "signal": "output_length", "side": "baseline"}) == 120.0
    assert get("capmon_signal_value", {"target": "t1", "signal": "ttft", "side": "recent"}) is None
    assert get("capmon_signal_alarm", {"target": "t1", "signal": "truncation"}) == 1.0
    assert get("capmon_signal_alarm", {"target": "t1", "signal": "shorter"}) == 0.0
    assert get("capmon_signal_info_changed", {"target": "t1", "signal": "headers"}) == 1.0
    assert get("capmon_signal_info_changed", {"target": "t1", "signal": "served_model"}) == 0.0
