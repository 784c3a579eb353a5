"""The contract every probe family follows, and how items are derived from a private salt.

A family is two pure steps and a verifier:

* ``plan(difficulty) -> dict[str, int]``: the size parameters at a level, computed by a formula in
  the level (never a table), so the scale is open: levels run from 1 (trivial) to the family's
  declared ``top``, and past level 10 the main size parameter (``grows``) rises at least
  geometrically. The plan is the solver-free measure of difficulty shown beside pass ratios.
* ``build(rng, difficulty) -> Problem``: the underlying task (facts and the true answer), drawn
  only from ``rng``. The same (salt, family, index, difficulty) always gives the same problem.
* ``render(problem, novelty, rng) -> Rendering``: the prompt the model sees at a novelty level
  (0 plain, 1 paraphrased, 2 surface-perturbed, 3 unfamiliar framing) and the reference answer in
  that rendering's format. Every novelty level renders the *same* problem, so answers can be
  compared across renderings (consistency).
* ``score(item, response) -> Verdict``: a pure verifier of the model's whole response text, in
  [0, 1]. ``Verdict.canonical`` is the extracted answer normalised so that answers to different
  renderings of one problem compare equal when they mean the same thing.

Never touch the global ``random`` module: every item has its own ``random.Random`` derived from
(salt, family, index, difficulty) for the problem and (…, novelty) for the rendering.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.errors import ProbeError

NOVELTY_LEVELS = range(0, 4)
#: The highest top any family may declare: keeps a typo in a config or template from asking for
#: an item the size of a book.
MAX_TOP = 100

#: Published salt for the static canary set: reused every run, so a vendor that trains on logged
#: probes improves on these and not on fresh ones (the leakage gap).
STATIC_SALT = b"capmon-static-canary-v1"


@dataclass(frozen=True, slots=True)
class Problem:
    """The underlying task: facts a renderer needs and the true answer."""

    facts: Mapping[str, Any]
    answer: str


@dataclass(frozen=True, slots=True)
class Rendering:
    """One rendering of a problem: the prompt text and the reference answer in its format."""

    prompt: str
    answer: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verifier's judgement of one response."""

    score: float
    extracted: str | None
    canonical: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ProbeError(f"verdict score {self.score!r} is outside [0, 1]")


@dataclass(frozen=True, slots=True)
class Item:
    """One probe item, with everything needed to reproduce it."""

    family: str
    index: int
    difficulty: int
    novelty: int
    seed: int
    prompt: str
    answer: str
    problem: Problem
    generator_version: str
    static: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def item_key(self) -> str:
        """Identifies the underlying problem, shared by all its novelty renderings."""
        kind = "static" if self.static else "fresh"
        return f"{self.family}:{kind}:{self.difficulty}:{self.seed}"


class ProbeFamily(ABC):
    """A procedural task family with a verifier. Subclasses set the class attributes."""

    #: Registry name, lower_snake_case.
    name: str = ""
    #: Skill area, e.g. "arithmetic", "logic", "retrieval".
    skill: str = ""
    #: Bump when generation changes, so stored results say which generator made them.
    version: str = "1"
    #: The highest difficulty level; levels run 1..top.
    top: int = 10
    #: The plan's main size parameter, the one that grows at least geometrically past level 10.
    grows: str = ""
    #: What grows with the level, as formulas over ``d`` (shown by ``capmon probes list``).
    formula: str = ""
    #: One line per novelty level 0..3 saying how the rendering changes.
    novelty_notes: tuple[str, ...] = (
        "plain, benchmark-like phrasing",
        "paraphrased template",
        "surface perturbation (renamed entities, reordered facts, distractors)",
        "unfamiliar framing (story, table or different answer format)",
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        """The size parameters at a level (a formula in the level; non-decreasing in it).

        Every built-in family overrides this (the contract test checks); the default serves
        plug-in families written before the open scale, whose only measure is the level itself.
        """
        return {"level": difficulty}

    def chance(self, difficulty: int) -> float:
        """The pass ratio of a blind guess over the answer space at a level (0 for open answers).

        Calibration reports a model as capable at a level only above this rate (yes/no questions
        sit at 0.5, a one-digit answer near 0.1).
        """
        return 0.0

    def describe(self, difficulty: int) -> str:
        """One line saying what a level asks for, from its plan."""
        return ", ".join(f"{k} {v}" for k, v in self.plan(difficulty).items())

    @property
    def levels(self) -> range:
        """Every difficulty level this family has."""
        return range(1, self.top + 1)

    @abstractmethod
    def build(self, rng: random.Random, difficulty: int) -> Problem:
        """Draw the underlying problem at a difficulty level, using only ``rng``."""

    @abstractmethod
    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        """Render the problem as a prompt at a novelty level, using only ``rng``."""

    @abstractmethod
    def score(self, item: Item, response: str) -> Verdict:
        """Score a model's whole response text against the item, in [0, 1]."""


def derive_seed(salt: bytes, *parts: object) -> int:
    """A 63-bit seed from the salt and the parts, stable across processes and Python versions."""
    h = hashlib.blake2b(salt, digest_size=8, person=b"capmon-seed")
    for part in parts:
        h.update(b"\x1f")
        h.update(str(part).encode())
    return int.from_bytes(h.digest(), "big") >> 1


def make_item(
    family: ProbeFamily,
    salt: bytes,
    index: int,
    difficulty: int,
    novelty: int,
    *,
    static: bool = False,
) -> Item:
    """Generate item ``index`` of a family at a difficulty and novelty level, reproducibly."""
    return make_items(family, salt, index, difficulty, (novelty,), static=static)[0]


def make_items(
    family: ProbeFamily,
    salt: bytes,
    index: int,
    difficulty: int,
    novelties: Iterable[int],
    *,
    static: bool = False,
) -> list[Item]:
    """Item ``index`` rendered at each of ``novelties``: the problem is built once for all of them.

    Each result equals ``make_item`` at that novelty (the rendering's random stream depends only
    on the salt, the item's seed and the novelty), so planning a run this way changes no prompt.
    """
    if not 1 <= difficulty <= family.top:
        raise ProbeError(f"difficulty {difficulty} is outside {family.name}'s levels 1..{family.top}")
    seed = derive_seed(salt, family.name, index, difficulty)
    problem = family.build(random.Random(seed), difficulty)
    items = []
    for novelty in novelties:
        if novelty not in NOVELTY_LEVELS:
            raise ProbeError(f"novelty {novelty} is outside 0..3")
        rendering = family.render(problem, novelty, random.Random(derive_seed(salt, seed, "render", novelty)))
        items.append(
            Item(
                family=family.name,
                index=index,
                difficulty=difficulty,
                novelty=novelty,
                seed=seed,
                prompt=rendering.prompt,
                answer=rendering.answer,
                problem=problem,
                generator_version=family.version,
                static=static,
            )
        )
    return items


def make_static_item(family: ProbeFamily, index: int, difficulty: int, novelty: int) -> Item:
    """Item ``index`` of the published static canary set (same every run, everywhere)."""
    return make_item(family, STATIC_SALT, index, difficulty, novelty, static=True)
