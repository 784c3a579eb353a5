"""Against Debian's real Prometheus: it scrapes a capmon agent probing the real SmolLM2 model, and every
PromQL expression of every dashboard panel and every rule must be valid there; the core panels must
return data; ``promtool check metrics`` on a live scrape must report nothing.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.llama import LlamaServer, free_port
from tests.integration.conftest import AgentProcess, smollm2_target, start_agent, wait_for, wait_ready

ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = ROOT / "deploy" / "prometheus"
DASHBOARD_DIR = ROOT / "dashboards" / "build"
#: Every wait in these tests is bounded by this many seconds.
MAX_WAIT = 120.0
#: Panels whose queries must return data once the agent has probed the model for a while.
CORE_PANELS = {
    "capmon-fleet-overview.json": (
        "Pass ratio by target (all families)",
        "Probes per second by outcome",
        "Probe latency p95",
    ),
    "capmon-target-detail.json": ("Pass ratio", "Probe latency quantiles", "Outcomes per second by family"),
}


@dataclass
class Prometheus:
    """A real Prometheus server process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def query(self, expr: str) -> dict[str, Any]:
        """The decoded answer of an instant query (any status)."""
        resp = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        data: dict[str, Any] = resp.json()
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


def binary(name: str, package: str) -> str:
    """Path of a real binary; fail (never skip) when the Debian package is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: apt-get install {package}")
    return path


def start_prometheus(
    tmp_path: Path,
    scrape_port: int,
    rule_files: list[Path],
    *,
    alertmanager_port: int | None = None,
) -> Prometheus:
    """Start ``prometheus`` on a free 127.0.0.1 port scraping the agent every second; wait until ready."""
    exe = binary("prometheus", "prometheus")
    port = free_port()
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": "capmon", "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}]},
        ],
    }
    if alertmanager_port is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]}
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = tmp_path / "prometheus.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                exe,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    prom = Prometheus(process, port, log_path)
    wait_ready(process, f"{prom.url}/-/ready", MAX_WAIT, "prometheus", prom.log, on_timeout=prom.stop)
    return prom


def rule_exprs(paths: list[Path]) -> list[tuple[str, str]]:
    """(rule name, expression) for every recording and alerting rule."""
    out = []
    for path in paths:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                out.append((rule.get("alert") or rule["record"], rule["expr"]))
    return out


def dashboard_exprs() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expression) for every query of every committed dashboard."""
    out = []
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                out.append((path.name, panel["title"], target["expr"]))
    return out


def substitute(expr: str, window: str) -> str:
    """Replace Grafana's template variables the way Grafana would with "All" selected."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "5m")
        .replace("$__interval", "5s")
        .replace("$target", ".*")
        .replace("$family", ".*")
        .replace("$window", window)
        .replace("$datasource", "prometheus")
    )


def _has_data(answer: dict[str, Any]) -> bool:
    result = answer.get("data", {}).get("result", [])
    return any(math.isfinite(float(series["value"][1])) for series in result)


@pytest.fixture
def stack(llama_server: LlamaServer, tmp_path: Path) -> Iterator[tuple[AgentProcess, Prometheus]]:
    """An agent probing the real model, and a real Prometheus scraping it with capmon's rules loaded."""
    agent = start_agent(
        tmp_path,
        [smollm2_target(llama_server.base_url, interval_s=3, probes_per_run=3, difficulties=[1, 2])],
        extra={"stats": {"windows_s": [3600], "warmup_probes": 20}},
        name="prom-agent",
    )
    prom: Prometheus | None = None
    try:
        prom = start_prometheus(tmp_path, agent.port, [PROM_DIR / "capmon.rules.yml", PROM_DIR / "capmon.alerts.yml"])
        yield agent, prom
    finally:
        if prom is not None:
            prom.stop()
        agent.stop()


