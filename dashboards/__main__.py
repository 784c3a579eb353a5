"""``python -m dashboards [--out DIR] [--check]``: build the Grafana dashboards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboards.render import BUILD_DIR, stale, write_all


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards (or, with --check, exit 1 if the committed ones are stale)."""
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=BUILD_DIR, help="output folder (default: dashboards/build)"
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if files differ from the code"
    )
    args = parser.parse_args(argv)
    if args.check:
        diff = stale(args.out)
        for name in diff:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if diff else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
