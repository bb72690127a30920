"""How a text, JSONL or CSV file is decoded: ``input.encoding`` and, for ``auto``, the decision made on the
first ``SNIFF_BYTES`` of each file (so every shard of a file decodes it the same way).

``auto`` takes, in order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); the zero bytes that
UTF-16/UTF-32 text without a mark has at every second (fourth) position; UTF-8 when at least half of the
lines that hold non-ASCII bytes are valid UTF-8, or 90% of the non-ASCII bytes form valid UTF-8 sequences (a
line of GBK or Big5 Chinese is almost never valid UTF-8, and only 0.3-0.4 of its bytes form UTF-8 sequences;
the records that are not valid go to quarantine); then charset-normalizer (uchardet, when Resiliparse is
installed, as a second opinion). GB2312/GBK are read as GB18030 and Big5 as Big5-HKSCS, supersets that decode the same bytes the
same way. A candidate is used only if it decodes at least 90% of the prefix's lines (a few bad records do not
change the decision; they go to quarantine); if none does, the file is read as UTF-8 (``how='fallback'``,
confidence 0) and the records that are not UTF-8 go to quarantine.

>>> poem = "人生得意须尽欢，莫使金樽空对月。\\n天生我材必有用，千金散尽还复来。\\n" * 4
>>> d = decide(poem.encode("gbk"), "auto", whole=True)
>>> d.name, d.how
('gb18030', 'detected')
>>> decide(poem.encode("utf-16"), "auto", whole=True).name      # with a byte-order mark
'utf-16-le'
>>> decide(poem.encode("utf-16-be"), "auto", whole=True).name   # without one
'utf-16-be'
>>> decide(poem.encode(), "auto", whole=True).to_dict()
{'encoding': 'utf-8', 'confidence': 1.0, 'how': 'utf-8'}
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import numpy as np

from gristmill.errors import GristmillError
from gristmill.io.charset import normalise_label

SNIFF_BYTES = 64 * 1024
UTF8_LINES = 0.5          # share of the non-ASCII lines that, valid UTF-8, make a file UTF-8
UTF8_SHARE = 0.9          # share of non-ASCII bytes in valid UTF-8 sequences that also does
MESS_RETRY = 0.5          # charset-normalizer's mess threshold (default 0.2) for a second pass
LINE_SHARE = 0.9          # share of the prefix's lines a codec must decode to be chosen (bad records aside)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_VALID_UTF8 = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]"
                         rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
                         rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
                         rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
_DECLARED = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "shift_jis": "cp932",
             "euc_kr": "cp949"}


@dataclass(frozen=True)
class Decoding:
    """The codec for a file's records, the bytes of its byte-order mark, and how it was decided."""

    name: str                 # a Python codec, endianness explicit (utf-16-le), no BOM handling
    confidence: float         # 1.0 when declared, a mark or valid UTF-8; the detector's otherwise
    how: str                  # declared | bom | utf-8 | zero-bytes | detected | fallback
    bom: int = 0              # bytes of byte-order mark at the start of the file

    @property
    def newline(self) -> bytes:
        """The bytes of ``\\n`` in this encoding (``b"\\n\\x00"`` for UTF-16 LE)."""
        return "\n".encode(self.name)

    @property
    def is_utf8(self) -> bool:
        return self.name == "utf-8"

    def to_dict(self) -> dict:
        return {"encoding": self.name, "confidence": self.confidence, "how": self.how}


UTF8 = Decoding("utf-8", 1.0, "declared")


def check_setting(setting: str) -> str | None:
    """None if ``setting`` is auto or a codec Python knows, else the problem in words."""
    if setting == "auto":
        return None
    try:
        info = codecs.lookup(setting)
    except LookupError:
        return f"unknown encoding {setting!r}"
    if not getattr(info, "_is_text_encoding", True):
        return f"{setting!r} is not a text encoding"
    return None


