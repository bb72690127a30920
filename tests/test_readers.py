"""Readers on every format and every kind of bad input: nothing is lost, ids are stable."""

from __future__ import annotations

import gzip
import json

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from gristmill.io.paths import detect, plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from tests.conftest import read_jsonl, shared


def read_all(path, fmt="auto", shard_size=1 << 40, **opts):
    tables, quarantine, blank, problems = [], [], 0, []
    for sh in plan_shards([str(path)], fmt, shard_size):
        for rb in read_shard(sh, ReadOptions(**opts)):
            if rb.table is not None:
                tables.append(rb.table)
            quarantine += rb.quarantine
            blank += rb.blank
            if rb.problem:
                problems.append(rb.problem)
    rows = pa.concat_tables(tables, promote_options="permissive").to_pylist() if tables else []
    return rows, quarantine, blank, problems


def test_detect_formats():
    assert detect("a/b.jsonl.zst") == ("jsonl", "zstd")
    assert detect("x.json.gz") == ("jsonl", "gzip")
    assert detect("x.parquet") == ("parquet", None)
    assert detect("notes.txt") == ("text", None)


@pytest.mark.parametrize("comp", ["none", "gzip", "zstd"])
def test_jsonl_plain_gz_zst_read_the_same_records(tmp_path, comp, zh_docs):
    docs = zh_docs[:50]
    data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode()
    name = {"none": "d.jsonl", "gzip": "d.jsonl.gz", "zstd": "d.jsonl.zst"}[comp]
    raw = {"none": lambda b: b, "gzip": lambda b: gzip.compress(b, mtime=0),
           "zstd": lambda b: zstandard.ZstdCompressor().compress(b)}[comp](data)
    (tmp_path / name).write_bytes(raw)
    rows, q, _, _ = read_all(tmp_path / name)
    assert not q
    assert [r["id"] for r in rows] == [d["id"] for d in docs]
    assert [r["text"] for r in rows] == [d["text"] for d in docs]
    meta = json.loads(rows[0]["meta"])
    assert meta["roff"] == docs[0]["roff"] and meta["lang"] == "zh"  # every other field survives


def test_byte_ranges_read_each_line_exactly_once(tmp_path, en_docs):
    p = tmp_path / "c4.jsonl"
    p.write_bytes(shared("text_en/c4_sample_shared.jsonl").read_bytes())
    whole, _, _, _ = read_all(p)
    shards = plan_shards([str(p)], shard_size=7919)  # a prime, so ranges cut lines at odd places
    assert len(shards) > 20
    split, _, _, _ = read_all(p, shard_size=7919)
    assert [r["id"] for r in split] == [r["id"] for r in whole] == [d["id"] for d in en_docs]


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_block_boundaries_do_not_change_what_is_read(tmp_path, monkeypatch, block):
    import gristmill.io.lines as lines

    p = tmp_path / "mixed.jsonl"
    data = shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl").read_bytes()[:60_000]
    p.write_bytes(data + b"\n\n   \n" + b'{"id": "last", "text": "no newline at the end"}')
    expected, q0, blank0, _ = read_all(p)
    monkeypatch.setattr(lines, "BLOCK", block)
    for shard_size in (997, 10_000, 1 << 40):
        rows, q, blank, _ = read_all(p, shard_size=shard_size)
        assert [r["id"] for r in rows] == [r["id"] for r in expected] and rows[-1]["id"] == "last"
        assert [r["text"] for r in rows] == [r["text"] for r in expected]
        assert (len(q), blank) == (len(q0), blank0) == (1, 2)  # the cut-off last line of the 60 KB slice


def test_over_long_line_keeps_a_bounded_raw(tmp_path):
    p = tmp_path / "long.jsonl"
    p.write_bytes(b'{"text": "' + b"x" * 50_000 + b'"}\n{"id": "ok", "text": "fine"}\n')
    rows, q, _, _ = read_all(p, max_record_bytes=1000)
    assert [r["id"] for r in rows] == ["ok"]
    assert q[0]["error"] == "record is 50,012 bytes, over input.max_record_bytes (1,000)"
    assert len(q[0]["raw"]) == 1000 and q[0]["raw_bytes"] == 50_012 and q[0]["raw_truncated"]


