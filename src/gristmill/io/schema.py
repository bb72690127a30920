"""The typed union of the records one output holds, so every shard of it reads with one schema.

A *type* is JSON data: ``"null" | "bool" | "int" | "float" | "string"``, ``{"list": T}`` or
``{"struct": {name: T}}``. :func:`merge` widens two types (``int`` + ``float`` → ``float``, a struct gains
the other's fields, ``null`` gives way to anything); types that cannot share a column (a number in one
source, text or an object in another) become ``"json"``: the value's JSON text in a string column, so no
value is dropped and none changes kind silently.

>>> t = merge(of_value({"a": 1, "b": None}), of_value({"a": 2.5, "c": ["x"]}))
>>> t
{'struct': {'a': 'float', 'b': 'null', 'c': {'list': 'string'}}}
>>> str(arrow_type(t))
'struct<a: double, b: string, c: list<item: string>>'
>>> merge("int", "string")
'json'
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

Type = Any  # str | {"list": Type} | {"struct": {str: Type}}

_SCALAR = {type(None): "null", bool: "bool", int: "int", float: "float", str: "string"}
MAX_FIELDS = 4096  # a struct wider than this (keys that are data, not names) is kept as JSON text


def of_value(v: Any) -> Type:
    """The type of one JSON value."""
    t = _SCALAR.get(type(v))
    if t is not None:
        return t
    if isinstance(v, dict):
        if len(v) > MAX_FIELDS:
            return "json"
        return {"struct": {str(k): of_value(x) for k, x in v.items()}}
    if isinstance(v, list | tuple):
        item: Type = "null"
        for x in v:
            item = merge(item, of_value(x))
        return {"list": item}
    return "string"  # numpy scalars and the like are written with str()


def merge(a: Type, b: Type) -> Type:
    """The narrowest type that holds values of both ``a`` and ``b``."""
    if a == b:
        return a
    if a == "null":
        return b
    if b == "null":
        return a
    if isinstance(a, str) and isinstance(b, str):
        return "float" if {a, b} == {"int", "float"} else "json"
    if isinstance(a, dict) and isinstance(b, dict):
        if "struct" in a and "struct" in b:
            fields = dict(a["struct"])
            for k, t in b["struct"].items():
                fields[k] = merge(fields[k], t) if k in fields else t
            return "json" if len(fields) > MAX_FIELDS else {"struct": fields}
        if "list" in a and "list" in b:
            return {"list": merge(a["list"], b["list"])}
    return "json"


def merge_rows(acc: Type, rows: list[dict]) -> Type:
    """``acc`` widened by the top-level type of every row (a struct of its fields)."""
    if acc != "null" and not (isinstance(acc, dict) and "struct" in acc):
        for r in rows:
            acc = merge(acc, {"struct": {k: of_value(v) for k, v in r.items()}})
        return acc
    fields = dict(acc["struct"]) if acc != "null" else {}
    get = _SCALAR.get
    for r in rows:
        for k, v in r.items():
            t = get(type(v))
            cur = fields.get(k)
            if t is not None and cur == t:
                continue
            if t is None:
                t = of_value(v)
            fields[k] = t if cur is None else merge(cur, t)
    return {"struct": fields} if rows or acc != "null" else acc


def of_arrow(t: pa.DataType) -> Type:
    """The type of an Arrow column."""
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"list": of_arrow(t.value_type)}
    if pa.types.is_struct(t):
        return {"struct": {f.name: of_arrow(f.type) for f in t}}
    return "string"


def arrow_type(t: Type) -> pa.DataType:
    """The Arrow type for ``t`` (a column of nulls only is a string column)."""
    if isinstance(t, dict):
        if "list" in t:
            return pa.list_(arrow_type(t["list"]))
        return pa.struct([pa.field(k, arrow_type(v)) for k, v in t["struct"].items()])
    return {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}.get(t, pa.string())


def conform(value: Any, t: Type) -> Any:
    """``value`` as a value of type ``t``: JSON text where ``t`` is ``json``, floats for a float column."""
    if value is None:
        return None
    if t == "json":
        return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    if t == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(t, dict):
        if "struct" in t and isinstance(value, dict):
            return {k: conform(value.get(k), ft) for k, ft in t["struct"].items()}
        if "list" in t and isinstance(value, list):
            return [conform(x, t["list"]) for x in value]
    return value


def needs_conform(t: Type) -> bool:
    """Whether values of this type may need :func:`conform` (JSON text, floats, nested types)."""
    return t not in ("null", "bool", "int", "string")


def feature_yaml(name: str, t: Type) -> dict:
    """One Hugging Face ``datasets`` feature, as the dataset card's ``dataset_info.features`` writes it."""
    if isinstance(t, dict):
        if "list" in t:
            inner = feature_yaml(name, t["list"])
            inner.pop("name")
            return {"name": name, "list": inner.get("dtype") or inner.get("struct") or inner}
        return {"name": name, "struct": [feature_yaml(k, v) for k, v in t["struct"].items()]}
    return {"name": name, "dtype": {"bool": "bool", "int": "int64", "float": "float64"}.get(t, "string")}
