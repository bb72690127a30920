"""MinHash signatures and LSH banding.

Signatures use multiply-shift hashing of 64-bit shingle hashes, all permutations at once with numpy
(:class:`MinHasher`), or one permutation with densification (:class:`OnePermHasher`, one pass). The
number of bands ``b`` and rows ``r`` (``b * r <= num_perm``) are chosen for a target Jaccard threshold by
minimising the weighted false-positive and false-negative areas under the S-curve
``P(candidate | J) = 1 - (1 - J**r) ** b``.

>>> b, r = optimal_bands(0.7, 128)
>>> b * r <= 128 and s_curve(0.9, b, r) > 0.99 and s_curve(0.3, b, r) < 0.05
True
"""

from __future__ import annotations

import numpy as np

_INTEGRATION_STEPS = 200
_SIG_BLOCK = 16_384  # shingles hashed at once: a (block x num_perm) uint32 temporary, 8 MB at 128 permutations


def s_curve(j: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard ``j`` share at least one band."""
    return 1.0 - (1.0 - j**rows) ** bands


def optimal_bands(threshold: float, num_perm: int, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight * FP area below the threshold + fn_weight * FN area above it."""
    xs_lo = np.linspace(0, threshold, _INTEGRATION_STEPS)
    xs_hi = np.linspace(threshold, 1, _INTEGRATION_STEPS)
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - xs_lo**r) ** b, xs_lo)
            fn = np.trapezoid((1 - xs_hi**r) ** b, xs_hi)
            err = (1 - fn_weight) * fp + fn_weight * fn
            if err < best_err - 1e-12:
                best, best_err = (b, r), err
    return best


class MinHasher:
    """``signature(shingles)`` -> ``num_perm`` uint32 minima; empty documents get all-ones (never match).

    Permutations are ``x -> a*x + b mod 2**32`` (``a`` odd, so a bijection) of the top 32 bits of each
    well-mixed 64-bit shingle hash: 32-bit arithmetic halves the memory traffic of the 64-bit
    multiply-shift form with the same estimation error (0.034 mean absolute error on real pairs, both).
    """

    def __init__(self, num_perm: int = 128, seed: int = 42) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.a = (rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1))
        self.b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        if shingles.size == 0:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        sig = None
        for k in range(0, len(shingles), _SIG_BLOCK):  # a long document in blocks: bounded temporaries
            x = (shingles[k:k + _SIG_BLOCK] >> np.uint64(32)).astype(np.uint32)
            with np.errstate(over="ignore"):
                y = x[:, None] * self.a[None, :]
                y += self.b[None, :]
            m = y.min(axis=0)
            sig = m if sig is None else np.minimum(sig, m)
        return sig


class OnePermHasher:
    """One-permutation MinHash with optimal densification (Shrivastava 2017): the same ``signature``
    interface and estimator (share of equal values ~ Jaccard) as :class:`MinHasher`, in one pass over the
    shingles instead of ``num_perm``. Each shingle hash falls into one of ``num_perm`` bins (its high 32
    bits) and keeps the minimum of its low 32 bits there; an empty bin copies the first non-empty bin of its
    own fixed random probe order, the same for every document. Used for the character signature of CJK
    documents, where it takes about a seventh of the CPU time of a 128-permutation :class:`MinHasher`
    (``signatures``: a group of documents in one call) with the same LSH S-curve (measured on random sets
    of 10-500 shingles at J = 0.6-0.8, 1,500 pairs each: band collision rates within 0.02).

    >>> h = OnePermHasher(16)
    >>> x = np.arange(1, 400, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    >>> bool((h.signature(x) == h.signature(x[::-1])).all()), int(h.signature(x[:0]).max()) == 2**32 - 1
    (True, True)
    """

    def __init__(self, num_perm: int = 128, seed: int = 42) -> None:
        rng = np.random.default_rng([seed, 1])
        self.num_perm = num_perm
        self.probe = np.stack([rng.permutation(num_perm) for _ in range(num_perm)]).astype(np.int16)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        return self.signatures(shingles, np.array([0, len(shingles)]))[0]

    def signatures(self, shingles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(n_docs, num_perm) signatures of the documents ``shingles[offsets[i]:offsets[i + 1]]`` at once."""
        k, n = self.num_perm, len(offsets) - 1
        sig = np.full(n * k, np.iinfo(np.uint32).max, dtype=np.uint32)
        doc = np.repeat(np.arange(n), np.diff(offsets))
        slot = doc * k + (((shingles >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)).astype(np.intp)
        np.minimum.at(sig, slot, (shingles & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        filled = np.zeros(n * k, dtype=bool)
        filled[slot] = True
        empty = np.nonzero(~filled & np.repeat(np.diff(offsets) > 0, k))[0]  # empty documents stay all-ones
        if len(empty):
            first = empty - empty % k
            rows = first[:, None] + self.probe[empty % k]
            sig[empty] = sig[rows[np.arange(len(empty)), filled[rows].argmax(axis=1)]]
        return sig.reshape(n, k)


def band_keys(sigs: np.ndarray, bands: int, rows: int, salt: int = 0) -> np.ndarray:
    """(n_docs, num_perm) uint32 signatures -> (n_docs, bands) uint64 keys, one hash per band; a different
    ``salt`` puts the keys of another kind of signature (e.g. character shingles) in their own space."""
    n = sigs.shape[0]
    out = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            seed = np.uint64(0xCBF29CE484222325) ^ np.uint64(b) ^ np.uint64(salt << 32)
            h = np.full(n, seed, dtype=np.uint64)
            for j in range(rows):
                h = (h ^ sigs[:, b * rows + j].astype(np.uint64)) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
            out[:, b] = h
    return out
