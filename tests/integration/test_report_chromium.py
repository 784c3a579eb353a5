"""The HTML report in a real headless Chromium: it renders, it is not blank, and the charts are drawn.

Chromium is a real component: CI installs Debian's ``chromium``; when it is missing these tests fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from agent.config import PriceConfig, TargetConfig
from agent.ledger.store import Store
from agent.llama import LlamaServer
from agent.report import Report, build_report, render_html
from agent.report.simulate import SimProfile, simulate
from agent.report.text import SECTIONS
from probes.registry import builtin_registry
from tests.integration.conftest import smollm2_target

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: The first target's line colour (matplotlib tab10 blue) — painted pixels of it mean a chart was drawn.
CHART_BLUE = np.array([0x1F, 0x77, 0xB4])


def chromium() -> str:
    """Path of Debian's chromium; fails the test (never skips) when it is not installed."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail("chromium is not installed (apt-get install chromium); the report test needs a real browser")
    return path


def open_in_chromium(page: Path, work: Path) -> tuple[np.ndarray, str]:
    """Screenshot (RGB array) and the rendered DOM of a local HTML file."""
    shot = work / "shot.png"
    base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}"]
    url = page.resolve().as_uri()
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,4000", url], check=True, timeout=180, capture_output=True
    )
    dom = subprocess.run([*base, "--dump-dom", url], check=True, timeout=180, capture_output=True, text=True).stdout
    with Image.open(shot) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=np.int16)
    return pixels, dom


def check_rendered(report: Report, pixels: np.ndarray, dom: str) -> None:
    """Non-blank screenshot, every section and chart in the DOM, and chart lines actually painted."""
    assert pixels.shape[:2] == (4000, 1280)
    assert float(pixels.std()) > 20, "screenshot is (nearly) uniform: the page did not render"
    non_white = float((pixels.sum(axis=2) < 700).mean())
    assert non_white > 0.02, f"only {non_white:.1%} of the screenshot is not white"
    # Without charts the page has no pixel of this colour at all; one drawn line has hundreds.
    blue = int((np.abs(pixels - CHART_BLUE).sum(axis=2) < 40).sum())
    assert blue >= 300, f"only {blue} pixels of the first series' colour: charts not drawn"
    assert dom.count("<svg") >= 5 and dom.count("<path") > 50
    for title, _ in SECTIONS.values():
        assert title.replace("&", "&amp;") in dom
    for target in report.targets:
        assert target in dom


def test_simulated_report_renders_in_chromium(tmp_path: Path) -> None:
    store = Store(tmp_path / "sim.db")
    profiles = [
        SimProfile(
            "vendor-a",
            ability=6.5,
            group="shortlist",
            static_boost=1.5,
            provider="anthropic",
            model="a-1",
            drop_at=0.7,
            drop_by=2.0,
        ),
        SimProfile("vendor-b", ability=5.0, group="shortlist", provider="gemini", model="b-1"),
    ]
    until = time.time()
    since = until - 24 * 3600
    simulate(
        store,
        builtin_registry(),
        profiles,
        start=since + 60,
        runs=48,
        run_every_s=1800,
        families=("arithmetic", "linear_equation", "string_transform", "word_problem"),
        seed=3,
    )
    # A change point as the detectors record one (the statistics engine is tested on its own).
    store.add_change_point(
        ts=since + 0.75 * 24 * 3600,
        target="vendor-a",
        scope="all",
        detector="cusum_drop_20",
        direction="drop",
        size=-0.2,
        statistic=5.5,
        threshold=5.35,
        probes=140,
    )
    price = PriceConfig(input_per_mtok_usd=3.0, output_per_mtok_usd=15.0)
    targets = [
        TargetConfig(
            name=p.name,
            provider=p.provider,
            base_url="https://vendor.invalid/v1",
            model=p.model,
            group=p.group,
            price=price,
        )
        for p in profiles
    ]
    report = build_report(store, targets, since, until + 1)
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    pixels, dom = open_in_chromium(page, tmp_path)
    check_rendered(report, pixels, dom)
    assert "Group shortlist" in dom and "cusum_drop_20" in dom
    store.close()


def test_report_from_real_smollm2_renders_in_chromium(llama_server: LlamaServer, tmp_path: Path) -> None:
    """Two real configurations of SmolLM2 (temperature 0 and 0.9) in one group, probed with identical items."""
    common = {
        "families": ["arithmetic", "string_transform"],
        "difficulties": [1, 2, 3, 4],
        "novelties": [0, 1],
        "probes_per_run": 8,
        "static_per_run": 1,
        "fingerprint_prompts": 0,
        "group": "smol",
        "price": {"input_per_mtok_usd": 0.1, "output_per_mtok_usd": 0.2},
    }
    targets = [
        smollm2_target(llama_server.base_url, name="smol-t0", temperature=0.0, **common),
        smollm2_target(llama_server.base_url, name="smol-t09", temperature=0.9, **common),
    ]
    store_path = tmp_path / "real.db"
    cfg = tmp_path / "capmon.yaml"
    cfg.write_text(yaml.safe_dump({"targets": targets, "store": str(store_path)}, sort_keys=False))
    since = time.time() - 1
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "probe", "--once", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    page = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "report", "--config", str(cfg), "--since", "1h", "--out", str(page)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    store = Store(store_path)
    report = build_report(store, [TargetConfig(**t) for t in targets], since, time.time() + 1)
    store.close()
    assert all(s.pass_ratio.n > 0 for s in report.summaries)
    (card,) = report.groups
    overall = next(r for r in card.rows if r.family == "all")
    assert overall.pairs > 0, "the group's members must have answered identical items"
    pixels, dom = open_in_chromium(page, tmp_path)
    check_rendered(report, pixels, dom)
