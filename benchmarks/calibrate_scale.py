"""Calibrate the open difficulty scale on real models: pass ratio per level and d50 per family.

Every step is a command, so the table in docs/probes.md can be made again from scratch:

    # a real endpoint (SmolLM2-135M under llama.cpp, or any OpenAI-compatible server)
    python -m benchmarks.calibrate_scale endpoint --base-url http://127.0.0.1:8089/v1 --model smollm2 \
        --levels 1,2,3,4,6,8,12 --per-level 12 --out calib/smollm2.json

    # a chat model without an API (a frontier chat model answering without tools):
    python -m benchmarks.calibrate_scale sample --per-level 4 --out calib/frontier   # fresh salt
    #   -> calib/frontier.prompts.jsonl (what to score against) and calib/frontier-sheet-K.txt
    #      (the prompts, as "=== ID ===" blocks, split into sheets); the model answers each block
    #      and its replies are saved in the same "=== ID ===" form
    python -m benchmarks.calibrate_scale score --prompts calib/frontier.prompts.jsonl \
        --replies 'calib/frontier-replies-*.txt' --model "frontier chat model, no tools" --out calib/frontier.json

    # one model's rounds in one file, keeping only records whose item today's generators still
    # produce (a family whose items changed at some levels is re-measured there, never mixed)
    python -m benchmarks.calibrate_scale merge old.json calib/frontier.json --out frontier.json

    # the table (Markdown) from any number of result files (records of unchanged items only)
    python -m benchmarks.calibrate_scale table calib/smollm2.json calib/frontier.json

Items are drawn at novelty 0 from a fresh random salt (printed and stored), scored by the family's
own verifier, and the frontier (d50, the level passed half the time) is fitted by the same code the
agent runs (``agent.stats.frontier.fit_frontier``). Endpoint failures are counted apart, never as fails.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import hashlib
import json
import math
import os
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

_BLOCK = re.compile(r"^=== (\S+) ===[ \t]*$", re.MULTILINE)


def _families(names: Sequence[str] | None) -> list[ProbeFamily]:
    registry = builtin_registry()
    return [registry.get(n) for n in names] if names else list(registry)


def _levels(family: ProbeFamily, spec: str) -> list[int]:
    """Levels to probe: 'auto' is 1 and five evenly spread levels up to the top."""
    if spec == "auto":
        return sorted({1, *(round(1 + (family.top - 1) * f) for f in (0.2, 0.4, 0.6, 0.8, 1.0))})
    out = set()
    for part in spec.split(","):
        level = family.top if part.strip() == "top" else int(part)
        if 1 <= level <= family.top:
            out.add(level)
    return sorted(out)


@dataclass(frozen=True)
class Draw:
    """One sampled prompt and where it came from."""

    id: str
    family: str
    index: int
    difficulty: int
    novelty: int
    salt: str

    def item(self, family: ProbeFamily) -> Item:
        return make_item(family, bytes.fromhex(self.salt), self.index, self.difficulty, self.novelty)


def draw(families: Sequence[ProbeFamily], levels: str, per_level: int, salt: bytes) -> list[tuple[Draw, Item]]:
    out = []
    for family in families:
        for level in _levels(family, levels):
            for index in range(per_level):
                d = Draw(f"{family.name}-{level}-{index}", family.name, index, level, 0, salt.hex())
                out.append((d, d.item(family)))
    return out


def _record(d: Draw, item: Item, family: ProbeFamily, reply: str | None, error: str | None = None,
            input_tokens: int | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": d.id, "family": d.family, "version": family.version, "difficulty": d.difficulty, "novelty": d.novelty,
        "salt": d.salt, "prompt_sha": _sha(item.prompt), "prompt_chars": len(item.prompt),
        "answer_chars": len(item.answer), "input_tokens": input_tokens,
    }
    if error is not None or reply is None:
        rec.update(outcome="error", error=error or "no reply")
        return rec
    verdict = family.score(item, reply)
    rec.update(outcome="pass" if verdict.score >= 1.0 else "fail", score=verdict.score,
               extracted=(verdict.extracted or "")[:200], reference=item.answer[:200], reply=reply[:400])
    return rec


def cmd_sample(args: argparse.Namespace) -> None:
    salt = bytes.fromhex(args.salt) if args.salt else os.urandom(16)
    draws = draw(_families(args.families), args.levels, args.per_level, salt)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with Path(f"{out}.prompts.jsonl").open("w") as f:
        for d, _ in draws:
            f.write(json.dumps(d.__dict__) + "\n")
    # Sheets of roughly equal size; the order is shuffled by the salt so no sheet holds one family.
    import random
    rng = random.Random(salt)
    order = list(draws)
    rng.shuffle(order)
    sheets: list[list[tuple[Draw, Item]]] = [[] for _ in range(args.sheets)]
    sizes = [0] * args.sheets
    for d, item in sorted(order, key=lambda x: -len(x[1].prompt)):
        k = sizes.index(min(sizes))
        sheets[k].append((d, item))
        sizes[k] += len(item.prompt)
    for k, sheet in enumerate(sheets, 1):
        rng.shuffle(sheet)
        text = "".join(f"=== {d.id} ===\n{item.prompt}\n\n" for d, item in sheet)
        Path(f"{out}-sheet-{k}.txt").write_text(text)
    print(f"salt {salt.hex()}: {len(draws)} prompts in {args.sheets} sheets ({', '.join(map(str, sizes))} chars)")


def parse_blocks(text: str) -> dict[str, str]:
    """'=== ID ===' blocks: the text after each header up to the next one."""
    marks = list(_BLOCK.finditer(text))
    return {m.group(1): text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip()
            for i, m in enumerate(marks)}


def cmd_score(args: argparse.Namespace) -> None:
    registry = builtin_registry()
    draws = [Draw(**json.loads(line)) for line in Path(args.prompts).read_text().splitlines() if line.strip()]
    replies: dict[str, str] = {}
    for pattern in args.replies:
        for path in sorted(glob.glob(pattern)):
            replies.update(parse_blocks(Path(path).read_text()))
    records = []
    for d in draws:
        family = registry.get(d.family)
        records.append(_record(d, d.item(family), family, replies.get(d.id)))
    _save(args.out, args.model, draws[0].salt if draws else "", records)


async def _run_endpoint(args: argparse.Namespace, draws: list[tuple[Draw, Item]]) -> list[dict[str, Any]]:
    import httpx

    from agent.config import TargetConfig
    from agent.errors import ProviderError
    from agent.providers import ChatRequest, adapter_for

    target = TargetConfig(name="calibrate", provider=args.provider, base_url=args.base_url, model=args.model,
                          max_tokens=args.max_tokens, temperature=0.0, timeout_s=args.timeout)
    registry = builtin_registry()
    sem = asyncio.Semaphore(args.concurrency)
    done = 0
    async with httpx.AsyncClient() as client:
        adapter = adapter_for(target, client, os.environ.get(args.api_key_env) if args.api_key_env else None)

        async def one(d: Draw, item: Item) -> dict[str, Any]:
            nonlocal done
            family = registry.get(d.family)
            async with sem:
                try:
                    resp = await adapter.complete(ChatRequest(item.prompt, args.max_tokens, 0.0))
                    rec = _record(d, item, family, resp.text, input_tokens=resp.input_tokens)
                except ProviderError as exc:
                    rec = _record(d, item, family, None, error=exc.reason)
            done += 1
            if done % 50 == 0:
                print(f"  {done}/{len(draws)}", file=sys.stderr)
            return rec

        return list(await asyncio.gather(*(one(d, i) for d, i in draws)))


def cmd_endpoint(args: argparse.Namespace) -> None:
    salt = bytes.fromhex(args.salt) if args.salt else os.urandom(16)
    draws = draw(_families(args.families), args.levels, args.per_level, salt)
    print(f"salt {salt.hex()}: {len(draws)} probes to {args.base_url}", file=sys.stderr)
    records = asyncio.run(_run_endpoint(args, draws))
    _save(args.out, args.label or args.model, salt.hex(), records)


def _save(out: str, model: str, salt: str, records: list[dict[str, Any]]) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"model": model, "salt": salt, "records": records}, indent=1))
    n = {k: sum(r["outcome"] == k for r in records) for k in ("pass", "fail", "error")}
    print(f"{out}: {n['pass']} pass, {n['fail']} fail, {n['error']} error")


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Summary:
    """One model's calibration of one family."""

    levels: dict[int, tuple[int, int]]  # level -> (passes, scored)
    d50: str
    fit: Any


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def current(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records whose item today's generator still produces (same salt, index, level, novelty).

    A family whose items change at some levels keeps its records at the levels it left alone, and is
    re-measured where it changed; records are never scored against items they were not answered on.
    The check regenerates each item: by the prompt's hash where stored, else by prompt length and
    reference answer (records from before the hash was kept).
    """
    registry = builtin_registry()
    names = set(registry.names())
    kept = []
    for r in records:
        if r["family"] not in names or "salt" not in r:
            continue
        family = registry.get(r["family"])
        index = int(r["id"].rsplit("-", 1)[1])
        item = make_item(family, bytes.fromhex(r["salt"]), index, r["difficulty"], r["novelty"])
        if "prompt_sha" in r:
            same = r["prompt_sha"] == _sha(item.prompt)
        else:
            same = len(item.prompt) == r["prompt_chars"] and r.get("reference", item.answer[:200]) == item.answer[:200]
        if same:
            kept.append(r)
    return kept


def cmd_merge(args: argparse.Namespace) -> None:
    """One model's rounds in one file, keeping only records of each family's current generator version."""
    rounds = [json.loads(Path(p).read_text()) for p in args.results]
    records = [r for rnd in rounds for r in rnd["records"]]
    kept = current(records)
    print(f"kept {len(kept)} of {len(records)} records (the others' items are no longer generated)")
    salts = ", ".join(dict.fromkeys(str(rnd["salt"]) for rnd in rounds))
    _save(args.out, args.model or rounds[0]["model"], salts, kept)


def summarise(records: Iterable[dict[str, Any]]) -> dict[str, Summary]:
    from agent.stats.frontier import fit_frontier

    counts: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in records:
        if r["outcome"] == "error":
            continue
        c = counts[r["family"]][r["difficulty"]]
        c[0] += r["outcome"] == "pass"
        c[1] += 1
    out = {}
    for fam, by_level in counts.items():
        levels = sorted(by_level)
        fit = fit_frontier(levels, [by_level[v][0] for v in levels], [by_level[v][1] for v in levels])
        out[fam] = Summary({v: (by_level[v][0], by_level[v][1]) for v in levels}, _fmt_d50(fit), fit)
    return out


def _fmt_d50(fit: Any) -> str:
    if fit.censored == "above":
        return f"> {fit.d50:.1f} (all passed)" if math.isinf(fit.upper) and fit.lower == fit.d50 else f"> {fit.d50:.1f}"
    if fit.censored == "below":
        return f"< {fit.d50:.1f}"
    lo = "−∞" if math.isinf(fit.lower) else f"{fit.lower:.1f}"
    hi = "∞" if math.isinf(fit.upper) else f"{fit.upper:.1f}"
    return f"{fit.d50:.1f} [{lo}, {hi}]"


def _cell(k: int, n: int) -> str:
    return f"{k}/{n}" if n else "–"


def cmd_table(args: argparse.Namespace) -> None:
    from agent.stats.intervals import wilson

    results = [json.loads(Path(p).read_text()) for p in args.results]
    for r in results:
        r["records"] = current(r["records"])
    models = [r["model"] for r in results]
    sums = [summarise(r["records"]) for r in results]
    sizes: dict[tuple[str, int], list[int]] = defaultdict(list)
    for r in results:
        for rec in r["records"]:
            sizes[(rec["family"], rec["difficulty"])].append(rec["prompt_chars"])
    registry = builtin_registry()
    lines = []
    checks: list[str] = []
    for family in _families(args.families):
        levels = sorted({v for s in sums for v in s.get(family.name, Summary({}, "", None)).levels})
        if not levels:
            continue
        lines.append(f"\n#### {family.name} (top {family.top}; grows: {family.formula})\n")
        lines.append("| level | plan | chance | prompt ≈ tokens | " + " | ".join(models) + " |")
        lines.append("|---|---|---|---|" + "---|" * len(models))
        for v in levels:
            plan = ", ".join(f"{k} {x}" for k, x in family.plan(v).items())
            chars = sizes.get((family.name, v))
            tok = f"{statistics.median(chars) / 4:.0f}" if chars else "–"
            row = [_cell(*s[family.name].levels.get(v, (0, 0))) if family.name in s else "–" for s in sums]
            lines.append(f"| {v} | {plan} | {family.chance(v):.2g} | {tok} | " + " | ".join(row) + " |")
        lines.append("| **d50 [95 % interval]** | | | | " + " | ".join(
            s[family.name].d50 if family.name in s else "–" for s in sums) + " |")
        for model, s in zip(models, sums, strict=True):
            if family.name not in s:
                continue
            by = s[family.name].levels
            for lo_level in sorted(by):
                for hi_level in sorted(by):
                    if hi_level <= lo_level or not by[lo_level][1] or not by[hi_level][1]:
                        continue
                    k1, n1 = by[lo_level]
                    k2, n2 = by[hi_level]
                    if wilson(k2, n2)[0] > wilson(k1, n1)[1]:
                        checks.append(f"not monotone: {model} {family.name} level {hi_level} ({k2}/{n2}) "
                                      f"above level {lo_level} ({k1}/{n1}) beyond both intervals")
    print("\n".join(lines))
    print()
    for model, s in zip(models, sums, strict=True):
        ok1 = [f for f, x in s.items() if 1 in x.levels and x.levels[1][1]
               and x.levels[1][0] / x.levels[1][1] >= 0.3
               and x.levels[1][0] / x.levels[1][1] > registry.get(f).chance(1)]
        hi80 = [f for f, x in s.items() if 1 in x.levels and x.levels[1][1]
                and x.levels[1][0] / x.levels[1][1] >= 0.8]
        top20 = [f for f, x in s.items() if registry.get(f).top in x.levels
                 and x.levels[registry.get(f).top][0] <= 0.2 * x.levels[registry.get(f).top][1]]
        inside = [f for f, x in s.items() if x.fit.censored == "none"
                  and x.fit.lower >= 1 and x.fit.upper <= registry.get(f).top]
        print(f"- {model}: level 1 ≥ 30 % and above chance in {len(ok1)} of {len(s)} families; "
              f"level 1 ≥ 80 % in {len(hi80)}; top ≤ 20 % in {len(top20)} of those probed at the top; "
              f"d50 inside the scale with a two-sided interval in {len(inside)}.")
    for c in checks:
        print(f"- {c}")
    if not checks:
        print("- every model's pass ratios are monotone in the level within their 95 % Wilson intervals.")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.calibrate_scale", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("sample", "endpoint"):
        s = sub.add_parser(name)
        s.add_argument("--families", nargs="*")
        s.add_argument("--levels", default="auto", help="'auto' or a list such as 1,2,4,top")
        s.add_argument("--per-level", type=int, default=4)
        s.add_argument("--salt", help="hex; default a fresh random salt")
        s.add_argument("--out", required=True)
    sub.choices["sample"].add_argument("--sheets", type=int, default=8)
    e = sub.choices["endpoint"]
    e.add_argument("--base-url", required=True)
    e.add_argument("--model", required=True)
    e.add_argument("--label")
    e.add_argument("--provider", default="openai")
    e.add_argument("--api-key-env")
    e.add_argument("--max-tokens", type=int, default=256)
    e.add_argument("--timeout", type=float, default=120.0)
    e.add_argument("--concurrency", type=int, default=2)
    s = sub.add_parser("score")
    s.add_argument("--prompts", required=True)
    s.add_argument("--replies", nargs="+", required=True, help="files or glob patterns")
    s.add_argument("--model", required=True)
    s.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    t.add_argument("--families", nargs="*")
    m = sub.add_parser("merge")
    m.add_argument("results", nargs="+")
    m.add_argument("--model", help="label; default the first file's")
    m.add_argument("--out", required=True)
    args = p.parse_args(argv)
    commands = {"sample": cmd_sample, "endpoint": cmd_endpoint, "score": cmd_score, "table": cmd_table,
                "merge": cmd_merge}
    commands[args.cmd](args)


if __name__ == "__main__":
    main()
