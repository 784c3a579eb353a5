"""Errors raised by probe generation and registration.

    ProbeError                 base class; anything wrong in the probe library
    ├── RegistryError          duplicate or unknown family name
    ├── TemplateError          a YAML template family that cannot be loaded (file, key, problem)
    └── ExpressionError        a template expression outside the safe whitelist, or failing
"""

from __future__ import annotations


class ProbeError(Exception):
    """Base class for probe library errors."""


class RegistryError(ProbeError):
    """A family name is registered twice or is not registered."""


class TemplateError(ProbeError):
    """A YAML template family is invalid. ``str()`` names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class ExpressionError(ProbeError):
    """A template expression uses something outside the safe evaluator's whitelist or fails."""
