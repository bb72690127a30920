"""Language-aware shingles, hashed with numpy, in two kinds of unit:

- ``tokens`` (the default): a token is a run of letters/digits of a space-delimited script, or one CJK
  character (Han, kana, Hangul syllable); punctuation and symbols are dropped. Shingles are word n-grams
  for English and character n-grams for Chinese, chosen per token, so mixed documents need no switch.
- ``chars``: every visible character is a unit, punctuation and symbols kept, Latin letters one by one
  (only whitespace, control and format characters are dropped): the similarity a reader of Chinese sees,
  used by ``minhash_dedup`` for documents that are mostly CJK (see :func:`cjk_share`).

- ``code``: ``tokens`` after identifiers are split (``getHTTPResponse_code`` -> get http response code,
  see :func:`code_words`): source files that differ in layout, naming style or punctuation still match.

All lower-case and ignore whitespace; ``digits=True`` folds every digit to 0.

>>> tokens("Hello, World! 你好世界 2024")
['hello', 'world', '你', '好', '世', '界', '2024']
>>> len(shingle_hashes("a b c d e f", 5)), len(shingle_hashes("你好世界朋友们", 5))
(2, 3)
>>> len(shingle_hashes("你好，世界！", 5, units="chars")), len(shingle_hashes("你好，世界！", 5))
(2, 1)
"""

from __future__ import annotations

import functools

import numpy as np
import regex

_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]|[^\W_\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")
_B = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)


def tokens(text: str, digits: bool = False) -> list[str]:
    """Normalised tokens (see the module doc); ``digits=True`` folds every digit to 0."""
    t = text.lower()
    if digits:
        t = regex.sub(r"\d", "0", t)
    return _TOKEN.findall(t)


@functools.cache  # built at first use, not at import (~0.05 CPU s; a run without near-dedup never needs it)
def _char_classes() -> tuple[np.ndarray, np.ndarray]:
    """BMP class tables. Tokens: 0 separator, 1 letter/digit of a space-delimited script, 2 CJK (a token
    by itself). Chars: 2 for every visible character, 0 for whitespace, control, format and surrogates."""
    import unicodedata

    cats = [unicodedata.category(chr(i)) for i in range(0x10000)]
    cls = np.array([1 if chr(i).isalnum() or cats[i].startswith("M") else 0 for i in range(0x10000)],
                   dtype=np.uint8)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x3040, 0x30FF), (0x31F0, 0x31FF),
                   (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xFF66, 0xFF9F), (0x3005, 0x3007)):
        cls[lo:hi + 1] = np.where(cls[lo:hi + 1] > 0, 2, 0)
    visible = np.array([0 if c in ("Zs", "Zl", "Zp", "Cc", "Cf", "Cs") else 2 for c in cats], dtype=np.uint8)
    return cls, visible


def _classes(cp32: np.ndarray, units: str = "tokens") -> np.ndarray:
    """Character class of each code point. Tokens: CJK beyond the BMP (Han extensions B and later) are
    tokens, other supplementary planes separators. Chars: every supplementary character is a unit."""
    table = _char_classes()[0 if units == "tokens" else 1]
    if cp32.max() < 0x10000:
        return table[cp32]
    bmp = cp32 < 0x10000
    cls = np.where(bmp, table[np.where(bmp, cp32, 0)], 0)
    big = ~bmp
    if units == "tokens":
        cls[big] = np.where((cp32[big] >= 0x20000) & (cp32[big] <= 0x3134F), 2, 0)
    else:
        cls[big] = 2
    return cls


@functools.cache
def _digit_table() -> np.ndarray:
    return np.array([chr(i).isdigit() for i in range(0x10000)], dtype=bool)


_INV_B = np.uint64(pow(int(_B), -1, 2**64))
_POWERS: dict[int, np.ndarray] = {}


def _powers(base: np.uint64, n: int) -> np.ndarray:
    """``base ** k`` (wrapping) for k = 0 .. at least n, cached and grown geometrically."""
    have = _POWERS.get(int(base))
    if have is None or len(have) < n + 1:
        with np.errstate(over="ignore"):
            grown = np.cumprod(np.full(max(2 * n, 1 << 14), base, dtype=np.uint64))
            have = np.concatenate([[np.uint64(1)], grown])
        _POWERS[int(base)] = have
    return have


