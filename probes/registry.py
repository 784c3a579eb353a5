"""One registry of probe families. No global state: build a fresh one where you need it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import metadata
from typing import Protocol

from probes.base import ProbeFamily
from probes.errors import RegistryError

#: Entry-point group through which installed packages contribute families.
ENTRY_POINT_GROUP = "capmon.probes"


class EntryPointLike(Protocol):
    """What ``load_entry_point_families`` needs of an entry point (importlib.metadata's has it)."""

    name: str

    def load(self) -> object:
        """Import and return the object the entry point names."""


class Registry:
    """Family name -> family instance; rejects duplicates."""

    def __init__(self) -> None:
        self._families: dict[str, ProbeFamily] = {}

    def register(self, family: ProbeFamily) -> None:
        """Add a family; a second family with the same name is an error."""
        if not family.name:
            raise RegistryError(f"{type(family).__name__} has no name")
        if family.name in self._families:
            raise RegistryError(f"probe family {family.name!r} is registered twice")
        self._families[family.name] = family

    def get(self, name: str) -> ProbeFamily:
        """The family called ``name``."""
        try:
            return self._families[name]
        except KeyError:
            known = ", ".join(sorted(self._families))
            raise RegistryError(f"unknown probe family {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Registered family names, sorted."""
        return sorted(self._families)

    def __contains__(self, name: object) -> bool:
        return name in self._families

    def __iter__(self) -> Iterator[ProbeFamily]:
        return iter(self._families[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._families)


def load_entry_point_families(registry: Registry, entry_points: Iterable[EntryPointLike] | None = None) -> list[str]:
    """Register the families installed packages declare in ``capmon.probes``; their names.

    Each entry point names a ProbeFamily subclass (instantiated with no arguments) or instance.
    A broken one raises RegistryError naming it: a family that silently vanished would look
    like a capability change.
    """
    points = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    added: list[str] = []
    for ep in points:
        try:
            obj = ep.load()
            family = obj() if isinstance(obj, type) and issubclass(obj, ProbeFamily) else obj
        except Exception as exc:  # any import or constructor failure of third-party code
            where = f"entry point {ep.name!r} in {ENTRY_POINT_GROUP}"
            raise RegistryError(f"{where} failed to load: {exc}") from exc
        if not isinstance(family, ProbeFamily):
            kind = type(family).__name__
            where = f"entry point {ep.name!r} in {ENTRY_POINT_GROUP}"
            raise RegistryError(f"{where} is a {kind}, not a ProbeFamily")
        registry.register(family)
        added.append(family.name)
    return added


def builtin_registry() -> Registry:
    """A fresh registry holding the built-in families (plus installed entry-point families)."""
    from probes import catalog

    registry = Registry()
    for family in catalog.builtin_families():
        registry.register(family)
    load_entry_point_families(registry)
    return registry
