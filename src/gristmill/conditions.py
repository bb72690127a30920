"""The condition a row failed, written the way a reader would say it: the negation of a filter rule, with
comparisons flipped and De Morgan applied, and a language guard (``not (lang == 'zh') or …``) dropped when
the row is of that language (the rule's name already says so).

>>> failed("not (lang == 'zh') or (n_chars >= 200)")
'n_chars < 200'
>>> failed("gq_words >= 50 and gq_words <= 100000")
'gq_words < 50 or gq_words > 100000'
>>> failed("lang in ['en', 'zh']")
"lang not in ['en', 'zh']"
>>> failed("len(text) >= 200 or (lang == 'zh' and len(text) >= 80)")
"len(text) < 200 and (lang != 'zh' or len(text) < 80)"
"""

from __future__ import annotations

import ast

_FLIP = {ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
MAX_SOURCE = 2000  # longer rules are shown as "not (…)" unchanged


def _is_lang_guard(node: ast.AST) -> bool:
    """``not (lang == 'xx')`` or ``lang != 'xx'``: true for rows of other languages."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
        return (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "lang"
                and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq))
    return (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "lang"
            and len(node.ops) == 1 and isinstance(node.ops[0], ast.NotEq))


def negate(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return node.operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
        return ast.Compare(node.left, [_FLIP[type(node.ops[0])]()], node.comparators)
    if isinstance(node, ast.BoolOp):
        values = [v for v in node.values if not (isinstance(node.op, ast.Or) and _is_lang_guard(v))]
        neg = [negate(v) for v in values]
        if len(neg) == 1:
            return neg[0]
        return ast.BoolOp(ast.And() if isinstance(node.op, ast.Or) else ast.Or(), neg)
    return ast.UnaryOp(ast.Not(), node)


def failed(source: str) -> str:
    """The condition that holds for a row that fails the rule ``source``."""
    if len(source) > MAX_SOURCE:
        return f"not ({source[:200]}…)"
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return f"not ({source})"
    try:
        return ast.unparse(negate(tree.body))
    except (ValueError, RecursionError):
        return f"not ({source})"
