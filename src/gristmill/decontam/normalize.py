"""One token sequence per text for benchmark matching, the same for benchmark items and scanned documents.

A token is a run of letters/digits of a space-delimited script, or one CJK character (as in the dedup
shingles), lower-cased and with full-width ASCII folded to ASCII, so ``n`` tokens are ``n`` English words or
``n`` Chinese characters. Separators and punctuation are dropped, and so is the scaffolding that formats a
multiple-choice item, wherever it appears (in the item and in the document alike, so both sides agree):

- option letters A-H followed by ``. ． ) ） 、 : ：`` (``A.``, ``B)``, ``C、``) or in brackets (``(A)``,
  ``（B）``, ``[C]``);
- circled and bracketed numbers and letters (``①``, ``⑴``, ``Ⓐ``);
- labels: ``答案`` / ``正确答案`` (with the answer letters after them: ``答案：B``, ``答案是 AC``), ``选项``,
  ``Answer:`` / ``Correct answer: B``, ``Options:``, ``Choices:``, ``Question:``, ``问题：``, ``题目：``.

So a question and its options are one sequence whatever the layout, and n-grams run across the fields.
Every kept token keeps its ``[start, end)`` character span in the original text (the position map used to
cut), and whether a sentence or line boundary (or the document edge) lies before and after it.

>>> t = normalise(["女性生殖腺是 A. 卵巢 B. 前庭大腺\\n答案：A", "Question: Which is largest? (A) Mars (B) Jupiter"])
>>> t.doc.tolist(), int(t.start[0]), int(t.end[-1])
([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 0, 48)
>>> (normalise(["女性生殖腺是卵巢前庭大腺"]).hash == t.hash[:12]).all()
np.True_
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import regex

_B = np.uint64(0x100000001B3)
_INV_B = np.uint64(pow(0x100000001B3, -1, 2**64))
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)


def _class_table() -> np.ndarray:
    """0: separator, 1: letter/digit/mark of a space-delimited script, 2: CJK (a token by itself); BMP only.
    Enclosed alphanumerics (①, ⑴, Ⓐ …) are separators: they number options."""
    import unicodedata

    cls = np.array([1 if chr(i).isalnum() or unicodedata.category(chr(i)).startswith("M") else 0
                    for i in range(0x10000)], dtype=np.uint8)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x3040, 0x30FF), (0x31F0, 0x31FF),
                   (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xFF66, 0xFF9F), (0x3005, 0x3007)):
        cls[lo:hi + 1] = np.where(cls[lo:hi + 1] > 0, 2, 0)
    for lo, hi in _ENCLOSED:
        cls[lo:hi + 1] = 0
    return cls


def _classes(cp: np.ndarray) -> np.ndarray:
    """Class of each code point; beyond the BMP, CJK (Han extension B and later) are tokens, the rest
    separators."""
    big = cp >= 0x10000
    cls = _CLASS[np.where(big, 0, cp)]
    if big.any():
        cls[big] = np.where((cp[big] >= 0x20000) & (cp[big] <= 0x3134F), 2, 0)
    return cls


def _fold_table() -> np.ndarray:
    """Code point -> lower case (when that is one code point) with full-width ASCII folded; BMP only."""
    t = np.arange(0x10000, dtype=np.uint32)
    for i in range(0x10000):
        if not 0xD800 <= i < 0xE000:
            low = chr(i).lower()
            if len(low) == 1:
                t[i] = ord(low)
    t[0xFF01:0xFF5F] = t[0x21:0x7F]
    return t


# enclosed alphanumerics (①, ⑴, ⒈, Ⓐ), dingbat circled numbers, circled numbers 21-50 and circled 一..十
_ENCLOSED = ((0x2460, 0x24FF), (0x2776, 0x2793), (0x3251, 0x325F), (0x3280, 0x3289), (0x32B1, 0x32BF))
_FOLD = _fold_table()
_CLASS = _class_table()
_AFTER_LETTER = np.array([ord(c) for c in ".．)）、:："], np.uint32)
_OPEN = np.array([ord(c) for c in "(（[【"], np.uint32)
_CLOSE = np.array([ord(c) for c in ")）]】"], np.uint32)
_BOUNDARY = np.array([ord(c) for c in "\n\r\x00.!?;:。！？；：…\"“”「」『』"], np.uint32)
_LETTERS = "A-HＡ-Ｈ"
_LABEL = regex.compile(
    rf"(?:正确答案|参考答案|标准答案|答案)\s*(?:应为|应选|是|为|选)?\s*[:：]?\s*"
    rf"(?:[(（]?\s*[{_LETTERS}]{{1,4}}\s*[)）]?(?![\p{{L}}\p{{N}}]))?"
    rf"|(?<![\p{{L}}\p{{N}}])(?i:(?:correct\s+)?answers?\s*(?:is\s*)?)[:：]\s*"
    rf"(?:[(（]?\s*[{_LETTERS}]{{1,4}}\s*[)）]?(?![\p{{L}}\p{{N}}]))?"
    r"|选项\s*[:：]?|(?<![\p{L}\p{N}])(?i:options|choices|question)\s*[:：]|(?:问题|题目)\s*[:：]")


@dataclass
class Tokens:
    """Normalised tokens of a group of texts: 64-bit ``hash``, original ``[start, end)`` character span,
    the text (``doc``) each belongs to, and whether a boundary precedes (``open``) / follows (``close``)."""

    hash: np.ndarray
    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    open: np.ndarray
    close: np.ndarray


def _fmix(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * _MIX1
        h ^= h >> np.uint64(29)
        h *= _MIX2
        h ^= h >> np.uint64(32)
    return h


def _powers(base: np.uint64, m: int) -> np.ndarray:
    """base ** [0, m] (wrapping)."""
    with np.errstate(over="ignore"):
        return np.concatenate([[np.uint64(1)], np.cumprod(np.full(m, base, dtype=np.uint64))])


_POW_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _pow_pair(m: int) -> tuple[np.ndarray, np.ndarray]:
    """(B ** i, B ** -i) for i in [0, m], cached in doubling sizes."""
    size = 1 << max(12, (m + 1).bit_length())
    if size not in _POW_CACHE:
        if len(_POW_CACHE) > 4:
            _POW_CACHE.clear()
        _POW_CACHE[size] = (_powers(_B, size), _powers(_INV_B, size))
    return _POW_CACHE[size]


_BOUNDARY_TABLE = np.zeros(0x10000, bool)
_BOUNDARY_TABLE[_BOUNDARY] = True
_LABEL_WORDS = ("答", "选", "问", "题", "answer", "answers", "options", "choices", "question", "correct")
_LABEL_PREFIX = ("正确", "参考", "标准")


def _in(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    return np.isin(values, table)


def _tokens(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hash, start, end, folded code points) of every token of the code points ``cp``."""
    cls = _classes(cp)
    folded = np.where(cp < 0x10000, _FOLD[np.minimum(cp, 0xFFFF)], cp)
    idx = np.nonzero(cls > 0)[0]
    c = cls[idx]
    prev_word = np.zeros(len(c), bool)
    prev_word[1:] = (c[:-1] == 1) & (c[1:] == 1) & (idx[1:] == idx[:-1] + 1)
    first = np.nonzero(~prev_word)[0]
    last = np.append(first[1:], len(c)) - 1
    start, end = idx[first].astype(np.int64), idx[last].astype(np.int64) + 1
    # polynomial over the folded code points of each token, mixed with its length
    pw, inv = _pow_pair(len(idx))
    with np.errstate(over="ignore"):
        q = np.concatenate([[np.uint64(0)], np.cumsum(folded[idx].astype(np.uint64) * inv[:len(idx)])])
        th = (q[last + 1] - q[first]) * pw[first]
        th ^= (last + 1 - first).astype(np.uint64) * _MIX2
    return _fmix(th), start, end, folded


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