def shingle_hashes(text: str, n: int = 5, digits: bool = False, *, distinct: bool = True,
                   units: str = "tokens") -> np.ndarray:
    """64-bit hashes of the document's n-grams of ``units`` (tokens or chars; fewer than n units: one
    shingle of all); sorted and distinct unless ``distinct=False`` (then in text order, repeats kept:
    enough for a MinHash signature)."""
    h, _ = batch_shingles([text], n, digits, units=units)
    return np.unique(h) if distinct else h


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, distinct hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def batch_shingles(texts: list[str], n: int = 5, digits: bool = False, *, units: str = "tokens",
                   shares: bool = False):
    """Shingle hashes of a few documents at once: ``(hashes, offsets)``, document i's shingles being
    ``hashes[offsets[i]:offsets[i + 1]]`` in text order (repeats kept): the same values as
    :func:`shingle_hashes` with ``distinct=False``. Small groups (about 16 documents) amortise numpy's
    per-call cost and stay in cache; whole batches would not. ``shares=True`` (tokens only) also returns
    each document's :func:`cjk_share`, at no extra pass.

    >>> h, off = batch_shingles(["a b c d e f", "你好世界朋友们", ""])
    >>> np.diff(off).tolist(), bool((h[:2] == shingle_hashes("a b c d e f", distinct=False)).all())
    ([2, 3, 0], True)
    >>> batch_shingles(["see 你好世界", "你好，世界"], shares=True)[2].tolist()
    [0.8, 1.0]
    """
    if units == "code":
        texts, units = [code_words(t) for t in texts], "tokens"
    if units not in ("tokens", "chars"):
        raise ValueError(f"units must be tokens or chars, not {units!r}")
    if not texts:
        empty = (np.zeros(0, np.uint64), np.zeros(1, np.int64))
        return (*empty, np.zeros(0)) if shares else empty
    lowered = [t.lower() for t in texts]  # lower() may change a text's length (İ -> i̇): lower each first
    joined = "\x00".join(lowered)
    cp32 = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    doc_len = np.fromiter(map(len, lowered), dtype=np.int64, count=len(texts)) + 1
    if len(cp32) == 0:
        empty = (np.zeros(0, np.uint64), np.zeros(len(texts) + 1, np.int64))
        return (*empty, np.zeros(len(texts))) if shares else empty
    cls = _classes(cp32, units)
    keep = cls > 0
    cp = cp32[keep].astype(np.uint64)
    if digits:
        small = cp < 0x10000
        d = np.zeros(len(cp), bool)
        d[small] = _digit_table()[cp[small].astype(np.int64)]
        cp[d] = ord("0")
    c = cls[keep]
    idx = np.nonzero(keep)[0]
    m = len(cp)
    with np.errstate(over="ignore"):
        if units == "chars":  # every unit is one character: its token hash is the code point, mixed
            starts = np.arange(m)
            th = cp ^ _MIX2
        else:
            prev_word = np.zeros(len(c), bool)
            prev_word[1:] = (c[:-1] == 1) & (idx[1:] == idx[:-1] + 1)
            starts = np.nonzero((c == 2) | ~prev_word)[0]
            ends = np.append(starts[1:], len(c))
            lens = (ends - starts).astype(np.int64)
            pw = _powers(_B, m)
            inv = _powers(_INV_B, m)
            prefix = np.concatenate([[np.uint64(0)], np.cumsum(cp * inv[:m])])
            th = (prefix[ends] - prefix[starts]) * pw[ends - 1]  # polynomial hash of each token's code points
            th ^= lens.astype(np.uint64) * _MIX2
        th ^= th >> np.uint64(31)
        th *= _MIX1
    doc_start = np.concatenate([[0], np.cumsum(doc_len)])
    tok_doc = np.searchsorted(doc_start, idx[starts], side="right") - 1
    ntok = np.bincount(tok_doc, minlength=len(texts))
    if shares:
        ncjk = np.bincount(tok_doc[c[starts] == 2], minlength=len(texts))
        share = np.where(ntok > 0, ncjk / np.maximum(ntok, 1), 0.0)
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
    return (h, offsets, share) if shares else (h, offsets)


_CAMEL = regex.compile(r"(?<=[\p{Ll}\d])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|_+")


def code_words(text: str) -> str:
    """Identifiers split at case changes and underscores (the ``code`` units of :func:`batch_shingles`).

    >>> code_words("parseHTTPResponse(max_retries=3)")
    'parse HTTP Response(max retries=3)'
    """
    return _CAMEL.sub(" ", text)


def cjk_share(text: str) -> float:
    """Share of the document's tokens that are CJK characters (0 for a text without tokens).

    >>> cjk_share("中文 man 手册"), cjk_share("The quick brown fox 跳")
    (0.8, 0.2)
    """
    return float(batch_shingles([text], shares=True)[2][0])


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
