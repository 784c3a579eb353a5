"""A safe evaluator for template expressions: a tiny whitelisted AST, never ``eval()``.

Allowed: int/float/str/bool constants, variable names, + - * / // % **, unary - + not,
comparisons, and/or, ``a if c else b``, string indexing and slicing, and calls of the functions
in ``FUNCTIONS`` by plain name. Nothing else parses: no attributes, no comprehensions, no
lambdas, no keyword arguments, no containers (so every value is a scalar: int, float, str, bool).

Cost is bounded for every input, and every bound is checked on the operands *before* the
operation runs (a result is never built and then measured):

* sizes: integers at most ``MAX_INT_DIGITS`` digits (a product, power or conversion that would
  be longer is refused from its operands' bit lengths), strings at most ``MAX_STRING`` characters
  (``+``, ``*``, ``replace`` and ``%`` formatting compute the result's length first), ``round``
  digits at most ``MAX_INT_DIGITS``, ``%`` widths and precisions at most ``MAX_FORMAT_WIDTH``,
  floats finite; variables are checked against the same bounds when read;
* work: each evaluation has a budget of ``MAX_COST`` units, one unit being about one character
  or digit touched (a node visit costs 1, string operations their lengths, big-integer products
  and conversions the product of their sizes in 30-bit limbs); past the budget evaluation stops
  with ``ExpressionError``. With ``MAX_NODES`` parts per expression, one evaluation touches at
  most about a million characters: a few milliseconds of CPU (the adversarial tests in
  ``tests/probes/test_safe_eval_bounds.py`` measure it), so a template item never stalls the
  event loop whatever its expression or its variables' draws.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from probes.errors import ExpressionError

MAX_SOURCE = 500
MAX_NODES = 200
MAX_STRING = 10_000
MAX_INT_DIGITS = 1000
#: Bits of the largest allowed integer (10**MAX_INT_DIGITS needs this many).
MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
#: Largest width or precision in a ``%`` format ('%8.2f' yes, '%100000000d' no).
MAX_FORMAT_WIDTH = 100
#: Work units (about one character or digit touched) one evaluation may spend.
MAX_COST = 1_000_000

Value = int | float | str | bool

# A printf-style conversion: flags, width, precision, length modifier, conversion character.
_FORMAT_SPEC = re.compile(r"%(\([^)]*\))?([#0\- +]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)


def _reverse(s: str) -> str:
    return s[::-1]


def _replace(s: str, old: str, new: str) -> str:
    return s.replace(old, new)


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "min": min, "max": max, "abs": abs, "round": round, "len": len, "str": str, "int": int,
    "float": float, "upper": str.upper, "lower": str.lower, "title": str.title, "reverse": _reverse,
    "replace": _replace, "strip": str.strip,
}
#: How many arguments each function takes (inclusive range).
_ARITY: dict[str, tuple[int, int]] = {
    "min": (1, 20), "max": (1, 20), "abs": (1, 1), "round": (1, 2), "len": (1, 1), "str": (1, 1),
    "int": (1, 2), "float": (1, 1), "upper": (1, 1), "lower": (1, 1), "title": (1, 1),
    "reverse": (1, 1), "replace": (3, 3), "strip": (1, 2),
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
    """A parsed, whitelisted expression; ``evaluate(variables)`` computes it within a budget."""

    def __init__(self, source: str) -> None:
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
        try:
            tree = ast.parse(source, mode="eval")
        except (SyntaxError, RecursionError, MemoryError) as exc:
            raise ExpressionError(f"syntax error: {getattr(exc, 'msg', 'too deeply nested')}") from None
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
                lo, hi = _ARITY[node.func.id]
                if not lo <= len(node.args) <= hi:
                    raise ExpressionError(f"{node.func.id}() takes {lo}..{hi} arguments")
        self.source = source
        self._body = tree.body
        self.names = sorted({n.id for n in nodes if isinstance(n, ast.Name)} - set(FUNCTIONS))

    def evaluate(self, variables: Mapping[str, Value], *, budget: int = MAX_COST) -> Value:
        """The expression's value with these variables; ExpressionError on any failure.

        At most ``budget`` work units are spent (see the module docstring); past that the
        evaluation stops with ExpressionError.
        """
        run = _Run(variables, budget)
        try:
            value = _checked(run.walk(self._body))
        except ExpressionError as exc:
            raise ExpressionError(f"{self.source!r}: {exc}") from None
        except (ArithmeticError, TypeError, ValueError, IndexError) as exc:
            raise ExpressionError(f"{self.source!r}: {type(exc).__name__}: {exc}") from None
        except RecursionError:
            raise ExpressionError(f"{self.source!r}: nested too deeply") from None
        return value


# -- sizes and costs --------------------------------------------------------------------------------


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _limbs(n: int) -> int:
    """Size of an integer in CPython's 30-bit digits (the unit of big-integer work)."""
    return n.bit_length() // 30 + 1


