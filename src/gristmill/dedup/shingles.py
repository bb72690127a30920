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


def _token_hashes(text: str, digits: bool) -> np.ndarray:
    """One 64-bit hash per token, computed with prefix sums over code points (no Python loop)."""
    toks = tokens(text, digits)
    if not toks:
        return np.zeros(0, dtype=np.uint64)
    joined = "".join(toks)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.uint64)
    lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    ends = np.cumsum(lens)
    starts = ends - lens
    with np.errstate(over="ignore"):
        # prefix[i] = sum_{k<i} cp[k] * B^(i-1-k)  (Horner), as a cumulative recurrence in numpy:
        # h(token) = prefix[end] - prefix[start] * B^len
        n = len(cp)
        if n + 1 > len(_POW):
            pw = np.concatenate([[np.uint64(1)], np.cumprod(np.full(n, _B, dtype=np.uint64))])
        else:
            pw = _POW[: n + 1]
        # prefix via scaled cumulative sum: prefix[i] = B^(i-1) * sum_{k<i} cp[k] * B^-(k) is not possible
        # in modular arithmetic without inverses; B is odd so it is invertible mod 2^64.
        inv = _inv_pow(n)
        scaled = np.cumsum(cp * inv[:n])                      # sum cp[k] * B^-k
        prefix = np.concatenate([[np.uint64(0)], scaled])
        h = (prefix[ends] - prefix[starts]) * pw[ends - 1]     # sum cp[k] * B^(end-1-k)
        h ^= lens.astype(np.uint64) * _MIX2
        h ^= h >> np.uint64(31)
        h *= _MIX1
    return h


_INV_B = np.uint64(pow(int(_B), -1, 2**64))
_INV_CACHE = [np.concatenate([[np.uint64(1)], np.cumprod(np.full(1 << 14, _INV_B, dtype=np.uint64))])]


def _inv_pow(n: int) -> np.ndarray:
    if n + 1 > len(_INV_CACHE[0]):
        with np.errstate(over="ignore"):
            _INV_CACHE[0] = np.concatenate([[np.uint64(1)], np.cumprod(np.full(2 * n, _INV_B, dtype=np.uint64))])
    return _INV_CACHE[0]


def shingle_hashes(text: str, n: int = 5, digits: bool = False) -> np.ndarray:
    """Distinct 64-bit hashes of the document's token n-grams (fewer than n tokens: one shingle of all)."""
    th = _token_hashes(text, digits)
    if len(th) == 0:
        return th
    k = min(n, len(th))
    m = len(th) - k + 1
    with np.errstate(over="ignore"):
        h = th[:m].copy()
        for j in range(1, k):
            h = h * _B ^ th[j:j + m]
        h ^= h >> np.uint64(33)
        h *= _MIX1
        h ^= h >> np.uint64(29)
        h *= _MIX2
        h ^= h >> np.uint64(32)
    return np.unique(h)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, distinct hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