_LABEL_HASHES = _tokens(_codepoints(" ".join(_LABEL_WORDS)))[0]


def normalise(texts: list[str]) -> Tokens:
    """Normalised tokens of ``texts`` (see the module doc); spans are in each text's own coordinates."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    base = np.concatenate([[0], np.cumsum(lengths + 1)])  # texts joined by one separator
    joined = "\x00".join(texts)
    cp = _codepoints(joined)
    empty = np.zeros(0, np.int64)
    if len(cp) == 0:
        return Tokens(np.zeros(0, np.uint64), empty, empty, empty, np.zeros(0, bool), np.zeros(0, bool))
    th, start, end, folded = _tokens(cp)
    keep = ~_markers(joined, cp, folded, th, start, end)
    th, start, end = th[keep], start[keep], end[keep]
    doc = np.searchsorted(base, start, side="right") - 1
    # boundaries: a boundary character (or a text edge) between a token and its neighbour
    bc = np.concatenate([[0], np.cumsum(_BOUNDARY_TABLE[np.minimum(cp, 0xFFFF)], dtype=np.int64)])
    gap_before = np.ones(len(th), bool)
    if len(th) > 1:
        gap_before[1:] = (doc[1:] != doc[:-1]) | (bc[start[1:]] > bc[end[:-1]])
    close = np.ones(len(th), bool)
    close[:-1] = gap_before[1:]
    return Tokens(th, start - base[doc], end - base[doc], doc, gap_before, close)


def _markers(joined: str, cp: np.ndarray, folded: np.ndarray, th: np.ndarray, start: np.ndarray,
             end: np.ndarray) -> np.ndarray:
    """Which tokens are option letters or labels (see the module doc)."""
    one = (end - start == 1) & (folded[start] >= ord("a")) & (folded[start] <= ord("h"))
    cand = np.nonzero(one)[0]
    nxt = np.where(end[cand] < len(cp), cp[np.minimum(end[cand], len(cp) - 1)], 0)
    prv = np.where(start[cand] > 0, cp[np.maximum(start[cand] - 1, 0)], 0)
    is_marker = _in(nxt, _AFTER_LETTER) | (_in(prv, _OPEN) & _in(nxt, _CLOSE))
    mark = np.zeros(len(start), bool)
    mark[cand[is_marker]] = True
    spans = []  # labels: checked with the regex only where a token can begin one
    for pos in start[np.isin(th, _LABEL_HASHES)].tolist():
        if joined[pos - 2:pos] in _LABEL_PREFIX:
            pos -= 2
        m = _LABEL.match(joined, pos)
        if m and m.end() > pos:
            spans.append((m.start(), m.end()))
    if spans:
        s, e = np.array(sorted(spans), np.int64).T
        e = np.maximum.accumulate(e)
        k = np.searchsorted(s, start, side="right") - 1
        mark |= (k >= 0) & (start < e[np.maximum(k, 0)])
    return mark


def windows(tok: Tokens, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of ``length`` consecutive tokens within one text, and the index of its first token.

    >>> t = normalise(["a b c d e", "x y z"])
    >>> h, at = windows(t, 3)
    >>> at.tolist(), bool(h[0] == windows(normalise(["a b c"]), 3)[0][0])
    ([0, 1, 2, 5], True)
    """
    m = len(tok.hash)
    if m < length:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    pw, inv = _pow_pair(m)
    at = np.arange(m - length + 1)
    at = at[tok.doc[at] == tok.doc[at + length - 1]]
    with np.errstate(over="ignore"):
        r = np.concatenate([[np.uint64(0)], np.cumsum(tok.hash * pw[:m])])
        h = (r[at + length] - r[at]) * inv[at]
        h ^= np.uint64(length) * _MIX1
    return _fmix(h), at


def groups(texts: list[str], max_chars: int = 1 << 20):
    """(first, last) index ranges of consecutive texts of at most ``max_chars`` characters together (a longer
    text is a group by itself): the unit normalised at once, which bounds the arrays' size.

    >>> list(groups(["ab", "cd", "efgh", "i"], max_chars=4))
    [(0, 2), (2, 3), (3, 4)]
    """
    i, size = 0, 0
    for j, t in enumerate(texts):
        if j > i and size + len(t) > max_chars:
            yield i, j
            i, size = j, 0
        size += len(t)
    if i < len(texts):
        yield i, len(texts)
