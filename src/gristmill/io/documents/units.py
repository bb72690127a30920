"""Documents of one file as records: one per file, or one per page (PDF) or chapter (EPUB spine items,
DOCX/Markdown/reStructuredText top-level headings, PDF top-level bookmarks), each with its metadata.
Pure: bytes in, ``(records, blank, problem)`` out; :mod:`gristmill.io.documents.reader` adds the limits.

>>> recs, blank = markup_records("# One\\nfirst\\n# Two\\nsecond", "markdown", "chapter", strip=True)
>>> [(r["id_suffix"], r["text"], r["meta"]["chapter_title"]) for r in recs], blank
([('#chapter=1', 'One\\nfirst', 'One'), ('#chapter=2', 'Two\\nsecond', 'Two')], 0)
"""

from __future__ import annotations

import io
import re

from gristmill.io.documents.pdf import DocumentError

UNITS = ("file", "page", "chapter")
_MD_H1 = re.compile(r"^#\s+\S")
_RST_UNDER = re.compile(r"^(=){3,}\s*$|^(-){3,}\s*$")


def _rec(text: str, suffix: str, meta: dict) -> dict:
    return {"text": text, "id_suffix": suffix, "meta": {k: v for k, v in meta.items() if v is not None}}


def pdf_records(data: bytes, unit: str, max_pages: int = 0) -> tuple[list[dict], int]:
    """PDF pages as records; raises :class:`DocumentError` for a damaged or encrypted file and for one
    with no text on any page (``pdf_no_text``: image-only or scanned; no OCR)."""
    from gristmill.io.documents.pdf import outline, read_pdf

    r = read_pdf(data, max_pages=max_pages)
    if not any(t.strip() for t in r.pages):
        raise DocumentError(f"pdf_no_text: no text layer on any of its {len(r.pages)} pages (image-only or "
                            "scanned; gristmill does no OCR)")
    base = {"format": "pdf", **r.meta}
    if unit == "page":
        recs = [_rec(t, f"#page={i + 1}", {**base, "page": i + 1, "pdf_no_text": 0})
                for i, t in enumerate(r.pages) if t.strip()]
        return recs, sum(1 for t in r.pages if not t.strip())
    groups = outline(data, len(r.pages)) if unit == "chapter" else []
    if not groups:
        return [_rec("\n\n".join(t for t in r.pages if t.strip()), "", {**base, "pdf_no_text": r.no_text})], 0
    recs = []
    for n, (title, first, last) in enumerate(groups, 1):
        pages = r.pages[first:last]
        text = "\n\n".join(t for t in pages if t.strip())
        if text:
            recs.append(_rec(text, f"#chapter={n}", {**base, "chapter": n, "chapter_title": title,
                                                     "first_page": first + 1, "last_page": last,
                                                     "pdf_no_text": sum(1 for t in pages if not t.strip())}))
    return recs, sum(1 for _, f, la in groups if not any(t.strip() for t in r.pages[f:la]))


def zip_guard(data: bytes, limit: int, kind: str) -> None:
    """Refuse a zip (DOCX, EPUB) whose members would decompress to more than ``limit`` bytes in all."""
    import zipfile

    try:
        total = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as e:
        raise DocumentError(f"damaged or not {'an EPUB' if kind == 'epub' else 'a .docx'} file: "
                            f"{type(e).__name__}: {e}") from None
    if limit and total > limit:
        raise DocumentError(f"{kind} file decompresses to {total:,} bytes, over input.max_document_bytes "
                            f"({limit:,})")


def docx_records(data: bytes, unit: str, limit: int = 0) -> tuple[list[dict], int]:
    from gristmill.io.documents.docx import read_docx

    zip_guard(data, limit, "docx")
    r = read_docx(data)
    base = {"format": "docx", **r.meta, "chapters": len(r.chapters), "footnotes": len(r.footnotes)}
    if unit == "file" or len(r.chapters) <= 1:
        return ([_rec(r.text(), "", base)] if r.text().strip() else []), 0 if r.text().strip() else 1
    # footnotes go with the chapter that references them
    recs = []
    for n, c in enumerate(r.chapters, 1):
        body = "\n".join(c.lines)
        notes = [f for f in r.footnotes if f"[{f[1:f.index(']')]}]" in body]
        recs.append(_rec("\n".join([body, *notes]), f"#chapter={n}", {**base, "chapter": n, "chapter_title": c.title}))
    return recs, 0


def epub_records(data: bytes, unit: str, limit: int = 0) -> tuple[list[dict], int]:
    from gristmill.io.documents.epub import read_epub

    zip_guard(data, limit, "epub")
    r = read_epub(data)
    base = {"format": "epub", **r.meta, "chapters": len(r.chapters)}
    if r.missing:
        base["missing_chapters"] = r.missing
    if unit == "file":
        text = r.text()
        return ([_rec(text, "", base)] if text.strip() else []), 0 if text.strip() else 1
    recs = [_rec(c.text, f"#chapter={n}", {**base, "chapter": n, "chapter_title": c.title, "href": c.href})
            for n, c in enumerate(r.chapters, 1) if c.text.strip()]
    return recs, sum(1 for c in r.chapters if not c.text.strip())


def _markup_chapters(text: str, kind: str) -> list[str]:
    """Split at top-level headings: ``# Title`` (Markdown, outside code fences) or a title underlined with
    ``=`` (reStructuredText; the first adornment style used)."""
    lines = text.splitlines()
    starts, fence = [0], False
    for i, ln in enumerate(lines):
        if kind == "markdown":
            if ln.lstrip().startswith(("```", "~~~")):
                fence = not fence
            if not fence and _MD_H1.match(ln) and i:
                starts.append(i)
        elif i and _RST_UNDER.match(ln) and ln[0] == "=" and lines[i - 1].strip() and len(ln.strip()) >= len(lines[i - 1].strip()):
            start = i - 2 if i >= 2 and _RST_UNDER.match(lines[i - 2]) else i - 1
            if start > 0:
                starts.append(start)
    starts.append(len(lines))
    return ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:], strict=False)]


def markup_records(text: str, kind: str, unit: str, strip: bool) -> tuple[list[dict], int]:
    """Markdown (``kind='markdown'``) or reStructuredText (``'rst'``) as one record or one per chapter,
    the markup kept or (``strip``) removed."""
    from gristmill.io.documents.markup import strip_markup

    parts = _markup_chapters(text, kind) if unit == "chapter" else [text]
    recs, blank = [], 0
    for n, part in enumerate(parts, 1):
        body = strip_markup(part, kind) if strip else part.strip("\n")
        if not body.strip():
            blank += 1
            continue
        meta = {"format": kind, "markup_stripped": strip}
        if unit == "chapter":
            plain = body if strip else strip_markup(part, kind)
            title = next((ln.strip() for ln in plain.splitlines() if ln.strip()), None)
            meta |= {"chapter": n, "chapter_title": title or None}
        recs.append(_rec(body, f"#chapter={n}" if unit == "chapter" else "", meta))
    return recs, blank
