"""Per-level pass ratios of a real model on every probe family, and per novelty level.

    python benchmarks/probe_levels.py [--budget 540] [--base-url URL] [--out results.json]

Without ``--base-url`` it starts the bundled llama.cpp server with SmolLM2-135M-Instruct (the
``demo`` extra) and stops it afterwards. Cells are filled round-robin (one more item in every
cell per pass) until the time budget is spent, so every cell gets samples and the run always
ends on time. Also prints a solver-free measure of difficulty per level (mean prompt words and
reference answer characters), for families where the model scores zero everywhere.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from probes.base import DIFFICULTY_LEVELS, NOVELTY_LEVELS, Item, make_item
from probes.registry import builtin_registry

SALT = b"probe-levels-benchmark"
#: Families whose reference answers are long need more tokens to be answerable at all.
MAX_TOKENS = {"json_output": 160, "instruction_following": 96}
NOVELTY_FAMILIES = ("arithmetic", "sequence_induction", "reading_comprehension", "date_arithmetic")


def ask(client: httpx.Client, base_url: str, model: str, prompt: str, max_tokens: int) -> str | None:
    """The model's reply, or None on an endpoint error (not a capability failure)."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "temperature": 0,
            "max_tokens": max_tokens}
    try:
        r = client.post(f"{base_url}/chat/completions", json=body, timeout=60)
        r.raise_for_status()
        return str(r.json()["choices"][0]["message"]["content"] or "")
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def solver_free(items_per_level: int = 30) -> dict[str, list[tuple[float, float]]]:
    """Mean prompt words and reference-answer characters per level, per family."""
    out: dict[str, list[tuple[float, float]]] = {}
    for family in builtin_registry():
        row = []
        for d in DIFFICULTY_LEVELS:
            items = [make_item(family, SALT, i, d, 0) for i in range(items_per_level)]
            row.append((statistics.mean(len(i.prompt.split()) for i in items),
                        statistics.mean(len(i.problem.answer) for i in items)))
        out[family.name] = row
    return out


def run(
    base_url: str, model: str, budget_s: float, novelty_share: float, families: list[str] | None = None,
    novelty_families: tuple[str, ...] = NOVELTY_FAMILIES,
) -> dict[str, object]:
    """Probe round-robin until the budget is spent; return the raw tallies."""
    registry = builtin_registry()
    chosen = [registry.get(name) for name in families] if families else list(registry)
    levels: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    novelty: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    consistent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = 0
    records: list[dict[str, object]] = []
    start = time.monotonic()
    main_deadline = start + budget_s * (1 - novelty_share)
    deadline = start + budget_s

    def probe(item: Item) -> float | None:
        nonlocal errors
        family = registry.get(item.family)
        response = ask(client, base_url, model, item.prompt, MAX_TOKENS.get(item.family, 64))
        if response is None:
            errors += 1
            return None
        verdict = family.score(item, response)
        records.append({"family": item.family, "difficulty": item.difficulty, "novelty": item.novelty,
                        "index": item.index, "score": verdict.score, "extracted": verdict.extracted,
                        "canonical": verdict.canonical, "response": response[:500]})
        return verdict.score

    with httpx.Client() as client:
        rep = 0
        while time.monotonic() < main_deadline:
            for family in chosen:
                for d in DIFFICULTY_LEVELS:
                    if time.monotonic() >= main_deadline:
                        break
                    score = probe(make_item(family, SALT, rep, d, 0))
                    if score is not None:
                        levels[family.name][d][0] += score >= 1.0
                        levels[family.name][d][1] += 1
            rep += 1
        j = 0
        while time.monotonic() < deadline:
            for name in novelty_families:
                family = registry.get(name)
                canon = set()
                complete = True
                for n in NOVELTY_LEVELS:
                    if time.monotonic() >= deadline:
                        complete = False
                        break
                    item = make_item(family, SALT, 10_000 + j, 1, n)
                    score = probe(item)
                    if score is None:
                        complete = False
                        continue
                    novelty[name][n][0] += score >= 1.0
                    novelty[name][n][1] += 1
                    canon.add(records[-1]["canonical"])
                if complete:
                    consistent[name][0] += len(canon) == 1
                    consistent[name][1] += 1
            j += 1
    return {
        "levels": {f: dict(v) for f, v in levels.items()},
        "novelty": {f: dict(v) for f, v in novelty.items()},
        "consistency": dict(consistent), "errors": errors, "records": records,
        "elapsed_s": time.monotonic() - start,
    }


def _cell(c: list[int] | None) -> str:
    return f"{c[0]}/{c[1]}" if c and c[1] else ""


def report(result: dict[str, object], console: Console) -> None:
    """Print the pass tables and the solver-free measure."""
    levels: dict[str, dict[int, list[int]]] = result["levels"]  # type: ignore[assignment]
    table = Table(title="pass / probes per family and difficulty (novelty 0)")
    table.add_column("family")
    for d in DIFFICULTY_LEVELS:
        table.add_column(f"d{d}", justify="right")
    for name in sorted(levels):
        table.add_row(name, *(_cell(levels[name].get(d)) for d in DIFFICULTY_LEVELS))
    console.print(table)
    novelty: dict[str, dict[int, list[int]]] = result["novelty"]  # type: ignore[assignment]
    consistency: dict[str, list[int]] = result["consistency"]  # type: ignore[assignment]
    table = Table(title="pass / probes per novelty level (difficulty 1, same items at every novelty)")
    table.add_column("family")
    for n in NOVELTY_LEVELS:
        table.add_column(f"n{n}", justify="right")
    table.add_column("same answer at all 4", justify="right")
    for name in sorted(novelty):
        table.add_row(name, *(_cell(novelty[name].get(n)) for n in NOVELTY_LEVELS),
                      _cell(consistency.get(name)))
    console.print(table)
    table = Table(title="solver-free difficulty: mean prompt words / reference answer chars")
    table.add_column("family")
    for d in DIFFICULTY_LEVELS:
        table.add_column(f"d{d}", justify="right")
    for name, row in solver_free().items():
        table.add_row(name, *(f"{w:.0f}/{a:.0f}" for w, a in row))
    console.print(table)
    console.print(f"endpoint errors: {result['errors']}; elapsed {result['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Run against ``--base-url`` or a freshly started local SmolLM2 server."""
    parser = argparse.ArgumentParser(description="per-level pass ratios of a real model")
    parser.add_argument("--base-url", help="OpenAI-compatible base URL (default: start local SmolLM2)")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds of probing")
    parser.add_argument("--novelty-share", type=float, default=0.3)
    parser.add_argument("--out", type=Path, help="write the raw tallies and responses here (JSON)")
    parser.add_argument("--families", nargs="*", help="only these families in the level table")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads for the local server")
    parser.add_argument("--novelty-families", nargs="*", default=list(NOVELTY_FAMILIES),
                        help="families for the novelty table (difficulty 1)")
    args = parser.parse_args(argv)
    console = Console(width=140)
    server = None
    base_url = args.base_url
    if base_url is None:
        from agent.llama import start_llama_server

        server = start_llama_server(n_threads=args.threads)
        base_url = server.base_url
    try:
        result = run(base_url, args.model, args.budget, args.novelty_share, args.families,
                     tuple(args.novelty_families))
    finally:
        if server is not None:
            server.stop()
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))
    report(result, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
