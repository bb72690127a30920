"""PDF text with pypdfium2: per page in pdfium's reading (content) order, with the clean-up of
:mod:`gristmill.io.documents.layout` (running headers/footers and page numbers removed, paragraphs joined,
hyphenation undone, CJK without spurious spaces). No OCR: a PDF without a text layer is reported as such.

>>> import pypdfium2 as pdfium, io
>>> buf = io.BytesIO()
>>> doc = pdfium.PdfDocument.new(); _ = doc.new_page(200, 200); doc.save(buf)
>>> r = read_pdf(buf.getvalue()); r.pages, r.no_text
([''], 1)
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from gristmill.io.documents.columns import gutter, reading_order
from gristmill.io.documents.layout import (
    Line,
    dehyphenate,
    despace_cjk,
    is_cjk,
    paragraphs,
    vocabulary,
)
from gristmill.io.documents.running import running_lines


class DocumentError(Exception):
    """The file cannot be read as a document (damaged, encrypted, not the format); the message says why."""


@dataclass
class PdfText:
    pages: list[str]                    # cleaned text per page ('' for a page without text)
    meta: dict = field(default_factory=dict)  # title, author, … from the document information
    no_text: int = 0                    # pages without any text layer


def _first_word_end(text: str) -> int:
    """Index just past the first word of ``text`` (one character for CJK)."""
    s = len(text) - len(text.lstrip())
    if s < len(text) and is_cjk(text[s]):
        return s + 1
    e = text.find(" ", s)
    return len(text) if e < 0 else e


def _line(textpage, raw: str, start: int) -> Line | None:
    """The :class:`Line` of the characters ``raw`` that start at char index ``start``."""
    t = raw.rstrip()
    if not t.strip():
        return None
    a = start + len(raw) - len(raw.lstrip())
    z = start + len(t) - 1
    left, bottom, _, top = textpage.get_charbox(a)
    _, last, right, _ = textpage.get_charbox(z)
    w_end = start + _first_word_end(raw) - 1
    word = textpage.get_charbox(w_end)[2] - left if w_end > a else 0.0
    return Line(t.strip(), left, right, bottom, last, max(top - bottom, 1.0), max(word, 0.0))


def _split(textpage, raw: str, start: int, g: float) -> list[int]:
    """Where a line written across both columns crosses the gutter ``g``: ``[offset]`` in ``raw`` of its
    first character right of ``g`` when a gap of at least half a line height separates it from the
    character before; [] when the line really crosses (a title) or stays on one side."""
    ink = [i for i, c in enumerate(raw) if not c.isspace()]
    if len(ink) < 2:
        return []
    lo, hi = 0, len(ink)
    while lo < hi:   # the first non-space character whose left edge is right of the gutter
        mid = (lo + hi) // 2
        if textpage.get_charbox(start + ink[mid])[0] < g:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0 or lo == len(ink):
        return []
    before, after = textpage.get_charbox(start + ink[lo - 1]), textpage.get_charbox(start + ink[lo])
    height = max(after[3] - after[1], 1.0)
    return [ink[lo]] if before[2] <= g <= after[0] and after[0] - before[2] >= 0.5 * height else []


def _runs(textpage) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) of each text run pdfium finds on the page."""
    import pypdfium2.raw as pdfium_c

    n = pdfium_c.FPDFText_CountRects(textpage, 0, -1)
    lft, top, rgt, bot = (ctypes.c_double() for _ in range(4))
    out = []
    for i in range(n):
        pdfium_c.FPDFText_GetRect(textpage, i, lft, top, rgt, bot)
        out.append((lft.value, bot.value, rgt.value, top.value))
    return out


