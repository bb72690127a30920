"""The JSONL writer's column-wise path (:func:`gristmill.io.writers._plain_lines`) writes the bytes and records the
type that the general path (:func:`gristmill.io.writers._records`, :func:`gristmill.io.schema.merge_rows`) gives,
whatever the table's shape; lines reach the file whole through short writes; ``text_column`` after
``with_text`` gives the same strings, as the caller's own list."""

import os
import random

import orjson
import pyarrow as pa
import pytest

from gristmill.contract import text_column, with_text
from gristmill.io import schema as ty
from gristmill.io import writers
from gristmill.io.writers import RecordWriter, jsonl_bytes, jsonl_records


def _ordered(t):
    if isinstance(t, dict):
        return [(k, _ordered(v)) for k, v in t.items()]
    return t


def _table(rng: random.Random, n: int) -> pa.Table:
    """Random shapes: input fields in ``meta`` (sometimes named as a column or the id), nulls, NaN, unicode,
    float32 and non-plain columns."""
    cols = {"id": pa.array([None if rng.random() < 0.05 else f"d{i}\u00e9" for i in range(n)], pa.string()),
            "text": pa.array([rng.choice(["x", "中文\n\"q\"", "tab\t\\", "\x01ctl", ""]) for _ in range(n)])}
    meta_kind = rng.choice(["none", "nulls", "some", "collide", "absent", "empty"])
    if meta_kind != "absent":
        metas = []
        for _ in range(n):
            if meta_kind == "nulls" or (meta_kind != "empty" and rng.random() < 0.4):
                metas.append(None)
                continue
            f = {k: v for k, v in (("url", "https://x.org"), ("score", rng.choice([1, 2.5, None])),
                                   ("tags", ["a", 1]), ("nested", {"k": rng.choice([1, "s"])}))
                 if rng.random() < 0.5}
            if meta_kind == "collide" and rng.random() < 0.3:
                f[rng.choice(["lang", "id", "text", "ratio"])] = 7
            metas.append("" if meta_kind == "empty" and rng.random() < 0.5 else orjson.dumps(f).decode())
        cols["meta"] = pa.array(metas, pa.string())
    nulls = rng.choice([0.0, 0.3, 1.0])
    cols["n"] = pa.array([None if rng.random() < nulls else rng.randrange(-9, 9) for _ in range(n)], pa.int64())
    cols["ratio"] = pa.array([None if rng.random() < nulls else rng.choice([0.1, 1e17, float("nan"), -0.0, 1 / 3])
                              for _ in range(n)], pa.float64())
    cols["lang"] = pa.array([rng.choice(["en", "zh", None]) for _ in range(n)], pa.string())
    cols["flag"] = pa.array([rng.random() < 0.5 for _ in range(n)], pa.bool_())
    if rng.random() < 0.3:
        cols["f32"] = pa.array([rng.random() for _ in range(n)], pa.float32())
    if rng.random() < 0.2:
        cols["spans"] = pa.array([[1, 2]] * n, pa.list_(pa.int64()))  # typed per record
    if rng.random() < 0.1:
        cols["i8"] = pa.array([1] * n, pa.int8())
    if rng.random() < 0.3:
        cols['50%s "q" \u4e2d\\'] = pa.array([rng.choice([-1.5, 2.0, None]) for _ in range(n)], pa.float64())
    if rng.random() < 0.3:
        cols["i32"] = pa.array([rng.choice([None, 3]) if nulls else 3 for _ in range(n)], pa.int32())
        cols["ls"] = pa.array([rng.choice(["a\"b", None, "中"]) for _ in range(n)], pa.large_string())
    if rng.random() < 0.2:
        cols["big"] = pa.array([rng.choice([2**62, -(2**63), 0]) for _ in range(n)], pa.int64())
    return pa.table(cols)


