"""Diversity measures over a sample of documents: distinct-n and the entropy of the vocabulary.

Units are words for space-delimited languages and characters for Chinese/Japanese (the usual choice for
distinct-n on Chinese, which needs no segmenter).

>>> round(distinct_n([["a", "b", "a", "b"]], 1), 2), round(distinct_n([["a", "b", "a", "b"]], 2), 2)
(0.5, 0.67)
>>> round(entropy_bits([["a", "b"], ["a", "b"]]), 3)
1.0
>>> units("你好，世界", "zh")
['你', '好', '世', '界']
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK_LANGS = {"zh", "ja", "yue", "wuu"}


def units(text: str, lang: str) -> list[str]:
    """Word tokens (lower-cased), or the word characters of a CJK text."""
    if lang in _CJK_LANGS:
        return [c for c in text if c.isalnum()]
    return [w.lower() for w in _WORD.findall(text)]


_ALNUM_BMP: np.ndarray | None = None


def _alnum_codes(text: str) -> np.ndarray:
    """Code points of the characters of ``text`` that str.isalnum accepts (the units of a CJK text)."""
    global _ALNUM_BMP
    if _ALNUM_BMP is None:
        _ALNUM_BMP = np.array([chr(i).isalnum() for i in range(0x10000)], dtype=bool)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    bmp = cp < 0x10000
    keep = np.zeros(len(cp), dtype=bool)
    keep[bmp] = _ALNUM_BMP[cp[bmp]]
    if not bmp.all():
        for i in np.nonzero(~bmp)[0].tolist():
            keep[i] = chr(int(cp[i])).isalnum()
    return cp[keep].astype(np.int64)


def _encode(docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(dense integer ids of all units, one document after another; units per document)."""
    lens = np.fromiter(map(len, docs), np.int64, len(docs))
    flat = [w for u in docs for w in u]
    if not flat:
        return np.zeros(0, np.int64), lens
    return pa.array(flat, pa.string()).dictionary_encode().indices.to_numpy().astype(np.int64), lens


def _word_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_encode` of the texts' :func:`units` (lower-cased words), the same ids, with each distinct word
    lower-cased once instead of every occurrence: the words are numbered as they first occur, then each number
    maps to its lower-cased word's, numbered in the order of the words' first occurrences, which is the order
    the lower-cased words first occur in."""
    docs = [_WORD.findall(t) for t in texts]
    ids, lens = _encode(docs)
    if not len(ids):
        return ids, lens
    flat = [w for u in docs for w in u]
    first = np.unique(ids, return_index=True)[1]  # where each distinct word first occurs
    lowered: dict[str, int] = {}
    remap = np.fromiter((lowered.setdefault(flat[i].lower(), len(lowered)) for i in first.tolist()), np.int64,
                        len(first))
    return remap[ids], lens


def _count_distinct(values: np.ndarray) -> int:
    """Distinct values (sorts ``values`` in place: a copy the caller owns)."""
    if not len(values):
        return 0
    values.sort()
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


def _distinct(ids: np.ndarray, lens: np.ndarray, n: int) -> float:
    """ids are small non-negative integers (dictionary indices or code points)."""
    total = int(np.maximum(lens - n + 1, 0).sum())
    if not total:
        return 0.0
    if n == 1:
        return int(np.count_nonzero(np.bincount(ids))) / total
    v = int(ids.max()) + 1
    if v ** n >= 2 ** 63:  # too many distinct units to pack n of them into 64 bits: tuples
        starts = np.cumsum(lens) - lens
        seen = {tuple(ids[s + i:s + i + n].tolist()) for s, m in zip(starts.tolist(), lens.tolist(), strict=True)
                for i in range(m - n + 1)}
        return len(seen) / total
    keys = ids.copy()
    for j in range(1, n):
        keys[:len(ids) - j] = keys[:len(ids) - j] * v + ids[j:]
    valid = np.ones(len(ids), dtype=bool)  # not among the last n-1 units of its document
    ends = np.cumsum(lens)
    for j in range(1, n):
        valid[(ends - j)[lens >= j]] = False
    return _count_distinct(keys[valid]) / total  # keys[valid] is a copy


def distinct_n(docs: list[list[str]], n: int) -> float:
    """Distinct n-grams over all n-grams of the documents (0 when there are none); n-grams do not cross
    documents."""
    ids, lens = _encode(docs)
    return _distinct(ids, lens, n)


def _entropy(ids: np.ndarray) -> float:
    if not len(ids):
        return 0.0
    counts = np.bincount(ids)
    p = counts[counts > 0] / len(ids)
    return float(-(p * np.log2(p)).sum())


def entropy_bits(docs: list[list[str]]) -> float:
    """Shannon entropy (bits) of the unigram distribution."""
    return _entropy(_encode(docs)[0])


def measure(texts: list[tuple[str, str]]) -> dict[str, dict]:
    """Per language (from ``(lang, text)`` pairs): documents, distinct-1/2/3, vocabulary size and entropy."""
    by: dict[str, list[str]] = {}
    for lang, t in texts:
        by.setdefault(lang, []).append(t)
    out = {}
    for lang, ts in sorted(by.items(), key=lambda kv: -len(kv[1])):
        if lang in _CJK_LANGS:
            codes = [_alnum_codes(t) for t in ts]
            lens = np.fromiter(map(len, codes), np.int64, len(codes))
            ids = np.concatenate(codes) if codes else np.zeros(0, np.int64)
        else:
            ids, lens = _word_ids(ts)
        out[lang] = {"docs": len(ts), "units": int(lens.sum()),
                     "distinct_1": round(_distinct(ids, lens, 1), 4), "distinct_2": round(_distinct(ids, lens, 2), 4),
                     "distinct_3": round(_distinct(ids, lens, 3), 4),
                     "vocabulary": int(np.count_nonzero(np.bincount(ids))) if len(ids) else 0,
                     "entropy_bits": round(_entropy(ids), 3)}
    return out
