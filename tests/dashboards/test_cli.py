"""``capmon dashboards build`` writes the same files as ``python -m dashboards`` and checks staleness."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.cli.dashboards import register
from dashboards.render import DASHBOARDS, render_all


def main(argv: list[str]) -> int:
    """The ``capmon`` parser's shape: a subparsers object that area modules register into."""
    parser = argparse.ArgumentParser(prog="capmon")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_capmon_dashboards_build_writes_every_dashboard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    expected = render_all()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DASHBOARDS)
    for name, text in expected.items():
        assert (tmp_path / name).read_text() == text
    assert str(tmp_path / next(iter(DASHBOARDS))) in capsys.readouterr().out


def test_capmon_dashboards_build_check(tmp_path: Path) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path), "--check"]) == 1  # nothing there yet
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    assert main(["dashboards", "build", "--out", str(tmp_path), "--check"]) == 0