@pytest.mark.parametrize("fields", [("text", "id"), ("body", "doc_id"), ("a.b", "id"), ("text", "m.id"),
                                    ("", "id"), ("lang", "id"), ("text", "lang"), ("x", "x")])
def test_writer_bytes_and_type_equal_the_general_path(tmp_path, monkeypatch, fields):
    text_field, id_field = fields
    monkeypatch.setattr(writers, "SLICE_ROWS", 4)  # several slices per table
    rng = random.Random(hash(fields) & 0xFFFF)
    for k in range(40):
        tables = [_table(rng, rng.randrange(1, 11)) for _ in range(rng.randrange(1, 4))]
        path = str(tmp_path / f"{k}.jsonl")
        w = RecordWriter(path, text_field=text_field, id_field=id_field)
        acc, expected = "null", b""
        for t in tables:
            try:
                ref = jsonl_bytes(t, text_field, id_field)
            except Exception as e:  # the general path refuses this shape: so does the writer
                with pytest.raises(type(e)):
                    w.write(t)
                break
            expected += ref
            acc = ty.merge_rows(acc, jsonl_records(t, text_field, id_field))
            w.write(t)
        else:
            w.close()
            assert (tmp_path / f"{k}.jsonl").read_bytes() == expected
            assert _ordered(w.type) == _ordered(acc)
            continue
        w.abort()


def test_short_writes_lose_nothing(tmp_path, monkeypatch):
    real = os.writev

    def short(fd, bufs):  # at most 7 bytes a call, often stopping inside a line
        data = b"".join(bytes(b) for b in bufs)[:7]
        return real(fd, [data])

    monkeypatch.setattr(writers.os, "writev", short)
    table = pa.table({"id": ["a", "b", "c"], "text": ["中文" * 5, "", "x\ny"], "score": [1.5, None, 2.0]})
    w = RecordWriter(str(tmp_path / "out.jsonl"))
    w.write(table)
    w.close()
    assert (tmp_path / "out.jsonl").read_bytes() == jsonl_bytes(table)


def test_text_column_after_with_text():
    table = pa.table({"id": ["a", "b", "c"], "text": ["1", "2", "3"]})
    texts = ["一", "two", "三"]
    out = with_text(table, texts)
    texts[0] = "changed by the step afterwards"
    got = text_column(out)
    assert got == ["一", "two", "三"] == out.column("text").to_pylist()
    got[1] = "changed by the caller"
    assert text_column(out) == ["一", "two", "三"]
    assert text_column(out.slice(1)) == ["two", "三"]           # a slice is converted, not taken from the list
    assert text_column(out.filter(pa.array([True, False, True]))) == ["一", "三"]
    assert text_column(table) == ["1", "2", "3"]


def test_unify_rewrites_through_a_buffered_file(tmp_path, monkeypatch):
    # the writer hands whole batches to an unbuffered file; unify's record-by-record rewrite keeps the buffer
    # (one write call per record on an unbuffered file) and loses nothing
    from gristmill.io import unify

    src = tmp_path / "part.jsonl"
    src.write_bytes(b"".join(orjson.dumps({"id": str(i), "text": f"t{i}"}) + b"\n" for i in range(1000)))
    opened = []
    real = writers._open_text_sink

    def spy(*a, **kw):
        f = real(*a, **kw)
        opened.append(f)
        return f

    monkeypatch.setattr(unify, "_open_text_sink", spy)
    unify._rewrite_jsonl(str(src), {"struct": {"id": "string", "text": "string", "extra": "string"}})
    assert opened and all(hasattr(f, "raw") for f in opened)  # io.BufferedWriter, not a bare FileIO
    rows = [orjson.loads(line) for line in src.read_bytes().splitlines()]
    assert len(rows) == 1000 and rows[999] == {"id": "999", "text": "t999", "extra": None}
    sink = writers._open_text_sink(str(tmp_path / "w.jsonl"), "none", unbuffered=True)
    assert not hasattr(sink, "raw")
    sink.close()
