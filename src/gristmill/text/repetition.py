"""Repetition measures (Gopher, Rae et al. 2021, as datatrove implements them), on word ids with numpy.

>>> w = "the cat sat on the mat the cat sat on the mat".split()
>>> top_ngram_chars(w, 2), dup_ngram_chars(w, 5)
(14, 14)
>>> find_duplicates(["a", "bb", "a", "bb", "c"])
(2, 3)
"""

from __future__ import annotations

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)


def find_duplicates(items: list[str]) -> tuple[int, int]:
    """(number of elements seen before, their total characters)."""
    seen: set[str] = set()
    n = chars = 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


def _ids(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word ids (one per distinct word, in a 64-bit mixing space) and word lengths."""
    table = {w: i for i, w in enumerate(dict.fromkeys(words), 1)}
    ids = np.fromiter(map(table.__getitem__, words), dtype=np.uint64, count=len(words))
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    return ids * _MULT, lens


def _ngram_keys(ids: np.ndarray, n: int) -> np.ndarray:
    k = np.zeros(len(ids) - n + 1, dtype=np.uint64)
    for j in range(n):
        k = (k * np.uint64(0x100000001B3)) ^ ids[j:len(ids) - n + 1 + j]
    return k


class Ngrams:
    """Word n-gram statistics for one document, sharing the word ids between all n."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.ids, self.lens = _ids(words) if words else (np.zeros(0, np.uint64), np.zeros(0, np.int64))
        self.cum = np.concatenate([[0], np.cumsum(self.lens)])

    def top_chars(self, n: int) -> int:
        """Characters of the most frequent n-gram (words joined by spaces) times its count; ties go to the
        n-gram seen first."""
        m = len(self.ids) - n + 1
        if m <= 0:
            return 0
        keys = _ngram_keys(self.ids, n)
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        best = counts.max()
        pos = first[counts == best].min()
        return int((self.cum[pos + n] - self.cum[pos] + n - 1) * best)

    def dup_chars(self, n: int) -> int:
        """Characters (words joined without spaces) in repeated n-grams, scanning left to right and jumping
        past each repeat, as datatrove's ``find_all_duplicate`` does.

        Only positions whose n-gram also occurs earlier are visited one by one; everything between them is
        a first occurrence, which keeps the scan short on ordinary text.
        """
        m = len(self.ids) - n + 1
        if m <= 1:
            return 0
        keys = _ngram_keys(self.ids, n)
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        new_group = np.empty(m, dtype=bool)
        new_group[0] = True
        new_group[1:] = sk[1:] != sk[:-1]
        if new_group.all():  # no n-gram occurs twice
            return 0
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(m), 0))
        first = np.empty(m, dtype=np.int64)       # first position of each position's n-gram
        first[order] = order[group_start]
        candidates = np.sort(order[~new_group]).tolist()
        first_l = first.tolist()
        cum = self.cum.tolist()
        skipped = bytearray(m)
        window = b"\x01" * (n - 1)
        rank = None
        rep = idx = 0
        for c in candidates:
            if c < idx:
                continue
            seen = not skipped[first_l[c]]
            if not seen:  # the first occurrence was jumped over: was any later earlier one visited?
                if rank is None:
                    rank = np.empty(m, dtype=np.int64)
                    rank[order] = np.arange(m)
                r = int(rank[c])
                seen = any(not skipped[j] for j in order[group_start[r]:r].tolist())
            if seen:
                rep += cum[c + n] - cum[c]
                skipped[c + 1:c + n] = window[: max(0, min(n - 1, m - c - 1))]
                idx = c + n
            else:
                idx = c + 1
        return rep


def top_ngram_chars(words: list[str], n: int) -> int:
    return Ngrams(words).top_chars(n)


def dup_ngram_chars(words: list[str], n: int) -> int:
    return Ngrams(words).dup_chars(n)
