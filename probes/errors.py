"""Errors raised by probe generation and registration.

    ProbeError                 base class; anything wrong in the probe library
    ├── RegistryError          duplicate or unknown family name
    └── TemplateError          a YAML template family that cannot be loaded (file, key, problem)
"""

from __future__ import annotations


class ProbeError(Exception):
    """Base class for probe library errors."""


class RegistryError(ProbeError):
    """A family name is registered twice or is not registered."""


class TemplateError(ProbeError):
    """A YAML template family is invalid."""
