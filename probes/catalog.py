"""The built-in probe families, as fresh instances (no module-level registry)."""

from __future__ import annotations

from probes.arithmetic import Arithmetic
from probes.base import ProbeFamily
from probes.dates import DateArithmetic
from probes.linear_equation import LinearEquation
from probes.sequence import SequenceInduction
from probes.string_transform import StringTransform
from probes.units import UnitConversion
from probes.word_problem import WordProblem


def builtin_families() -> list[ProbeFamily]:
    """Fresh instances of every built-in family."""
    return [
        Arithmetic(), WordProblem(), StringTransform(), LinearEquation(), SequenceInduction(),
        DateArithmetic(), UnitConversion(),
    ]
