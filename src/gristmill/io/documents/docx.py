"""Word (.docx) text with python-docx: paragraphs and tables in document order, headings as their own
lines, table rows as cells joined by `` | ``, footnotes as ``[n] text`` lines at the end (with ``[n]`` where
they are referenced). Sections split at top-level headings give chapters.

>>> import docx, io
>>> d = docx.Document(); _ = d.add_heading("Pipes", 1); _ = d.add_paragraph("A named pipe is a file.")
>>> buf = io.BytesIO(); d.save(buf)
>>> r = read_docx(buf.getvalue()); r.chapters[0].title, r.text()
('Pipes', 'Pipes\\nA named pipe is a file.')
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from gristmill.io.documents.pdf import DocumentError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


@dataclass
class Chapter:
    title: str | None
    lines: list[str] = field(default_factory=list)


@dataclass
class DocxText:
    chapters: list[Chapter]
    footnotes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def text(self) -> str:
        """The whole document: every chapter, then the footnotes."""
        return "\n".join([ln for c in self.chapters for ln in c.lines] + self.footnotes)


def run_text(el) -> str:
    """The visible text of a paragraph element: text, tabs, breaks and ``[n]`` footnote marks (deleted
    text and field codes are not visible)."""
    out = []
    for node in el.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}footnoteReference", f"{W}noBreakHyphen"):
        tag = node.tag[len(W):]
        if tag == "t":
            out.append(node.text or "")
        elif tag == "tab":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append("\n")
        elif tag == "noBreakHyphen":
            out.append("-")
        else:
            out.append(f"[{node.get(f'{W}id')}]")
    return "".join(out)


def _heading_level(style_name: str) -> int:
    """1 for Title and Heading 1, n for Heading n, 0 for body text."""
    s = style_name.lower()
    if s == "title":
        return 1
    if s.startswith("heading "):
        tail = s.split()[-1]
        return int(tail) if tail.isdigit() else 0
    return 0


def _table_rows(tbl) -> list[str]:
    rows = []
    for tr in tbl.iter(f"{W}tr"):
        cells = [" ".join(run_text(p).strip() for p in tc.iter(f"{W}p")).strip() for tc in tr.iter(f"{W}tc")]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _footnotes(doc) -> list[str]:
    out = []
    for rel in doc.part.rels.values():
        if rel.reltype != FOOTNOTES or rel.is_external:
            continue
        from lxml import etree

        root = etree.fromstring(rel.target_part.blob)
        for fn in root.iter(f"{W}footnote"):
            if fn.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            text = " ".join(run_text(p).strip() for p in fn.iter(f"{W}p")).strip()
            if text:
                out.append(f"[{fn.get(f'{W}id')}] {text}")
    return out


def read_docx(data: bytes) -> DocxText:
    """Chapters (split at top-level headings), footnotes and core properties of the .docx ``data``."""
    import docx

    try:
        doc = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise DocumentError(f"damaged or not a .docx file: {type(e).__name__}: {e}") from None
    except Exception as e:  # python-docx raises its own PackageNotFoundError, lxml its XMLSyntaxError
        raise DocumentError(f"cannot read .docx: {type(e).__name__}: {e}") from None
    styles = {s.style_id: s.name or "" for s in doc.styles}
    top = 1
    body = list(doc.element.body.iterchildren())
    levels = []
    for el in body:
        if el.tag == f"{W}p":
            sid = el.find(f"{W}pPr/{W}pStyle")
            levels.append(_heading_level(styles.get(sid.get(f"{W}val"), "") if sid is not None else ""))
    if levels and 1 not in levels:
        top = min((lv for lv in levels if lv), default=1)
    chapters = [Chapter(None)]
    for el in body:
        if el.tag == f"{W}tbl":
            chapters[-1].lines.extend(_table_rows(el))
        elif el.tag == f"{W}p":
            text = run_text(el).strip()
            if not text:
                continue
            sid = el.find(f"{W}pPr/{W}pStyle")
            level = _heading_level(styles.get(sid.get(f"{W}val"), "") if sid is not None else "")
            if level == top and (chapters[-1].lines or chapters[-1].title):
                chapters.append(Chapter(text))
            elif level == top:
                chapters[-1].title = text
            chapters[-1].lines.append(text)
    cp = doc.core_properties
    meta = {k: v for k, v in (("title", cp.title), ("author", cp.author), ("language", cp.language)) if v}
    return DocxText([c for c in chapters if c.lines], _footnotes(doc), meta)
