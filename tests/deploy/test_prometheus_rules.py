"""The Prometheus rules: valid for promtool, unit-tested, in the mixin style, and documented."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.promql import documented_metrics, metric_names

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
RULES = PROM / "capmon.rules.yml"
ALERTS = PROM / "capmon.alerts.yml"
TESTS = sorted((PROM / "tests").glob("*.yml"))
REQUIRED = {
    "CapmonCapabilityRegression",
    "CapmonFrontierDropped",
    "CapmonFingerprintChanged",
    "CapmonLeakageGapHigh",
    "CapmonConsistencyDropped",
    "CapmonProbeErrorsHigh",
    "CapmonTargetDown",
    "CapmonNoRecentProbes",
    "CapmonBudgetExhausted",
    "CapmonAgentDown",
}


def _rules(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


ALERT_RULES = _rules(ALERTS)
RECORDING_RULES = _rules(RULES)


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
    return path


@pytest.mark.integration  # runs Debian's promtool
def test_promtool_check_rules() -> None:
    out = subprocess.run([_promtool(), "check", "rules", str(RULES), str(ALERTS)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(RECORDING_RULES)} rules found" in out.stdout
    assert f"SUCCESS: {len(ALERT_RULES)} rules found" in out.stdout


@pytest.mark.integration  # runs Debian's promtool
def test_promtool_unit_tests_pass() -> None:
    assert TESTS, "no promtool test files"
    out = subprocess.run([_promtool(), "test", "rules", *map(str, TESTS)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAILED" not in out.stdout + out.stderr


@pytest.mark.integration  # runs Debian's promtool
def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    """A wrong expectation makes promtool fail: the unit tests are not vacuous."""
    text = (PROM / "tests" / "availability_test.yml").read_text().replace("../capmon", str(PROM / "capmon"))
    broken = tmp_path / "broken_test.yml"
    broken.write_text(text.replace("severity: critical, target: a", "severity: warning, target: a", 1))
    out = subprocess.run(
        [_promtool(), "test", "rules", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode != 0
    assert 'severity="critical", target="a"' in out.stdout + out.stderr


def test_required_alerts_exist_in_mixin_style() -> None:
    names = [r["alert"] for r in ALERT_RULES]
    assert set(names) >= REQUIRED
    assert len(names) == len(set(names))
    for rule in ALERT_RULES:
        name = rule["alert"]
        assert re.fullmatch(r"Capmon(?:[A-Z][a-z0-9]+)+", name), name
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        notes = rule["annotations"]
        assert notes["summary"].strip(), name
        assert "{{ $labels." in notes["description"] or "{{ $value" in notes["description"], name
        assert notes["runbook_url"] == f"docs/runbooks.md#{name.lower()}", name


def test_detector_alerts_do_not_flap() -> None:
    by_name = {r["alert"]: r for r in ALERT_RULES}
    for name in ("CapmonCapabilityRegression", "CapmonFingerprintChanged", "CapmonFrontierDropped",
                 "CapmonLeakageGapHigh", "CapmonProbeErrorsHigh"):
        assert "keep_firing_for" in by_name[name], name


def test_every_alert_has_a_runbook_entry_with_all_sections() -> None:
    text = (ROOT / "docs" / "runbooks.md").read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    entries = {s.splitlines()[0].strip(): s for s in sections}
    for rule in ALERT_RULES:
        entry = entries.get(rule["alert"])
        assert entry is not None, f"no runbook entry for {rule['alert']}"
        for part in ("**Meaning:**", "**Impact:**", "**Diagnosis:**", "**Mitigation:**"):
            assert part in entry, f"{rule['alert']}: {part} missing"


def test_every_alert_is_tested_firing_and_silent() -> None:
    fired: set[str] = set()
    silent: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {r["alert"] for r in ALERT_RULES}
    assert names <= fired, f"never shown firing: {sorted(names - fired)}"
    assert names <= silent, f"never shown silent: {sorted(names - silent)}"


def test_rules_use_only_documented_metrics() -> None:
    documented = documented_metrics(ROOT / "docs" / "metrics.md")
    recorded = {r["record"] for r in RECORDING_RULES}
    assert recorded <= documented.keys(), sorted(recorded - documented.keys())
    for rule in RECORDING_RULES + ALERT_RULES:
        names = metric_names(rule["expr"])
        assert names, rule["expr"]
        unknown = names - documented.keys()
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"


def test_recording_rules_follow_level_metric_operations() -> None:
    for rule in RECORDING_RULES:
        assert re.fullmatch(r"[a-z_]+:capmon_[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]


@pytest.mark.integration  # runs Debian's promtool
def test_example_prometheus_config_is_valid_and_loads_the_rules() -> None:
    out = subprocess.run([_promtool(), "check", "config", str(PROM / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 2 rule files found" in out.stdout


def test_example_prometheus_config_scrapes_a_capmon_job() -> None:
    jobs = [j["job_name"] for j in yaml.safe_load((PROM / "prometheus.yml").read_text())["scrape_configs"]]
    assert any("capmon" in j for j in jobs), "CapmonAgentDown selects jobs whose name contains capmon"


@pytest.mark.integration  # runs Debian's amtool
def test_example_alertmanager_config_is_valid() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.fail("amtool not found: install Debian's prometheus-alertmanager package")
    out = subprocess.run([amtool, "check-config", str(PROM / "alertmanager.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
