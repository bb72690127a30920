"""The reader registry: built-in formats by suffix, a new format plugged in by name, lazily imported."""

from __future__ import annotations

import sys

import pytest

from gristmill.errors import GristmillError
from gristmill.io.formats import format_of, formats, reader_format, register_reader, unregister_reader
from gristmill.io.paths import detect, plan_shards
from gristmill.io.readers import ReadBatch, ReadOptions, read_shard
from tests.conftest import shared


def test_builtin_suffixes_keep_their_formats():
    assert set(formats()) >= {"jsonl", "parquet", "text", "warc", "html", "csv", "tsv"}
    cases = {"a/b.jsonl.zst": ("jsonl", "zstd"), "x.json.gz": ("jsonl", "gzip"), "x.ndjson": ("jsonl", None),
             "x.pq": ("parquet", None), "README.md": ("text", None), "c.warc.gz": ("warc", None),
             "c.WARC": ("warc", None), "c.arc.gz": ("warc", "gzip"), "p.htm": ("html", None),
             "t.tsv.zst": ("tsv", "zstd"), "x.pdf": ("pdf", None), "x.djvu": ("", None), "x.bin.gz": ("", "gzip")}
    for name, want in cases.items():
        assert detect(name) == want == format_of(name), name
    assert detect("c.warc.gz", "jsonl") == ("jsonl", "gzip")  # a forced format keeps the stream layer


def _read_rot13(shard, opts):
    import codecs

    from gristmill.io.batch import make_table
    from gristmill.io.stream import open_stream

    raw, f = open_stream(shard, opts.max_expansion)
    with raw:
        text = codecs.decode(f.read().decode("utf-8"), "rot13")
    yield ReadBatch(make_table([shard.source], [text], [None], is_json=False))


def test_a_new_format_registers_by_suffix_and_reads(tmp_path):
    (tmp_path / "secret.r13.gz").write_bytes(__import__("gzip").compress("Uryyb, 世界".encode()))
    register_reader("rot13", suffixes=(".r13",), read=_read_rot13)
    try:
        shards = plan_shards([str(tmp_path)])
        assert [(s.format, s.compression) for s in shards] == [("rot13", "gzip")]
        batches = list(read_shard(shards[0], ReadOptions()))
        assert batches[0].table.column("text").to_pylist() == ["Hello, 世界"]
    finally:
        unregister_reader("rot13")
    assert detect("secret.r13") == ("", None)


def test_a_reader_named_by_module_is_imported_only_when_read(tmp_path):
    entry = register_reader("lazycsv", suffixes=(".lcsv",), read="gristmill.io.csvfile:read_csv_file")
    try:
        assert isinstance(entry.read, str)
        p = tmp_path / "reviews.lcsv"
        p.write_bytes("label,review\n1,房间干净\n".encode("gbk"))
        rows = [r for b in read_shard(plan_shards([str(p)])[0], ReadOptions(text_field="review", encoding="gbk"))
                for r in b.table.to_pylist()]
        assert [r["text"] for r in rows] == ["房间干净"]
    finally:
        unregister_reader("lazycsv")


def test_a_missing_extra_is_one_clear_error():
    register_reader("nope", suffixes=(".nope",), read="gristmill_no_such_module:read", extra="docs")
    try:
        assert "gristmill_no_such_module" not in sys.modules
        with pytest.raises(GristmillError) as e:
            reader_format("nope").reader()
        assert "'docs' extra" in str(e.value) and "gristmill[docs]" in e.value.hint
    finally:
        unregister_reader("nope")


def test_clashes_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="already registered"):
        register_reader("jsonl", suffixes=(".x1",), read=_read_rot13)
    with pytest.raises(ValueError, match="belongs to format 'text'"):
        register_reader("wiki", suffixes=(".md",), read=_read_rot13)
    assert "wiki" not in formats()
    with pytest.raises(GristmillError, match="no reader for format 'djvu'"):
        reader_format("djvu")


def test_warc_and_generic_reader_share_the_batch_types():
    from gristmill.io import batch, readers, warc

    assert warc.ReadBatch is readers.ReadBatch is batch.ReadBatch and warc.SCHEMA is readers.SCHEMA
    shard = plan_shards([str(shared("warc/warcio_example.warc.gz"))])[0]
    assert (shard.format, shard.compression) == ("warc", None)  # FastWARC reads the gzip members itself
    rows = [r for b in read_shard(shard, ReadOptions()) if b.table is not None for r in b.table.to_pylist()]
    assert rows and all(r["text"] and '"url"' in r["meta"] for r in rows)
