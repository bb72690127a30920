"""ROUGE-L (longest common subsequence F-measure) that works on Chinese: units are lower-cased words for
space-delimited text and single characters for Han/kana/hangul, so 中文 instructions compare character by
character (as the Self-Instruct novelty filter needs).

>>> round(rouge_l("Write a poem about the sea.", "Write a short poem about the sea."), 3)
0.923
>>> round(rouge_l("写一首关于大海的诗", "写一首关于大海的短诗"), 3)
0.947
>>> near_duplicates(["写一首关于大海的诗", "写一首关于大海的短诗", "解释量子纠缠"], 0.7)
[None, 0, None]
"""

from __future__ import annotations

import re

_UNIT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


def units(text: str) -> list[str]:
    return [u.lower() for u in _UNIT.findall(text)]


def lcs(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(a: str | list[str], b: str | list[str]) -> float:
    ua = units(a) if isinstance(a, str) else a
    ub = units(b) if isinstance(b, str) else b
    if not ua or not ub:
        return 0.0
    n = lcs(ua, ub)
    if n == 0:
        return 0.0
    p, r = n / len(ub), n / len(ua)
    return 2 * p * r / (p + r)


class NoveltyIndex:
    """Texts seen so far, with an inverted index of unit bigrams so a new text is compared (ROUGE-L) only with
    texts that share some of its bigrams."""

    def __init__(self, threshold: float = 0.7) -> None:
        self.threshold = threshold
        self.items: list[list[str]] = []
        self.index: dict[tuple, list[int]] = {}

    def most_similar(self, text: str) -> tuple[int | None, float]:
        u = units(text)
        grams = set(zip(u, u[1:], strict=False)) or {(x,) for x in u}
        counts: dict[int, int] = {}
        for g in grams:
            for k in self.index.get(g, ()):
                counts[k] = counts.get(k, 0) + 1
        best, score = None, 0.0
        need = max(1, int(len(grams) * 0.3))  # ROUGE-L ≥ 0.7 implies many shared bigrams
        for k, c in counts.items():
            if c < need and len(grams) > 3:
                continue
            s = rouge_l(u, self.items[k])
            if s > score:
                best, score = k, s
        return best, score

    def add(self, text: str) -> int:
        u = units(text)
        k = len(self.items)
        self.items.append(u)
        for g in set(zip(u, u[1:], strict=False)) or {(x,) for x in u}:
            self.index.setdefault(g, []).append(k)
        return k


def near_duplicates(texts: list[str], threshold: float = 0.7) -> list[int | None]:
    """For each text, the index of an earlier kept text with ROUGE-L ≥ threshold (None: it is kept)."""
    idx = NoveltyIndex(threshold)
    kept_at: list[int] = []
    out: list[int | None] = []
    for t in texts:
        k, s = idx.most_similar(t)
        if k is not None and s >= threshold:
            out.append(kept_at[k])
        else:
            kept_at.append(len(out))
            idx.add(t)
            out.append(None)
    return out
