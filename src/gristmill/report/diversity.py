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

import math
import re
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK_LANGS = {"zh", "ja", "yue", "wuu"}


def units(text: str, lang: str) -> list[str]:
    """Word tokens (lower-cased), or the word characters of a CJK text."""
    if lang in _CJK_LANGS:
        return [c for c in text if c.isalnum()]
    return [w.lower() for w in _WORD.findall(text)]


def distinct_n(docs: list[list[str]], n: int) -> float:
    """Distinct n-grams over all n-grams of the documents (0 when there are none)."""
    seen: set = set()
    total = 0
    for u in docs:
        grams = [tuple(u[i:i + n]) for i in range(len(u) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def entropy_bits(docs: list[list[str]]) -> float:
    """Shannon entropy (bits) of the unigram distribution."""
    c = Counter(w for u in docs for w in u)
    total = sum(c.values())
    return -sum(v / total * math.log2(v / total) for v in c.values()) if total else 0.0


def measure(texts: list[tuple[str, str]]) -> dict[str, dict]:
    """Per language (from ``(lang, text)`` pairs): documents, distinct-1/2/3, vocabulary size and entropy."""
    by: dict[str, list[list[str]]] = {}
    for lang, t in texts:
        by.setdefault(lang, []).append(units(t, lang))
    out = {}
    for lang, docs in sorted(by.items(), key=lambda kv: -len(kv[1])):
        out[lang] = {"docs": len(docs), "units": sum(map(len, docs)),
                     "distinct_1": round(distinct_n(docs, 1), 4), "distinct_2": round(distinct_n(docs, 2), 4),
                     "distinct_3": round(distinct_n(docs, 3), 4),
                     "vocabulary": len({w for u in docs for w in u}), "entropy_bits": round(entropy_bits(docs), 3)}
    return out
