"""EPUB text: the zip's container points to the package (OPF) file, whose spine lists the chapters'
XHTML files in reading order; each chapter's visible text comes from Resiliparse, the extractor of the
``extract`` step, over the whole page (a book chapter has no boilerplate to cut). Standard library zip and
XML only (no AGPL ``ebooklib``).

>>> import io, zipfile
>>> buf = io.BytesIO(); z = zipfile.ZipFile(buf, "w")
>>> z.writestr("META-INF/container.xml", '<container><rootfiles><rootfile full-path="p.opf"/></rootfiles></container>')
>>> z.writestr("p.opf", '<package><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>'
...            '</manifest><spine><itemref idref="c"/></spine></package>')
>>> z.writestr("c.xhtml", "<html><body><h1>Pipes</h1><p>A named pipe is a file.</p></body></html>"); z.close()
>>> [(c.title, c.text) for c in read_epub(buf.getvalue()).chapters]
[('Pipes', 'Pipes\\nA named pipe is a file.')]
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from gristmill.io.documents.pdf import DocumentError

_XHTML = ("application/xhtml+xml", "text/html", "application/x-dtbook+xml")
_HEAD = re.compile(r"<(h[1-3])\b[^>]*>(.*?)</\1>", re.I | re.S)
_TITLE = re.compile(r"<(title)\b[^>]*>(.*?)</\1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


@dataclass
class EpubChapter:
    href: str
    title: str | None
    text: str


@dataclass
class EpubText:
    chapters: list[EpubChapter]
    meta: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)   # spine items the zip does not hold

    def text(self) -> str:
        return "\n\n".join(c.text for c in self.chapters if c.text)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(root, name: str):
    return [el for el in root.iter() if _local(el.tag) == name]


def chapter_text(data: bytes) -> tuple[str, str | None]:
    """(visible text, first heading or title) of one XHTML chapter."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    from gristmill.io.charset import decode_html

    html, _, _ = decode_html(data)
    text = extract_plain_text(HTMLTree.parse(html), main_content=False, alt_texts=False, comments=False,
                              noscript=False)
    text = _BLANKS.sub("\n", text)
    m = _HEAD.search(html) or _TITLE.search(html)
    title = " ".join(_TAG.sub("", m.group(2)).split()) if m else None
    return text.strip(), title or None


def read_epub(data: bytes, max_member_bytes: int = 64 * 2**20) -> EpubText:
    """The chapters of the EPUB ``data`` in spine order. A chapter larger than ``max_member_bytes``
    uncompressed raises :class:`DocumentError` (a zip bomb is not read)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        container = ET.fromstring(z.read("META-INF/container.xml"))
        rootfiles = _find_all(container, "rootfile")
        if not rootfiles:
            raise DocumentError("EPUB without a rootfile in META-INF/container.xml")
        opf_path = rootfiles[0].get("full-path") or ""
        opf = ET.fromstring(z.read(opf_path))
    except DocumentError:
        raise
    except (zipfile.BadZipFile, KeyError, ET.ParseError, ValueError) as e:
        raise DocumentError(f"damaged or not an EPUB file: {type(e).__name__}: {e}") from None
    base = posixpath.dirname(opf_path)
    items = {el.get("id"): el for el in _find_all(opf, "item")}
    meta = {}
    for name in ("title", "creator", "language"):
        el = next(iter(_find_all(opf, name)), None)
        if el is not None and (el.text or "").strip():
            meta["author" if name == "creator" else name] = el.text.strip()
    out = EpubText([], meta)
    for ref in _find_all(opf, "itemref"):
        item = items.get(ref.get("idref"))
        if item is None or (item.get("media-type") or "") not in _XHTML:
            continue
        href = posixpath.normpath(posixpath.join(base, item.get("href") or "")).split("#")[0]
        try:
            info = z.getinfo(href)
        except KeyError:
            out.missing.append(href)
            continue
        if info.file_size > max_member_bytes:
            raise DocumentError(f"EPUB chapter {href} is {info.file_size:,} bytes uncompressed, over "
                                f"{max_member_bytes:,}")
        try:
            text, title = chapter_text(z.read(info))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise DocumentError(f"damaged EPUB chapter {href}: {type(e).__name__}: {e}") from None
        out.chapters.append(EpubChapter(href, title, text))
    return out
