"""The built-in probe families, as fresh instances (no module-level registry)."""

from __future__ import annotations

from probes.arithmetic import Arithmetic
from probes.base import ProbeFamily
from probes.composition import Composition
from probes.comprehension import ReadingComprehension
from probes.dates import DateArithmetic
from probes.graph_path import GraphShortestPath
from probes.graph_reach import GraphReachability
from probes.instructions import InstructionFollowing
from probes.json_output import JsonOutput
from probes.knights import KnightsKnaves
from probes.linear_equation import LinearEquation
from probes.program_trace import ProgramTrace
from probes.propositional import PropositionalLogic
from probes.retrieval import NeedleRetrieval
from probes.sequence import SequenceInduction
from probes.string_transform import StringTransform
from probes.units import UnitConversion
from probes.word_problem import WordProblem


def builtin_families() -> list[ProbeFamily]:
    """Fresh instances of every built-in family."""
    return [
        Arithmetic(), WordProblem(), StringTransform(), LinearEquation(), SequenceInduction(),
        DateArithmetic(), UnitConversion(), KnightsKnaves(), PropositionalLogic(), GraphShortestPath(),
        GraphReachability(), ProgramTrace(), InstructionFollowing(), JsonOutput(), NeedleRetrieval(),
        ReadingComprehension(), Composition(),
    ]
