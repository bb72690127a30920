"""Decode web pages: byte-order mark, then the HTTP header's charset, then the page's own meta tag, then
detection (uchardet via Resiliparse, or a UTF-8/GB18030 trial). Labels map to the superset codecs browsers use
(GB2312/GBK → GB18030, Big5 → Big5-HKSCS, Shift_JIS → CP932, EUC-KR → CP949, ISO-8859-1 → CP1252).

>>> decode_html("<meta charset='gbk'><p>中文网页</p>".encode("gbk"))[1:]
('gb18030', 'meta')
>>> decode_html("<p>中文网页</p>".encode("gbk"), "text/html; charset=GB2312")[1:]
('gb18030', 'http')
"""

from __future__ import annotations

import codecs
import re

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HTTP = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-:.]+)", re.I)
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs",
             "shift_jis": "cp932", "euc_kr": "cp949", "latin_1": "cp1252", "iso8859_1": "cp1252",
             "ascii": "cp1252", "euc_jp": "euc_jis_2004"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalise_label(label: str | None) -> str | None:
    """A Python codec name for a charset label, upgraded to the browser superset; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    return SUPERSETS.get(name.replace("-", "_"), name)


def _try(data: bytes, enc: str | None) -> str | None:
    if enc is None:
        return None
    try:
        return data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, str]:
    """(text, encoding, how it was decided: bom | http | meta | detected | fallback)."""
    for bom, enc in BOMS:
        if data.startswith(bom):
            text = _try(data, enc)
            if text is not None:
                return text, enc.replace("-sig", ""), "bom"
    if content_type:
        m = _HTTP.search(content_type)
        enc = normalise_label(m.group(1)) if m else None
        text = _try(data, enc)
        if text is not None:
            return text, enc, "http"
    m = _META.search(data[:4096])
    enc = normalise_label(m.group(1).decode("ascii", "ignore")) if m else None
    text = _try(data, enc)
    if text is not None:
        return text, enc, "meta"
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8", "detected"
    try:
        from resiliparse.parse.encoding import detect_encoding

        enc = normalise_label(detect_encoding(data[:65536]))
    except ImportError:
        enc = None
    for e in (enc, "gb18030"):
        text = _try(data, e)
        if text is not None:
            return text, e, "detected"
    return data.decode("cp1252", errors="replace"), "cp1252", "fallback"
