"""From positioned text lines of a PDF page to running text: lines joined into paragraphs, hyphenation at
line ends undone, CJK text without spurious spaces (running headers: :mod:`gristmill.io.documents.running`).

Knows nothing of PDF libraries: a :class:`Line` is its text and where it starts and ends on the page
(PDF points, y grows upwards), so every rule here is testable on plain data.

>>> a = Line("The quick brown fox jumps over the lazy dog and re-", 72, 540, 700, 700)
>>> b = Line("turns home.", 72, 130, 686, 686)
>>> paragraphs([a, b])
'The quick brown fox jumps over the lazy dog and returns home.'
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK1 = re.compile(f"[{CJK}\U00020000-\U0003134f]")
# three or more CJK characters each standing alone between single spaces: letter-spaced text ("中 文 文 本")
_SPACED = re.compile(f"(?<![{CJK}])(?:[{CJK}] ){{2,}}[{CJK}](?![{CJK}])")
_BULLET = re.compile(r"^\s*(?:[•●◦▪■□◆◇►▸‣⁃–—*·]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
_HYPHEN_MARK = "\ufffe"   # pdfium's mark for a hyphen at a line end (the line break itself is removed)
_WORD = re.compile(r"[^\W\d_][\w'-]*")
SOFT = re.compile(r"([^\W\d_]+)[\ufffe\u00ad]([^\W\d_]+)")


@dataclass
class Line:
    """A text line: ``left``/``right`` x of its first and last character, ``first``/``last`` the baseline
    (bottom) y of its first and last character (they differ when a hyphenated word joined two lines),
    ``height`` the line's glyph height, ``word`` the width of its first word (0: unknown) and ``column``
    which column of a two-column page it stands in."""

    text: str
    left: float
    right: float
    first: float
    last: float
    height: float = 10.0
    word: float = 0.0
    column: int = 0       # on a two-column page: 1 left, 2 right, 0 across or single column


def is_cjk(ch: str) -> bool:
    return bool(ch) and _CJK1.match(ch) is not None


def despace_cjk(text: str) -> str:
    """Remove the spaces of letter-spaced CJK runs; a single space between two CJK words is kept.

    >>> despace_cjk("中 文 文 本 和 英 文")
    '中文文本和英文'
    >>> despace_cjk("当作一个 类 Unix 系统")
    '当作一个 类 Unix 系统'
    """
    if " " not in text or not _CJK1.search(text):
        return text
    return _SPACED.sub(lambda m: m.group().replace(" ", ""), text)


def join(a: str, b: str) -> str:
    """Two lines of one paragraph as one: ``re-`` + ``turn`` is ``return``, CJK meets CJK without a space,
    everything else with one.

    >>> join("数据的", "交换"), join("hyphen-", "ated"), join("MS-", "DOS"), join("a", "b")
    ('数据的交换', 'hyphenated', 'MS-DOS', 'a b')
    """
    a, b = a.rstrip(), b.lstrip()
    if not a or not b:
        return a + b
    if a.endswith("-") and len(a) > 1 and a[-2].isalnum():
        return a[:-1] + b if a[-2].islower() and b[0].islower() else a + b
    if is_cjk(a[-1]) and is_cjk(b[0]):
        return a + b
    return a + " " + b


def dehyphenate(text: str, vocabulary: set[str] | None = None) -> str:
    """Resolve pdfium's line-end hyphen marks (U+FFFE) and soft hyphens inside words: ``manip|ulation`` is
    joined; ``MS|DOS``, parts whose hyphenated form the document uses elsewhere (``debian-security``) and
    two words of the document never written as one (``time|consuming``) keep a hyphen.

    >>> dehyphenate("manip\\ufffeulation of MS\\ufffeDOS")
    'manipulation of MS-DOS'
    >>> dehyphenate("debian\\ufffesecurity", {"debian-security"})
    'debian-security'
    >>> dehyphenate("time\\ufffeconsuming", {"time", "consuming"})
    'time-consuming'
    """
    vocab = vocabulary or set()

    def fix(m: re.Match) -> str:
        left, right = m.group(1), m.group(2)
        hyphenated, joined = f"{left}-{right}", left + right
        if not (left[-1].islower() and right[0].islower()) or (hyphenated.lower() in vocab) > (joined.lower() in vocab):
            return hyphenated
        # two words of their own that the document never writes as one: a compound (time-consuming)
        parts = len(left) >= 3 and len(right) >= 3 and left.lower() in vocab and right.lower() in vocab
        return hyphenated if parts and joined.lower() not in vocab else joined

    text = SOFT.sub(fix, text)
    return text.replace(_HYPHEN_MARK, "-")


def vocabulary(texts) -> set[str]:
    """Lower-cased words (hyphenated ones included) of ``texts``, for :func:`dehyphenate`."""
    out: set[str] = set()
    for t in texts:
        out.update(w.lower() for w in _WORD.findall(SOFT.sub(" ", t)))  # not the parts of a broken word
    return out


def paragraphs(lines: list[Line]) -> str:
    """The page's lines joined into paragraphs (one per output line). Two lines belong to one paragraph
    when the next follows at about the usual line pitch and its first word would not have fitted at the
    end of the line before (the line was full), and it starts no list item."""
    if not lines:
        return ""
    gaps = [a.last - b.first for a, b in zip(lines, lines[1:], strict=False) if a.last - b.first > 0.5]
    pitch = statistics.median(gaps) if gaps else max(lines[0].height, 1.0)
    edges = {}
    for col in {ln.column for ln in lines}:   # the right edge of the text, per column
        rights = sorted(ln.right for ln in lines if ln.column == col)
        edges[col] = rights[int(0.9 * (len(rights) - 1))] if len(rights) >= 5 else rights[-1]
    out: list[str] = []
    cur = lines[0].text
    for a, b in zip(lines, lines[1:], strict=False):
        gap = a.last - b.first
        room = edges[a.column] - a.right
        full = room < b.word + 0.3 * a.height if b.word else room < 2 * a.height
        if 0.5 < gap <= 1.45 * pitch and full and not _BULLET.match(b.text):
            cur = join(cur, b.text)
        else:
            out.append(cur)
            cur = b.text
    out.append(cur)
    return "\n".join(s.strip() for s in out if s.strip())
