"""A linear scorer over word shares: each document is the share of each of its words (language-aware words,
lower-cased, numbers as one ``<num>`` word: :func:`gristmill.classify.fasttext_model.prepare_num`), hashed to
``2**BITS`` buckets; ridge regression to the annotated score, solved by conjugate gradients on the sparse
matrix (numpy only), the ridge strength chosen by 3-fold cross-validation on the training documents.

Where a judge's scores move with how much of a text is of some kind (function words, numbers, punctuation,
a topic's vocabulary) this fits them more closely than fastText's softmax over a few hundred documents
(docs/quality.md gives the figures); it scores as fast.

>>> texts = ["the cat sat on the mat", "buy now 50% off", "the history of the city", "cheap pills 100 free"] * 5
>>> y = np.array([4.0, 0.0, 4.0, 0.0] * 5)
>>> m = LinearScorer.fit(texts, y)
>>> p = m.scores(["the story of the cat", "free pills now"]); bool(p[0] > 2 > p[1])
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xxhash

from gristmill.classify.model_file import load_arrays, save_arrays
from gristmill.errors import GristmillError

FORMAT = "gristmill-linear-1"
BITS = 20
ALPHAS = (1e-3, 1e-2, 1e-1)
CG_ITERS = 100
MIN_DOCS = 2     # words in fewer training documents get no weight
CG_TOL = 1e-4   # relative residual at which conjugate gradients stop
FOLDS = 3


def _rows(texts: list[str], max_chars: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, bucket id, share) of every distinct word of every document (CSR-like triplets)."""
    from gristmill.classify.fasttext_model import prepare_num

    rows, ids, vals = [], [], []
    mask = (1 << BITS) - 1
    for i, t in enumerate(texts):
        toks = prepare_num(t, max_chars).split()
        if not toks:
            continue
        h = np.fromiter((xxhash.xxh64_intdigest(w.encode("utf-8", "surrogatepass")) & mask for w in toks),
                        np.int64, len(toks))
        u, c = np.unique(h, return_counts=True)
        rows.append(np.full(len(u), i, np.int64))
        ids.append(u)
        vals.append(c / len(toks))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(ids), np.concatenate(vals)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` without BLAS (whose threads spin for ms on a busy machine for vectors this short)."""
    return float(np.multiply(a, b).sum())


def _solve(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, k: int, y: np.ndarray, alpha: float,
           w0: np.ndarray | None = None) -> np.ndarray:
    """Ridge weights of the column-centred matrix: conjugate gradients on the normal equations with a
    Jacobi preconditioner (the word shares' scales differ by orders of magnitude)."""
    xbar = np.bincount(c, v, minlength=k) / n
    diag = np.bincount(c, v * v, minlength=k) - n * xbar * xbar + alpha

    def xv(w):      # centred X @ w
        return np.bincount(r, v * w[c], minlength=n) - _dot(xbar, w)

    def xtu(u):     # centred X.T @ u
        return np.bincount(c, v * u[r], minlength=k) - xbar * u.sum()

    b = xtu(y - y.mean())
    w = np.zeros(k) if w0 is None else w0.copy()
    res = b - (xtu(xv(w)) + alpha * w) if w0 is not None else b.copy()
    z = res / diag
    p = z.copy()
    rz = _dot(res, z)
    stop = CG_TOL * CG_TOL * _dot(b, b)
    for _ in range(CG_ITERS):
        ap = xtu(xv(p)) + alpha * p
        step = rz / _dot(p, ap)
        w += step * p
        res -= step * ap
        if _dot(res, res) < stop:
            break
        z = res / diag
        nz = _dot(res, z)
        p = z + (nz / rz) * p
        rz = nz
    return w


@dataclass
class LinearScorer:
    ids: np.ndarray             # sorted bucket ids with a weight
    coef: np.ndarray
    intercept: float
    meta: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, texts: list[str], y: np.ndarray, *, max_chars: int = 10_000, alphas=ALPHAS, seed: int = 0,
            meta: dict | None = None) -> LinearScorer:
        y = np.asarray(y, float)
        n = len(texts)
        r, ids, v = _rows(texts, max_chars)
        if not len(ids):
            raise GristmillError("no words in the training documents")
        used, c, df = np.unique(ids, return_inverse=True, return_counts=True)
        if (df >= MIN_DOCS).sum() >= 10:  # a word of one training document cannot generalise
            keep = df[c] >= MIN_DOCS
            r, v = r[keep], v[keep]
            used, c = np.unique(ids[keep], return_inverse=True)
        k = len(used)
        best, errs = alphas[-1], {}
        if n >= 10 and len(alphas) > 1:
            fold = np.random.default_rng(seed).permutation(n) % FOLDS
            for f in range(FOLDS):
                tr = fold[r] != f
                idx, hold = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
                remap = np.full(n, -1)
                remap[idx] = np.arange(len(idx))
                remap[hold] = np.arange(len(hold))
                xbar = np.bincount(c[tr], v[tr], minlength=k) / len(idx)
                w = None
                for a in sorted(alphas, reverse=True):  # strongest first; each solution starts the next
                    w = _solve(remap[r[tr]], c[tr], v[tr], len(idx), k, y[idx], a, w)
                    te = ~tr
                    pred = np.bincount(remap[r[te]], v[te] * w[c[te]], minlength=len(hold)) - _dot(xbar, w) + y[idx].mean()
                    errs[a] = errs.get(a, 0.0) + float(((pred - y[hold]) ** 2).sum())
            best = min(errs, key=errs.get)
        w = _solve(r, c, v, n, k, y, best)
        xbar = np.bincount(c, v, minlength=k) / n
        keep = w != 0
        return cls(used[keep], w[keep].astype(np.float32), float(y.mean() - _dot(xbar, w)),
                   dict(meta or {}) | {"alpha": best, "max_chars": max_chars, "bits": BITS})

    def scores(self, texts: list[str]) -> np.ndarray:
        r, ids, v = _rows(texts, self.meta.get("max_chars", 10_000))
        pos = np.searchsorted(self.ids, ids)
        pos[pos >= len(self.ids)] = 0
        hit = self.ids[pos] == ids if len(self.ids) else np.zeros(len(ids), bool)
        p = np.bincount(r[hit], v[hit] * self.coef[pos[hit]], minlength=len(texts)) + self.intercept
        lo, hi = self.meta.get("scale", (-np.inf, np.inf))
        return np.clip(p, lo, hi)

    def save(self, path: str) -> None:
        meta = self.meta | {"format": FORMAT, "intercept": self.intercept}
        arrays = {"ids": self.ids.astype(np.uint32), "coef": self.coef}
        save_arrays(path, arrays, meta)

    @classmethod
    def load(cls, path: str) -> LinearScorer:
        z, meta = load_arrays(path, FORMAT, "linear scorer")
        return cls(z["ids"].astype(np.int64), z["coef"], float(meta["intercept"]), meta)