def _size(v: Any) -> int:
    """Rough characters a value occupies (its cost to copy, compare or print)."""
    if isinstance(v, str):
        return len(v)
    if _is_int(v):
        return v.bit_length() // 3 + 1
    return 1


def _checked(v: object) -> Value:
    """A value that may enter or leave an operation: a bounded scalar."""
    t = type(v)
    if t is int:  # the common case first: this runs on every node
        if v.bit_length() > MAX_INT_BITS:  # type: ignore[attr-defined]
            raise ExpressionError(f"integer longer than {MAX_INT_DIGITS} digits")
        return v  # type: ignore[return-value]
    if t is str:
        if len(v) > MAX_STRING:  # type: ignore[arg-type]
            raise ExpressionError(f"string longer than {MAX_STRING} characters")
        return v  # type: ignore[return-value]
    if t is float:
        if not math.isfinite(v):  # type: ignore[arg-type]
            raise ExpressionError(f"{v} is not a finite number")
        return v  # type: ignore[return-value]
    if t is bool:
        return v  # type: ignore[return-value]
    raise ExpressionError(f"gave a {t.__name__}, not a number or string")


def _format_cost(fmt: str, arg: Any) -> int:
    """Refuse a ``%`` format whose output could be large; its output length bound otherwise."""
    total = len(fmt)
    for m in _FORMAT_SPEC.finditer(fmt):
        key, _flags, width, precision, conv = m.groups()
        if conv == "%" and not (key or width or precision):
            continue
        if key is not None:
            raise ExpressionError("'%(name)' formats are not allowed")
        for label, part in (("width", width), ("precision", precision)):
            if part == "*":
                raise ExpressionError(f"'*' {label} in a % format is not allowed")
            if part and (len(part) > 3 or int(part) > MAX_FORMAT_WIDTH):
                raise ExpressionError(f"% format {label} above {MAX_FORMAT_WIDTH}")
        # Width and precision pad; %f of a large float prints up to ~310 digits; %a/%r escape up
        # to 10 characters per character.
        total += 2 * MAX_FORMAT_WIDTH + 320 + (10 if conv in ("r", "a") else 1) * _size(arg)
    if total > MAX_STRING:
        raise ExpressionError(f"% format result could be longer than {MAX_STRING} characters")
    return total


