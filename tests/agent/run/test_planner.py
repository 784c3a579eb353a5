from __future__ import annotations

from collections.abc import Callable

from agent.config import Settings
from agent.run.planner import fresh_count, plan_run
from probes.registry import builtin_registry


def test_plan_is_reproducible_and_renders_each_item_at_every_novelty(make_settings: Callable[..., Settings]) -> None:
    target = make_settings(novelties=[0, 2], probes_per_run=8, families=[]).targets[0]
    registry = builtin_registry()
    a = plan_run(registry, target, b"salt", 10, run_seq=0)
    b = plan_run(registry, target, b"salt", 10, run_seq=0)
    assert [p.item.prompt for p in a] == [p.item.prompt for p in b]
    fresh = [p for p in a if not p.item.static and not p.canary]
    assert len(fresh) == 8 and fresh_count(a) == 4
    by_key: dict[str, set[int]] = {}
    for p in fresh:
        by_key.setdefault(p.item.item_key, set()).add(p.item.novelty)
    assert all(v == {0, 2} for v in by_key.values())
    assert len({p.item.family for p in fresh}) > 1  # families rotate


def test_other_salt_gives_other_items_but_static_and_fingerprint_stay(make_settings: Callable[..., Settings]) -> None:
    target = make_settings().targets[0]
    registry = builtin_registry()
    a = plan_run(registry, target, b"salt-a", 0, run_seq=3)
    b = plan_run(registry, target, b"salt-b", 0, run_seq=3)
    fresh = lambda plan: [p.item.prompt for p in plan if not p.item.static]  # noqa: E731
    assert fresh(a) != fresh(b)
    static = lambda plan: [p.item.prompt for p in plan if p.item.static]  # noqa: E731
    assert static(a) == static(b)
    canaries = [p for p in a if p.canary]
    assert len(canaries) == 1 and canaries[0].temperature == 0.0
