"""Terminal tables (rich) of probe results: pass ratio per family and difficulty."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rich.table import Table

from agent.results import ProbeResult


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
