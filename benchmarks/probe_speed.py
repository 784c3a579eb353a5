"""Microseconds per item (generate + score the reference answer) for every capmon probe family,
and, when ``reasoning_gym`` is importable, for its comparable generators in the same run.

    python benchmarks/probe_speed.py [--items 400]

Prints one table and the ratio of medians (reasoning-gym median / capmon median). reasoning-gym
is a benchmark-only comparison: it is not a capmon dependency.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

from rich.console import Console
from rich.table import Table

from probes.base import make_item
from probes.registry import builtin_registry

#: reasoning-gym datasets comparable to capmon families (same kind of task).
RG_COMPARABLE = (
    "basic_arithmetic", "chain_sum", "gsm_symbolic", "string_manipulation", "spell_backward",
    "caesar_cipher", "simple_equations", "knights_knaves", "propositional_logic", "shortest_path",
    "number_sequence", "calendar_arithmetic", "time_intervals", "family_relationships", "needle_haystack",
)


def time_capmon(items: int) -> dict[str, float]:
    """µs per item for each capmon family, over difficulties 1..10 and novelties 0..3."""
    out: dict[str, float] = {}
    salt = b"speed-benchmark"
    for family in builtin_registry():
        start = time.perf_counter()
        for i in range(items):
            item = make_item(family, salt, i, 1 + i % 10, i % 4)
            family.score(item, item.answer)
        out[family.name] = (time.perf_counter() - start) / items * 1e6
    return out


def time_reasoning_gym(items: int) -> dict[str, float]:
    """µs per item for reasoning-gym's comparable datasets (create, generate, score)."""
    import reasoning_gym

    out: dict[str, float] = {}
    for name in RG_COMPARABLE:
        try:
            start = time.perf_counter()
            dataset = reasoning_gym.create_dataset(name, size=items, seed=42)
            for i in range(items):
                entry = dataset[i]
                dataset.score_answer(answer=entry["answer"], entry=entry)
            out[name] = (time.perf_counter() - start) / items * 1e6
        except Exception as exc:  # a dataset missing from this reasoning-gym version is skipped
            print(f"reasoning-gym {name}: skipped ({type(exc).__name__}: {exc})")
    return out


def _table(title: str, rows: dict[str, float]) -> Table:
    table = Table(title=title)
    table.add_column("generator")
    table.add_column("µs / item", justify="right")
    for name, us in sorted(rows.items(), key=lambda kv: kv[1]):
        table.add_row(name, f"{us:,.0f}")
    table.add_row("[b]median[/b]", f"[b]{statistics.median(rows.values()):,.0f}[/b]")
    return table


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables and the ratio of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=400, help="items per generator")
    args = parser.parse_args(argv)
    console = Console()
    ours = time_capmon(args.items)
    console.print(_table(f"capmon: {len(ours)} families, {args.items} items each", ours))
    ours_median = statistics.median(ours.values())
    if importlib.util.find_spec("reasoning_gym") is None:
        console.print("reasoning_gym is not installed: no comparison (pip install reasoning-gym)")
        return 0
    theirs = time_reasoning_gym(args.items)
    if not theirs:
        console.print("no comparable reasoning-gym dataset could be built")
        return 0
    console.print(_table(f"reasoning-gym: {len(theirs)} comparable datasets", theirs))
    theirs_median = statistics.median(theirs.values())
    console.print(
        f"median µs/item: capmon {ours_median:,.0f}, reasoning-gym {theirs_median:,.0f}; "
        f"capmon is {theirs_median / ours_median:.1f}x faster (goal >= 5x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
