"""A small, safe expression language over columns, evaluated column-wise with Arrow compute.

No ``eval``: the expression is parsed with :mod:`ast` and only the nodes below are accepted, then walked.
Names are columns; constants are numbers, strings, true/false, null; lists are for ``in``.
Operators: ``== != < <= > >=``, ``in`` / ``not in``, ``and or not``, ``+ - * / %``; functions
``len(x)`` (characters), ``abs(x)``, ``lower(x)``, ``min(a, b)``, ``max(a, b)``.

Limits (environment settings, checked when the recipe loads): ``GRISTMILL_EXPR_MAX_CHARS`` (10,000
characters), ``GRISTMILL_EXPR_MAX_NODES`` (2,000 syntax nodes), ``GRISTMILL_EXPR_MAX_DEPTH`` (100 levels of
nesting), ``GRISTMILL_EXPR_MAX_CONST`` (1,000 characters per string constant); integers fit in 64 bits.

>>> import pyarrow as pa
>>> t = pa.table({"lang": ["en", "zh", "fr"], "lang_score": [0.9, 0.4, 0.99]})
>>> Expr("lang in ['en', 'zh'] and lang_score >= 0.5").evaluate(t).to_pylist()
[True, False, False]
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_NAMES = object()  # the memo's key for the table's column names

_CMP = {ast.Eq: "equal", ast.NotEq: "not_equal", ast.Lt: "less", ast.LtE: "less_equal",
        ast.Gt: "greater", ast.GtE: "greater_equal"}
_BIN = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Mod: None}
_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_FUNCS = {"len": 1, "abs": 1, "lower": 1, "min": 2, "max": 2}
ALLOWED = "comparisons (== != < <= > >= in, not in), and/or/not, + - * / %, len() abs() lower() min() max()"


def _as_bool(v):
    return pc.cast(v, pa.bool_()) if pa.types.is_null(v.type) else v


class ExprError(ValueError):
    """An expression outside the grammar, or one naming an unknown column."""


@dataclass(frozen=True)
class ExprLimits:
    max_chars: int = 10_000
    max_nodes: int = 2_000
    max_depth: int = 100
    max_const: int = 1_000

    @classmethod
    def from_env(cls) -> ExprLimits:
        def get(name: str, default: int) -> int:
            v = os.environ.get(f"GRISTMILL_EXPR_{name}", "")
            return int(v) if v.isdigit() else default

        d = cls()
        return cls(get("MAX_CHARS", d.max_chars), get("MAX_NODES", d.max_nodes), get("MAX_DEPTH", d.max_depth),
                   get("MAX_CONST", d.max_const))


def _q(source: str, limit: int = 200) -> str:
    """The expression quoted, at most ``limit`` characters of it."""
    return repr(source) if len(source) <= limit else repr(source[:limit]) + f"... ({len(source):,} characters)"


def _measure(root: ast.AST, lim: ExprLimits, source: str) -> None:
    """Node count, depth and constant sizes, walked without recursion (before the recursive checks)."""
    stack = [(root, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > lim.max_nodes:
            raise ExprError(f"expression has over {lim.max_nodes:,} parts (GRISTMILL_EXPR_MAX_NODES): {_q(source)}")
        if depth > lim.max_depth:
            raise ExprError(f"expression nests deeper than {lim.max_depth} levels (GRISTMILL_EXPR_MAX_DEPTH): "
                            f"{_q(source)}")
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str) and len(v) > lim.max_const:
                raise ExprError(f"a string constant of {len(v):,} characters, over {lim.max_const:,} "
                                f"(GRISTMILL_EXPR_MAX_CONST), in {_q(source)}")
            if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
                raise ExprError(f"integer constant {_q(str(v), 40)} does not fit in 64 bits, in {_q(source)}")
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node))


class Expr:
    """A parsed, checked expression. ``names`` lists the columns it reads."""

    def __init__(self, source: str, limits: ExprLimits | None = None) -> None:
        lim = limits or ExprLimits.from_env()
        if not isinstance(source, str):
            raise ExprError(f"an expression must be a string, got {type(source).__name__}")
        self.source = source
        if len(source) > lim.max_chars:
            raise ExprError(f"expression is {len(source):,} characters, over {lim.max_chars:,} "
                            f"(GRISTMILL_EXPR_MAX_CHARS): {_q(source)}")
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as e:
            raise ExprError(f"cannot parse expression {_q(source)}: {e.msg.split(';')[0][:200]}") from None
        except (ValueError, MemoryError, RecursionError) as e:   # e.g. an integer of over 4,300 digits
            msg = str(e).split(";")[0][:200] or type(e).__name__
            raise ExprError(f"cannot parse expression {_q(source)}: {msg}") from None
        _measure(tree.body, lim, source)
        self.names: set[str] = set()
        self._check(tree.body)
        self.tree = tree.body
        self._scalars: dict[int, pa.Scalar] = {}  # the constants as Arrow scalars, made once
        # comparisons of columns with constants (lang == 'en'): shared between expressions through a memo
        self._simple = {id(n): ("compare", ast.dump(n)) for n in ast.walk(tree.body) if isinstance(n, ast.Compare)
                        and all(isinstance(x, ast.Name | ast.Constant | ast.List | ast.Tuple)
                                for x in (n.left, *n.comparators))}

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp | ast.UnaryOp | ast.BinOp | ast.Compare):
            op_types = []
            if isinstance(node, ast.BoolOp | ast.UnaryOp | ast.BinOp):
                op_types = [type(node.op)]
            else:
                op_types = [type(o) for o in node.ops]
            ok = (ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.In, ast.NotIn, *_CMP, *_BIN)
            for t in op_types:
                if t not in ok:
                    raise ExprError(f"operator {t.__name__} is not allowed in {_q(self.source)}; allowed: {ALLOWED}")
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.operator | ast.boolop | ast.unaryop | ast.cmpop):
                    self._check(child)
        elif isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                self.names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool | type(None)):
                raise ExprError(f"constant {node.value!r} is not allowed in {_q(self.source)}")
        elif isinstance(node, ast.List | ast.Tuple):
            for e in node.elts:
                if not isinstance(e, ast.Constant):
                    raise ExprError(f"lists may hold only constants, in {_q(self.source)}")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS or node.keywords:
                raise ExprError(f"only the functions {', '.join(_FUNCS)} may be called, in {_q(self.source)}")
            if len(node.args) != _FUNCS[node.func.id]:
                raise ExprError(f"{node.func.id}() takes {_FUNCS[node.func.id]} argument(s), in {_q(self.source)}")
            for a in node.args:
                self._check(a)
        else:
            raise ExprError(f"{type(node).__name__} is not allowed in {_q(self.source)}; allowed: {ALLOWED}")

    def evaluate(self, table: pa.Table, resolve: Callable[[str], pa.Array] | None = None,
                 memo: dict | None = None) -> pa.Array:
        """A boolean array (nulls become false). ``resolve`` supplies names that are not columns. ``memo``,
        a dict shared by the expressions evaluated on one ``table``, keeps the columns they read and the
        comparisons of a column with constants (``lang == 'en'``) for the next expression."""
        memo = {} if memo is None else memo
        names = memo.get(_NAMES)
        if names is None:
            names = memo[_NAMES] = frozenset(table.column_names)

        def col(name: str):
            if name in names:
                return table.column(name)
            if resolve is not None:
                return resolve(name)
            raise ExprError(f"unknown column {name!r} in {_q(self.source)}; available: "
                            + ", ".join(table.column_names))

        try:
            out = self._eval(self.tree, col, memo)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
            msg = str(e).split("\n")[0].replace("Function ", "operation ").replace(" has no kernel matching",
                                                                                 " does not apply to")
            raise ExprError(f"cannot evaluate {_q(self.source)}: {msg}") from None
        if isinstance(out, pa.Scalar):
            out = pa.array([out.as_py()] * table.num_rows, pa.bool_())
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        if not pa.types.is_boolean(out.type):
            raise ExprError(f"expression {_q(self.source)} gives {out.type}, not true/false")
        return pc.fill_null(out, False)

    def _eval(self, node: ast.AST, col, memo: dict):
        if isinstance(node, ast.Constant):
            v = self._scalars.get(id(node))
            if v is None:
                v = self._scalars[id(node)] = pa.scalar(node.value)
            return v
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return pa.scalar(_CONSTANTS[node.id])
            key = ("column", node.id)
            if key not in memo:
                memo[key] = col(node.id)
            return memo[key]
        if isinstance(node, ast.Compare):
            key = self._simple.get(id(node))
            if key is None:
                return self._compare(node, col, memo)
            if key not in memo:
                memo[key] = self._compare(node, col, memo)
            return memo[key]
        if isinstance(node, ast.BoolOp):
            vals = [_as_bool(self._eval(v, col, memo)) for v in node.values]
            f = pc.and_kleene if isinstance(node.op, ast.And) else pc.or_kleene
            acc = vals[0]
            for v in vals[1:]:
                acc = f(acc, v)
            return acc
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, col, memo)
            if isinstance(node.op, ast.Not):
                return pc.invert(_as_bool(v))
            return pc.negate(v) if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = self._eval(node.left, col, memo), self._eval(node.right, col, memo)
            if isinstance(node.op, ast.Div):
                return pc.divide(pc.cast(a, pa.float64()), pc.cast(b, pa.float64()))
            if isinstance(node.op, ast.Mod):
                return pc.subtract(a, pc.multiply(pc.floor(pc.divide(pc.cast(a, pa.float64()), b)), b))
            return getattr(pc, _BIN[type(node.op)])(a, b)
        if isinstance(node, ast.Call):
            args = [self._eval(a, col, memo) for a in node.args]
            name = node.func.id
            if name == "len":
                return pc.utf8_length(args[0])
            if name == "abs":
                return pc.abs(args[0])
            if name == "lower":
                return pc.utf8_lower(args[0])
            return pc.min_element_wise(*args) if name == "min" else pc.max_element_wise(*args)
        raise ExprError(f"cannot evaluate {ast.dump(node)}")  # unreachable after _check

    def _compare(self, node: ast.Compare, col, memo: dict):
        left = self._eval(node.left, col, memo)
        acc = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right_node, ast.List | ast.Tuple):
                    raise ExprError(f"'in' needs a list of constants, in {_q(self.source)}")
                values = pa.array([e.value for e in right_node.elts])
                if isinstance(left, pa.Scalar):
                    left = pa.array([left.as_py()])
                r = pc.is_in(left, value_set=values)
                r = pc.invert(r) if isinstance(op, ast.NotIn) else r
                right = None
            else:
                right = self._eval(right_node, col, memo)
                r = getattr(pc, _CMP[type(op)])(left, right)
            acc = r if acc is None else pc.and_kleene(acc, r)
            left = right if right is not None else left
        return acc
