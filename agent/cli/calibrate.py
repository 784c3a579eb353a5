"""``capmon calibrate --config FILE --target NAME``: find one target's frontier in every enabled family.

Per family a staircase (``agent.stats.adaptive``, little exploration) runs within a probe budget
(``--probes-per-family``) and, over all families, a token budget (``--max-tokens-total``). The probes
go through the agent's ordinary runner, so they are recorded in the ledger like any other: they
count in the budgets, the counters and the frontier. The frontier is fitted on the family's
calibration probes (``agent.stats.frontier.fit_frontier``), printed as a table (family, d50 and
interval, probes, tokens, cost if priced) and stored in the ledger's ``calibrations`` table, where
the daemon's staircase starts (``UnitRunner._adaptive_chooser``).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.cli.common import load, setup_logging
from agent.config import Settings, secrets_of

if TYPE_CHECKING:
    import httpx

    from agent.daemon import Agent
    from agent.ledger.results import ProbeResult

#: Most probes per staircase step (one run of the runner). A step uses the outcomes of the steps
#: before it, so a batch is the target's ``concurrency`` (probes in flight at once), at most this.
BATCH = 4
#: Share of calibration probes drawn uniformly over the scale (the daemon's default is 0.25): enough
#: to anchor the fit on both sides, few enough that the budget goes to the frontier.
CALIBRATION_EXPLORE = 0.1


@dataclass(frozen=True)
class FamilyCalibration:
    """One family's calibration: the fitted frontier and what finding it cost."""

    family: str
    generator_version: str
    d50: float
    lower: float
    upper: float
    censored: str
    probes: int
    scored: int
    tokens: int
    cost_usd: float | None