def decide(prefix: bytes, setting: str = "auto", *, whole: bool = False) -> Decoding:
    """How to decode a file whose first bytes are ``prefix`` (``whole``: the prefix is the entire file)."""
    problem = check_setting(setting)
    if problem:
        raise GristmillError(f"input.encoding: {problem}",
                             hint="auto, utf-8, gb18030, big5, utf-16 or another Python codec name")
    if setting != "auto":
        return _declared(prefix, setting)
    for bom, name in _BOMS:
        if prefix.startswith(bom):
            return Decoding(name, 1.0, "bom", len(bom))
    wide = _zero_byte_pattern(prefix, whole)
    if wide is not None:
        return wide
    evidence = utf8_evidence(prefix, whole)
    if evidence is not None:
        return Decoding("utf-8", evidence, "utf-8")
    return _detected(prefix, whole) or Decoding("utf-8", 0.0, "fallback")


def _declared(prefix: bytes, setting: str) -> Decoding:
    name = codecs.lookup(setting).name
    name = _DECLARED.get(name.replace("-", "_"), name)
    if name in ("utf-8-sig", "utf_8_sig"):
        name = "utf-8"
    if name in ("utf-16", "utf-32"):
        for bom, full in _BOMS:
            if full.startswith(name) and prefix.startswith(bom):
                return Decoding(full, 1.0, "declared", len(bom))
        width = 2 if name == "utf-16" else 4
        found = _zero_byte_pattern(prefix, False, only=width)
        return Decoding(found.name if found else f"{name}-le", 1.0, "declared")
    for bom, full in _BOMS:
        if full == name and prefix.startswith(bom):
            return Decoding(name, 1.0, "declared", len(bom))
    return Decoding(name, 1.0, "declared")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def utf8_evidence(data: bytes, whole: bool = True) -> float | None:
    """How surely ``data`` is UTF-8 (the share of its non-ASCII lines that are valid), or None if it is not.

    >>> utf8_evidence("标题\\n正文。\\n".encode()), utf8_evidence("标题\\n正文。\\n".encode("gbk"))
    (1.0, None)
    """
    if not whole:
        data = _trim_partial_utf8(data)
    if _is_utf8(data):
        return 1.0
    valid = invalid = 0
    for line in data.split(b"\n"):
        if not line.isascii():
            try:
                line.decode("utf-8")
                valid += 1
            except UnicodeDecodeError:
                invalid += 1
    share = valid / (valid + invalid)
    if share >= UTF8_LINES or utf8_share(data) >= UTF8_SHARE:
        return round(share, 3)
    return None


def utf8_share(data: bytes, whole: bool = True) -> float:
    """The share of non-ASCII bytes that form valid UTF-8 sequences (1.0 for ASCII).

    >>> utf8_share("汉字".encode()), utf8_share("汉字".encode("gbk"))
    (1.0, 0.0)
    """
    if not whole:
        data = _trim_partial_utf8(data)
    if _is_utf8(data):
        return 1.0
    high = int(np.count_nonzero(np.frombuffer(data, np.uint8) >= 0x80))
    valid = sum(len(m) for m in _VALID_UTF8.findall(data))
    return valid / high if high else 1.0