class _Run:
    """One evaluation: the variables and the work budget left."""

    def __init__(self, env: Mapping[str, Value], budget: int) -> None:
        self.env = env
        self.budget = self.left = budget

    def charge(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise ExpressionError(f"evaluation budget of {self.budget} work units exceeded")

    def walk(self, node: ast.expr) -> Any:
        self.left -= 1
        if isinstance(node, ast.BinOp):
            a, b = self.walk(node.left), self.walk(node.right)
            bop = node.op
            if type(a) is int and type(b) is int and a.bit_length() < 60 and b.bit_length() < 60 \
                    and not isinstance(bop, ast.Pow):
                self.left -= 2  # machine-sized integers: the result is small whatever the operator
                return _BINOPS[type(bop)](a, b)
            self.charge(self.binop_cost(bop, a, b))
            return _checked(_BINOPS[type(bop)](a, b))
        if isinstance(node, ast.Name):
            if node.id not in self.env:
                raise ExpressionError(f"unknown variable {node.id!r}")
            return _checked(self.env[node.id])
        if isinstance(node, ast.Constant):
            return _checked(node.value)
        if isinstance(node, ast.UnaryOp):
            v = self.walk(node.operand)
            if isinstance(node.op, ast.Not):
                return not v
            self.charge(_size(v))
            return _checked(-v if isinstance(node.op, ast.USub) else +v)
        if isinstance(node, ast.Compare):
            left = self.walk(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.walk(comp)
                self.charge(_size(left) + _size(right))
                if not _CMPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BoolOp):
            result: Any = isinstance(node.op, ast.And)
            for v in node.values:
                result = self.walk(v)
                if bool(result) != isinstance(node.op, ast.And):
                    return result
            return result
        if isinstance(node, ast.IfExp):
            return self.walk(node.body if self.walk(node.test) else node.orelse)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):  # rejected at parse time already
                raise ExpressionError("only plain function names can be called")
            name = node.func.id
            args = [self.walk(a) for a in node.args]
            self.charge(self.call_cost(name, args))
            return _checked(FUNCTIONS[name](*args))
        if isinstance(node, ast.Subscript):
            target = self.walk(node.value)
            if not isinstance(target, str):
                raise ExpressionError("only strings can be indexed")
            if isinstance(node.slice, ast.Slice):
                parts = [None if p is None else self.walk(p)
                         for p in (node.slice.lower, node.slice.upper, node.slice.step)]
                self.charge(len(target))
                return target[slice(*parts)]
            return target[self.walk(node.slice)]
        raise ExpressionError(f"{type(node).__name__} is not allowed")

    @staticmethod
    def binop_cost(op: ast.operator, a: Any, b: Any) -> int:
        """Refuse an operation whose result would be too large; its work in units otherwise."""
        if isinstance(op, ast.Mult) and (isinstance(a, str) or isinstance(b, str)):
            text, count = (a, b) if isinstance(a, str) else (b, a)
            if isinstance(count, int) and max(count, 0) * len(text) > MAX_STRING:
                raise ExpressionError(f"string result longer than {MAX_STRING} characters")
            return max(count, 0) * len(text) if isinstance(count, int) else 1
        if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > MAX_STRING:
                raise ExpressionError(f"string result longer than {MAX_STRING} characters")
            return len(a) + len(b)
        if isinstance(op, ast.Mod) and isinstance(a, str):
            return _format_cost(a, b)
        if _is_int(a) and _is_int(b):
            if isinstance(op, ast.Mult):
                if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
                    raise ExpressionError(f"integer result longer than {MAX_INT_DIGITS} digits")
                return _limbs(a) * _limbs(b)
            if isinstance(op, ast.Pow):
                if b >= 0 and abs(a) > 1:
                    # |a| ** b has b * log2|a| bits: decided from the operands, never computed.
                    if b > MAX_INT_BITS or b * math.log2(abs(a)) > MAX_INT_BITS:
                        raise ExpressionError(f"integer result longer than {MAX_INT_DIGITS} digits")
                    return (a.bit_length() * b // 30 + 1) ** 2
                return _limbs(a) + _limbs(b) + 64  # |a| <= 1, or a float result
            if isinstance(op, ast.Div | ast.FloorDiv | ast.Mod):
                return _limbs(a) * _limbs(b)
        return _size(a) + _size(b)

    @staticmethod
    def call_cost(name: str, args: list[Any]) -> int:
        """Refuse a call whose result would be too large or slow; its work in units otherwise."""
        size = sum(_size(a) for a in args) + 1
        if name == "round" and len(args) == 2:
            ndigits = args[1]
            if not isinstance(ndigits, int) or abs(ndigits) > MAX_INT_DIGITS:
                raise ExpressionError(f"round() digits must be an integer within ±{MAX_INT_DIGITS}")
            return size + (abs(ndigits) // 9 + 1) ** 2 + (_limbs(args[0]) ** 2 if _is_int(args[0]) else 0)
        if name == "replace":
            s, old, new = args
            if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
                raise ExpressionError("replace() takes three strings")
            count = s.count(old) if old else len(s) + 1  # linear, and tells the result's length
            if len(s) + count * (len(new) - len(old)) > MAX_STRING:
                raise ExpressionError(f"replace() result longer than {MAX_STRING} characters")
            return size + count * len(new)
        if name == "strip" and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], str):
            return size + len(args[0]) * (len(args[1]) // 16 + 1)
        if name in ("int", "str") and args and _is_int(args[0]):
            return size + _limbs(args[0]) ** 2  # decimal conversion is quadratic
        if name == "int" and args and isinstance(args[0], str):
            base = args[1] if len(args) == 2 else 10
            if not isinstance(base, int) or not (base == 0 or 2 <= base <= 36):
                raise ExpressionError("int() base must be 0 or 2..36")
            # Each character adds at most log2(base) bits (a '0x' prefix with base 0: 4).
            if len(args[0]) * math.log2(max(base, 16 if base == 0 else 2)) > MAX_INT_BITS + 64:
                raise ExpressionError(f"int() of a string longer than {MAX_INT_DIGITS} digits")
            return size + (len(args[0]) // 9 + 1) ** 2
        if name in ("min", "max") and len(args) == 1:
            return 16 * size  # iterates a string's characters as Python objects
        if name in ("upper", "lower", "title"):
            return 3 * size  # case mapping may triple a string ('ﬃ' -> 'FFI')
        return size
