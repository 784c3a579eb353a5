"""Which items a run sends: fresh items, static canary items and behaviour-fingerprint prompts.

Pure: the plan depends only on the salt, the run's first item index and the target settings, so a
comparison group gets identical items for every member (paired differences need that).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.config import TargetConfig
from probes.base import Item, derive_seed, make_items, make_static_item
from probes.registry import Registry

#: Static canary items rotate through a fixed pool per family and level.
STATIC_POOL = 64
#: Fingerprint prompts: fixed static items far from the canary pool, sent at temperature 0.
FINGERPRINT_INDEX = 1_000_000
FINGERPRINT_DIFFICULTY = 2

#: Chooses a difficulty for a family from the allowed levels; adaptive probing plugs in here.
DifficultyChooser = Callable[[str, Sequence[int], random.Random], int]


@dataclass(frozen=True)
class PlannedProbe:
    """One item to send, and how."""

    item: Item
    canary: bool = False
    temperature: float | None = None


def families_for(target: TargetConfig, registry: Registry) -> list[str]:
    """The target's families, or every registered one."""
    return list(target.families) if target.families else registry.names()


def plan_run(
    registry: Registry,
    target: TargetConfig,
    salt: bytes,
    first_index: int,
    *,
    run_seq: int,
    difficulty_chooser: DifficultyChooser | None = None,
) -> list[PlannedProbe]:
    """The probes of one run: fresh (each rendered at every configured novelty), static, fingerprint."""
    rng = random.Random(derive_seed(salt, "plan", first_index))
    families = families_for(target, registry)
    novelties = target.novelties
    underlying = max(1, target.probes_per_run // len(novelties))
    plan: list[PlannedProbe] = []
    for i in range(underlying):
        family = registry.get(families[(first_index + i) % len(families)])
        if difficulty_chooser is not None:
            difficulty = difficulty_chooser(family.name, target.difficulties, rng)
        else:
            difficulty = rng.choice(target.difficulties)
        for item in make_items(family, salt, first_index + i, difficulty, novelties):
            plan.append(PlannedProbe(item))
    for j in range(target.static_per_run):
        k = run_seq * target.static_per_run + j
        family = registry.get(families[k % len(families)])
        difficulty = target.difficulties[(k // len(families)) % len(target.difficulties)]
        novelty = novelties[k % len(novelties)]
        plan.append(PlannedProbe(make_static_item(family, k % STATIC_POOL, difficulty, novelty)))
    for j in range(target.fingerprint_prompts):
        family = registry.get(families[j % len(families)])
        item = make_static_item(family, FINGERPRINT_INDEX + j, FINGERPRINT_DIFFICULTY, 0)
        plan.append(PlannedProbe(item, canary=True, temperature=0.0))
    return plan


def fresh_count(plan: Sequence[PlannedProbe]) -> int:
    """How many fresh underlying indexes a plan used (to advance the next index)."""
    indexes = {p.item.index for p in plan if not p.item.static and not p.canary}
    return len(indexes)
