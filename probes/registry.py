"""One registry of probe families. No global state: build a fresh one where you need it."""

from __future__ import annotations

from collections.abc import Iterator

from probes.base import ProbeFamily
from probes.errors import RegistryError


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


def builtin_registry() -> Registry:
    """A fresh registry holding the built-in families (plus installed entry-point families)."""
    from probes import catalog

    registry = Registry()
    for family in catalog.builtin_families():
        registry.register(family)
    return registry