def _trim_partial_utf8(data: bytes) -> bytes:
    """Drop an incomplete UTF-8 sequence cut at the end of a prefix."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b < 0x80:
            return data
        if b >= 0xC0:
            need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return data[:-back] if need > back else data
    return data


def _zero_byte_pattern(prefix: bytes, whole: bool, only: int | None = None) -> Decoding | None:
    """UTF-32 or UTF-16 without a byte-order mark: zero bytes (the high bytes of ASCII characters, newlines
    included) gather at one position of every 4 or 2 bytes; the prefix's lines must then decode that way."""
    a = np.frombuffer(prefix[: len(prefix) - len(prefix) % 4], np.uint8)
    if len(a) < 4:
        return None
    zero = a == 0
    for width in (4, 2):
        if only and width != only:
            continue
        by_pos = zero.reshape(-1, width).sum(axis=0)
        units = len(a) // width
        for order, pos in (("le", width - 1), ("be", 0)):
            z = int(by_pos[pos])
            others = int(by_pos.sum()) - z
            if width == 4 and z < 0.9 * units:          # UTF-32: the top byte is zero in every unit
                continue
            if width == 2 and (z < 4 or z < 8 * others):   # UTF-16: ASCII high bytes, rarely others
                continue
            name = f"utf-{16 if width == 2 else 32}-{order}"
            share = line_share(prefix, name, whole)
            if share >= LINE_SHARE:
                conf = share if width == 4 else z / (z + others) * share
                return Decoding(name, round(conf, 3), "zero-bytes")
    return None


def line_share(data: bytes, name: str, whole: bool) -> float:
    """The share of the lines of ``data`` (the last one only if ``whole``) that decode strictly in ``name``.

    >>> line_share("一行\\n两行\\n".encode("gbk") + b"\\x81 bad\\n", "gb18030", True)
    0.667
    """
    from gristmill.io.lines import find_aligned

    newline = "\n".encode(name)
    w = len(newline)
    good = total = i = 0
    while i < len(data):
        j = find_aligned(data, newline, i) if w > 1 else data.find(newline, i)
        if j < 0 and not whole:
            break
        line = data[i:] if j < 0 else data[i:j]
        if line.strip(b"\x00 \t\r"):
            total += 1
            good += _decodes(line, name)
        i = len(data) if j < 0 else j + w
    return round(good / total, 3) if total else 0.0


def _decodes(data: bytes, name: str) -> bool:
    try:
        codecs.decode(data, name, "strict")
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def _detector(sample: bytes) -> list[tuple[str, float]]:
    """charset-normalizer's candidates for ``sample`` (Python codec names, supersets), best first, with
    1 - its mess ratio; UTF-16/32 are left to the zero-byte test. Text that looks messy in every encoding
    (ASCII art, box drawing, tables) gets a second, more tolerant pass."""
    from charset_normalizer import from_bytes

    out = []
    matches = from_bytes(sample) or from_bytes(sample, threshold=MESS_RETRY)
    for match in matches:
        name = normalise_label(match.encoding)
        if name and "-16" not in name and "-32" not in name and name not in (n for n, _ in out):
            out.append((name, 1.0 - match.chaos))
    return out


def _detected(prefix: bytes, whole: bool) -> Decoding | None:
    """The detector's first candidate in which at least ``LINE_SHARE`` of the prefix's lines decode. A bad
    record in the prefix makes the detector refuse every codec, so it also judges the non-ASCII lines in
    four interleaved groups and the groups vote."""
    cut = prefix.rfind(b"\n")
    sample = prefix if whole else prefix[: cut + 1] if cut > 0 else prefix.rstrip(bytes(range(0x80, 0x100)))
    candidates = _detector(sample)
    if not candidates:
        lines = [x for x in sample.split(b"\n") if not x.isascii()]
        votes: dict[str, list[float]] = {}
        for k in range(4):
            for name, score in _detector(b"\n".join(lines[k::4]))[:1]:
                votes.setdefault(name, []).append(score)
        candidates = [(n, sum(v) / 4) for n, v in sorted(votes.items(), key=lambda kv: -len(kv[1]))]
    for name, score in candidates:
        share = line_share(sample, name, True)
        if share >= LINE_SHARE:
            return Decoding(name, round(score * share, 3), "detected")
    try:
        from resiliparse.parse.encoding import detect_encoding
    except ImportError:
        return None
    name = normalise_label(detect_encoding(sample))
    if name and name != "utf-8" and line_share(sample, name, True) >= LINE_SHARE:
        return Decoding(name, 0.5 * line_share(sample, name, True), "detected")
    return None
