"""The registry: built-ins, duplicates, and families from installed packages' entry points."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.catalog import builtin_families
from probes.errors import RegistryError
from probes.families.arithmetic import Arithmetic
from probes.registry import Registry, builtin_registry, load_entry_point_families


@dataclass(frozen=True)
class Echo(ProbeFamily):
    name = "echo_plugin"
    skill = "plugin"
    levels = tuple(f"level {i}" for i in range(1, 11))

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        return Problem(facts={}, answer=str(rng.randint(0, 10**6)))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        return Rendering(prompt=f"Say {problem.answer}. Answer: <number>", answer=problem.answer)

    def score(self, item: Item, response: str) -> Verdict:
        return Verdict(float(item.answer in response), response, response)


class FakeEntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self._obj = name, obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def test_builtin_families_are_fresh_instances() -> None:
    a, b = builtin_families(), builtin_families()
    assert [f.name for f in a] == [f.name for f in b]
    assert all(x is not y for x, y in zip(a, b, strict=True))
    assert len(builtin_registry()) >= 16


def test_duplicate_and_unknown() -> None:
    reg = Registry()
    reg.register(Arithmetic())
    with pytest.raises(RegistryError, match="twice"):
        reg.register(Arithmetic())
    with pytest.raises(RegistryError, match="unknown probe family 'nope'"):
        reg.get("nope")


def test_entry_point_class_and_instance() -> None:
    reg = Registry()
    assert load_entry_point_families(reg, [FakeEntryPoint("echo", Echo)]) == ["echo_plugin"]
    assert isinstance(reg.get("echo_plugin"), Echo)
    other = Registry()
    load_entry_point_families(other, [FakeEntryPoint("echo", Echo())])
    assert "echo_plugin" in other


@pytest.mark.parametrize(
    ("obj", "message"),
    [(ImportError("no module named x"), "failed to load"), ("not a family", "not a ProbeFamily")],
)
def test_broken_entry_points_are_named(obj: object, message: str) -> None:
    with pytest.raises(RegistryError, match=f"entry point 'bad'.*{message}"):
        load_entry_point_families(Registry(), [FakeEntryPoint("bad", obj)])


def test_installed_entry_points_are_loaded_by_builtin_registry() -> None:
    # With no plugin installed, the installed group adds nothing and raises nothing.
    reg = Registry()
    assert load_entry_point_families(reg) == [f.name for f in reg]
