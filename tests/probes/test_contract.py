"""The contract every registered family keeps (built-ins and the example YAML families alike).

Determinism, reference answers score 1.0 (bare and as 'Answer: ...'), corrupted answers score
below 1.0, every prompt states the answer format, prompts differ across seeds, generation never
raises, and every difficulty 1..top and novelty 0..3 works; each level's plan is a formula that
grows with the level, at least geometrically past level 10.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.base import (
    MAX_TOP,
    NOVELTY_LEVELS,
    Item,
    ProbeFamily,
    make_item,
    make_items,
    make_static_item,
)
from probes.common import FORMAT_MARKERS
from probes.errors import ProbeError
from probes.extract import canonical_number
from tests.probes.conftest import FAMILIES, FAMILY_IDS

SALT = b"contract-test-salt"
indices = st.integers(min_value=0, max_value=10**9)
# A position on the family's own scale: the level is 1 + position % top, so every level is reachable.
difficulties = st.integers(min_value=0, max_value=10**6)
novelties = st.sampled_from(list(NOVELTY_LEVELS))
family_param = pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
few = settings(max_examples=15, deadline=None)


def _level(family: ProbeFamily, position: int) -> int:
    return 1 + position % family.top


def _builtin(family: ProbeFamily) -> bool:
    return type(family).__module__.startswith("probes.families.")


def _mutate_json(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, "extra"]
    return {"broken": True}


def corrupt(item: Item) -> str:
    """A plausible wrong answer: the reference with one thing changed."""
    answer = item.problem.answer
    if item.family == "instruction_following":
        if any(c[0] == "words" for c in item.problem.facts["constraints"]):
            return answer + " zq"  # one word too many: breaks the word count
        return "zq"  # level 1's only rule is a word to include: leave it out
    try:
        obj = json.loads(answer)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and obj:
        key = sorted(obj)[0]
        return json.dumps({**obj, key: _mutate_json(obj[key])})
    try:
        return (dt.date.fromisoformat(answer) + dt.timedelta(days=1)).isoformat()
    except ValueError:
        pass
    if answer.lstrip("-").isdigit():  # exact: float(answer) + 1 is the same float past 2**53
        return str(int(answer) + 1)
    number = canonical_number(answer)
    if number is not None:
        return str(float(number) + 1) if "." in number else str(int(number) + 1)
    if answer and set(answer) <= set("TF"):
        return ("F" if answer[0] == "T" else "T") + answer[1:]
    return answer + "zq"


@family_param
@given(index=indices, difficulty=difficulties, novelty=novelties)
@few
def test_deterministic(family: ProbeFamily, index: int, difficulty: int, novelty: int) -> None:
    difficulty = _level(family, difficulty)
    a = make_item(family, SALT, index, difficulty, novelty)
    b = make_item(family, SALT, index, difficulty, novelty)
    assert (a.prompt, a.answer, a.seed, a.item_key) == (b.prompt, b.answer, b.seed, b.item_key)


@family_param
@given(index=indices, difficulty=difficulties)
@few
def test_building_once_for_all_novelties_changes_no_rendering(
    family: ProbeFamily, index: int, difficulty: int
) -> None:
    difficulty = _level(family, difficulty)
    together = make_items(family, SALT, index, difficulty, list(NOVELTY_LEVELS))
    apart = [make_item(family, SALT, index, difficulty, n) for n in NOVELTY_LEVELS]
    assert [(i.prompt, i.answer, i.seed) for i in together] == [(i.prompt, i.answer, i.seed) for i in apart]


@family_param
@given(index=indices, difficulty=difficulties, novelty=novelties)
@few
def test_reference_scores_one(family: ProbeFamily, index: int, difficulty: int, novelty: int) -> None:
    difficulty = _level(family, difficulty)
    item = make_item(family, SALT, index, difficulty, novelty)
    for response in (item.answer, f"Answer: {item.answer}", f"Let me work it out.\n\n{item.answer}"):
        verdict = family.score(item, response)
        assert verdict.score == 1.0, (item.prompt, response, verdict)


@family_param
@given(index=indices, difficulty=difficulties, novelty=novelties)
@few
def test_corrupted_answers_score_below_one(family: ProbeFamily, index: int, difficulty: int, novelty: int) -> None:
    difficulty = _level(family, difficulty)
    item = make_item(family, SALT, index, difficulty, novelty)
    wrong = corrupt(item)
    for response in ("", "I don't know.", wrong, f"Answer: {wrong}"):
        assert family.score(item, response).score < 1.0, (item.prompt, response)


@family_param
@given(index=indices, difficulty=difficulties, novelty=novelties)
@few
def test_prompt_states_answer_format(family: ProbeFamily, index: int, difficulty: int, novelty: int) -> None:
    difficulty = _level(family, difficulty)
    item = make_item(family, SALT, index, difficulty, novelty)
    assert any(marker in item.prompt for marker in FORMAT_MARKERS), item.prompt


@family_param
@given(index=indices, difficulty=difficulties)
@few
def test_canonical_agrees_across_renderings(family: ProbeFamily, index: int, difficulty: int) -> None:
    difficulty = _level(family, difficulty)
    items = [make_item(family, SALT, index, difficulty, n) for n in NOVELTY_LEVELS]
    assert len({i.item_key for i in items}) == 1
    canon = {family.score(i, i.answer).canonical for i in items}
    assert len(canon) == 1 and None not in canon, canon


@family_param
def test_every_level_generates_and_scores(family: ProbeFamily) -> None:
    assert family.name and family.skill and family.version
    assert 1 <= family.top <= MAX_TOP and list(family.levels) == list(range(1, family.top + 1))
    if type(family).__module__.startswith("probes."):  # ours are immutable; plugins may differ
        assert dataclasses.is_dataclass(family) and type(family).__dataclass_params__.frozen  # type: ignore[attr-defined]
    for difficulty in family.levels:
        assert family.describe(difficulty)
        for novelty in NOVELTY_LEVELS:
            item = make_item(family, SALT, difficulty, difficulty, novelty)
            assert item.prompt and item.answer
            assert family.score(item, item.answer).score == 1.0
        static = make_static_item(family, 0, difficulty, 0)
        assert static.static and static.item_key.startswith(f"{family.name}:static:")
    for outside in (0, family.top + 1):
        with pytest.raises(ProbeError):
            make_item(family, SALT, 0, outside, 0)


@family_param
def test_plan_is_an_open_formula(family: ProbeFamily) -> None:
    """Sizes never shrink with the level; built-ins reach far past level 10 and grow geometrically there."""
    plans = [family.plan(d) for d in family.levels]
    assert all(set(p) == set(plans[0]) for p in plans)
    for lower, higher in itertools.pairwise(plans):
        assert all(higher[k] >= lower[k] for k in lower), (lower, higher)
    if not _builtin(family):
        return
    assert type(family).plan is not ProbeFamily.plan, "a built-in family declares its own plan"
    assert family.formula and family.grows in plans[0]
    assert family.top >= 20, "the scale must reach far past the old level 10"
    size = [p[family.grows] for p in plans]
    assert size[0] < size[-1]
    for d in range(10, family.top - 9):  # doubling at least every ten levels past level 10
        assert size[d + 9] >= 2 * size[d - 1], (family.grows, d, size[d - 1], size[d + 9])


@family_param
def test_prompts_unique_across_seeds(family: ProbeFamily) -> None:
    # From level 10 up the problem space is large, so 300 fresh items must all differ.
    for difficulty in {min(10, family.top), family.top}:
        prompts = [make_item(family, SALT, i, difficulty, 0).prompt for i in range(300)]
        assert len(set(prompts)) == len(prompts), difficulty


@family_param
def test_easy_levels_still_mostly_fresh(family: ProbeFamily) -> None:
    # The easiest levels have small problem spaces by design (e.g. 81 one-digit sums), but a
    # sample must still be mostly distinct, or "fresh" probes would be a static set.
    for difficulty in (1, 5):
        prompts = {make_item(family, SALT, i, difficulty, 0).prompt for i in range(60)}
        assert len(prompts) >= 30, (difficulty, len(prompts))


@family_param
def test_salt_changes_items(family: ProbeFamily) -> None:
    a = [make_item(family, b"salt-a", i, 6, 0).prompt for i in range(20)]
    b = [make_item(family, b"salt-b", i, 6, 0).prompt for i in range(20)]
    assert a != b


def test_registry_size_and_skills() -> None:
    builtin = [f for f in FAMILIES if f.name not in ("invoice_total", "shipment_record")]
    assert len(builtin) >= 16
    assert len({f.skill for f in builtin}) >= 8
