"""Keep training data disjoint from evaluation sets: exact and near-duplicate removal before packing.

A training document is left out when its whitespace-normalised text equals an evaluation text (``exact``), or
when it and an evaluation text share most of their shingles (``near``): 5-grams of words (English) or of Han
characters (Chinese; Traditional script folded to Simplified first, so a zh_TW copy of a zh_CN page matches),
with Jaccard similarity >= ``threshold``, or either one contained in the other at that share (an evaluation
page inside a longer training document, or a chunk of one) when the smaller side has at least
``min_shingles`` shingles. Containment is measured against every evaluation text through an inverted index.

>>> idx = EvalIndex({"en": ["The quick brown fox jumps over the lazy dog near the old river bank today."]})
>>> idx.match("The  quick brown fox jumps over the lazy dog near the old river bank today.")
('exact', 'en')
>>> idx.match("Intro. The quick brown fox jumps over the lazy dog near the old river bank today!")
('near', 'en')
>>> idx.match("Something else entirely, about tokenizers and shards.") is None
True
"""

from __future__ import annotations

import numpy as np
import xxhash

from gristmill.dedup.shingles import shingle_hashes


def _norm_hash(text: str) -> int:
    return xxhash.xxh3_64_intdigest(" ".join(text.split()).encode())


def _shingles(text: str, n: int) -> np.ndarray:
    from gristmill.text.chinese import simplified

    return shingle_hashes(simplified(text), n)


class EvalIndex:
    """Exact hashes and an inverted shingle index of every evaluation text."""

    def __init__(self, sets: dict[str, list[str]], *, n: int = 5, threshold: float = 0.8,
                 min_shingles: int = 20) -> None:
        self.n, self.threshold, self.min_shingles = n, threshold, min_shingles
        self.exact: dict[int, str] = {}
        self.owner: list[str] = []
        sizes, pairs_h, pairs_d = [], [], []
        for name, texts in sets.items():
            for t in texts:
                self.exact.setdefault(_norm_hash(t), name)
                s = _shingles(t, n)
                pairs_h.append(s)
                pairs_d.append(np.full(len(s), len(self.owner), dtype=np.int64))
                sizes.append(len(s))
                self.owner.append(name)
        h = np.concatenate(pairs_h) if pairs_h else np.zeros(0, np.uint64)
        d = np.concatenate(pairs_d) if pairs_d else np.zeros(0, np.int64)
        order = np.argsort(h, kind="stable")
        self.h, self.d = h[order], d[order]
        self.sizes = np.array(sizes, dtype=np.int64)
        fp = xxhash.xxh3_64(f"{n} {threshold} {min_shingles}".encode())
        for k in sorted(self.exact):
            fp.update(k.to_bytes(8, "little"))
        self.key = fp.hexdigest()  # changes when the sets or the settings do

    def match(self, text: str) -> tuple[str, str] | None:
        """``(kind, set)`` when ``text`` is an exact or near copy of an evaluation text, else ``None``."""
        hit = self.exact.get(_norm_hash(text))
        if hit is not None:
            return "exact", hit
        if not len(self.h):
            return None
        s = _shingles(text, self.n)
        if not len(s):
            return None
        lo = np.searchsorted(self.h, s, "left")
        hi = np.searchsorted(self.h, s, "right")
        m = hi > lo
        if not m.any():
            return None
        lo, hi = lo[m], hi[m]
        idx = np.repeat(hi - np.cumsum(hi - lo), hi - lo) + np.arange(int((hi - lo).sum()))
        counts = np.bincount(self.d[idx], minlength=len(self.sizes))
        cand = np.nonzero(counts)[0]
        inter = counts[cand]
        a, b = self.sizes[cand], len(s)
        jac = inter / (a + b - inter)
        small = np.minimum(a, b)
        contain = np.where(small >= self.min_shingles, inter / np.maximum(small, 1), 0.0)
        best = np.maximum(jac, contain)
        k = int(np.argmax(best))
        return ("near", self.owner[int(cand[k])]) if best[k] >= self.threshold else None