def test_ids_derive_from_source_and_offset_when_absent(tmp_path):
    lines = [{"text": "第一篇文档"}, {"text": "second document"}, {"text": "third"}]
    p = tmp_path / "noid.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    rows, _, _, _ = read_all(p)
    first_len = len((json.dumps(lines[0], ensure_ascii=False) + "\n").encode())
    assert [r["id"] for r in rows][:2] == ["noid.jsonl:0", f"noid.jsonl:{first_len}"]
    again, _, _, _ = read_all(p, shard_size=20)
    assert [r["id"] for r in again] == [r["id"] for r in rows]


def test_two_inputs_with_the_same_folder_name_get_different_ids(tmp_path):
    """Folders ``a/data`` and ``b/data`` given together: derived ids must not collide (they did: both were
    ``data/x.jsonl:0``); a lone input keeps its short name."""
    for side, text in (("a", "来自甲的文档"), ("b", "a document from b")):
        (tmp_path / side / "data").mkdir(parents=True)
        (tmp_path / side / "data" / "x.jsonl").write_text(json.dumps({"text": text}, ensure_ascii=False) + "\n",
                                                          encoding="utf-8")
    shards = plan_shards([str(tmp_path / "a" / "data"), str(tmp_path / "b" / "data")])
    ids = [r["id"] for sh in shards for rb in read_shard(sh, ReadOptions()) for r in rb.table.to_pylist()]
    assert ids == ["a/data/x.jsonl:0", "b/data/x.jsonl:0"]
    alone = plan_shards([str(tmp_path / "a" / "data")])
    assert [sh.source for sh in alone] == ["data/x.jsonl"]


def test_dotted_text_and_id_fields(tmp_path):
    rec = {"doc": {"body": "嵌套的正文", "meta": {"n": 1}}, "key": {"id": 7}, "url": "https://example.org"}
    p = tmp_path / "nested.jsonl"
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    rows, q, _, _ = read_all(p, text_field="doc.body", id_field="key.id")
    assert not q
    assert rows[0]["id"] == "7" and rows[0]["text"] == "嵌套的正文"
    assert json.loads(rows[0]["meta"]) == {"doc": {"meta": {"n": 1}}, "key": {}, "url": "https://example.org"}


def test_parquet_row_group_shards_and_native_columns(tmp_path, en_docs):
    t = pa.table({"text": [d["text"] for d in en_docs], "id": [d["id"] for d in en_docs],
                  "n": list(range(len(en_docs)))})
    p = tmp_path / "c4.parquet"
    pq.write_table(t, p, row_group_size=16)
    assert len(plan_shards([str(p)], shard_size=20_000)) > 3
    rows, q, _, _ = read_all(p, shard_size=20_000)
    assert not q
    assert [r["id"] for r in rows] == [d["id"] for d in en_docs]
    assert [r["n"] for r in rows] == list(range(len(en_docs)))


def test_parquet_null_and_wrong_typed_text_go_to_quarantine(tmp_path):
    p = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"text": ["好的文本", None, "fine"]}), p)
    rows, q, _, _ = read_all(p)
    assert [r["text"] for r in rows] == ["好的文本", "fine"]
    assert rows[1]["id"] == "nulls.parquet:2"
    assert len(q) == 1 and q[0]["offset"] == 1 and "is null" in q[0]["error"]
    p2 = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), p2)
    rows, q, _, _ = read_all(p2)
    assert rows == [] and len(q) == 2 and "expected a string" in q[0]["error"]


@pytest.mark.parametrize("unit, n", [("line", 3), ("file", 1)])
def test_plain_text_per_line_or_per_file(tmp_path, unit, n):
    p = tmp_path / "notes.txt"
    p.write_text("第一行\n\nsecond line\nthird line\n", encoding="utf-8")
    rows, q, blank, _ = read_all(p, text_unit=unit)
    assert len(rows) == n and not q
    if unit == "line":
        assert [r["text"] for r in rows] == ["第一行", "second line", "third line"] and blank == 1
    else:
        assert rows[0]["id"] == "notes.txt" and rows[0]["text"].startswith("第一行")


def test_memory_filesystem(zh_docs):
    fs = fsspec.filesystem("memory")
    with fs.open("/in/zh.jsonl", "wb") as f:
        for d in zh_docs[:5]:
            f.write((json.dumps(d, ensure_ascii=False) + "\n").encode())
    rows, q, _, _ = read_all("memory://in/")
    assert [r["id"] for r in rows] == [d["id"] for d in zh_docs[:5]] and not q


