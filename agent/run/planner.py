"""Which items a run sends: fresh items, static canary items and behaviour-fingerprint prompts.

Pure apart from the prompt-size caps it learns (``agent.run.caps``): the plan depends only on the
salt, the run's first item index, the target settings and the caps, so a comparison group gets
identical items for every member (paired differences need that).

A configured level above a family's top is capped to that top (``levels_for``); an item whose prompt
exceeds the target's ``prompt_token_limit`` is replaced by the same index at the highest lower level
that fits, and the caps remember that level for the (target, family).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.config import TargetConfig
from agent.run.caps import LevelCaps, estimate_tokens
from probes.base import Item, ProbeFamily, derive_seed, make_items, make_static_item
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


def levels_for(target: TargetConfig, family: ProbeFamily, caps: LevelCaps | None = None) -> list[int]:
    """The levels a target probes in a family: its ``difficulties``, each capped to the family's top
    and to the prompt-size cap learned so far."""
    top = family.top
    if caps is not None:
        top = min(top, caps.cap(target.name, family.name) or top)
    return sorted({min(d, top) for d in target.difficulties})


def _longest(items: Sequence[Item]) -> int:
    """The largest estimated prompt among an item's renderings (tokens, erring high)."""
    return max((estimate_tokens(i.prompt) for i in items), default=0)


def fitted(
    make: Callable[[int], list[Item]], target: TargetConfig, family: ProbeFamily, level: int, caps: LevelCaps | None
) -> list[Item]:
    """``make(level)``, or at the highest lower level whose prompts fit (recorded in ``caps``);
    nothing when not even level 1 fits."""
    limit = target.prompt_token_limit
    items = make(level)
    size = _longest(items)  # each rendering measured once
    while size > limit and level > 1:
        level -= 1
        items = make(level)
        size = _longest(items)
        if caps is not None and size <= limit:
            caps.lower(target.name, family.name, level, limit)
    return items if size <= limit else []


def plan_run(
    registry: Registry,
    target: TargetConfig,
    salt: bytes,
    first_index: int,
    *,
    run_seq: int,
    difficulty_chooser: DifficultyChooser | None = None,
    caps: LevelCaps | None = None,
) -> list[PlannedProbe]:
    """The probes of one run: fresh (each rendered at every configured novelty), static, fingerprint.

    Levels are capped per family (``levels_for``); no item over the prompt limit is planned.
    """
    rng = random.Random(derive_seed(salt, "plan", first_index))
    families = families_for(target, registry)
    novelties = target.novelties
    underlying = max(1, target.probes_per_run // len(novelties))
    plan: list[PlannedProbe] = []
    allowed_at: dict[tuple[str, int | None], list[int]] = {}

    def allowed_for(family: ProbeFamily) -> list[int]:
        # Once per family and cap, not per item: an open scale lists ~100 levels.
        key = (family.name, caps.cap(target.name, family.name) if caps is not None else None)
        if key not in allowed_at:
            allowed_at[key] = levels_for(target, family, caps)
        return allowed_at[key]

    for i in range(underlying):
        family = registry.get(families[(first_index + i) % len(families)])
        allowed = allowed_for(family)
        if difficulty_chooser is not None:
            difficulty = difficulty_chooser(family.name, allowed, rng)
        else:
            difficulty = rng.choice(allowed)
        index = first_index + i

        def fresh(level: int, family: ProbeFamily = family, index: int = index) -> list[Item]:
            return make_items(family, salt, index, level, novelties)

        for item in fitted(fresh, target, family, difficulty, caps):
            plan.append(PlannedProbe(item))
    for j in range(target.static_per_run):
        k = run_seq * target.static_per_run + j
        family = registry.get(families[k % len(families)])
        allowed = allowed_for(family)
        difficulty = allowed[(k // len(families)) % len(allowed)]
        novelty = novelties[k % len(novelties)]

        def static(level: int, family: ProbeFamily = family, k: int = k, novelty: int = novelty) -> list[Item]:
            return [make_static_item(family, k % STATIC_POOL, level, novelty)]

        plan.extend(PlannedProbe(item) for item in fitted(static, target, family, difficulty, caps))
    for j in range(target.fingerprint_prompts):
        family = registry.get(families[j % len(families)])
        item = make_static_item(family, FINGERPRINT_INDEX + j, FINGERPRINT_DIFFICULTY, 0)
        plan.append(PlannedProbe(item, canary=True, temperature=0.0))
    return plan


def fresh_count(plan: Sequence[PlannedProbe]) -> int:
    """How many fresh underlying indexes a plan used (to advance the next index)."""
    indexes = {p.item.index for p in plan if not p.item.static and not p.canary}
    return len(indexes)
