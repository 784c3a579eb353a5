"""A simulated ledger for the report tests: profiles with known abilities, targets, and a filler."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from agent.config import PriceConfig, TargetConfig
from agent.ledger.store import Store
from agent.report.simulate import SimProfile, simulate
from probes.registry import builtin_registry

PROFILES = (
    SimProfile("alpha", ability=6.5, group="cmp", static_boost=2.0, provider="anthropic", model="alpha-1"),
    SimProfile("beta", ability=4.0, group="cmp", provider="gemini", model="beta-1"),
)
PRICE = PriceConfig(input_per_mtok_usd=3.0, output_per_mtok_usd=15.0)
FAMILIES = ("arithmetic", "linear_equation", "string_transform")


@dataclass
class SimLedger:
    """A store filled by the simulator, the targets it covers, and the period."""

    store: Store
    targets: list[TargetConfig]
    since: float
    until: float
    path: Path


def make_targets() -> list[TargetConfig]:
    """Target configs matching ``PROFILES`` (alpha has a price and an API key that must never leak)."""
    return [
        TargetConfig(
            name=p.name,
            provider=p.provider,
            base_url="https://vendor.invalid/v1",
            model=p.model,
            group=p.group,
            price=PRICE,
            api_key="sk-NEVER-IN-REPORT" if p.name == "alpha" else None,
        )
        for p in PROFILES
    ]


def fill_ledger(path: Path) -> SimLedger:
    """24 half-hourly runs of 12 items × 3 novelty levels for two grouped targets, two change points."""
    store = Store(path)
    until = time.time()
    since = until - 12 * 3600
    simulate(
        store,
        builtin_registry(),
        PROFILES,
        start=since + 60,
        runs=24,
        run_every_s=1800,
        families=FAMILIES,
        seed=7,
    )
    store.add_change_point(
        ts=since + 6 * 3600,
        target="alpha",
        scope="all",
        detector="cusum_drop_10",
        direction="drop",
        size=-0.12,
        statistic=5.4,
        threshold=5.35,
        probes=150,
    )
    store.add_change_point(
        ts=since - 3600,
        target="alpha",
        scope="all",
        detector="cusum_drop_20",
        direction="drop",
        size=-0.2,
        statistic=6.0,
        threshold=5.0,
        probes=90,
    )
    return SimLedger(store, make_targets(), since, until + 1, path)
