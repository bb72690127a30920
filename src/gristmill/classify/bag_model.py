"""A small, fast text classifier in numpy: hashed features (``hashed_features``) → mean of their
embeddings → one ReLU layer → softmax over classes.

It is fastText's architecture with a non-linearity, trained with targets that can be soft (a share of
annotators' votes per class) or partial (``any of these classes``: a text labelled *not hate* may be
offensive or neutral). Features seen in fewer than ``min_count`` training documents are dropped, so the
saved model holds only rows that were learnt, looked up by sorted feature id (no bucket collisions).

>>> texts = ["you are lovely", "lovely day", "you idiot", "idiot fool", "what a fool", "a lovely friend"]
>>> y = np.array([[0, 1], [0, 1], [1, 0], [1, 0], [1, 0], [0, 1]], float)
>>> m = BagModel.fit([features(t, "en") for t in texts], y, None, None, classes=["bad", "good"], lang="en",
...                  epochs=30, min_count=1)
>>> p = m.proba(["what an idiot", "a lovely friend of mine"])
>>> bool(p[0, 0] > 0.5 > p[1, 0])
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gristmill.classify.hashed_features import BITS, MAX_CHARS, features
from gristmill.classify.model_file import load_arrays, save_arrays
from gristmill.errors import GristmillError

FORMAT = "gristmill-bag-1"


@dataclass
class BagModel:
    ids: np.ndarray          # sorted uint32 feature ids, one per embedding row
    emb: np.ndarray          # (rows, dim) float32 (float16 in the file)
    b1: np.ndarray           # (dim,)
    w2: np.ndarray           # (dim, classes)
    b2: np.ndarray           # (classes,)
    classes: list[str]
    lang: str
    meta: dict = field(default_factory=dict)
    _index: np.ndarray | None = field(default=None, repr=False, compare=False)

    # ---- scoring
    def proba_features(self, feats: list[np.ndarray]) -> np.ndarray:
        """Class probabilities (docs × classes) of documents given as feature-id arrays."""
        n = len(feats)
        z = np.zeros((n, self.emb.shape[1]), np.float32)
        if n:
            flat = np.concatenate(feats)
            row = self.index[flat] if len(flat) else np.zeros(0, np.int32)
            known = row >= 0
            doc = np.repeat(np.arange(n), [len(f) for f in feats])[known]
            row = row[known]
            cnt = np.bincount(doc, minlength=n)
            has = cnt > 0
            if has.any():
                starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])[has]
                z[has] = np.add.reduceat(np.take(self.emb, row, axis=0), starts, axis=0) / cnt[has, None]
        h = np.maximum(z + self.b1, 0)
        return _softmax(h @ self.w2 + self.b2)

    @property
    def index(self) -> np.ndarray:
        """Embedding row of each feature id (-1: not in the model), built on first use."""
        if self._index is None:
            self._index = np.full(1 << BITS, -1, np.int32)
            self._index[self.ids] = np.arange(len(self.ids), dtype=np.int32)
        return self._index

    def proba(self, texts: list[str]) -> np.ndarray:
        mc = self.meta.get("max_chars", MAX_CHARS)
        return self.proba_features([features(t, self.lang, mc) for t in texts])

    # ---- training
    @classmethod
    def fit(cls, feats: list[np.ndarray], soft: np.ndarray, allowed: np.ndarray | None, weight: np.ndarray | None,
            *, classes: list[str], lang: str, dim: int = 16, epochs: int = 4, lr: float = 0.1, batch: int = 32,
            min_count: int = 2, seed: int = 0, meta: dict | None = None) -> BagModel:
        """Train on feature arrays. ``soft`` (docs × classes) holds target distributions; a row of
        ``allowed`` that is not all zero makes that document's target partial: maximise the probability of
        its allowed classes together. ``weight`` scales each document's loss."""
        n, k = soft.shape
        allowed = np.zeros_like(soft) if allowed is None else allowed
        weight = np.ones(n) if weight is None else weight
        uniq = [np.unique(f) for f in feats]
        all_ids, df = np.unique(np.concatenate(uniq) if uniq else np.zeros(0, np.uint32), return_counts=True)
        ids = all_ids[df >= min_count]
        if not len(ids):
            raise GristmillError("no feature occurs often enough to train on", hint="add training documents")
        rows = []
        for f in feats:
            p = np.searchsorted(ids, f)
            p[p >= len(ids)] = 0
            rows.append(p[ids[p] == f])
        rng = np.random.default_rng(seed)
        emb = (rng.standard_normal((len(ids), dim)) * 0.1).astype(np.float32)
        b1 = np.full(dim, 0.1, np.float32)
        w2 = (rng.standard_normal((dim, k)) / np.sqrt(dim)).astype(np.float32)
        b2 = np.zeros(k, np.float32)
        acc_e, acc_b1, acc_w2, acc_b2 = (np.full(a.shape[:1] if a is emb else a.shape, 1e-6, np.float32)
                                         for a in (emb, b1, w2, b2))
        for _ in range(epochs):
            order = rng.permutation(n)
            for s in range(0, n, batch):
                b = order[s:s + batch]
                lens = np.array([len(rows[i]) for i in b])
                flat = np.concatenate([rows[i] for i in b])
                doc = np.repeat(np.arange(len(b)), lens)
                inv_len = 1.0 / np.maximum(lens, 1)
                z = np.zeros((len(b), dim), np.float32)
                ge = emb[flat]
                for j in range(dim):
                    z[:, j] = np.bincount(doc, ge[:, j], minlength=len(b))
                z *= inv_len[:, None]
                pre = z + b1
                h = np.maximum(pre, 0)
                p = _softmax(h @ w2 + b2)
                part = allowed[b].sum(1) > 0
                target = soft[b].copy()
                if part.any():  # d(-log sum_{c in S} p_c)/dlogit = p - p*1[S]/sum_S p
                    ps = p[part] * allowed[b][part]
                    target[part] = ps / np.maximum(ps.sum(1, keepdims=True), 1e-12)
                wt = (weight[b] / weight[b].sum())[:, None].astype(np.float32)
                g_logit = (p - target) * wt
                g_w2, g_b2 = h.T @ g_logit, g_logit.sum(0)
                g_pre = (g_logit @ w2.T) * (pre > 0)
                g_b1 = g_pre.sum(0)
                g_rows = g_pre[doc] * inv_len[doc][:, None]
                u, inv = np.unique(flat, return_inverse=True)
                g_e = np.zeros((len(u), dim), np.float32)
                for j in range(dim):
                    g_e[:, j] = np.bincount(inv, g_rows[:, j], minlength=len(u))
                acc_e[u] += (g_e * g_e).mean(1)
                emb[u] -= lr * g_e / np.sqrt(acc_e[u])[:, None]
                for par, g, acc in ((w2, g_w2, acc_w2), (b2, g_b2, acc_b2), (b1, g_b1, acc_b1)):
                    acc += g * g
                    par -= lr * g / np.sqrt(acc)
        return cls(ids, emb, b1, w2, b2, list(classes), lang, dict(meta or {}) | {"dim": dim, "epochs": epochs,
                   "lr": lr, "min_count": min_count, "seed": seed})

    # ---- files
    def save(self, path: str) -> None:
        """One ``.npz`` file (embeddings as float16), byte-identical for the same model."""
        meta = self.meta | {"format": FORMAT, "classes": self.classes, "lang": self.lang}
        arrays = {"ids": self.ids, "emb": self.emb.astype(np.float16), "b1": self.b1, "w2": self.w2, "b2": self.b2}
        save_arrays(path, arrays, meta)

    @classmethod
    def load(cls, path: str) -> BagModel:
        z, meta = load_arrays(path, FORMAT, "bag model")
        return cls(z["ids"], z["emb"].astype(np.float32), z["b1"], z["w2"], z["b2"], meta["classes"], meta["lang"],
                   meta)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
