"""The built-in probe families, as fresh instances (no module-level registry)."""

from __future__ import annotations

from probes.base import ProbeFamily
from probes.families.arithmetic import Arithmetic
from probes.families.composition import Composition
from probes.families.comprehension import ReadingComprehension
from probes.families.dates import DateArithmetic
from probes.families.graph_path import GraphShortestPath
from probes.families.graph_reach import GraphReachability
from probes.families.instructions import InstructionFollowing
from probes.families.json_output import JsonOutput
from probes.families.knights import KnightsKnaves
from probes.families.linear_equation import LinearEquation
from probes.families.program_trace import ProgramTrace
from probes.families.propositional import PropositionalLogic
from probes.families.retrieval import NeedleRetrieval
from probes.families.sequence import SequenceInduction
from probes.families.string_transform import StringTransform
from probes.families.units import UnitConversion
from probes.families.word_problem import WordProblem


def builtin_families() -> list[ProbeFamily]:
    """Fresh instances of every built-in family."""
    return [
        Arithmetic(), WordProblem(), StringTransform(), LinearEquation(), SequenceInduction(),
        DateArithmetic(), UnitConversion(), KnightsKnaves(), PropositionalLogic(), GraphShortestPath(),
        GraphReachability(), ProgramTrace(), InstructionFollowing(), JsonOutput(), NeedleRetrieval(),
        ReadingComprehension(), Composition(),
    ]