def page_lines(textpage, width: float = 0.0) -> list[Line]:
    """The page's text lines with their geometry, in reading order: pdfium's (content) order, which
    pdfium ends with ``\r\n``; on a two-column page (:mod:`gristmill.io.documents.columns`; ``width``:
    the page's) each column top to bottom, lines written across both columns split at the gutter."""
    text = textpage.get_text_range()
    if len(text) != textpage.count_chars():  # characters outside the BMP: positions would not line up
        return [Line(t, 0, 0, -i, -i) for i, t in enumerate(text.split("\r\n")) if t.strip()]
    g = gutter(_runs(textpage), width) if width > 0 else None
    out: list[Line] = []
    pos = 0
    for raw in text.split("\r\n"):
        start, pos = pos, pos + len(raw) + 2
        cuts = _split(textpage, raw, start, g) if g is not None else []
        parts = [(raw, start)] if not cuts else [(raw[:cuts[0]], start), (raw[cuts[0]:], start + cuts[0])]
        for piece, at in parts:
            ln = _line(textpage, piece, at)
            if ln is not None:
                out.append(ln)
    return reading_order(out, g) if g is not None else out


def read_pdf(data: bytes, password: str | None = None, max_pages: int = 0) -> PdfText:
    """The text of each page of the PDF ``data``. Raises :class:`DocumentError` for a damaged or
    encrypted (password-protected) file. ``max_pages`` > 0 reads only the first pages."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise DocumentError("encrypted PDF (a password is needed to read it)") from None
        raise DocumentError(f"damaged PDF: {msg}") from None
    try:
        n = len(pdf) if max_pages <= 0 else min(len(pdf), max_pages)
        pages: list[list[Line]] = []
        for i in range(n):
            page = pdf[i]
            tp = page.get_textpage()
            try:
                pages.append(page_lines(tp, page.get_width()))
            finally:
                tp.close()
                page.close()
        meta = {k.lower(): v for k, v in pdf.get_metadata_dict(skip_empty=True).items()
                if k in ("Title", "Author", "Subject", "Keywords", "Creator", "Producer", "CreationDate")}
        meta["pages"] = len(pdf)
    finally:
        pdf.close()
    drop = running_lines(pages)
    kept = [[ln for j, ln in enumerate(lines) if j not in d] for lines, d in zip(pages, drop, strict=True)]
    for lines in kept:
        for ln in lines:   # per line, before lines are joined: a letter-spaced run ends with its line
            ln.text = despace_cjk(ln.text)
    vocab = vocabulary(ln.text for lines in kept for ln in lines)
    texts = [dehyphenate(paragraphs(lines), vocab) for lines in kept]
    return PdfText(texts, meta, sum(1 for lines in pages if not lines))


def outline(data: bytes, n_pages: int) -> list[tuple[str | None, int, int]]:
    """``(title, first page, end page)`` (0-based, end exclusive) of each top-level bookmark of the PDF,
    pages before the first one as an untitled group; [] when the PDF has no usable outline."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(data)
    marks, seen = [], set()
    try:
        ptr = pdfium_c.FPDFBookmark_GetFirstChild(pdf, None)
        while ptr and len(seen) < 100_000:   # top level only; a circular list ends at a repeat
            address = ctypes.addressof(ptr.contents)
            if address in seen:
                break
            seen.add(address)
            mark = pdfium.PdfBookmark(ptr, pdf, 0)
            dest = mark.get_dest()
            if dest is not None and dest.get_index() is not None:
                marks.append((mark.get_title(), dest.get_index()))
            ptr = pdfium_c.FPDFBookmark_GetNextSibling(pdf, ptr)
    finally:
        pdf.close()
    starts: list[tuple[str | None, int]] = []
    for title, page in sorted(marks, key=lambda m: m[1]):
        if 0 <= page < n_pages and (not starts or page > starts[-1][1]):
            starts.append((title, page))
    if not starts:
        return []
    if starts[0][1] > 0:
        starts.insert(0, (None, 0))
    ends = [s for _, s in starts[1:]] + [n_pages]
    return [(t, s, e) for (t, s), e in zip(starts, ends, strict=True)]
