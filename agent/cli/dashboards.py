"""``capmon dashboards build [--out DIR] [--check]``: write the Grafana dashboards as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``dashboards`` command group."""
    group = subparsers.add_parser("dashboards", help="Grafana dashboards")
    actions = group.add_subparsers(dest="dashboards_command", required=True)
    build = actions.add_parser("build", help="write the dashboards' JSON (default: dashboards/build/)")
    build.add_argument("--out", type=Path, default=None, help="output folder")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are stale")
    build.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    """Build (or check) the dashboards; 0 ok, 1 stale, 2 when the dashboards extra is missing."""
    try:
        # Imported here: grafana-foundation-sdk is an optional extra that the daemon never needs.
        from dashboards.render import BUILD_DIR, stale, write_all
    except ImportError as exc:
        print(
            f"capmon: dashboards need grafana-foundation-sdk ({exc.name}): pip install 'capmon[dashboards]'",
            file=sys.stderr,
        )
        return 2
    out: Path = args.out or BUILD_DIR
    if args.check:
        diff = stale(out)
        for name in diff:
            print(f"stale: {out / name}", file=sys.stderr)
        return 1 if diff else 0
    for path in write_all(out):
        print(path)
    return 0
