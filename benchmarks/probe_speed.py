"""Microseconds per item (generate + score the reference answer) for every capmon probe family,
and, when ``reasoning_gym`` is importable, for its comparable generators in the same run.

    python benchmarks/probe_speed.py [--items 400] [--rounds 5]

Prints one table per side and the ratio of medians (reasoning-gym median / capmon median).
This machine's speed drifts by up to 2x within minutes, so the two sides are timed alternately,
round after round, and each generator's figure is its fastest round (the timeit convention: the
least disturbed round is the best estimate of its own cost); the per-round ratios are printed too.
A generator stops early in a round once it has spent ``--budget-s`` seconds (after at least 10
items) so that reasoning-gym's slowest dataset does not take minutes; its figure is still a mean
per item. reasoning-gym is a benchmark-only comparison: it is not a capmon dependency.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict, make_item
from probes.registry import builtin_registry

#: reasoning-gym datasets comparable to capmon families (same kind of task).
RG_COMPARABLE = (
    "basic_arithmetic", "chain_sum", "gsm_symbolic", "string_manipulation", "spell_backward",
    "caesar_cipher", "simple_equations", "knights_knaves", "propositional_logic", "shortest_path",
    "number_sequence", "calendar_arithmetic", "time_intervals", "family_relationships", "needle_haystack",
)


MIN_ITEMS = 10
SALT = b"speed-benchmark"


class NoWorkFamily(ProbeFamily):
    """The contract's floor: a family that draws, renders and checks nothing (not registered).

    Its cost is what every item pays before a family does any work: seed derivation, the two
    ``random.Random`` seedings, the Problem/Rendering/Item/Verdict objects and the calls.
    """

    name = "no_work"

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        return Problem(facts={}, answer="1")

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        return Rendering(prompt="1?", answer=problem.answer)

    def score(self, item: Item, response: str) -> Verdict:
        return Verdict(1.0 if response == item.answer else 0.0, response, response)


def _mean_us(step: Callable[[int], object], items: int, budget_s: float, start: float | None = None) -> float:
    """Mean µs per ``step(i)`` over up to ``items`` steps, stopping after ``budget_s`` (>= MIN_ITEMS).

    ``start`` lets a caller charge set-up done before the first step (reasoning-gym's dataset).
    """
    start = time.perf_counter() if start is None else start
    done = 0
    for i in range(items):
        step(i)
        done += 1
        if done >= MIN_ITEMS and time.perf_counter() - start > budget_s:
            break
    return (time.perf_counter() - start) / done * 1e6


def _item_step(family: ProbeFamily) -> Callable[[int], object]:
    def step(i: int) -> object:
        item = make_item(family, SALT, i, 1 + i % 10, i % 4)
        return family.score(item, item.answer)

    return step


def time_floor(items: int) -> float:
    """µs per item for NoWorkFamily through make_item and score."""
    return _mean_us(_item_step(NoWorkFamily()), items, budget_s=float("inf"))


def time_capmon(items: int, budget_s: float = 1.0) -> dict[str, float]:
    """µs per item for each capmon family, over difficulties 1..10 and novelties 0..3."""
    return {family.name: _mean_us(_item_step(family), items, budget_s) for family in builtin_registry()}


def time_reasoning_gym(items: int, budget_s: float = 1.0, skipped: set[str] | None = None) -> dict[str, float]:
    """µs per item for reasoning-gym's comparable datasets (create, generate, score)."""
    import reasoning_gym

    out: dict[str, float] = {}
    for name in RG_COMPARABLE:
        if skipped is not None and name in skipped:
            continue
        try:
            start = time.perf_counter()
            dataset = reasoning_gym.create_dataset(name, size=items, seed=42)

            def step(i: int, dataset: Any = dataset) -> object:
                entry = dataset[i]
                return dataset.score_answer(answer=entry["answer"], entry=entry)

            out[name] = _mean_us(step, items, budget_s, start)
        except Exception as exc:  # a dataset missing from this reasoning-gym version is skipped
            print(f"reasoning-gym {name}: skipped ({type(exc).__name__}: {exc})")
            if skipped is not None:
                skipped.add(name)
    return out


def _fastest(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {name: min(r[name] for r in rounds if name in r) for name in rounds[0]}


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
    parser.add_argument("--items", type=int, default=400, help="items per generator per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; each figure is its fastest")
    parser.add_argument("--budget-s", type=float, default=1.0, help="seconds per generator per round")
    args = parser.parse_args(argv)
    console = Console()
    compare = importlib.util.find_spec("reasoning_gym") is not None
    ours_rounds: list[dict[str, float]] = []
    theirs_rounds: list[dict[str, float]] = []
    floors: list[float] = []
    skipped: set[str] = set()
    for _ in range(args.rounds):
        floors.append(time_floor(args.items))
        ours_rounds.append(time_capmon(args.items, args.budget_s))
        if compare:
            theirs_rounds.append(time_reasoning_gym(args.items, args.budget_s, skipped))
    ours = _fastest(ours_rounds)
    console.print(_table(f"capmon: {len(ours)} families, fastest of {args.rounds} rounds", ours))
    ours_median = statistics.median(ours.values())
    if not compare:
        console.print("reasoning_gym is not installed: no comparison (pip install reasoning-gym)")
        return 0
    if not theirs_rounds[0]:
        console.print("no comparable reasoning-gym dataset could be built")
        return 0
    theirs = _fastest(theirs_rounds)
    console.print(_table(f"reasoning-gym: {len(theirs)} comparable datasets, fastest of {args.rounds} rounds", theirs))
    theirs_median = statistics.median(theirs.values())
    per_round = [
        statistics.median(t.values()) / statistics.median(o.values())
        for o, t in zip(ours_rounds, theirs_rounds, strict=True)
    ]
    console.print(f"per-round ratio of medians: {', '.join(f'{r:.1f}x' for r in per_round)}")
    console.print(
        f"median µs/item: capmon {ours_median:,.0f}, reasoning-gym {theirs_median:,.0f}; "
        f"capmon is {theirs_median / ours_median:.1f}x faster (goal >= 5x)"
    )
    console.print(
        f"contract floor (a family doing no work, through make_item + score): {min(floors):,.1f} µs/item; "
        f"5x reasoning-gym's median would need a median family of {theirs_median / 5:,.1f} µs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
