"""The thresholds a recipe applies, read from its ``filter`` rules and ``langid.min_score``.

A rule like ``not (lang == 'en') or (gq_words >= 50)`` yields ``gq_words >= 50`` for ``en``; the report draws
each threshold on its signal's histogram.

>>> recipe = {"steps": [{"step": "filter", "preset": [], "keep": "len(text) > 5",
...                      "rules": {"zh:short": "not (lang == 'zh') or (zh_chars >= 200)"}}]}
>>> thresholds(recipe)
[{'signal': 'zh_chars', 'op': '>=', 'value': 200.0, 'rule': 'zh:short', 'lang': 'zh', 'step': 'filter'}]
"""

from __future__ import annotations

import ast

_OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _number(node) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand)
        return -v if v is not None else None
    return None


def rule_thresholds(source: str) -> list[tuple[str, str, float]]:
    """``(column, op, value)`` for every comparison of a column with a number in an expression."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 or type(node.ops[0]) not in _OPS:
            continue
        left, right, op = node.left, node.comparators[0], _OPS[type(node.ops[0])]
        if isinstance(left, ast.Name) and _number(right) is not None:
            out.append((left.id, op, _number(right)))
        elif isinstance(right, ast.Name) and _number(left) is not None:
            out.append((right.id, _FLIP[op], _number(left)))
    return out


def thresholds(recipe: dict) -> list[dict]:
    """Every numeric threshold of a recipe (as stored in a manifest), with its rule name and language."""
    from gristmill.presets import load_preset

    out = []
    for s in recipe.get("steps", []):
        if s.get("step") == "langid" and s.get("min_score"):
            out.append({"signal": "lang_score", "op": ">=", "value": float(s["min_score"]), "rule": "min_score",
                        "lang": None, "step": s.get("name", "langid")})
        if s.get("step") != "filter":
            continue
        rules: dict[str, str | None] = {}
        for name in s.get("preset") or []:
            rules.update(load_preset(name))
        if s.get("keep"):
            rules["keep"] = s["keep"]
        rules.update(s.get("rules") or {})
        for name, src in rules.items():
            if not src:
                continue
            lang = name.split(":", 1)[0] if ":" in name and len(name.split(":", 1)[0]) <= 5 else None
            for col, op, v in rule_thresholds(src):
                out.append({"signal": col, "op": op, "value": v, "rule": name,
                            "lang": lang if lang not in ("other",) else None, "step": s.get("name", "filter")})
    return out


def rule_sources(recipe: dict) -> dict[str, str]:
    """``{rule name: expression}`` of every filter rule of a recipe (presets expanded; a later name wins)."""
    from gristmill.presets import load_preset

    out: dict[str, str] = {}
    for s in recipe.get("steps", []):
        if s.get("step") != "filter":
            continue
        for name in s.get("preset") or []:
            out.update({k: v for k, v in load_preset(name).items() if v})
        if s.get("keep"):
            out["keep"] = s["keep"]
        out.update({k: v for k, v in (s.get("rules") or {}).items() if v})
    return out
