"""Language-aware shingles, hashed with numpy: word n-grams for space-delimited text, character n-grams
for CJK — chosen per token, so mixed Chinese/English documents work without a switch.

Normalisation before shingling: lower case, punctuation and symbols dropped, optional digit folding
(every digit becomes 0), whitespace ignored. A token is a run of letters/digits of a space-delimited
script, or one CJK character (Han, kana, Hangul syllable). Shingles are n-grams of tokens, so for Chinese
they are character n-grams and for English word n-grams.

>>> tokens("Hello, World! 你好世界 2024")
['hello', 'world', '你', '好', '世', '界', '2024']
>>> len(shingle_hashes("a b c d e f", 5)), len(shingle_hashes("你好世界朋友们", 5))
(2, 3)
"""

from __future__ import annotations

import numpy as np
import regex

_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]|[^\W_\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")
_B = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_POW = np.cumprod(np.full(1 << 12, _B, dtype=np.uint64))  # _B ** (k + 1), wrapping
_POW = np.concatenate([[np.uint64(1)], _POW])


def tokens(text: str, digits: bool = False) -> list[str]:
    """Normalised tokens (see the module doc); ``digits=True`` folds every digit to 0."""
    t = text.lower()
    if digits:
        t = regex.sub(r"\d", "0", t)
    return _TOKEN.findall(t)


def _char_classes() -> np.ndarray:
    """0: separator, 1: letter/digit of a space-delimited script, 2: CJK (a token by itself); BMP only."""
    import unicodedata

    cls = np.array([1 if chr(i).isalnum() or unicodedata.category(chr(i)).startswith("M") else 0
                    for i in range(0x10000)], dtype=np.uint8)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x3040, 0x30FF), (0x31F0, 0x31FF),
                   (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xFF66, 0xFF9F), (0x3005, 0x3007)):
        cls[lo:hi + 1] = np.where(cls[lo:hi + 1] > 0, 2, 0)
    return cls


_CLASS = _char_classes()


def _classes(cp32: np.ndarray) -> np.ndarray:
    """Character class of each code point; CJK beyond the BMP (Han extensions B and later) are tokens,
    other supplementary planes separators."""
    if cp32.max() < 0x10000:
        return _CLASS[cp32]
    bmp = cp32 < 0x10000
    cls = np.where(bmp, _CLASS[np.where(bmp, cp32, 0)], 0)
    big = ~bmp
    cls[big] = np.where((cp32[big] >= 0x20000) & (cp32[big] <= 0x3134F), 2, 0)
    return cls
_DIGIT = np.array([chr(i).isdigit() for i in range(0x10000)], dtype=bool)


_INV_B = np.uint64(pow(int(_B), -1, 2**64))
_INV_CACHE = [np.concatenate([[np.uint64(1)], np.cumprod(np.full(1 << 14, _INV_B, dtype=np.uint64))])]


def _inv_pow(n: int) -> np.ndarray:
    if n + 1 > len(_INV_CACHE[0]):
        with np.errstate(over="ignore"):
            _INV_CACHE[0] = np.concatenate([[np.uint64(1)], np.cumprod(np.full(2 * n, _INV_B, dtype=np.uint64))])
    return _INV_CACHE[0]