# --- bad input: every bad record is quarantined with where and why -------------------------------------

def _mixed_bad_file(tmp_path):
    good = [json.dumps({"id": f"g{i}", "text": f"good document {i} 好"}, ensure_ascii=False).encode()
            for i in range(3)]
    lines = [
        good[0],
        b'{"id": "bad-json", "text": "unterminated',
        b'{"id": "bad-utf8", "text": "caf\xe9 \xff\xfe"}',
        b'["not", "an", "object"]',
        b'{"id": "no-text", "body": "x"}',
        b'{"id": "int-text", "text": 42}',
        b'{"id": ["list"], "text": "id of a wrong type"}',
        good[1],
        b"\x00\x01\x02\x89PNG\r\n\x1a\n binary garbage \xff\xd8",
        b"",
        good[2],
    ]
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


def test_every_bad_line_is_quarantined_and_good_ones_kept(tmp_path):
    p = _mixed_bad_file(tmp_path)
    rows, q, blank, _ = read_all(p)
    assert [r["id"] for r in rows] == ["g0", "g1", "g2"]
    errors = [x["error"] for x in q]
    assert len(q) == 9 and blank == 1  # the binary line holds two \n: three unreadable lines
    assert errors[0].startswith("invalid JSON")
    assert "UTF-8" in errors[1]
    assert errors[2] == "expected a JSON object, got list"
    assert errors[3] == "missing text field 'text'"
    assert errors[4] == "text field 'text' is int, expected a string"
    assert errors[5].startswith("id field 'id' is list")
    assert [e.split(" ")[1] for e in errors[6:]] == ["UTF-8", "JSON:", "UTF-8"]
    assert q[1]["raw"].startswith('{"id": "bad-utf8", "text": "caf\\xe9')  # raw bytes kept, escaped
    offsets = [x["offset"] for x in q]
    data = p.read_bytes()
    for o, x in zip(offsets, q, strict=True):  # offset points at the line; raw holds all of its bytes
        assert data[o:].split(b"\n", 1)[0].decode("utf-8", "backslashreplace") == x["raw"]


@pytest.mark.parametrize("comp", ["gzip", "zstd"])
def test_truncated_compressed_file_keeps_what_was_read(tmp_path, comp, zh_docs):
    data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in zh_docs[:200]).encode()
    blob = gzip.compress(data, mtime=0) if comp == "gzip" else zstandard.ZstdCompressor().compress(data)
    p = tmp_path / ("t.jsonl.gz" if comp == "gzip" else "t.jsonl.zst")
    p.write_bytes(blob[: len(blob) // 2])
    rows, q, _, problems = read_all(p)
    assert 0 < len(rows) < 200
    assert [r["id"] for r in rows] == [d["id"] for d in zh_docs[: len(rows)]]
    assert len(q) >= 1 and ("truncated" in q[-1]["error"] or "corrupt" in q[-1]["error"])
    assert problems


def test_empty_file_and_huge_record(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    rows, q, _, _ = read_all(tmp_path / "empty.jsonl")
    assert rows == [] and q == []
    big = "汉" * (6 * 2**20)  # 18 MB of UTF-8 in one document
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps({"id": "big", "text": big}, ensure_ascii=False) + "\n" +
                 json.dumps({"id": "small", "text": "ok"}) + "\n", encoding="utf-8")
    rows, q, _, _ = read_all(p, max_record_bytes=16 * 2**20)
    assert [r["id"] for r in rows] == ["small"]
    assert "over input.max_record_bytes" in q[0]["error"] and q[0]["offset"] == 0
    rows, q, _, _ = read_all(p)  # the default limit (32 MiB) accepts it
    assert [r["id"] for r in rows] == ["big", "small"] and len(rows[0]["text"]) == len(big)


def test_real_shared_files_read_cleanly():
    for rel in ["text_zh/chinesewebtext_cc2021_43_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
                "text_zh/fortunes_zh_shared.jsonl.gz"]:
        rows, q, _, _ = read_all(shared(rel))
        assert len(rows) == len(read_jsonl(shared(rel))) and not q, rel
