"""Helpers every ``capmon`` command shares: config loading, logging, secrets, result tables."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence

from rich.table import Table

from agent.config import Settings, check_families, load_config
from agent.errors import ConfigError
from agent.ledger.results import ProbeResult
from probes.errors import ProbeError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default) but never prints a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"capmon: {message}\n")


def load(path: str | None) -> Settings:
    """Load a config and check its family names against every family the agent can load."""
    from agent.daemon import probe_registry

    source = path or "<environment>"
    settings = load_config(path)
    try:
        registry = probe_registry(settings)
    except ProbeError as exc:  # a template or entry-point family that does not load is a config problem
        raise ConfigError(source, "probe_templates", str(exc)) from None
    check_families(settings, source, set(registry.names()))
    return settings


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


def secrets_of(settings: Settings) -> list[str]:
    """Every API key and header value of the configured targets, for the log redactor."""
    out: list[str] = []
    for t in settings.targets:
        with contextlib.suppress(ConfigError):
            key = t.resolved_api_key()
            if key is not None:
                out.append(key.get_secret_value())
        out += [h.get_secret_value() for h in t.headers.values()]
    return out



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
