"""``capmon report``: arguments, exit statuses, and the files it writes."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agent.cli.report import parse_when, register
from tests.agent.report.report_fixtures import PROFILES, SimLedger


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", *argv])
    code: int = args.func(args)
    return code


@pytest.fixture
def config(ledger: SimLedger, tmp_path: Path) -> Path:
    targets = [
        {
            "name": p.name,
            "provider": p.provider,
            "base_url": "https://vendor.invalid/v1",
            "model": p.model,
            "group": p.group,
            "families": ["arithmetic"],
            "price": {"input_per_mtok_usd": 3.0, "output_per_mtok_usd": 15.0},
        }
        for p in PROFILES
    ]
    path = tmp_path / "capmon.yaml"
    path.write_text(yaml.safe_dump({"targets": targets, "store": str(ledger.path)}))
    return path


def test_parse_when() -> None:
    now = 1_000_000.0
    assert parse_when("1h", now) == now - 3600
    assert parse_when("7d", now) == now - 7 * 86400
    assert parse_when("90m", now) == now - 5400
    assert parse_when("now", now) == now
    iso = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_when("2026-01-02T03:04:00+00:00", now) == iso.timestamp()
    for bad in ("yesterday", "1y", "2026-01-02T03:04:00"):
        with pytest.raises(ValueError):
            parse_when(bad, now)


def test_writes_html_and_markdown(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert run("--config", str(config), "--since", "24h", "--out", str(out)) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Group cmp" in page
    md = tmp_path / "report.md"
    assert run("--config", str(config), "--since", "24h", "--targets", "beta", "--out", str(md)) == 0
    text = md.read_text()
    assert text.startswith("# Model capability report") and "| beta" in text and "| alpha" not in text
    assert not list(tmp_path.glob(".*.tmp*"))


@pytest.mark.parametrize(
    "argv",
    [
        ("--since", "yesterday"),
        ("--since", "1h", "--until", "2h"),
        ("--targets", "nope"),
        ("--out", "/nonexistent-dir/report.html"),
    ],
)
def test_bad_arguments_exit_2(config: Path, tmp_path: Path, argv: tuple[str, ...]) -> None:
    args = ["--config", str(config), "--out", str(tmp_path / "r.html"), *argv]
    assert run(*args) == 2
    assert not (tmp_path / "r.html").exists()


def test_missing_store_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    missing = tmp_path / "none.db"
    cfg.write_text(
        yaml.safe_dump(
            {
                "targets": [{"name": "x", "base_url": "http://127.0.0.1:1/v1", "model": "m"}],
                "store": str(missing),
            }
        )
    )
    assert run("--config", str(cfg), "--out", str(tmp_path / "r.html")) == 2
    assert not missing.exists()
