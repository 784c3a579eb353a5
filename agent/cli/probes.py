"""``capmon probes list`` and ``capmon probes sample``: look at the probe library from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.config import probe_registry
from probes.base import NOVELTY_LEVELS, STATIC_SALT, make_item
from probes.errors import ProbeError

#: Samples use this public salt, never the agent's private one, so showing them leaks nothing.
SAMPLE_SALT = b"capmon-cli-sample"


def register(subparsers: Any) -> None:
    """Add ``probes list`` and ``probes sample`` to the capmon command line."""
    probes = subparsers.add_parser("probes", help="list probe families or show a sample item")
    sub = probes.add_subparsers(dest="probes_command", required=True, parser_class=type(probes))

    p = sub.add_parser("list", help="families, skill areas, each family's top level and what grows with the level")
    p.add_argument("--templates", action="append", default=[], metavar="YAML",
                   help="also load template families from this file (repeatable)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("sample", help="print one item's prompt and reference answer")
    p.add_argument("family")
    p.add_argument("--difficulty", "-d", type=int, default=1, help="level, 1 up to the family's top")
    p.add_argument("--novelty", "-n", type=int, default=0, choices=list(NOVELTY_LEVELS))
    p.add_argument("--seed", "-s", type=int, default=0, help="item index (public sample salt)")
    p.add_argument("--static", action="store_true", help="the published static canary item instead")
    p.add_argument("--templates", action="append", default=[], metavar="YAML",
                   help="also load template families from this file (repeatable)")
    p.set_defaults(func=cmd_sample)


def cmd_list(args: argparse.Namespace) -> int:
    """Print every family with its skill area, its top level and the formula of what grows."""
    try:
        registry = probe_registry(args.templates)
    except ProbeError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 2
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(registry)} probe families", show_lines=True)
    table.add_column("family", no_wrap=True)
    table.add_column("skill")
    table.add_column("v", justify="right")
    table.add_column("top", justify="right")
    table.add_column("what grows with the level d")
    for family in registry:
        lines = [family.formula or "(no formula declared)", f"level 1: {family.describe(1)}",
                 f"level {family.top}: {family.describe(family.top)}"]
        table.add_row(family.name, family.skill, family.version, str(family.top), "\n".join(lines))
    Console(width=max(130, Console().width)).print(table)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Print one item's prompt and its reference answer."""
    try:
        registry = probe_registry(args.templates)
    except ProbeError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 2
    if args.family not in registry:
        print(f"capmon: unknown probe family {args.family!r} (see 'capmon probes list')", file=sys.stderr)
        return 2
    family = registry.get(args.family)
    if not 1 <= args.difficulty <= family.top:
        print(f"capmon: difficulty {args.difficulty} is outside {family.name}'s levels 1..{family.top}",
              file=sys.stderr)
        return 2
    salt = STATIC_SALT if args.static else SAMPLE_SALT
    item = make_item(family, salt, args.seed, args.difficulty, args.novelty, static=args.static)
    out = sys.stdout
    out.write(f"# {family.name} (skill {family.skill}) difficulty {item.difficulty}: "
              f"{family.describe(item.difficulty)}; novelty {item.novelty}: "
              f"{family.novelty_notes[item.novelty]}\n")
    out.write("--- prompt ---\n")
    out.write(item.prompt + "\n")
    out.write("--- reference answer ---\n")
    out.write(item.answer + "\n")
    return 0