@pytest.mark.integration
def test_every_dashboard_and_rule_expression_runs_on_real_prometheus(
    stack: tuple[AgentProcess, Prometheus],
) -> None:
    agent, prom = stack

    def scraped_enough() -> bool:
        # rate() over the core panels needs a few scrapes after results exist; the ratio needs statistics.
        counts = prom.query("count_over_time(capmon_probes_total[1m])")
        ratio = prom.query('capmon_pass_ratio{family="all"}')
        enough = any(float(s["value"][1]) >= 5 for s in counts.get("data", {}).get("result", []))
        return enough and bool(ratio.get("data", {}).get("result"))

    wait_for(scraped_enough, MAX_WAIT, 1.0, "Prometheus to scrape probe results and statistics from the agent")
    windows = httpx.get(f"{prom.url}/api/v1/label/window/values", timeout=10).json()["data"]
    assert windows, "the agent exports no capmon_pass_ratio window"
    window = windows[0]

    invalid: list[str] = []
    rule_files = [PROM_DIR / "capmon.rules.yml", PROM_DIR / "capmon.alerts.yml"]
    for name, expr in rule_exprs(rule_files):
        answer = prom.query(expr)
        if answer.get("status") != "success":
            invalid.append(f"rule {name}: {answer.get('error')}")
    queries = dashboard_exprs()
    assert len(queries) >= 60
    empty_core: list[str] = []
    for board, title, expr in queries:
        answer = prom.query(substitute(expr, window))
        if answer.get("status") != "success":
            invalid.append(f"{board} / {title}: {answer.get('error')} in {expr}")
        elif title in CORE_PANELS.get(board, ()) and not _has_data(answer):
            empty_core.append(f"{board} / {title}: {expr}")
    assert not invalid, "\n".join(invalid)
    assert not empty_core, "core panels without data:\n" + "\n".join(empty_core)

    # Every rule group loaded and evaluates without error against real data.
    rules = httpx.get(f"{prom.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {r["name"]: r for g in rules for r in g["rules"]}
    assert set(loaded) == {name for name, _ in rule_exprs(rule_files)}
    wait_for(
        lambda: all(
            r.get("health") == "ok"
            for g in httpx.get(f"{prom.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
            for r in g["rules"]
        ),
        MAX_WAIT,
        1.0,
        "every rule to evaluate healthy",
    )
    # The recording rules produce series from the real agent.
    for record in ("target_outcome:capmon_probes:rate5m", "target:capmon_probe_errors:ratio_rate15m"):
        wait_for(lambda r=record: _has_data(prom.query(r)), MAX_WAIT, 1.0, f"{record} to have data")
    up = prom.query('up{job="capmon"}')["data"]["result"]
    assert [s["value"][1] for s in up] == ["1"], agent.log()[-2000:]


@pytest.mark.integration
def test_promtool_check_metrics_on_a_live_scrape_reports_nothing(llama_server: LlamaServer, tmp_path: Path) -> None:
    promtool = binary("promtool", "prometheus")
    agent = start_agent(
        tmp_path, [smollm2_target(llama_server.base_url, interval_s=3, probes_per_run=2)], name="lint-agent"
    )
    try:
        wait_for(
            lambda: "capmon_probes_total{" in httpx.get(f"{agent.url}/metrics", timeout=10).text,
            MAX_WAIT,
            1.0,
            "probe results on /metrics",
        )
        scrape = httpx.get(f"{agent.url}/metrics", timeout=10).text
    finally:
        agent.stop()
    out = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "" and out.stderr.strip() == "", (
        f"promtool check metrics complained:\n{out.stdout}{out.stderr}"
    )
    assert "capmon_target_info{" in scrape and "capmon_build_info{" in scrape
    # The exporter guide allows cached values only when HELP says so; build and reload facts are not probe data.
    helps = dict(
        line[len("# HELP ") :].split(" ", 1) for line in scrape.splitlines() if line.startswith("# HELP capmon_")
    )
    not_cached = sorted(
        name
        for name, text in helps.items()
        if "cached" not in text.lower() and name not in {"capmon_build_info", "capmon_config_last_reload_successful"}
    )
    assert not not_cached, f"HELP text does not say the value is cached: {not_cached}"
