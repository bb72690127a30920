"""input.encoding: GBK, GB18030, Big5 and UTF-16 files written from real Chinese (and English) text read back
exactly, with the decision in a column and in the manifest; undecodable records go to quarantine."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest

import gristmill
from gristmill.errors import RecipeError
from gristmill.io.encoding import decide
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.recipe import load_recipe
from tests.conftest import output_rows, read_jsonl, shared


def read_all(path, shard_size=1 << 40, **opts):
    rows, quarantine, decisions = [], [], set()
    for sh in plan_shards([str(path)], shard_size=shard_size):
        for rb in read_shard(sh, ReadOptions(**opts)):
            if rb.table is not None:
                rows += rb.table.to_pylist()
            quarantine += rb.quarantine
            if rb.encoding:
                decisions.add(tuple(rb.encoding.items()))
    return rows, quarantine, decisions


def encodable(texts, enc, n):
    out = []
    for t in texts:
        try:
            t.encode(enc)
        except UnicodeEncodeError:
            continue
        out.append(t)
        if len(out) == n:
            break
    assert len(out) == n, enc
    return out


@pytest.fixture(scope="module")
def zh_cn():
    return [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))]


@pytest.fixture(scope="module")
def zh_tw():
    return [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_tw_shared_subset.jsonl.gz"))]


@pytest.fixture(scope="module")
def poems():
    return [d["text"] for d in read_jsonl(shared("text_zh/chinese_poetry_shared.jsonl"))]


def _jsonl(texts, codec, bom=b""):
    body = "".join(json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
    return bom + body.encode(codec)


# (write with, BOM to prepend, expected decision, where the texts come from)
CASES = [
    ("gb18030", b"", "gb18030", "zh_cn"),
    ("gbk", b"", "gb18030", "zh_cn"),
    ("gbk", b"", "gb18030", "poems"),
    ("big5", b"", "big5hkscs", "zh_tw"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le", "zh_cn"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be", "zh_tw"),
    ("utf-16-le", b"", "utf-16-le", "zh_tw"),
    ("utf-16-be", b"", "utf-16-be", "zh_cn"),
    ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le", "poems"),
    ("utf-8", codecs.BOM_UTF8, "utf-8", "zh_cn"),
]


@pytest.mark.parametrize("codec, bom, expected, source", CASES)
def test_jsonl_in_any_encoding_reads_back_exactly(tmp_path, request, codec, bom, expected, source):
    texts = encodable(request.getfixturevalue(source), codec, 40)
    p = tmp_path / "docs.jsonl"
    p.write_bytes(_jsonl(texts, codec, bom))
    rows, q, decisions = read_all(p)
    assert not q
    assert [r["text"] for r in rows] == texts
    assert {r["encoding"] for r in rows} == {expected}
    assert all(0.5 <= r["encoding_confidence"] <= 1.0 for r in rows)
    (decision,) = decisions
    assert dict(decision)["encoding"] == expected
    assert dict(decision)["how"] == ("bom" if bom else "utf-8" if codec == "utf-8" else
                                     "zero-bytes" if codec.startswith("utf-") else "detected")


@pytest.mark.parametrize("codec, source", [("gbk", "zh_cn"), ("big5", "zh_tw"), ("utf-16", "zh_cn")])
@pytest.mark.parametrize("unit", ["file", "paragraph", "line"])
def test_plain_text_in_any_encoding_and_unit(tmp_path, request, codec, source, unit):
    page = encodable(request.getfixturevalue(source), codec, 3)[2]   # a real man page, several paragraphs
    p = tmp_path / "page.txt"
    p.write_bytes(page.encode(codec))
    rows, q, _ = read_all(p, text_unit=unit)
    assert not q
    got = [r["text"] for r in rows]
    if unit == "file":
        assert got == [page]
    elif unit == "paragraph":
        paragraphs = [x.strip("\n") for x in page.split("\n\n") if x.strip()]
        assert got == paragraphs and len(got) > 3
    else:
        assert got == [line for line in page.split("\n") if line.strip()]


def test_byte_range_shards_of_utf16_and_gb18030_read_each_record_once(tmp_path, monkeypatch, zh_cn):
    import gristmill.io.lines as lines

    texts = encodable(zh_cn, "gbk", 30)
    for codec in ("utf-16-le", "gb18030"):
        p = tmp_path / f"big-{codec}.jsonl"
        p.write_bytes(_jsonl(texts, codec, codecs.BOM_UTF16_LE if codec == "utf-16-le" else b""))
        whole, _, _ = read_all(p)
        monkeypatch.setattr(lines, "BLOCK", 333)   # odd: blocks end inside UTF-16 code units
        for size in (4999, 20_011):               # odd sizes: ranges start inside code units and characters
            assert len(plan_shards([str(p)], shard_size=size)) > 3
            split, q, _ = read_all(p, shard_size=size)
            assert not q and [r["id"] for r in split] == [r["id"] for r in whole] == [f"d{i}" for i in range(30)]
            assert [r["text"] for r in split] == texts
        monkeypatch.undo()


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le"])
def test_paragraph_shards_split_anywhere_give_the_same_paragraphs(tmp_path, zh_cn, codec):
    book = "\n\n".join(encodable(zh_cn, "gbk", 12))
    p = tmp_path / "book.txt"
    p.write_bytes(book.encode(codec))
    whole, _, _ = read_all(p, text_unit="paragraph")
    assert len(whole) > 50
    for size in (997, 7919):
        split, q, _ = read_all(p, shard_size=size, text_unit="paragraph")
        assert not q
        assert [r["id"] for r in split] == [r["id"] for r in whole]
        assert [r["text"] for r in split] == [r["text"] for r in whole]


def test_undecodable_record_goes_to_quarantine_with_its_bytes(tmp_path, zh_cn):
    texts = encodable(zh_cn, "gbk", 20)
    data = _jsonl(texts, "gb18030").split(b"\n")
    bad = data[5][:40] + b"\x81\x20" + data[5][40:]     # a GB18030 lead byte before a space: not a character
    data[5] = bad
    p = tmp_path / "one-bad.jsonl"
    p.write_bytes(b"\n".join(data))
    rows, q, _ = read_all(p)
    assert [r["id"] for r in rows] == [f"d{i}" for i in range(20) if i != 5]
    assert len(q) == 1 and q[0]["error"] == "invalid GB18030 at byte 40 of the line"
    assert bad.decode("utf-8", "backslashreplace").startswith(q[0]["raw"])  # its first input.quarantine_bytes
    assert q[0]["raw_bytes"] == len(bad) and len(q[0]["raw"].encode()) >= min(len(bad), 4096) - 4 * 3


def test_declared_encoding_is_used_and_utf8_keeps_the_old_behaviour(tmp_path, zh_tw):
    texts = encodable(zh_tw, "big5", 10)
    p = tmp_path / "tw.jsonl"
    p.write_bytes(_jsonl(texts, "big5"))
    rows, q, decisions = read_all(p, encoding="big5")
    assert [r["text"] for r in rows] == texts and rows[0]["encoding"] == "big5hkscs"
    assert dict(next(iter(decisions)))["how"] == "declared"
    rows, q, _ = read_all(p, encoding="utf-8")
    assert rows == [] and len(q) == 10 and all("UTF-8" in x["error"] for x in q)


def test_english_in_utf16_and_cp1252(tmp_path, en_docs):
    texts = [d["text"] for d in en_docs[:30]]
    p = tmp_path / "en.jsonl"
    p.write_bytes(_jsonl(texts, "utf-16-be"))
    rows, q, _ = read_all(p)
    assert not q and [r["text"] for r in rows] == texts and rows[0]["encoding"] == "utf-16-be"
    latin = [t for t in texts if any(c in t for c in "éèüöñ’")]
    assert latin
    p = tmp_path / "en-1252.jsonl"
    p.write_bytes(_jsonl(encodable(latin, "cp1252", 1), "cp1252"))
    d = decide(p.read_bytes(), whole=True)
    assert d.how == "detected" and p.read_bytes().decode(d.name) == p.read_bytes().decode("cp1252")


def test_csv_from_gbk_hotel_reviews(tmp_path):
    reviews = read_jsonl(shared("text_zh/chnsenticorp_hotel_reviews.jsonl.gz"))[:200]
    reviews = [r for r in reviews if _gbk(r["text"])]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["label", "review"])
    for r in reviews:
        w.writerow([r["sentiment_label"], r["text"]])
    w.writerow(["1", "多了一列", "extra"])
    p = tmp_path / "ChnSentiCorp_htl.csv"
    p.write_bytes(buf.getvalue().encode("gbk"))
    rows, q, decisions = read_all(p, text_field="review")
    assert [r["text"] for r in rows] == [r["text"] for r in reviews]
    assert [json.loads(r["meta"])["label"] for r in rows] == [str(r["sentiment_label"]) for r in reviews]
    assert rows[0]["id"] == "ChnSentiCorp_htl.csv:0" and rows[0]["encoding"] == "gb18030"
    assert len(q) == 1 and "3 fields, the header has 2" in q[0]["error"]


def _gbk(t: str) -> bool:
    try:
        t.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def test_a_run_records_each_files_encoding_and_a_readme_is_one_document(tmp_path, zh_cn, zh_tw):
    from tests.conftest import ROOT

    src = tmp_path / "in"
    src.mkdir()
    (src / "cn.txt").write_bytes(encodable(zh_cn, "gbk", 1)[0].encode("gbk"))
    (src / "tw.jsonl").write_bytes(_jsonl(encodable(zh_tw, "big5", 5), "utf-16"))
    (src / "README.md").write_bytes((ROOT / "README.md").read_bytes())
    recipe = load_recipe(text="steps:\n  - step: normalize\n")
    m = gristmill.run(recipe, inputs=[str(src)], output=str(tmp_path / "out"), workers=1, quiet=True)
    assert m["reconciled"] and m["counts"] == {"input": 7, "kept": 7, "rejected": 0, "quarantined": 0}
    enc = {i["path"].rsplit("/", 1)[1]: i["encoding"] for i in m["inputs"]}
    assert enc["cn.txt"]["encoding"] == "gb18030" and enc["cn.txt"]["how"] == "detected"
    assert enc["tw.jsonl"] == {"encoding": "utf-16-le", "confidence": 1.0, "how": "bom"}
    assert enc["README.md"] == {"encoding": "utf-8", "confidence": 1.0, "how": "utf-8"}
    kept = {r["id"]: r for r in output_rows(tmp_path / "out")}
    assert kept["in/README.md"]["encoding"] == "utf-8" and kept["in/README.md"]["text"].startswith("# gristmill")


def test_unknown_encoding_is_a_recipe_error():
    with pytest.raises(RecipeError, match="input.encoding"):
        load_recipe(text="input:\n  encoding: klingon\nsteps: []\n")
    assert load_recipe(text="input:\n  encoding: GBK\nsteps: []\n").input.encoding == "GBK"
