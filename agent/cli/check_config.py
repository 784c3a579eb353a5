"""``capmon check-config FILE``: validate a config file (exit 0 ok, 2 invalid)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.cli.common import load


def register(subparsers: Any) -> None:
    """Add ``capmon check-config``."""
    p = subparsers.add_parser("check-config", help="validate a config file (exit 0 ok, 2 invalid)")
    p.add_argument("file", nargs="?")
    p.add_argument("--config", "-c")
    p.set_defaults(func=cmd_check_config)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file."""
    path = args.file or args.config
    if not path:
        print("capmon: check-config needs a file", file=sys.stderr)
        return 2
    settings = load(path)
    for t in settings.targets:
        t.resolved_api_key(path)
    print(f"{path}: ok ({len(settings.targets)} target(s))")
    return 0
