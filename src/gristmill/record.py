"""The batch schema and the helpers every reader, writer and step shares.

A batch is an Arrow table with ``id`` (string), ``text`` (string) and, for JSON inputs, ``meta``: the
rest of the input record as JSON text, so every input field survives unchanged whatever its type.
Steps add signal columns beside them (``lang``, ``lang_score`` …).

>>> rec = {"doc": {"body": "hi", "n": 1}, "url": "u"}
>>> pop_path(rec, "doc.body"), rec
('hi', {'doc': {'n': 1}, 'url': 'u'})
>>> set_path(rec, "doc.body", "hi"); rec
{'doc': {'n': 1, 'body': 'hi'}, 'url': 'u'}
"""

from __future__ import annotations

from typing import Any

CORE = ("id", "text", "meta")
REJECT_COLUMNS = ("rejected_by", "reason", "detail")
_MISSING = object()


def pop_path(rec: dict, path: str, default: Any = _MISSING) -> Any:
    """Remove and return the value at a dotted path (``a.b.c``); ``default`` (or KeyError) if absent."""
    parts = path.split(".")
    node = rec
    for p in parts[:-1]:
        node = node.get(p) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            if default is _MISSING:
                raise KeyError(path)
            return default
    if parts[-1] not in node:
        if default is _MISSING:
            raise KeyError(path)
        return default
    return node.pop(parts[-1])


def set_path(rec: dict, path: str, value: Any) -> None:
    """Set the value at a dotted path, creating intermediate objects."""
    parts = path.split(".")
    node = rec
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = node[p] = {}
        node = nxt
    node[parts[-1]] = value


def derived_id(source: str, position: int) -> str:
    """A stable id from the source file (relative name) and the record's byte offset or row number."""
    return f"{source}:{position}"


def meta_column(table, path: str):
    """A column for a field that lives inside ``meta`` (the input record's other fields), as an Arrow array.

    Raises KeyError when the table has no ``meta`` column; rows without the field get null.
    """
    import orjson
    import pyarrow as pa

    if "meta" not in table.column_names:
        raise KeyError(path)
    values = []
    for m in table.column("meta").to_pylist():
        v = None
        if m:
            node = orjson.loads(m)
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            v = node
        values.append(v)
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
