"""End to end with Debian's real Prometheus and Alertmanager: a target that cannot be reached makes
capmon's own alert rules fire, and Alertmanager receives the alert.

The rules are the shipped ones with their ``for:`` and ``keep_firing_for:`` durations shortened to
seconds (rewritten from deploy/prometheus/capmon.alerts.yml), so the test takes seconds, not minutes.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.llama import free_port
from tests.integration.conftest import AgentProcess, start_agent, wait_for, wait_ready
from tests.integration.test_prometheus_real import MAX_WAIT, PROM_DIR, Prometheus, binary, start_prometheus

#: Alerts that a dead endpoint must raise (either is enough).
DEAD_TARGET_ALERTS = {"CapmonTargetDown", "CapmonProbeErrorsHigh"}


@dataclass
class Alertmanager:
    """A real Alertmanager process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL of its API."""
        return f"http://127.0.0.1:{self.port}"

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts it holds now (API v2)."""
        data: list[dict[str, Any]] = httpx.get(f"{self.url}/api/v2/alerts", timeout=10).json()
        return data

    def stop(self) -> None:
        """Terminate, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        """What it printed."""
        return self.log_path.read_text(errors="replace")[-3000:]


def start_alertmanager(tmp_path: Path) -> Alertmanager:
    """Start ``prometheus-alertmanager`` on 127.0.0.1 without clustering; wait until ready."""
    exe = binary("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "test", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
                "receivers": [{"name": "test"}],
            }
        )
    )
    log_path = tmp_path / "alertmanager.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                exe,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip port: a single local instance
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    am = Alertmanager(process, port, log_path)
    wait_ready(process, f"{am.url}/-/ready", MAX_WAIT, "alertmanager", am.log, on_timeout=am.stop)
    return am


def fast_rules(source: Path, dest: Path, seconds: int = 2) -> Path:
    """The shipped alert rules with every ``for``/``keep_firing_for`` shortened to ``seconds``."""
    data = yaml.safe_load(source.read_text())
    changed = 0
    for group in data["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    assert re.fullmatch(r"\d+[smhd]", rule[key]), rule[key]
                    rule[key] = f"{seconds}s"
                    changed += 1
    assert changed, "no durations to rewrite: has the rules file changed shape?"
    dest.write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


@pytest.fixture
def dead_target_stack(tmp_path: Path) -> Iterator[tuple[AgentProcess, Prometheus, Alertmanager]]:
    """Alertmanager, an agent whose only target is a closed port, and Prometheus with capmon's rules."""
    am = start_alertmanager(tmp_path)
    agent: AgentProcess | None = None
    prom: Prometheus | None = None
    try:
        dead_port = free_port()  # nothing listens there: every probe is a connection error
        agent = start_agent(
            tmp_path,
            [
                {
                    "name": "deadend",
                    "provider": "openai",
                    "base_url": f"http://127.0.0.1:{dead_port}/v1",
                    "model": "nothing",
                    "interval_s": 1,
                    "jitter_s": 0,
                    "probes_per_run": 2,
                    "static_per_run": 0,
                    "fingerprint_prompts": 0,
                    "timeout_s": 2,
                    "families": ["arithmetic"],
                    "retry": {"attempts": 1},
                    "circuit": {"failure_threshold": 1000},
                }
            ],
            name="dead-agent",
        )
        rules = [
            PROM_DIR / "capmon.rules.yml",
            fast_rules(PROM_DIR / "capmon.alerts.yml", tmp_path / "fast.alerts.yml"),
        ]
        prom = start_prometheus(tmp_path, agent.port, rules, alertmanager_port=am.port)
        yield agent, prom, am
    finally:
        if prom is not None:
            prom.stop()
        if agent is not None:
            agent.stop()
        am.stop()


def test_fast_rules_keep_the_shipped_alerts(tmp_path: Path) -> None:
    shipped = yaml.safe_load((PROM_DIR / "capmon.alerts.yml").read_text())
    fast = yaml.safe_load(fast_rules(PROM_DIR / "capmon.alerts.yml", tmp_path / "f.yml").read_text())
    strip = ("for", "keep_firing_for")
    assert [{k: v for k, v in r.items() if k not in strip} for g in fast["groups"] for r in g["rules"]] == [
        {k: v for k, v in r.items() if k not in strip} for g in shipped["groups"] for r in g["rules"]
    ]


@pytest.mark.integration
def test_alertmanager_receives_an_alert_for_an_unreachable_target(
    dead_target_stack: tuple[AgentProcess, Prometheus, Alertmanager],
) -> None:
    agent, prom, am = dead_target_stack

    def received() -> list[dict[str, Any]]:
        return [
            a
            for a in am.alerts()
            if a["labels"].get("alertname") in DEAD_TARGET_ALERTS and a["labels"].get("target") == "deadend"
        ]

    try:
        alerts = wait_for(received, MAX_WAIT, 1.0, "Alertmanager to receive CapmonTargetDown or CapmonProbeErrorsHigh")
    except pytest.fail.Exception:
        firing = prom.query("ALERTS")
        raise AssertionError(
            f"Prometheus ALERTS: {firing}\nagent log:\n{agent.log()[-1500:]}\nprometheus log:\n{prom.log()}"
        ) from None
    alert = alerts[0]
    assert alert["labels"]["severity"] in {"critical", "warning"}
    assert alert["status"]["state"] == "active"
    assert alert["annotations"]["runbook_url"].startswith("docs/runbooks.md#capmon")
    assert "deadend" in alert["annotations"]["description"]
    # The endpoint failure is an availability error, never a capability failure.
    outcomes = prom.query('sum by (outcome) (capmon_probes_total{target="deadend"})')["data"]["result"]
    assert {s["metric"]["outcome"] for s in outcomes} == {"error"}