def shingle_hashes(text: str, n: int = 5, digits: bool = False, *, distinct: bool = True) -> np.ndarray:
    """64-bit hashes of the document's token n-grams (fewer than n tokens: one shingle of all); sorted and
    distinct unless ``distinct=False`` (then in text order, repeats kept: enough for a MinHash signature)."""
    h, _ = batch_shingles([text], n, digits)
    return np.unique(h) if distinct else h


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, distinct hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def batch_shingles(texts: list[str], n: int = 5, digits: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a few documents at once: ``(hashes, offsets)``, document i's shingles being
    ``hashes[offsets[i]:offsets[i + 1]]`` in text order (repeats kept): the same values as
    :func:`shingle_hashes` with ``distinct=False``. Small groups (about 16 documents) amortise numpy's
    per-call cost and stay in cache; whole batches would not.

    >>> h, off = batch_shingles(["a b c d e f", "你好世界朋友们", ""])
    >>> np.diff(off).tolist(), bool((h[:2] == shingle_hashes("a b c d e f", distinct=False)).all())
    ([2, 3, 0], True)
    """
    if not texts:
        return np.zeros(0, np.uint64), np.zeros(1, np.int64)
    lowered = [t.lower() for t in texts]  # lower() may change a text's length (İ -> i̇): lower each first
    joined = "\x00".join(lowered)
    cp32 = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    doc_len = np.fromiter(map(len, lowered), dtype=np.int64, count=len(texts)) + 1
    if len(cp32) == 0:
        return np.zeros(0, np.uint64), np.zeros(len(texts) + 1, np.int64)
    cls = _classes(cp32)
    keep = cls > 0
    cp = cp32[keep].astype(np.uint64)
    if digits:
        small = cp < 0x10000
        d = np.zeros(len(cp), bool)
        d[small] = _DIGIT[cp[small].astype(np.int64)]
        cp[d] = ord("0")
    c = cls[keep]
    idx = np.nonzero(keep)[0]
    prev_word = np.zeros(len(c), bool)
    prev_word[1:] = (c[:-1] == 1) & (idx[1:] == idx[:-1] + 1)
    starts = np.nonzero((c == 2) | ~prev_word)[0]
    ends = np.append(starts[1:], len(c))
    lens = (ends - starts).astype(np.int64)
    m = len(cp)
    with np.errstate(over="ignore"):
        pw = _POW[: m + 1] if m + 1 <= len(_POW) else \
            np.concatenate([[np.uint64(1)], np.cumprod(np.full(m, _B, dtype=np.uint64))])
        inv = _inv_pow(m)
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(cp * inv[:m])])
        th = (prefix[ends] - prefix[starts]) * pw[ends - 1]
        th ^= lens.astype(np.uint64) * _MIX2
        th ^= th >> np.uint64(31)
        th *= _MIX1
    doc_start = np.concatenate([[0], np.cumsum(doc_len)])
    tok_doc = np.searchsorted(doc_start, idx[starts], side="right") - 1
    ntok = np.bincount(tok_doc, minlength=len(texts))
    tok_off = np.concatenate([[0], np.cumsum(ntok)])
    total, k = len(th), n
    if total >= k:
        mm = total - k + 1
        with np.errstate(over="ignore"):
            h = th[:mm].copy()
            for j in range(1, k):
                h = h * _B ^ th[j:j + mm]
        ok = tok_doc[:mm] == tok_doc[k - 1:]
        h, hdoc = h[ok], tok_doc[:mm][ok]
    else:
        h, hdoc = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    short = np.nonzero((ntok > 0) & (ntok < k))[0]
    if len(short):
        extra, extra_doc = [], []
        with np.errstate(over="ignore"):
            for dd in short.tolist():
                t = th[tok_off[dd]:tok_off[dd + 1]]
                v = t[0]
                for x in t[1:]:
                    v = v * _B ^ x
                extra.append(v)
                extra_doc.append(dd)
        h = np.concatenate([h, np.array(extra, np.uint64)])
        hdoc = np.concatenate([hdoc, np.array(extra_doc, np.int64)])
        order = np.argsort(hdoc, kind="stable")
        h, hdoc = h[order], hdoc[order]
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(33)
        h *= _MIX1
        h ^= h >> np.uint64(29)
        h *= _MIX2
        h ^= h >> np.uint64(32)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(hdoc, minlength=len(texts)))]).astype(np.int64)
    if len(offsets) != len(texts) + 1:  # pragma: no cover - would misalign every later document
        raise AssertionError("shingle batch out of step with its documents")
    return h, offsets


def token_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Character (start, end) of every token of :func:`batch_shingles`, in the text's own coordinates
    (empty arrays when lower-casing would change the text's length, so positions cannot be trusted)."""
    low = text.lower()
    if len(low) != len(text) or not text:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cp32 = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), np.uint32)
    cls = _classes(cp32)
    idx = np.nonzero(cls > 0)[0]
    c = cls[idx]
    prev_word = np.zeros(len(c), bool)
    prev_word[1:] = (c[:-1] == 1) & (idx[1:] == idx[:-1] + 1)
    first = np.nonzero((c == 2) | ~prev_word)[0]
    last = np.append(first[1:], len(c)) - 1
    return idx[first].astype(np.int64), idx[last].astype(np.int64) + 1
