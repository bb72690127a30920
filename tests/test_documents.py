"""Document readers on real documents: pages of the Debian Reference as PDF (en and zh-cn), DOCX and EPUB
written from its sections, a Debian README in Markdown and one in reStructuredText; damaged, encrypted,
image-only, oversized and slow files end in quarantine with one clear line, and a run accounts for all."""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("pypdfium2")
docx = pytest.importorskip("docx")

from gristmill import run  # noqa: E402
from gristmill.io.batch import ReadOptions  # noqa: E402
from gristmill.io.documents.pdf import read_pdf  # noqa: E402
from gristmill.io.documents.units import docx_records, epub_records, markup_records  # noqa: E402
from gristmill.io.paths import plan_shards  # noqa: E402
from gristmill.io.readers import read_shard  # noqa: E402
from tests.conftest import output_rows, shared  # noqa: E402
from tests.pdfmaker import make_pdf, spaced  # noqa: E402

DATA = Path(__file__).parent / "data" / "documents"
ZH_PDF = DATA / "debian-reference.zh-cn.p40-43.pdf"
EN_PDF = DATA / "debian-reference.en.p38-41.pdf"
HAN = re.compile(r"[\u4e00-\u9fff]")


def sections(lang: str) -> list[dict]:
    name = "text_zh/debian_reference_zh_cn_shared.jsonl.gz" if lang == "zh" else "text_en/debian_reference_en_shared.jsonl.gz"
    with gzip.open(shared(name), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def read_all(path: Path, **opts) -> tuple[list[dict], list[dict], list]:
    """(records with meta decoded, quarantine entries, batches) of one file through the registry."""
    rows, quarantine, batches = [], [], []
    for shard in plan_shards([str(path)]):
        for b in read_shard(shard, ReadOptions(**opts)):
            batches.append(b)
            quarantine += b.quarantine
            if b.table is not None:
                rows += [{**json.loads(r.pop("meta")), **r} for r in b.table.to_pylist()]
    return rows, quarantine, batches


# --- PDF ---------------------------------------------------------------------------------------------------

def test_chinese_pdf_pages_lose_running_headers_and_keep_sentences_whole():
    rows, q, _ = read_all(ZH_PDF, document_unit="page")
    assert not q and [r["id"] for r in rows] == [f"{ZH_PDF.name}#page={i}" for i in range(1, 5)]
    assert all(r["format"] == "pdf" and r["pages"] == 4 and r["pdf_no_text"] == 0 for r in rows)
    text = "\n".join(r["text"] for r in rows)
    # every page starts "Debian 参考手册 12 / 223" in the PDF; none of it is left
    assert "参考手册" not in text and not re.search(r"\d+ / 223", text)
    # sentences that the PDF breaks across lines come back whole, with no space between the Han characters
    assert "因此，它被称为 FIFO，即先进先出：你从管道这端先放进去的东西会从另一端先出来。" in text
    assert "你可以读写块设备文件，尽管该文件可能包含二进制数据，读取后显示出无法理解的乱码。" in text
    # the list items and the shell session stay one per line
    assert "\n• 字符设备\n– 每次访问一个字符\n" in text and "\n$ cd; mkfifo mypipe\n" in text
    assert len(HAN.findall(text)) > 2000


def test_english_pdf_hyphenation_is_undone_but_compounds_keep_their_hyphen():
    pages = read_pdf(EN_PDF.read_bytes()).pages
    text = "\n".join(pages)
    assert "\ufffe" not in text and "Debian Reference" not in text.split("\n")[0]
    # pdfium marks TeX's line-end hyphens: "pre-|defined", "un-|der" are one word, "time-|consuming" is two
    assert "predefined" in text and "pre-defined" not in text
    assert "under the normal use case" in text and not re.search(r"\b\d{2} / 2\d\d\b", text)
    # "time-|consuming": both halves are words of the document, which never writes "timeconsuming"
    lines = ["The strictatime option accompanies the write operation which is time-",
             "consuming; the relatime option writes the access time only when consuming",
             "programs need it, so the default is fine for most systems and users here."]
    page = [(72, 700 - 14 * i, 11, ln) for i, ln in enumerate(lines)]
    text = read_pdf(make_pdf([page])).pages[0]
    assert "time-consuming;" in text and "timeconsuming" not in text


def test_letter_spaced_chinese_and_running_headers_of_a_laid_out_pdf():
    zh = [re.findall(r"[\u4e00-\u9fff，。、（）]{16,}", s["text"])[0][:16] for s in sections("zh")[:6]]
    en = "A named pipe is a file that acts like a pipe. You put something into the file, and it comes out the other end."
    pages = []
    for i, line in enumerate(zh[:5]):
        pages.append([(72, 800, 9, f"Debian Reference {i + 1} / 5"),
                      *spaced(72, 700, 12, line, 20),                     # every character 20 pt apart
                      (72, 640, 12, "当作一个 类 Unix 系统" if i == 0 else en),
                      (290, 40, 9, str(i + 1))])                          # a bare page number at the bottom
    r = read_pdf(make_pdf(pages))
    for i, page in enumerate(r.pages):
        assert page.startswith(zh[i])                                      # no spaces between the characters
        assert "Debian Reference" not in page and not page.rstrip().endswith(str(i + 1))
    assert "当作一个 类 Unix 系统" in r.pages[0]                             # a real space between words stays


def test_image_only_encrypted_and_damaged_pdfs_go_to_quarantine(tmp_path):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for _ in range(2):
        page = doc.new_page(300, 300)
        img = pdfium.PdfImage.new(doc)
        bm = pdfium.PdfBitmap.new_native(64, 64, pdfium.raw.FPDFBitmap_BGRA)
        bm.fill_rect((40, 40, 40, 255), 0, 0, 64, 64)
        img.set_bitmap(bm)
        img.set_matrix(pdfium.PdfMatrix().scale(200, 200))
        page.insert_obj(img)
        page.gen_content()
    doc.save(tmp_path / "scan.pdf")
    (tmp_path / "cut.pdf").write_bytes(EN_PDF.read_bytes()[:20_000])
    (tmp_path / "secret.pdf").write_bytes((DATA / "encrypted-user-password.pdf").read_bytes())
    why = {}
    for name in ("scan.pdf", "cut.pdf", "secret.pdf"):
        rows, q, batches = read_all(tmp_path / name)
        assert not rows and len(q) == 1 and q[0]["raw_bytes"] == (tmp_path / name).stat().st_size
        assert batches[-1].problem
        why[name] = q[0]["error"]
    assert why["scan.pdf"].startswith("pdf_no_text: no text layer on any of its 2 pages")
    assert why["cut.pdf"].startswith("damaged PDF")
    assert why["secret.pdf"] == "encrypted PDF (a password is needed to read it)"
    # a text PDF with one scanned page: the page is counted, the document says how many had no text
    mixed = pdfium.PdfDocument(EN_PDF.read_bytes())
    mixed.import_pages(pdfium.PdfDocument(tmp_path / "scan.pdf"), [0])
    mixed.save(tmp_path / "mixed.pdf")
    rows, q, _ = read_all(tmp_path / "mixed.pdf")
    assert not q and rows[0]["pdf_no_text"] == 1 and rows[0]["pages"] == 5
    rows, q, batches = read_all(tmp_path / "mixed.pdf", document_unit="page")
    assert len(rows) == 4 and sum(b.blank for b in batches) == 1


def test_size_limit_and_timeout_quarantine_one_file_and_the_next_still_reads():
    _, q, _ = read_all(ZH_PDF, max_document_bytes=100_000)
    assert q[0]["error"] == "pdf file is over input.max_document_bytes (100,000)"
    assert q[0]["raw_bytes"] == ZH_PDF.stat().st_size and q[0]["raw_truncated"] and q[0]["raw"].startswith("%PDF-1.7")
    _, q, _ = read_all(ZH_PDF, document_timeout=0.001)
    assert q[0]["error"] == "took over 0.001 s (input.document_timeout)"
    rows, q, _ = read_all(ZH_PDF, document_timeout=60)       # a fresh parser process
    assert not q and len(rows) == 1
    rows, q, _ = read_all(ZH_PDF, document_unit="page", max_record_bytes=2400)   # pages of 2.1 to 2.9 KB
    assert len(rows) + len(q) == 4 and rows and q
    assert all(re.fullmatch(r".*#page=\d: document is [\d,]+ bytes, over input.max_record_bytes \(2,400\)", e["error"])
               for e in q)


# --- DOCX --------------------------------------------------------------------------------------------------

def _docx_with_footnote(paras: list[tuple[str, str | None]], table: list[list[str]], note: str) -> bytes:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    d = docx.Document()
    d.core_properties.title = "Debian 参考手册"
    for text, style in paras:
        d.add_heading(text, 1) if style == "h1" else d.add_paragraph(text)
    t = d.add_table(rows=len(table), cols=len(table[0]))
    for i, row in enumerate(table):
        for j, cell in enumerate(row):
            t.cell(i, j).text = cell
    ref = d.paragraphs[1]._p.add_r()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    from docx.oxml import parse_xml

    ref.append(parse_xml(f'<w:footnoteReference xmlns:w="{w}" w:id="1"/>'))
    xml = (f'<w:footnotes xmlns:w="{w}"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r>'
           f'</w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t></w:r></w:p></w:footnote></w:footnotes>')
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml", xml.encode(),
                d.part.package)
    d.part.relate_to(part, RT.FOOTNOTES)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_headings_tables_and_footnotes_in_order(tmp_path):
    zh, en = sections("zh")[:2], sections("en")[:1]
    body = [p for p in zh[0]["text"].split("\n\n")[1:4]]
    paras = [(zh[0]["title"], "h1"), *[(p, None) for p in body], (zh[1]["title"], "h1"),
             (zh[1]["text"].split("\n\n")[2], None), (en[0]["title"], "h1"), (en[0]["text"].split("\n\n")[2], None)]
    table = [["设备文件", "操作", "响应描述"], ["/dev/null", "读取", "返回“文件结尾字符（EOF）”"]]
    data = _docx_with_footnote(paras, table, "参见 bash(1) 手册页。")
    (tmp_path / "ref.docx").write_bytes(data)
    rows, q, _ = read_all(tmp_path / "ref.docx")
    assert not q and len(rows) == 1
    text = rows[0]["text"]
    lines = text.split("\n")
    assert lines[0] == zh[0]["title"] and lines[1] == body[0] + "[1]"
    assert text.index(body[2]) < text.index(zh[1]["title"]) < text.index(en[0]["title"])
    assert "设备文件 | 操作 | 响应描述\n/dev/null | 读取 | 返回“文件结尾字符（EOF）”" in text
    assert lines[-1] == "[1] 参见 bash(1) 手册页。"
    assert rows[0]["title"] == "Debian 参考手册" and rows[0]["footnotes"] == 1
    recs, _ = docx_records(data, "chapter")
    assert [r["meta"]["chapter_title"] for r in recs] == [zh[0]["title"], zh[1]["title"], en[0]["title"]]
    assert recs[0]["text"].endswith("[1] 参见 bash(1) 手册页。") and "[1] 参见" not in recs[1]["text"]
    (tmp_path / "bad.docx").write_bytes(data[: len(data) // 2])
    _, q, _ = read_all(tmp_path / "bad.docx")
    assert len(q) == 1 and "docx" in q[0]["error"]


# --- EPUB --------------------------------------------------------------------------------------------------

def _epub(chapters: list[tuple[str, str]], spine: list[str], extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:'
                   'names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                   'media-type="application/oebps-package+xml"/></rootfiles></container>')
        items = "".join(f'<item id="{cid}" href="text/{cid}.xhtml" media-type="application/xhtml+xml"/>'
                        for cid, _ in chapters)
        refs = "".join(f'<itemref idref="{cid}"/>' for cid in spine)
        if "OEBPS/content.opf" not in (extra or {}):
            z.writestr("OEBPS/content.opf", '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
                       'version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Debian 参考手册'
                       '</dc:title><dc:creator>Osamu Aoki</dc:creator><dc:language>zh-CN</dc:language></metadata>'
                       f'<manifest>{items}</manifest><spine>{refs}</spine></package>')
        for cid, html in chapters:
            if cid != "gone":
                z.writestr(f"OEBPS/text/{cid}.xhtml", '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://'
                           f'www.w3.org/1999/xhtml"><head><title>{cid}</title></head><body>{html}</body></html>')
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return buf.getvalue()


def test_epub_chapters_follow_the_spine_with_the_html_extraction(tmp_path):
    zh = sections("zh")[:3]
    chapters = [(f"c{i}", s["html"]) for i, s in enumerate(zh)] + [("gone", "")]
    data = _epub(chapters, spine=["c2", "c0", "c1", "gone"])
    (tmp_path / "book.epub").write_bytes(data)
    rows, q, _ = read_all(tmp_path / "book.epub", document_unit="chapter")
    assert not q and [r["chapter_title"] for r in rows] == [zh[2]["title"], zh[0]["title"], zh[1]["title"]]
    assert [r["id"] for r in rows] == [f"book.epub#chapter={i}" for i in (1, 2, 3)]
    assert rows[0]["title"] == "Debian 参考手册" and rows[0]["author"] == "Osamu Aoki" and rows[0]["language"] == "zh-CN"
    assert rows[0]["missing_chapters"] == ["OEBPS/text/gone.xhtml"]
    for r, s in zip(rows, [zh[2], zh[0], zh[1]], strict=True):
        # the section's paragraphs as the shared data's own extraction has them, one per line
        paras = [p for p in s["text"].split("\n\n") if len(p) > 30][:3]
        got = r["text"].replace("\xa0", " ")                               # &nbsp; is U+00A0 in the page
        assert paras and all(p in got for p in paras) and not re.search(r"</?(?:p|div|span|a|h\d)\b", got)
    whole, _, _ = read_all(tmp_path / "book.epub")
    book = whole[0]["text"].replace("\xa0", " ")
    assert len(whole) == 1 and book.index(zh[2]["title"]) < book.index(zh[0]["title"]) < book.index(zh[1]["title"])
    assert whole[0]["chapters"] == 3


def test_epub_zip_bomb_and_broken_zip_are_refused(tmp_path):
    zh = sections("zh")[:1]
    big = "<p>" + "管道" * 1_000_000 + "</p>"             # 6 MB of text, 20 KB compressed
    (tmp_path / "bomb.epub").write_bytes(_epub([("c0", zh[0]["html"]), ("c1", big)], ["c0", "c1"]))
    assert (tmp_path / "bomb.epub").stat().st_size < 100_000
    _, q, _ = read_all(tmp_path / "bomb.epub", max_document_bytes=1_000_000)
    assert len(q) == 1 and re.fullmatch(r"epub file decompresses to [\d,]+ bytes, over input.max_document_bytes "
                                        r"\(1,000,000\)", q[0]["error"])
    # a billion-laughs package file: expat's amplification limit refuses it
    ents = '<!ENTITY l0 "lol">' + "".join('<!ENTITY l{} "{}">'.format(i, f"&l{i - 1};" * 10) for i in range(1, 10))
    laughs = f'<?xml version="1.0"?><!DOCTYPE p [{ents}]><package><metadata><title>&l9;</title></metadata></package>'
    (tmp_path / "laughs.epub").write_bytes(_epub([], [], {"OEBPS/content.opf": laughs}))
    _, q, _ = read_all(tmp_path / "laughs.epub")
    assert len(q) == 1 and "amplification" in q[0]["error"]
    (tmp_path / "broken.epub").write_bytes(b"PK\x03\x04 this is not really a zip")
    _, q, _ = read_all(tmp_path / "broken.epub")
    assert len(q) == 1 and q[0]["error"].startswith("damaged or not an EPUB file")
    assert epub_records(_epub([("c0", zh[0]["html"])], ["c0"]), "chapter")[0][0]["meta"]["href"] == "OEBPS/text/c0.xhtml"


# --- Markdown and reStructuredText ---------------------------------------------------------------------------

def test_rst_and_markdown_kept_as_written_or_stripped(tmp_path):
    rst = (DATA / "jansson-README.rst").read_text()
    rows, q, _ = read_all(DATA / "jansson-README.rst")
    assert not q and rows[0]["text"] == rst.strip("\n") and rows[0]["markup_stripped"] is False
    plain = read_all(DATA / "jansson-README.rst", strip_markup=True)[0][0]["text"]
    assert plain.startswith("Jansson README\n\nJansson is a C library for encoding, decoding and manipulating JSON\n")
    assert "- Comprehensive documentation\n" in plain and "MIT license;" in plain
    assert ".. image::" not in plain and "badge" not in plain and "=====" not in plain and "`" not in plain
    md = tmp_path / "README.markdown"
    md.write_text((DATA / "git-README.md").read_text())
    plain = read_all(md, strip_markup=True)[0][0]["text"]
    # the badge image keeps its alt text; the heading loses its "="
    assert plain.startswith("Build status\n\nGit - fast, scalable, distributed revision control system\n\n")
    assert "](" not in plain and "[![" not in plain and "`" not in plain and "Documentation/" in plain
    # .md stays plain text (format text) unless the recipe names the markdown format
    assert plan_shards([str(DATA / "git-README.md")])[0].format == "text"
    assert plan_shards([str(DATA / "git-README.md")], "markdown")[0].format == "markdown"


def test_chinese_markdown_chapters(tmp_path):
    zh = sections("zh")[:2]
    doc = "\n\n".join(f"# {s['title']}\n\n**{s['text'].split(chr(10) * 2)[2]}**\n\n```\n$ ls -l\n```" for s in zh)
    (tmp_path / "zh.markdown").write_text(doc, encoding="gb18030")
    rows, q, _ = read_all(tmp_path / "zh.markdown", document_unit="chapter", strip_markup=True)
    assert not q and [r["chapter_title"] for r in rows] == [s["title"] for s in zh]
    assert rows[0]["text"] == f"{zh[0]['title']}\n\n{zh[0]['text'].split(chr(10) * 2)[2]}\n\n$ ls -l"
    recs, _ = markup_records(doc, "markdown", "file", strip=False)
    assert recs[0]["text"] == doc


# --- a run -------------------------------------------------------------------------------------------------

def test_a_run_over_a_folder_of_documents_accounts_for_every_file(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for p in (ZH_PDF, EN_PDF, DATA / "encrypted-user-password.pdf", DATA / "jansson-README.rst"):
        (src / p.name).write_bytes(p.read_bytes())
    (src / "cut.pdf").write_bytes(ZH_PDF.read_bytes()[:5000])
    zh = sections("zh")[:2]
    (src / "book.epub").write_bytes(_epub([(f"c{i}", s["html"]) for i, s in enumerate(zh)], ["c0", "c1"]))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("input:\n  document_unit: page\nsteps: []\n")
    m = run(str(recipe), inputs=[str(src)], output=str(tmp_path / "o"), workers=1, quiet=True)
    kept, quarantined = output_rows(tmp_path / "o"), output_rows(tmp_path / "o", "quarantine")
    assert m["reconciled"]
    assert len(kept) == 4 + 4 + 1 + 2 and len(quarantined) == 2       # pages, pages, one rst, two chapters
    assert {q["source"] for q in quarantined} == {"in/cut.pdf", "in/encrypted-user-password.pdf"}
    assert len(m["input_problems"]) == 2
    by_id = {r["id"]: r for r in kept}
    assert by_id["in/debian-reference.zh-cn.p40-43.pdf#page=2"]["page"] == 2
    assert by_id["in/book.epub#chapter=2"]["chapter_title"] == zh[1]["title"]


def test_running_lines_keep_chapter_openers_and_callouts():
    from gristmill.io.documents.layout import Line
    from gristmill.io.documents.running import running_lines

    body = [s["text"].split("\n\n")[2][:40] for s in sections("zh")[:9]]
    roman = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    pages = []
    for n in range(9):
        lines = [Line(f"Debian 新维护者手册 {roman[n]}", 57, 300, 796.7, 796.7, 9)]
        if n in (2, 5, 8):                                   # chapter openers: no header, a "Chapter k" title
            lines = [Line(f"Chapter {n // 3 + 1}", 57, 150, 684.7, 684.7, 20)]
        if n in (1, 4, 7):                                   # a callout right at the top of the text
            lines.append(Line("注意", 57, 90, 751.1, 751.1, 10))
        lines += [Line(body[n], 57, 500, 700, 700, 10), Line(str(n + 1), 290, 300, 35.4, 35.4, 9)]
        pages.append(lines)
    drop = running_lines(pages)
    kept = [[ln.text for j, ln in enumerate(p) if j not in d] for p, d in zip(pages, drop, strict=True)]
    assert kept[2][0] == "Chapter 1" and kept[5][0] == "Chapter 2" and kept[8][0] == "Chapter 3"
    assert kept[1][0] == "注意" and kept[0] == [body[0]] and all(body[n] in kept[n] for n in range(9))
    assert not any(t.startswith("Debian") or t.isdigit() for p in kept for t in p)


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return lines + [cur]


def test_two_column_page_written_row_by_row_reads_column_by_column():
    en = [p for s in sections("en")[:6] for p in s["text"].split("\n\n") if len(p) > 300]
    zh = [p for s in sections("zh")[:6] for p in s["text"].split("\n\n") if len(p) > 120 and p.isascii() is False]
    pages = []
    for left, right, width, size, step in ((en[0], en[1], 48, 9, 12), (zh[0], zh[1], 20, 10, 14)):
        lw = _wrap(left, width) if size == 9 else [left[i:i + width] for i in range(0, len(left), width)]
        rw = _wrap(right, width) if size == 9 else [right[i:i + width] for i in range(0, len(right), width)]
        items = [(50, 780, 14, "Debian Reference in two columns" if size == 9 else "两栏的 Debian 参考手册")]
        for i in range(max(len(lw), len(rw))):    # row by row: a left line, then the right line beside it
            if i < len(lw):
                items.append((50, 740 - step * i, size, lw[i]))
            if i < len(rw):
                items.append((310, 740 - step * i, size, rw[i]))
        pages.append(items)
    r = read_pdf(make_pdf(pages))
    for page, (left, right), size in zip(r.pages, ((en[0], en[1]), (zh[0], zh[1])), (9, 10), strict=True):
        assert page.split("\n")[0] == ("Debian Reference in two columns" if size == 9 else "两栏的 Debian 参考手册")
        # the title, then the whole left column, then the right one (pdfium's own order interleaves them)
        if size == 9:
            assert " ".join(page.split()[5:]) == " ".join((left + " " + right).split())
        else:
            assert "".join(page.split("\n", 1)[1].split()) == "".join((left + right).split())


def test_pdf_chapters_from_top_level_bookmarks():
    from gristmill.io.documents.units import pdf_records

    zh = sections("zh")[:3]
    pages = [[(72, 760, 14, s["title"]), (72, 720, 11, s["text"].split("\n\n")[2][:30])] for s in zh]
    pages.insert(1, [(72, 720, 11, zh[0]["text"].split("\n\n")[3][:30])])      # chapter 1 has two pages
    data = make_pdf(pages, outline=[(zh[0]["title"], 0), (zh[1]["title"], 2), (zh[2]["title"], 3)])
    recs, blank = pdf_records(data, "chapter")
    assert [r["meta"]["chapter_title"] for r in recs] == [s["title"] for s in zh] and not blank
    assert [(r["meta"]["first_page"], r["meta"]["last_page"]) for r in recs] == [(1, 2), (3, 3), (4, 4)]
    assert recs[0]["text"].startswith(zh[0]["title"]) and zh[0]["text"].split("\n\n")[3][:30] in recs[0]["text"]
    assert pdf_records(make_pdf(pages), "chapter")[0][0]["id_suffix"] == ""    # no outline: one document
