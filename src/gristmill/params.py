"""Typed, documented step parameters and their validation against recipe values.

A step declares its parameters as a dataclass whose fields use :func:`param`:

>>> from dataclasses import dataclass
>>> @dataclass
... class P:
...     min_score: float = param(0.5, "lowest accepted score", min=0, max=1)
>>> validate_params(P, {"min_score": 0.9}, where=("r.yaml", {}, 1), key="steps[0]")
P(min_score=0.9)
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import MISSING, field
from typing import Any, Literal, Union, get_args, get_origin

from gristmill.errors import RecipeError
from gristmill.text.lang import Lang

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}


class Size(int):
    """A byte count written as ``64MB``, ``512 KiB`` or a plain integer."""

    @classmethod
    def parse(cls, v: object) -> Size:
        if isinstance(v, bool):
            raise ValueError("not a size")
        if isinstance(v, int):
            return cls(v)
        m = _SIZE.match(str(v))
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError("not a size")
        return cls(int(float(m.group(1)) * _UNITS[m.group(2).lower()]))


def param(default: Any = MISSING, doc: str = "", *, min: float | None = None, max: float | None = None,
          example: Any = MISSING) -> Any:
    """Declare a documented parameter (mutable defaults are copied per instance); ``example`` is a value
    shown in docs/recipes.md (default: the default value)."""
    meta = {"doc": doc, "min": min, "max": max}
    if example is not MISSING:
        meta["example"] = example
    if isinstance(default, list | dict):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def describe_type(tp: Any) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is Lang:
        return "a language code (ISO 639-1, e.g. en, zh)"
    if tp is Size:
        return "a size such as 64MB or 1048576"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return " or ".join(describe_type(a) for a in inner) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"a list, each {describe_type(args[0])}"
    if origin is dict:
        return f"a mapping of names to {describe_type(args[1])}"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, v: Any, meta: dict) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        if v is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(a, v, meta)
            except (ValueError, TypeError):
                continue
        raise ValueError
    if tp is Any:  # free-form options (storage_options): plain JSON-like data
        return _plain(v)
    if tp is bool:
        if isinstance(v, bool):
            return v
        raise ValueError
    if tp is int:
        if isinstance(v, int) and not isinstance(v, bool):
            return _bounded(v, meta)
        raise ValueError
    if tp is float:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return _bounded(float(v), meta)
        raise ValueError
    if tp is str:
        if isinstance(v, str):
            return v
        raise ValueError
    if tp is Lang:
        return Lang.parse(v)
    if tp is Size:
        return _bounded(Size.parse(v), meta)
    if origin is Literal:
        if v in args:
            return v
        raise ValueError
    if origin is list:
        if isinstance(v, str | int | float) and not isinstance(v, bool) and args[0] in (str, Lang):
            v = [v]
        if not isinstance(v, list):
            raise ValueError
        return [_convert(args[0], x, meta) for x in v]
    if origin is dict:
        if not isinstance(v, dict):
            raise ValueError
        return {str(k): _convert(args[1], x, meta) for k, x in v.items()}
    raise TypeError(f"unsupported parameter type {tp}")


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, str | int | float | bool):
        return v
    raise ValueError


def _bounded(v: float, meta: dict) -> float:
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError
    return v


def _expected(tp: Any, meta: dict) -> str:
    s = describe_type(tp)
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        s += f" between {lo} and {hi}"
    elif lo is not None:
        s += f" >= {lo}"
    elif hi is not None:
        s += f" <= {hi}"
    return s


def validate_params(cls: type, values: dict, *, where: tuple[str, dict, int | None], key: str,
                    errors: list[RecipeError] | None = None) -> Any:
    """Build ``cls`` from a recipe mapping, raising :class:`RecipeError` with file, line and key on error.

    ``where`` is ``(file, key_lines, mapping_line)``: the recipe file, a map of key -> line, and the
    line of the mapping itself (for missing keys). With ``errors`` (a list), every problem is appended to
    it instead of raised, and the result is None when there was any.
    """
    file, lines, line = where
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    found: list[RecipeError] = []
    for k, v in values.items():
        if k not in fields:
            close = difflib.get_close_matches(str(k), list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known parameters: " + ", ".join(fields)
            found.append(RecipeError(file, lines.get(k, line), f"{key}.{k}", "a known parameter", None, hint=hint))
            continue
        f = fields[k]
        try:
            kwargs[k] = _convert(hints[k], v, dict(f.metadata))
        except ValueError as e:
            msg = str(e) if str(e).startswith("unknown language") else None
            found.append(RecipeError(file, lines.get(k, line), f"{key}.{k}", _expected(hints[k], dict(f.metadata)),
                                     v, hint=msg))
    for name, f in fields.items():
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            found.append(RecipeError(file, line, f"{key}.{name}",
                                     f"this required parameter ({describe_type(hints[name])})"))
    if found:
        if errors is None:
            raise found[0]
        errors.extend(found)
        return None
    return cls(**kwargs)


def param_docs(cls: type) -> list[tuple[str, str, str, str]]:
    """(name, type, default, doc) for each parameter of a step, for ``gristmill steps``."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not MISSING:
            d = repr(f.default)
        elif f.default_factory is not MISSING:
            d = repr(f.default_factory())
        else:
            d = "(required)"
        out.append((f.name, describe_type(hints[f.name]), d, f.metadata.get("doc", "")))
    return out
