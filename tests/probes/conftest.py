"""Shared fixtures: every family the contract covers (built-ins plus the example YAML families)."""

from __future__ import annotations

from pathlib import Path

from probes.base import ProbeFamily
from probes.registry import builtin_registry
from probes.templates import load_template_families

EXAMPLE_YAML = Path(__file__).resolve().parents[2] / "probes" / "examples" / "retail.yaml"


def all_families() -> list[ProbeFamily]:
    """Built-in, entry-point and example template families, one registry."""
    registry = builtin_registry()
    for family in load_template_families([EXAMPLE_YAML]):
        registry.register(family)
    return list(registry)


FAMILIES = all_families()
FAMILY_IDS = [f.name for f in FAMILIES]
