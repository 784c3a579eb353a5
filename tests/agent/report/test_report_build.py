"""build_report: every figure checked against the ledger it came from."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.config import TargetConfig
from agent.ledger import queries
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.report import Report, build_report
from agent.report.build import bucket_width, paired_rows
from agent.stats.leakage import standardised_fresh
from tests.agent.report.report_fixtures import PRICE, PROFILES, SimLedger


@pytest.fixture(scope="module")
def report(ledger: SimLedger) -> Report:
    return build_report(ledger.store, ledger.targets, ledger.since, ledger.until)


def _rows(ledger: SimLedger, target: str) -> list[ProbeResult]:
    return [s.result for s in ledger.store.results(target=target, since=ledger.since, until=ledger.until)]


def test_summary_matches_the_ledger(ledger: SimLedger, report: Report) -> None:
    for s in report.summaries:
        rows = _rows(ledger, s.target)
        scored = [r for r in rows if r.outcome != "error" and not r.static and not r.canary]
        assert s.probes == len(rows) > 0
        assert s.errors == sum(r.outcome == "error" for r in rows) > 0
        assert sum(s.error_reasons.values()) == s.errors
        assert (s.pass_ratio.k, s.pass_ratio.n) == (sum(r.outcome == "pass" for r in scored), len(scored))
        assert s.pass_ratio.lower < s.pass_ratio.value < s.pass_ratio.upper  # type: ignore[operator]
        lat = [r.latency_s for r in rows if r.outcome != "error"]
        assert s.latency_p50_s == pytest.approx(float(np.percentile(lat, 50)))
        assert s.latency_p95_s == pytest.approx(float(np.percentile(lat, 95)))
        tin, tout = sum(r.input_tokens or 0 for r in rows), sum(r.output_tokens or 0 for r in rows)
        assert (s.input_tokens, s.output_tokens) == (tin, tout)
        cost = (tin * PRICE.input_per_mtok_usd + tout * PRICE.output_per_mtok_usd) / 1e6
        assert s.cost_usd == pytest.approx(cost)
        assert s.cost_per_correct_usd == pytest.approx(cost / sum(r.outcome == "pass" for r in rows))


def test_frontier_recovers_the_simulated_ability(ledger: SimLedger, report: Report) -> None:
    for profile in PROFILES:
        fits = [f for f in report.frontiers if f.target == profile.name]
        assert len(fits) == 3
        # Renderings at novelty 0..2 cost 0.3 logits per level, so d50 sits ~0.3 levels below ability.
        mean = sum(f.d50 for f in fits) / len(fits)
        assert abs(mean - (profile.ability - 0.3)) < 0.8
        assert all(f.lower < f.d50 < f.upper for f in fits)
    alpha = next(s for s in report.summaries if s.target == "alpha")
    beta = next(s for s in report.summaries if s.target == "beta")
    assert alpha.ability_logits is not None and beta.ability_logits is not None
    assert alpha.ability_logits > beta.ability_logits


def test_curves_and_drift_count_every_scored_probe(ledger: SimLedger, report: Report) -> None:
    for s in report.summaries:
        assert sum(p.ratio.n for p in report.curves if p.target == s.target) == s.pass_ratio.n
        assert sum(b.ratio.n for b in report.drift if b.target == s.target) == s.pass_ratio.n
        assert sum(b.ratio.k for b in report.drift if b.target == s.target) == s.pass_ratio.k
    widths = {b.end - b.start for b in report.drift}
    assert widths == {bucket_width(ledger.until - ledger.since)}


def test_change_points_only_inside_the_period(ledger: SimLedger, report: Report) -> None:
    assert [(c.detector, c.size) for c in report.change_points] == [("cusum_drop_10", -0.12)]


def test_leakage_gap_sees_the_static_boost(ledger: SimLedger, report: Report) -> None:
    alpha = [r for r in report.leakage if r.target == "alpha" and r.gap is not None]
    assert alpha
    pooled_static = sum(r.static.k for r in alpha) / sum(r.static.n for r in alpha)
    pooled_fresh = sum(r.fresh.k for r in alpha) / sum(r.fresh.n for r in alpha)
    assert pooled_static > pooled_fresh  # static_boost=2 logits for alpha only
    for r in report.leakage:
        if r.gap is not None:
            assert r.gap == pytest.approx(r.static.value - r.fresh.value)  # type: ignore[operator]


def test_gradient_and_consistency_present(ledger: SimLedger, report: Report) -> None:
    assert {(g.target, g.family) for g in report.gradients} == {
        (p.name, f) for p in PROFILES for f in ("arithmetic", "linear_equation", "string_transform")
    }
    for g in report.gradients:
        assert set(g.by_novelty) == {0, 1, 2}
        assert g.slope is not None and g.lower is not None and g.upper is not None and g.lower < g.slope < g.upper
    assert report.consistency and all(0 <= c.ratio <= 1 for c in report.consistency if c.ratio is not None)


def test_group_pairs_by_item_key_and_novelty(ledger: SimLedger, report: Report) -> None:
    (card,) = report.groups
    assert (card.group, card.baseline, card.members) == ("cmp", "alpha", ["alpha", "beta"])

    def keyed(target: str) -> dict[tuple[str, int], bool]:
        out: dict[tuple[str, int], bool] = {}
        for r in _rows(ledger, target):
            if r.outcome != "error" and not r.static and not r.canary:
                out[(r.item_key, r.novelty)] = r.outcome == "pass"
        return out

    a, b = keyed("beta"), keyed("alpha")
    shared = a.keys() & b.keys()
    overall = next(r for r in card.rows if r.family == "all")
    assert overall.pairs == len(shared)
    assert overall.only_target == sum(a[k] and not b[k] for k in shared)
    assert overall.only_baseline == sum(b[k] and not a[k] for k in shared)
    assert overall.upper is not None and overall.upper < 0  # beta is clearly worse than alpha
    assert overall.p_value is not None and overall.p_value < 0.001
    assert sum(r.pairs for r in card.rows if r.family != "all") == overall.pairs
    assert card.cost_per_correct_usd["alpha"] is not None


def _result(target: str, key: str, novelty: int, outcome: str, *, family: str = "arithmetic") -> ProbeResult:
    return ProbeResult(
        ts=time.time(),
        run_id="r",
        target=target,
        provider="openai",
        model="m",
        family=family,
        difficulty=3,
        novelty=novelty,
        item_index=0,
        seed=1,
        item_key=key,
        static=False,
        canary=False,
        generator_version="1",
        prompt="p",
        response=None if outcome == "error" else "x",
        extracted=None,
        canonical=None,
        reference="x",
        score=None if outcome == "error" else float(outcome == "pass"),
        outcome=outcome,  # type: ignore[arg-type]
        error_reason="timeout" if outcome == "error" else None,
        http_status=None,
        latency_s=0.1,
        input_tokens=None,
        output_tokens=None,
        response_model=None,
        system_fingerprint=None,
        group="g",
    )


def test_mcnemar_on_hand_built_pairs(tmp_path: Path) -> None:
    # 10 shared items: both pass 4, only A 4, only B 0, neither 2 → exact two-sided p = 2 * 0.5**4.
    outcomes = [("pass", "pass")] * 4 + [("pass", "fail")] * 4 + [("fail", "fail")] * 2
    mine = [_result("a", f"k{i}", 0, x) for i, (x, _) in enumerate(outcomes)]
    theirs = [_result("b", f"k{i}", 0, y) for i, (_, y) in enumerate(outcomes)]
    # Not pairs: another rendering of k0 only A saw, an item only B saw, an item where B's call errored.
    mine += [_result("a", "k0", 1, "pass"), _result("a", "k99", 0, "fail")]
    theirs += [_result("b", "k50", 0, "pass")]
    mine += [_result("a", "k77", 0, "pass")]
    theirs += [_result("b", "k77", 0, "error")]
    store = Store(tmp_path / "pairs.db")
    store.add_results(mine + theirs)
    outcomes = queries.paired_outcomes(store, "a", "b")
    store.close()
    (row,) = [r for r in paired_rows("g", "a", "b", outcomes, 0.95) if r.family == "all"]
    assert (row.pairs, row.both_pass, row.only_target, row.only_baseline, row.neither) == (10, 4, 4, 0, 2)
    assert row.difference == pytest.approx(0.4)
    assert row.p_value == pytest.approx(0.125)
    assert row.lower is not None and row.upper is not None and row.lower < 0.4 < row.upper


def test_empty_period(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    target = TargetConfig(name="x", base_url="http://127.0.0.1:1/v1", model="m")
    report = build_report(store, [target], time.time() - 3600, time.time())
    assert report.notes and report.summaries[0].probes == 0
    assert report.summaries[0].pass_ratio.value is None
    assert report.summaries[0].cost_per_correct_usd is None
    assert not report.curves and not report.groups and not report.frontiers
    assert math.isclose(report.confidence, 0.95)
    store.close()


def test_leakage_compares_like_with_like() -> None:
    # Static items all at level 1; fresh ones split between levels 1 and 9. Same model, no leakage:
    # pooling fresh items as they come would show a 40-point "gap" that is only the difficulty mix.
    def rows(static: bool, difficulty: int, passes: int, total: int) -> list[ProbeResult]:
        return [
            replace(
                _result("a", f"{static}{difficulty}-{i}", 0, "pass" if i < passes else "fail"),
                static=static,
                difficulty=difficulty,
            )
            for i in range(total)
        ]

    def cells(results: list[ProbeResult]) -> dict[tuple[int, int], tuple[int, int]]:
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for r in results:
            k, n = out.get((r.difficulty, r.novelty), (0, 0))
            out[(r.difficulty, r.novelty)] = (k + (r.outcome == "pass"), n + 1)
        return out

    static = cells(rows(True, 1, 36, 40))
    fresh = cells(rows(False, 1, 45, 50) + rows(False, 9, 5, 50))
    _, matched, fk, fn = standardised_fresh(static, fresh)
    assert matched == 40
    assert fk / fn == pytest.approx(0.9, abs=0.01)  # the fresh ratio at level 1 only
    assert 40 <= fn <= 60  # about the 50 level-1 fresh items, not all 100
    assert standardised_fresh(cells(rows(True, 5, 1, 2)), fresh) == (0, 0, 0, 0)  # no fresh item at level 5


def test_report_names_the_primary_rendering_rule(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    one = TargetConfig(name="x", base_url="http://127.0.0.1:1/v1", model="m")
    many = TargetConfig(name="y", base_url="http://127.0.0.1:1/v1", model="m", novelties=[2, 0, 1])
    report = build_report(store, [one, many], time.time() - 3600, time.time())
    rules = [n for n in report.notes if "primary" in n]
    # One rendering per item: nothing to say for x; for y the rule with its sorted novelties.
    assert rules == [
        "y: per-item results (detectors, change points) count one rendering per item, its primary one:"
        " primary = sorted(novelties)[seed % 3] over novelties [0, 1, 2]."
    ]
