"""The ``capmon`` command line. Exit status: 0 ok, 1 nothing reachable / failure, 2 bad config or usage.

One module per command, each with ``register(subparsers)``; the helpers they share are in
``agent.cli.common``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agent import __version__
from agent.cli import baseline, calibrate, check_config, dashboards, demo, probe, probes, report, run
from agent.cli.common import ArgumentParser
from agent.errors import CapmonError, ConfigError

#: Every command module, in the order ``capmon --help`` lists them.
COMMANDS = (run, probe, calibrate, check_config, demo, probes, baseline, report, dashboards)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = ArgumentParser(prog="capmon", description="Continuous AI-capability monitor.")
    parser.add_argument("--version", action="version", version=f"capmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    # httpx imports its own command line (rich, pygments, click: ~3.6 MiB resident in the agent)
    # whenever those are installed; capmon never runs it. With this entry that import fails and httpx
    # falls back to its stub, as it does where its CLI extras are missing (docs/performance.md).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 2
    except CapmonError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