def register(subparsers: Any) -> None:
    """Add ``capmon calibrate``."""
    p = subparsers.add_parser("calibrate", help="find a target's frontier in every enabled family")
    p.add_argument("--config", "-c", required=True)
    p.add_argument("--target", required=True, help="the configured target to calibrate")
    p.add_argument("--probes-per-family", type=int, default=32, help="staircase probes per family (default 32)")
    p.add_argument("--max-tokens-total", type=int, default=None, help="stop when this many tokens were used")
    p.add_argument("--families", default="", help="comma-separated families (default: the target's)")
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Calibrate one target; 0 when a frontier was found in some family, 1 when the endpoint was never
    reached, 2 on bad arguments or configuration."""
    settings = load(args.config)
    known = {t.name: t for t in settings.targets}
    if args.target not in known:
        return _usage(f"unknown target {args.target!r} (configured: {', '.join(known) or 'none'})")
    if args.probes_per_family < 2:
        return _usage("--probes-per-family must be at least 2")
    if args.max_tokens_total is not None and args.max_tokens_total < 1:
        return _usage("--max-tokens-total must be positive")
    setup_logging("warning", secrets_of(settings.targets))
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    from agent.config import probe_registry

    registry = probe_registry(settings.probe_templates)
    unknown = [f for f in families if f not in registry.names()]
    if unknown:
        return _usage(f"unknown famil{'ies' if len(unknown) > 1 else 'y'}: {', '.join(unknown)}")
    results = asyncio.run(
        calibrate(settings, args.target, args.probes_per_family, args.max_tokens_total, families, source=args.config)
    )
    _print_table(args.target, results, known[args.target].price is not None)
    return 0 if any(r.scored for r in results) else 1


async def calibrate(
    settings: Settings,
    target: str,
    probes_per_family: int,
    max_tokens_total: int | None = None,
    families: Sequence[str] = (),
    *,
    source: str = "config",
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[FamilyCalibration]:
    """Run the staircase family by family, fit and store each frontier; returns them in order."""
    from agent.daemon import Agent
    from agent.run.planner import families_for

    lead = next(t for t in settings.targets if t.name == target)
    # Fresh items only, at plain wording, on the adaptive path; the shard and the other targets aside.
    one = lead.model_copy(
        update={
            "group": None,
            "adaptive": True,
            "static_per_run": 0,
            "fingerprint_prompts": 0,
            "novelties": [0],
            "probes_per_run": BATCH,
        }
    )
    batch_size = max(1, min(BATCH, lead.concurrency))
    shard = settings.shard.model_copy(update={"count": 1, "index": None})
    agent = Agent(
        settings.model_copy(update={"targets": [one], "shard": shard}),
        source=source,
        transport=transport,
    )
    out: list[FamilyCalibration] = []
    tokens_used = 0
    try:
        (unit,) = agent.units
        member = unit.members[0]
        for family in list(families) or families_for(lead, agent.registry):
            if max_tokens_total is not None and tokens_used >= max_tokens_total:
                break
            if progress is not None:
                progress(family)
            member.target = one.model_copy(update={"families": [family]})
            done: list[ProbeResult] = []
            while len(done) < probes_per_family:
                if max_tokens_total is not None and tokens_used >= max_tokens_total:
                    break
                batch = min(batch_size, probes_per_family - len(done))
                member.target = member.target.model_copy(update={"probes_per_run": batch})
                unit.difficulty_chooser = _chooser(agent, target, family)
                (summary,) = await unit.run_once()
                rows = [agent.store.result(i) for i in summary.result_ids]
                new = [r.result for r in rows if r is not None]
                done += new
                tokens_used += sum((r.input_tokens or 0) + (r.output_tokens or 0) for r in new)
                if summary.status == "skipped" or not new:
                    break  # circuit open or a budget exhausted: the endpoint's limits come first
            result = _fit(family, done, settings.stats.confidence)
            if result is None:
                continue
            out.append(result)
            if math.isfinite(result.d50):
                agent.store.put_calibration(
                    target,
                    family,
                    result.generator_version,
                    d50=result.d50,
                    lower=result.lower,
                    upper=result.upper,
                    censored=result.censored,
                    probes=result.probes,
                    tokens=result.tokens,
                    cost_usd=result.cost_usd,
                )
    finally:
        await agent.aclose()
    return out


def _chooser(agent: Agent, target: str, family: str) -> Callable[[str, Sequence[int], Any], int]:
    from agent.ledger import queries
    from agent.stats.adaptive import chooser

    history = queries.recent_outcomes(agent.store, target, limit=2000).get(family, [])
    starts = {c.family: c.d50 for c in queries.calibrations(agent.store, target)}
    return chooser({family: history}, explore=CALIBRATION_EXPLORE, starts=starts)


def _fit(family: str, results: Sequence[ProbeResult], confidence: float) -> FamilyCalibration | None:
    """The frontier from one family's calibration probes (errors count as probes and tokens, never as fails)."""
    from agent.stats.frontier import fit_frontier

    if not results:
        return None
    tokens = sum((r.input_tokens or 0) + (r.output_tokens or 0) for r in results)
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    cost = sum(costs) if costs else None
    version = results[-1].generator_version
    scored = [r for r in results if r.outcome != "error"]
    if not scored:
        nan = math.nan
        return FamilyCalibration(family, version, nan, nan, nan, "none", len(results), 0, tokens, cost)
    by_level: dict[int, list[int]] = {}
    for r in scored:
        cell = by_level.setdefault(r.difficulty, [0, 0])
        cell[0] += r.outcome == "pass"
        cell[1] += 1
    levels = sorted(by_level)
    fit = fit_frontier(levels, [by_level[v][0] for v in levels], [by_level[v][1] for v in levels], confidence)
    return FamilyCalibration(
        family, version, fit.d50, fit.lower, fit.upper, fit.censored, len(results), len(scored), tokens, cost
    )


def _print_table(target: str, results: Sequence[FamilyCalibration], priced: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from agent.report import fmt

    table = Table(title=f"capmon calibrate: {target}")
    for name, justify in (("family", "left"), ("d50", "right"), ("interval", "right"), ("probes", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("tokens", justify="right")
    if priced:
        table.add_column("cost", justify="right")
    for r in results:
        if r.scored == 0:
            d50, interval = "-", "no scored probes"
        else:
            note = {"above": " (above the levels probed)", "below": " (below the levels probed)"}.get(r.censored, "")
            d50, interval = f"{r.d50:.1f}{note}", fmt.level_interval(r.lower, r.upper)
        row = [r.family, d50, interval, f"{r.scored}/{r.probes}", f"{r.tokens:,}"]
        if priced:
            row.append(fmt.usd(r.cost_usd))
        table.add_row(*row)
    Console().print(table)


def _usage(message: str) -> int:
    print(f"capmon calibrate: {message}", file=sys.stderr)
    return 2
