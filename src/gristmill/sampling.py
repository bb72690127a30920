"""Uniform samples that merge: a hash of each document's id decides, so the same documents are chosen
whatever the order, sharding or number of workers.

>>> s = ThresholdSample(2)
>>> for h, doc in zip(id_hash(["a", "b", "c", "d"]).tolist(), "abcd"):
...     s.offer(h, doc)
>>> merged = ThresholdSample.merge([s.to_dict()], 2)
>>> len(merged.items), merged.tau <= 1.0
(2, True)
"""

from __future__ import annotations

import numpy as np
import xxhash


def id_hash(ids: list[str]) -> np.ndarray:
    """Uniform numbers in [0, 1) from document ids (xxh3), the same for a document wherever it is."""
    return np.array([xxhash.xxh3_64_intdigest(i.encode()) for i in ids], dtype=np.float64) / 2.0**64


class ThresholdSample:
    """Items whose hash is below ``tau``; keeps about ``k`` and lowers ``tau`` as more arrive.

    Two samples merge by taking the smaller ``tau`` and the items below it: a uniform sample at that rate.
    """

    def __init__(self, k: int, tau: float = 1.0, items: list | None = None) -> None:
        self.k, self.tau, self.items = k, tau, items or []

    def offer(self, h: float, item) -> None:
        if h < self.tau:
            self.items.append((h, item))
            if len(self.items) >= 2 * self.k:
                self._trim()

    def _trim(self) -> None:
        if len(self.items) > self.k:
            self.items.sort(key=lambda x: x[0])
            self.tau = self.items[self.k][0]
            del self.items[self.k:]

    def to_dict(self) -> dict:
        self._trim()
        return {"k": self.k, "tau": self.tau, "items": self.items}

    @classmethod
    def merge(cls, parts: list[dict], k: int) -> ThresholdSample:
        tau = min([p["tau"] for p in parts], default=1.0)
        items = [tuple(x) for p in parts for x in p["items"] if x[0] < tau]
        s = cls(k, tau, items)
        s._trim()
        return s
