"""Per-family verifier tests: each verifier's own quirks, partial credit and generator facts."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from fractions import Fraction

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.arithmetic import evaluate, show
from probes.families.composition import Composition
from probes.families.dates import DateArithmetic, extract_date
from probes.families.graph_path import GraphShortestPath, distances
from probes.families.graph_reach import reachable
from probes.families.instructions import InstructionFollowing, check
from probes.families.json_output import JsonOutput
from probes.families.knights import KnightsKnaves, solutions
from probes.families.program_trace import ProgramTrace, run
from probes.families.propositional import PropositionalLogic, truth_string
from probes.families.string_transform import apply
from probes.families.units import UnitConversion
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_arithmetic_show_respects_precedence() -> None:
    tree = ("*", ("+", 2, 3), ("-", 7, 4))
    assert show(tree) == "(2 + 3) * (7 - 4)"
    assert evaluate(tree) == 15
    assert show(("-", 10, ("-", 4, 1))) == "10 - (4 - 1)"


def test_arithmetic_accepts_equation_answers() -> None:
    fam = builtin_registry().get("arithmetic")
    it = item(fam, 1)
    expr = it.problem.facts["expr"]
    assert fam.score(it, f"{expr} = {it.problem.answer}.").score == 1.0
    assert fam.score(it, f"{expr} = {int(it.problem.answer) + 1}.").score == 0.0


def test_word_problem_noop_clauses_do_not_change_answer() -> None:
    fam = builtin_registry().get("word_problem")
    plain, perturbed = item(fam, 6, 0), item(fam, 6, 2)
    assert plain.problem.answer == perturbed.problem.answer
    assert len(perturbed.prompt.split(". ")) > len(plain.prompt.split(". "))


def test_string_operations() -> None:
    assert apply("reverse", 0, "abc") == "cba"
    assert apply("swap_pairs", 0, "abcde") == "badce"
    assert apply("caesar", 2, "yZa") == "aBc"
    assert apply("rotate", 2, "abcde") == "cdeab"
    assert apply("drop_vowels", 0, "bAnIta") == "bnt"
    assert apply("every_other", 0, "abcdef") == "ace"
    assert apply("double", 0, "ab") == "aabb"


def test_string_transform_is_case_sensitive() -> None:
    fam = builtin_registry().get("string_transform")
    it = item(fam, 1)
    swapped = it.problem.answer.swapcase()
    assert fam.score(it, f"Answer: {swapped}").score == 0.0


def test_dates_accept_several_formats() -> None:
    d = dt.date(2031, 3, 5)
    for text in ("Answer: 2031-03-05", "Answer: 5 March 2031", "Answer: March 5th, 2031", "so \\boxed{5 March 2031}"):
        assert extract_date(text) == d, text
    assert extract_date("Answer: 2031-02-30") is None


def test_date_weekday_and_between() -> None:
    fam = DateArithmetic()
    weekday = item(fam, 5)
    assert weekday.problem.answer in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    start, n = weekday.problem.facts["start"], weekday.problem.facts["n"]
    assert (start + dt.timedelta(days=n)).strftime("%A") == weekday.problem.answer
    between = item(fam, 6)
    assert int(between.problem.answer) == between.problem.facts["n"]


def test_units_tolerance_is_half_a_cent() -> None:
    fam = UnitConversion()
    it = item(fam, 10)
    exact = float(it.problem.facts["exact"])
    assert fam.score(it, f"Answer: {exact + 0.004:.4f}").score == 1.0
    assert fam.score(it, f"Answer: {exact + 0.02:.4f}").score == 0.0


def test_knights_puzzles_have_one_solution() -> None:
    fam = KnightsKnaves()
    for difficulty in (1, 5, 10):
        it = item(fam, difficulty)
        f = it.problem.facts
        sols = solutions(f["n"], f["stmts"])
        assert len(sols) == 1
        assert [i for i, k in enumerate(sols[0]) if k] == f["knights"]


def test_knights_novelty3_asks_for_knaves_with_same_canonical() -> None:
    fam = KnightsKnaves()
    plain, framed = item(fam, 4, 0), item(fam, 4, 3)
    assert "tricksters" in framed.prompt
    assert fam.score(plain, plain.answer).canonical == fam.score(framed, framed.answer).canonical


def test_knights_requires_explicit_none() -> None:
    fam = KnightsKnaves()
    it = next(i for i in (item(fam, 8, 0, k) for k in range(400)) if not i.problem.facts["knights"])
    assert fam.score(it, "Answer: none").score == 1.0
    assert fam.score(it, "Answer: I cannot tell").score == 0.0


def test_truth_string_parsing() -> None:
    assert truth_string("T, F, T", 3) == "TFT"
    assert truth_string("true false", 2) == "TF"
    assert truth_string("101", 3) == "TFT"
    assert truth_string("1. T 2. F", 2) == "TF"
    assert truth_string("I don't know", 1) is None
    assert truth_string("TF", 3) is None


def test_propositional_novelty3_uses_digits() -> None:
    fam = PropositionalLogic()
    it = item(fam, 7, 3)
    assert set(it.answer) & {"0", "1"}
    assert fam.score(it, it.answer).canonical == it.problem.answer


def test_shortest_path_against_brute_force() -> None:
    fam = GraphShortestPath()
    it = item(fam, 3)
    f = it.problem.facts
    n, edges = f["n"], f["edges"]
    # Floyd-Warshall as an independent check of Dijkstra.
    d = [[0 if i == j else float("inf") for j in range(n)] for i in range(n)]
    for a, b, w in edges:
        d[a][b] = d[b][a] = min(d[a][b], w)
    for k in range(n):
        for i in range(n):
            for j in range(n):
                d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    assert d[f["s"]][f["t"]] == int(it.problem.answer) == distances(n, edges, f["s"])[f["t"]]


def test_reachability() -> None:
    assert reachable(4, [(0, 1), (1, 2), (3, 0)], 0) == {1, 2}
    assert reachable(3, [(0, 1), (1, 0)], 0) == {1}


def test_program_trace_interpreter() -> None:
    env: dict[str, int] = {}
    prog = [("set", "a", ("c", 2)), ("for", 3, [("set", "a", ("+", ("v", "a"), ("v", "i")))], "i"),
            ("if", ("a", ">", 4), [("set", "b", ("c", 1))], [("set", "b", ("c", 0))])]
    run(prog, env)
    assert env["a"] == 5 and env["b"] == 1


def test_program_trace_dead_code_keeps_answer() -> None:
    fam = ProgramTrace()
    plain, perturbed = item(fam, 8, 0), item(fam, 8, 2)
    assert "unused_" in perturbed.prompt and plain.problem.answer == perturbed.problem.answer


def test_instruction_constraints() -> None:
    assert check(("words", 3), "one two three")
    assert not check(("words", 3), "one two")
    assert check(("include", "moon"), "the Moon rises")
    assert not check(("forbid", "e"), "tree")
    assert check(("start", "blue"), "Blue sky")
    assert check(("end", "owl"), "an owl")
    assert not check(("lower", ""), "Hello")
    assert check(("maxlen", 4), "tiny word")


def test_instruction_partial_credit() -> None:
    fam = InstructionFollowing()
    it = item(fam, 6)
    n = len(it.problem.facts["constraints"])
    words = it.problem.answer.split()
    # Dropping the last word breaks the word count and the last-word rule only.
    verdict = fam.score(it, "Answer: " + " ".join(words[:-1]))
    assert 0.0 < verdict.score < 1.0
    assert verdict.score == pytest.approx((n - 2) / n)
    assert verdict.canonical is not None and verdict.canonical.count("0") == 2


def test_json_partial_credit_and_extra_keys() -> None:
    fam = JsonOutput()
    it = item(fam, 4)
    obj = json.loads(it.problem.answer)
    wrong = {**obj, "name": obj["name"] + "x"}
    assert fam.score(it, json.dumps(wrong)).score == pytest.approx((len(obj) - 1) / len(obj))
    extra = {**obj, "colour": "red"}
    assert fam.score(it, json.dumps(extra)).score == pytest.approx(len(obj) / (len(obj) + 1))
    assert fam.score(it, "no json here").score == 0.0


def test_json_booleans_are_not_numbers() -> None:
    fam = JsonOutput()
    it = item(fam, 4)
    obj = json.loads(it.problem.answer)
    flipped = {**obj, "in_stock": int(obj["in_stock"])}
    assert fam.score(it, json.dumps(flipped)).score < 1.0


def test_needle_chain_facts_are_in_the_prompt() -> None:
    fam = builtin_registry().get("needle_retrieval")
    for difficulty, hops in ((3, 1), (7, 2), (10, 3)):
        it = item(fam, difficulty)
        assert len(it.problem.facts["chain"]) == hops
        assert all(fact in it.prompt for fact in it.problem.facts["chain"])


def test_comprehension_accepts_article() -> None:
    fam = builtin_registry().get("reading_comprehension")
    it = item(fam, 6)
    assert fam.score(it, f"Answer: The {it.problem.answer}.").score == 1.0
    other = next(c.name for c in it.problem.facts["world"] if c.name != it.problem.answer)
    assert fam.score(it, f"Answer: The {it.problem.answer} and the {other}").score == 0.0
    assert fam.score(it, f"Answer: {other}").score == 0.0


def test_composition_chains_arithmetic_into_dates() -> None:
    fam = Composition()
    it = item(fam, 3)
    f = it.problem.facts
    assert f["expr"] in it.prompt
    end = f["start"] + dt.timedelta(days=f["offset"])
    assert it.problem.answer == end.isoformat()


def test_families_use_only_their_rng() -> None:
    # Reseeding the global random module must not change any item.
    fam = builtin_registry().get("word_problem")
    random.seed(1)
    a = item(fam, 7, 2)
    random.seed(2)
    b = item(fam, 7, 2)
    assert a.prompt == b.prompt


def _solve(rows: list[list[Fraction]]) -> list[Fraction]:
    """Gauss-Jordan elimination on an augmented matrix (independent of the generator)."""
    n = len(rows)
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def test_linear_equation_answer_solves_the_system() -> None:
    fam = builtin_registry().get("linear_equation")
    for difficulty in (1, 2, 3, 4, 5, 7, 8, 9, 10):
        it = item(fam, difficulty)
        eqs, n = it.problem.facts["eqs"], it.problem.facts["n"]
        rows = []
        for lc, lk, rc, rk in eqs:
            coefs = [Fraction(lc[k] if k < len(lc) else 0) - Fraction(rc[k] if k < len(rc) else 0)
                     for k in range(n)]
            rows.append([*coefs, Fraction(rk - lk)])
        sol = _solve(rows)
        expected = sol[0] + sol[1] if it.problem.facts["ask"] == "x + y" else sol[0]
        assert expected == Fraction(int(it.problem.answer)), difficulty


def test_linear_equation_brackets() -> None:
    fam = builtin_registry().get("linear_equation")
    it = item(fam, 6)
    a, b, c, d = it.problem.facts["bracket"]
    x = int(it.problem.answer)
    assert a * (x + b) == c * x + d


def test_sequence_rules() -> None:
    fam = builtin_registry().get("sequence_induction")
    first = item(fam, 1)
    shown = first.problem.facts["shown"]
    step = shown[1] - shown[0]
    assert all(b - a == step for a, b in itertools.pairwise(shown))
    assert int(first.problem.answer) == shown[-1] + step
    fib = item(fam, 6)
    s = [*fib.problem.facts["shown"], int(fib.problem.answer)]
    assert all(s[i] == s[i - 1] + s[i - 2] for i in range(2, len(s)))
