"""The JSONL writer's typed union of what it wrote: typed per column where the Arrow type allows, it is the
union :func:`gristmill.io.schema.merge_rows` gives over the records themselves, fields in the same order."""

import json
import random

import orjson
import pyarrow as pa

from gristmill.io import schema as ty
from gristmill.io.writers import RecordWriter, _merge_type, _records


def _ordered(t):
    """The type with its field order made visible (dict equality ignores order)."""
    if isinstance(t, dict):
        return [(k, _ordered(v)) for k, v in t.items()]
    return t


def _table(rng: random.Random, n: int) -> pa.Table:
    metas = []
    for _ in range(n):
        fields = {k: v for k, v in (("url", "https://x.org"), ("score", rng.choice([1, 2.5, None])),
                                    ("tags", ["a"]), ("n_chars", 3), ("extra", {"k": 1}))
                  if rng.random() < 0.5}
        metas.append(orjson.dumps(fields) if fields else None)
    cols = {"id": pa.array([f"d{i}" for i in range(n)]), "text": pa.array(["text"] * n),
            "meta": pa.array(metas, pa.string())}
    nulls = rng.choice([0.0, 0.3, 1.0])
    cols["n_chars"] = pa.array([None if rng.random() < nulls else rng.randrange(9) for _ in range(n)], pa.int64())
    cols["ratio"] = pa.array([None if rng.random() < nulls else rng.random() for _ in range(n)], pa.float64())
    cols["lang"] = pa.array([rng.choice(["en", "zh", None]) for _ in range(n)], pa.string())
    cols["flag"] = pa.array([rng.random() < 0.5 for _ in range(n)], pa.bool_())
    if rng.random() < 0.3:
        cols["spans"] = pa.array([[1, 2]] * n, pa.list_(pa.int64()))  # not one JSON type per column: per record
    return pa.table(cols)


def test_column_types_equal_the_record_union():
    rng = random.Random(7)
    for _ in range(300):
        acc = rng.choice(["null", {"struct": {"id": "string", "later": "int"}}, "int"])
        table = _table(rng, rng.randrange(1, 12))
        recs, heads = _records(table, "text", "id")
        expected = ty.merge_rows(acc, [dict(r) for r in recs])
        assert _ordered(_merge_type(acc, recs, heads, table)) == _ordered(expected)


def test_writer_records_the_union(tmp_path):
    table = pa.table({"id": ["a", "b", "c"], "text": ["x", "y", "z"],
                      "meta": [None, '{"url":"u"}', '{"n":1}'], "score": pa.array([None, 0.5, None]),
                      "lang": ["en", None, "zh"]})
    w = RecordWriter(str(tmp_path / "out.jsonl"))
    w.write(table)
    w.close()
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert list(rows[1]) == ["id", "text", "url", "score", "lang"]
    assert _ordered(w.type) == _ordered(ty.merge_rows("null", rows))
    assert w.type == {"struct": {"id": "string", "text": "string", "score": "float", "lang": "string",
                                 "url": "string", "n": "int"}}
