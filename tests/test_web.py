"""Web input: WARC (with a corrupt record), charsets (GBK), main-content extraction in English and Chinese,
per-page timeouts, URL filters and URL normalisation."""

from __future__ import annotations

import io

import pytest

from gristmill import run
from gristmill.io.charset import decode_html
from gristmill.steps.extract import TimeoutExtractor, extract_fast, extract_precise
from gristmill.steps.url_filter import normalise_url
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl

pytest.importorskip("resiliparse")
pytest.importorskip("warcio")


def _warc(path, pages: list[tuple[str, bytes, str]]) -> None:
    """Write a real gzipped WARC of HTTP responses with warcio."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for url, body, ctype in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))


@pytest.fixture(scope="module")
def pages():
    zh = read_jsonl(shared("extraction/cwce_zh_shared.jsonl.gz"))
    en = read_jsonl(shared("extraction/aeb_en_shared.jsonl.gz"))
    return en, zh


def test_charsets_from_header_meta_bom_and_detection(pages):
    _, zh = pages
    html = zh[0]["html"]
    gbk = html.encode("gb18030")
    text, enc, how = decode_html(gbk, "text/html; charset=gbk")
    assert (enc, how) == ("gb18030", "http")
    assert zh[0]["gold_text"].strip()[:10] in text.replace("\n", "")
    assert decode_html(b"\xef\xbb\xbf<p>\xe4\xbd\xa0\xe5\xa5\xbd</p>")[1:] == ("utf-8", "bom")
    big5 = "<p>繁體中文網頁，這是測試。</p>".encode("big5")
    assert decode_html(b'<meta http-equiv="Content-Type" content="text/html; charset=big5">' + big5)[0].endswith(
        "繁體中文網頁，這是測試。</p>")
    text, enc, how = decode_html("<p>没有任何声明的中文网页，编码需要自动检测出来。</p>".encode("gbk") * 20)
    assert how == "detected" and "自动检测" in text


def test_warc_with_a_gbk_page_and_a_corrupt_record(tmp_path, pages):
    en, zh = pages
    good = [(en[i]["url"], en[i]["html"].encode("utf-8"), "text/html; charset=utf-8") for i in range(4)]
    gbk_page = ("http://example.cn/a", zh[1]["html"].encode("gb18030"), "text/html")  # no charset in the header
    image = ("http://example.com/x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
    _warc(tmp_path / "a.warc.gz", [*good[:2], gbk_page, image, *good[2:]])
    data = bytearray((tmp_path / "a.warc.gz").read_bytes())
    # damage the middle of the second record's gzip member
    first_end = data.find(b"\x1f\x8b\x08", 10)
    second_end = data.find(b"\x1f\x8b\x08", first_end + 10)
    mid = (first_end + second_end) // 2
    data[mid:mid + 64] = b"\x00" * 64
    (tmp_path / "bad.warc.gz").write_bytes(bytes(data))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: extract\n    mode: fast\n")
    m = run(str(recipe), inputs=[str(tmp_path / "bad.warc.gz")], output=str(tmp_path / "o"), workers=1, quiet=True)
    kept = {r["url"]: r for r in output_rows(tmp_path / "o")}
    assert m["reconciled"] and m["counts"]["quarantined"] >= 1 and m["read"]["skipped"] == 1  # the PNG
    assert len(kept) == 4  # the damaged record is lost, every other page is read
    assert good[1][0] not in kept and good[0][0] in kept and good[3][0] in kept
    cn = kept["http://example.cn/a"]
    assert cn["charset"] == "gb18030" and cn["charset_source"] in ("meta", "detected")
    assert zh[1]["gold_text"].strip()[:15] in cn["text"].replace("\n", "")
    q = output_rows(tmp_path / "o", "quarantine")
    assert "corrupt WARC data" in q[0]["error"] and m["input_problems"]


@pytest.mark.parametrize("fn", [extract_fast, extract_precise])
def test_extraction_keeps_chinese_and_english_main_text(pages, fn):
    en, zh = pages
    for d in zh[:8]:
        text, _ = fn(d["html"])
        gold = d["gold_text"].replace("\n", "").replace(" ", "")
        got = text.replace("\n", "").replace(" ", "")
        common = sum(1 for ch in set(gold) if ch in got) / max(len(set(gold)), 1)
        assert common > 0.8, d["id"]
    for d in en[:8]:
        text, _ = fn(d["html"])
        assert d["gold_text"].split(".")[0][:40] in text, d["id"]


def test_a_slow_page_is_cut_off_and_the_worker_replaced():
    ex = TimeoutExtractor("fast", timeout=0.5)
    # a pathological page: 300k nested elements
    page = "<div>" * 300_000 + "text" + "</div>" * 300_000
    status, msg, _ = ex(page)
    assert status == "timeout" and "0.5 s" in msg
    assert ex("<html><body><p>Hello world, this page is fine.</p></body></html>")[0] == "ok"
    ex.close()


def test_url_filter_and_url_dedup(tmp_path):
    rows = [{"id": "1", "text": "a", "url": "https://news.example.com/story?id=1&utm_source=x"},
            {"id": "2", "text": "b", "url": "http://www.example.com/story?utm_medium=y&id=1#comments"},
            {"id": "3", "text": "c", "url": "https://ads.tracker.net/page"},
            {"id": "4", "text": "d", "url": "https://best-casino-bonus-free-spins.example.org/"},
            {"id": "5", "text": "e", "url": "https://docs.python.org/3/library/re.html"},
            {"id": "6", "text": "f", "url": "https://docs.python.org/3/library/re.html/"}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "block.txt").write_text("# blocked domains\ntracker.net\n")
    (tmp_path / "r.yaml").write_text(
        f"steps:\n  - step: url_filter\n    block_domains: [{tmp_path / 'block.txt'}]\n"
        "    soft_words: [casino, bonus, spins, porn]\n    soft_threshold: 2\n"
        "  - step: exact_dedup\n    key: url\n    normalize: [url]\n")
    run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
        quiet=True)
    rej = {r["id"]: (r["reason"], r["detail"]) for r in output_rows(tmp_path / "o", "rejected")}
    assert rej["3"] == ("blocked_domain", "tracker.net")
    assert rej["4"][0] == "soft_words" and rej["6"] == ("duplicate", "duplicate of 5")
    assert {r["id"] for r in output_rows(tmp_path / "o")} == {"1", "2", "5"}  # news. is not www.
    assert normalise_url(rows[1]["url"]) == "http://example.com/story?id=1"


def test_html_files_and_jsonl_html_field(tmp_path, pages):
    en, zh = pages
    (tmp_path / "p.html").write_bytes(zh[2]["html"].encode("gb18030"))
    m = run(None, inputs=[str(tmp_path / "p.html")], output=str(tmp_path / "o0"), workers=1, quiet=True)
    assert m["counts"]["input"] == 1
    write_jsonl(tmp_path / "pages.jsonl", [{"id": d["id"], "html": d["html"]} for d in en[:3]])
    (tmp_path / "r.yaml").write_text("input:\n  text_field: html\nsteps:\n  - step: extract\n    mode: precise\n")
    m = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "pages.jsonl")], output=str(tmp_path / "o"),
            workers=1, quiet=True)
    out = output_rows(tmp_path / "o")
    assert len(out) == 3 and all("<" not in r["text"][:200] for r in out)
