"""Helpers every ``capmon`` command shares: config loading, durations, logging, result tables."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from agent.config import Settings, check_families, load_config, probe_registry
from agent.errors import ConfigError
from agent.ledger.results import ProbeResult
from probes.errors import ProbeError

if TYPE_CHECKING:
    from rich.table import Table


class ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default) but never prints a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"capmon: {message}\n")


def load(path: str | None) -> Settings:
    """Load and validate a config the way every command does: schema, semantics, and family names.

    Family names are checked against every family the agent can load (built-in, installed and the
    config's YAML templates); a template that does not load is a config error too.
    """
    source = path or "<environment>"
    settings = load_config(path)
    try:
        registry = probe_registry(settings.probe_templates)
    except ProbeError as exc:
        raise ConfigError(source, "probe_templates", str(exc)) from None
    check_families(settings, source, set(registry.names()))
    return settings


#: Seconds per unit of a duration (``90m``, ``24h``, ``7d``).
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``90s``, ``90m``, ``1.5h``, ``7d`` or ``2w``; ValueError otherwise."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a duration like 90m, 24h or 7d")
    return float(m.group(1)) * DURATION_UNITS[m.group(2)]


def setup_logging(level: str, secrets: Sequence[str] = ()) -> None:
    """Plain logs to stderr, with secrets redacted from every record."""
    from agent.redact import RedactingFilter, Redactor

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # "maximum number of running instances reached" is expected when a run outlasts its interval.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def results_table(results: Iterable[ProbeResult], title: str = "") -> Table:
    """Rows per (target, family); columns per difficulty: passes/scored, and endpoint errors."""
    cells: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    errors: dict[tuple[str, str], int] = defaultdict(int)
    levels: set[int] = set()
    for r in results:
        if r.canary:
            continue
        key = (r.target, r.family)
        if r.outcome == "error":
            errors[key] += 1
            continue
        levels.add(r.difficulty)
        cell = cells[key][r.difficulty]
        cell[0] += r.outcome == "pass"
        cell[1] += 1
    from rich.table import Table  # imported here: most commands print no table

    table = Table(title=title or None)
    table.add_column("target")
    table.add_column("family")
    for level in sorted(levels):
        table.add_column(f"d{level}", justify="right")
    table.add_column("pass ratio", justify="right")
    table.add_column("errors", justify="right")
    for key in sorted(set(cells) | set(errors)):
        row = cells.get(key, {})
        passed = sum(c[0] for c in row.values())
        scored = sum(c[1] for c in row.values())
        cols = [f"{row[lv][0]}/{row[lv][1]}" if lv in row else "" for lv in sorted(levels)]
        ratio = f"{passed / scored:.2f}" if scored else "-"
        table.add_row(key[0], key[1], *cols, ratio, str(errors.get(key, 0)))
    return table
