"""The committed dashboards are what the code builds, and every query uses documented metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboards.__main__ import main
from dashboards.promql import documented_metrics, metric_names
from dashboards.render import BUILD_DIR, DASHBOARDS, render_all, stale

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = documented_metrics(ROOT / "docs" / "metrics.md")
RENDERED = {name: json.loads(text) for name, text in render_all().items()}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_committed_json_equals_what_the_code_builds() -> None:
    for name, text in render_all().items():
        committed = BUILD_DIR / name
        assert committed.is_file(), f"{name} missing: run `python -m dashboards`"
        assert committed.read_text() == text, f"{name} is stale: run `python -m dashboards` and commit"
    assert sorted(p.name for p in BUILD_DIR.glob("*.json")) == sorted(DASHBOARDS)


def test_rendering_is_deterministic() -> None:
    assert render_all() == render_all()


def test_check_flag_reports_a_stale_file(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert stale(tmp_path) == []
    assert main(["--out", str(tmp_path), "--check"]) == 0
    victim = tmp_path / next(iter(DASHBOARDS))
    victim.write_text(victim.read_text().replace("capmon_", "kapmon_", 1))
    assert stale(tmp_path) == [victim.name]
    assert main(["--out", str(tmp_path), "--check"]) == 1


def test_three_dashboards_with_expected_titles() -> None:
    titles = sorted(b["title"] for b in RENDERED.values())
    assert titles == ["capmon / Fleet overview", "capmon / Probe families", "capmon / Target detail"]
    assert len({b["uid"] for b in RENDERED.values()}) == 3


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_datasource_and_target_are_template_variables(name: str) -> None:
    board = RENDERED[name]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["target"]["type"] == "query"
    assert "capmon_target_info" in variables["target"]["query"]
    for panel in _panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for t in panel["targets"]:
            assert t["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_has_promql_with_explicit_ref_ids(name: str) -> None:
    board = RENDERED[name]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    panels = _panels(board)
    assert len(panels) >= 8
    for panel in panels:
        assert panel["targets"], f"{panel['title']} has no query"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for t in panel["targets"]:
            assert t["expr"].strip(), panel["title"]
            assert t["refId"]
        assert panel.get("description"), f"{panel['title']} has no description"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_queries_use_only_documented_metrics(name: str) -> None:
    for panel in _panels(RENDERED[name]):
        for t in panel["targets"]:
            names = metric_names(t["expr"])
            assert names, f"no metric in {t['expr']!r}"
            unknown = names - DOCUMENTED.keys()
            assert not unknown, f"{panel['title']}: {sorted(unknown)} not in docs/metrics.md"


def test_dashboards_cover_the_required_views() -> None:
    exprs = {
        name: " ".join(t["expr"] for p in _panels(b) for t in p["targets"]) for name, b in RENDERED.items()
    }
    fleet, detail, families = (exprs[n] for n in DASHBOARDS)
    for metric in (
        "capmon_pass_ratio_lower",
        "capmon_pass_ratio_upper",
        "capmon_frontier_level",
        "capmon_regression_detected",
        "capmon_probe_errors_total",
        "capmon_cost_usd_total",
    ):
        assert metric in fleet, metric
    for metric in (
        "capmon_novelty_gradient_slope",
        "capmon_leakage_gap_ratio",
        "capmon_consistency_ratio",
        "capmon_detector_statistic",
        "capmon_detector_threshold",
        "capmon_probe_duration_seconds_bucket",
        "capmon_tokens_total",
    ):
        assert metric in detail, metric
    assert "capmon_difficulty_passed_probes" in detail and "capmon_difficulty_scored_probes" in detail
    families_board = RENDERED["capmon-probe-families.json"]
    assert any(p.get("repeat") == "family" for p in families_board["panels"])
    assert "capmon_pass_ratio" in families


def test_every_metric_in_the_docs_is_shown_somewhere() -> None:
    shown: set[str] = set()
    for board in RENDERED.values():
        for panel in _panels(board):
            for t in panel["targets"]:
                shown |= metric_names(t["expr"])
    documented = {n for n, kind in DOCUMENTED.items() if n.startswith("capmon_") and kind != "recorded"}
    # A histogram is shown through its buckets; its _sum/_count and the bare name are not queried.
    documented -= {
        "capmon_probe_duration_seconds",
        "capmon_probe_duration_seconds_sum",
        "capmon_probe_duration_seconds_count",
    }
    missing = documented - shown
    assert not missing, f"documented but on no dashboard: {sorted(missing)}"


@pytest.mark.parametrize("name", ["capmon-target-detail.json", "capmon-fleet-overview.json"])
def test_change_points_are_annotations_from_the_metrics(name: str) -> None:
    """No Grafana API key: the annotations are a Prometheus query on capmon_change_points_total."""
    data = json.loads((BUILD_DIR / name).read_text())
    (ann,) = [a for a in data["annotations"]["list"] if a["name"] == "Change points"]
    assert ann["datasource"] == {"type": "prometheus", "uid": "${datasource}"} and ann["enable"] is True
    assert "increase(capmon_change_points_total{" in ann["expr"] and "unless" in ann["expr"]
    assert ann["tagKeys"] == "target,family,detector,direction"


def test_target_detail_shows_what_changed_beside_capability() -> None:
    data = json.loads((BUILD_DIR / "capmon-target-detail.json").read_text())
    titles = [p["title"] for p in data["panels"]]
    at = titles.index("What changed")
    assert titles.index("Capability") < at < titles.index("Generalization and leakage")
    for panel in ("Truncated and refused answers", "Output length (median)",
                  "Latency and time to first token (median)", "Signal alarms firing"):
        assert panel in titles[at:], panel
