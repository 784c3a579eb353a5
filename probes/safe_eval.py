"""A safe evaluator for template answer expressions: a tiny whitelisted AST, never ``eval()``.

Allowed: int/float/str/bool constants, variable names, + - * / // % ** (bounded), unary - + not,
comparisons, and/or, ``a if c else b``, string indexing and slicing, and calls of the functions
in ``FUNCTIONS`` by plain name. Nothing else parses: no attributes, no comprehensions, no
lambdas, no keyword arguments. Sizes are bounded so an expression cannot eat memory or time.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from probes.errors import ExpressionError

MAX_SOURCE = 500
MAX_NODES = 200
MAX_STRING = 10_000
MAX_EXPONENT = 64
MAX_INT_DIGITS = 1000

Value = int | float | str | bool


def _reverse(s: str) -> str:
    return s[::-1]


def _replace(s: str, old: str, new: str) -> str:
    return s.replace(old, new)


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "min": min, "max": max, "abs": abs, "round": round, "len": len, "str": str, "int": int,
    "float": float, "upper": str.upper, "lower": str.lower, "title": str.title, "reverse": _reverse,
    "replace": _replace, "strip": str.strip,
}
_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd,
    ast.Not, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.IfExp, ast.Call, ast.Subscript, ast.Slice,
    *_BINOPS, *_CMPS,
)


class Expression:
    """A parsed, whitelisted expression; ``evaluate(variables)`` computes it."""

    def __init__(self, source: str) -> None:
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntax error: {exc.msg}") from None
        nodes = list(ast.walk(tree))
        if len(nodes) > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts")
        for node in nodes:
            if not isinstance(node, _ALLOWED):
                raise ExpressionError(f"{type(node).__name__} is not allowed")
            if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
                raise ExpressionError(f"constant {node.value!r} is not allowed")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                    raise ExpressionError("only calls of " + ", ".join(sorted(FUNCTIONS)) + " are allowed")
                if node.keywords:
                    raise ExpressionError("keyword arguments are not allowed")
        self.source = source
        self._body = tree.body
        self.names = sorted({n.id for n in nodes if isinstance(n, ast.Name)} - set(FUNCTIONS))

    def evaluate(self, variables: Mapping[str, Value]) -> Value:
        """The expression's value with these variables; ExpressionError on any failure."""
        try:
            value = _eval(self._body, variables)
        except ExpressionError:
            raise
        except (ArithmeticError, TypeError, ValueError, IndexError) as exc:
            raise ExpressionError(f"{self.source!r}: {type(exc).__name__}: {exc}") from None
        if not isinstance(value, int | float | str | bool):
            raise ExpressionError(f"{self.source!r} gave a {type(value).__name__}, not a number or string")
        return value


def _check_size(v: Any) -> Any:
    if isinstance(v, str) and len(v) > MAX_STRING:
        raise ExpressionError(f"string result longer than {MAX_STRING}")
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_DIGITS * 3.33:
        raise ExpressionError(f"integer result longer than {MAX_INT_DIGITS} digits")
    return v


def _eval(node: ast.expr, env: Mapping[str, Value]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ExpressionError(f"unknown variable {node.id!r}")
        return env[node.id]
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Pow) and isinstance(b, int | float) and abs(b) > MAX_EXPONENT:
            raise ExpressionError(f"exponent above {MAX_EXPONENT}")
        if isinstance(node.op, ast.Mult) and (isinstance(a, str) or isinstance(b, str)):
            count = b if isinstance(a, str) else a
            text = a if isinstance(a, str) else b
            if isinstance(count, int) and count * len(text) > MAX_STRING:
                raise ExpressionError(f"string result longer than {MAX_STRING}")
        return _check_size(_BINOPS[type(node.op)](a, b))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not v
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if not _CMPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        values = node.values
        if isinstance(node.op, ast.And):
            result: Any = True
            for v in values:
                result = _eval(v, env)
                if not result:
                    return result
            return result
        result = False
        for v in values:
            result = _eval(v, env)
            if result:
                return result
        return result
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env) else node.orelse, env)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):  # rejected at parse time already
            raise ExpressionError("only plain function names can be called")
        args = [_eval(a, env) for a in node.args]
        return _check_size(FUNCTIONS[node.func.id](*args))
    if isinstance(node, ast.Subscript):
        target = _eval(node.value, env)
        if not isinstance(target, str):
            raise ExpressionError("only strings can be indexed")
        if isinstance(node.slice, ast.Slice):
            parts = [None if p is None else _eval(p, env) for p in (node.slice.lower, node.slice.upper,
                                                                      node.slice.step)]
            return target[slice(*parts)]
        return target[_eval(node.slice, env)]
    raise ExpressionError(f"{type(node).__name__} is not allowed")
