"""A scorer over a local language model's hidden states: the mean of the final hidden states over a
document's first ``max_tokens`` tokens, then ridge regression to the annotated score (the ridge strength
chosen by 5-fold cross-validation on the training documents only).

The encoder is a local folder, never downloaded: a ``gristmill train`` folder (the proxy LM: ``model.pt``) or
a Hugging Face folder (``config.json``; needs ``transformers``, loaded with ``local_files_only``). The model
file (``.npz``, format ``gristmill-embed-1``) holds the ridge weights and the encoder's path; the encoder
itself is not copied.

>>> X = np.random.default_rng(0).standard_normal((200, 8)); y = X @ np.arange(8.0) + 1
>>> w = Ridge.fit(X, y); bool(np.abs(w.predict(X) - y).max() < 0.5)
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from gristmill.classify.model_file import load_arrays, save_arrays
from gristmill.errors import GristmillError

FORMAT = "gristmill-embed-1"
ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
MAX_TOKENS = 256
MAX_CHARS = 4000


@dataclass
class Ridge:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float

    @staticmethod
    def _solve(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
        ym = y.mean()
        A = X.T @ X + alpha * np.eye(X.shape[1])
        return np.linalg.solve(A, X.T @ (y - ym)), float(ym)

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, alphas=ALPHAS, folds: int = 5, seed: int = 0) -> Ridge:
        mean, scale = X.mean(0), X.std(0) + 1e-6
        Z = (X - mean) / scale
        fold = np.random.default_rng(seed).permutation(len(y)) % folds
        best, best_err = alphas[0], np.inf
        if len(y) >= 2 * folds:
            for a in alphas:
                err = 0.0
                for k in range(folds):
                    tr = fold != k
                    c, b = cls._solve(Z[tr], y[tr], a)
                    err += float(((Z[~tr] @ c + b - y[~tr]) ** 2).sum())
                if err < best_err:
                    best, best_err = a, err
        coef, b = cls._solve(Z, y, best)
        return cls(mean, scale, coef, b, best)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept


class Encoder:
    """Mean-pooled final hidden states of a local model folder."""

    def __init__(self, path: str, max_tokens: int = MAX_TOKENS, threads: int = 1) -> None:
        import torch

        from gristmill.sft.models import kind

        torch.set_num_threads(threads)
        self.path, self.max_tokens, self.kind = path, max_tokens, kind(path)
        if self.kind == "proxy":
            from gristmill.tokenize.tokenizer import eos_id
            from gristmill.train.trainer import load_model

            self.model, self.tok = load_model(path)
            self.eos = eos_id(self.tok)
            self.max_tokens = min(max_tokens, self.model.config.seq_len)
        else:
            try:
                from transformers import AutoModel, AutoTokenizer
            except ImportError:
                raise GristmillError(f"{path} is a Hugging Face model folder and transformers is not installed",
                                     hint="pip install transformers") from None
            self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        import torch

        out = []
        with torch.no_grad():
            for a in range(0, len(texts), batch):
                part = [t[:MAX_CHARS] for t in texts[a:a + batch]]
                if self.kind == "proxy":
                    ids = [([self.eos] + e.ids)[: self.max_tokens]
                           for e in self.tok.encode_batch(part, add_special_tokens=False)]
                    n = max(len(i) for i in ids)
                    x = torch.full((len(ids), n), self.eos, dtype=torch.long)
                    mask = torch.zeros((len(ids), n, 1))
                    for r, i in enumerate(ids):
                        x[r, :len(i)] = torch.tensor(i)
                        mask[r, :len(i)] = 1
                    h = self.model.hidden(x)
                else:
                    if self.tok.pad_token is None:
                        self.tok.pad_token = self.tok.eos_token or self.tok.unk_token
                    enc = self.tok(part, truncation=True, max_length=self.max_tokens, padding=True,
                                   return_tensors="pt")
                    h = self.model(**enc).last_hidden_state
                    mask = enc["attention_mask"].unsqueeze(-1).float()
                out.append(((h * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))


@dataclass
class EmbedScorer:
    ridge: Ridge
    encoder_path: str
    meta: dict = field(default_factory=dict)
    _encoder: Encoder | None = field(default=None, repr=False)

    @classmethod
    def fit(cls, texts: list[str], y: np.ndarray, encoder: str, *, max_tokens: int = MAX_TOKENS,
            meta: dict | None = None) -> EmbedScorer:
        enc = Encoder(encoder, max_tokens)
        ridge = Ridge.fit(enc.encode(texts), np.asarray(y, float))
        s = cls(ridge, os.path.abspath(encoder), dict(meta or {}) | {"max_tokens": enc.max_tokens,
                                                                    "alpha": ridge.alpha})
        s._encoder = enc
        return s

    def scores(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = Encoder(self.encoder_path, self.meta.get("max_tokens", MAX_TOKENS))
        if not texts:
            return np.zeros(0)
        p = self.ridge.predict(self._encoder.encode(texts))
        lo, hi = self.meta.get("scale", (-np.inf, np.inf))
        return np.clip(p, lo, hi)

    def save(self, path: str) -> None:
        meta = self.meta | {"format": FORMAT, "encoder": self.encoder_path, "alpha": self.ridge.alpha,
                            "intercept": self.ridge.intercept}
        arrays = {"mean": self.ridge.mean, "scale": self.ridge.scale, "coef": self.ridge.coef}
        save_arrays(path, arrays, meta)

    @classmethod
    def load(cls, path: str, encoder: str | None = None) -> EmbedScorer:
        """The scorer in ``path``; ``encoder`` replaces the encoder folder it was trained with (moved)."""
        z, meta = load_arrays(path, FORMAT, "embedding scorer")
        enc = encoder or meta["encoder"]
        if not os.path.isdir(enc):
            raise GristmillError(f"{path}: its encoder folder {enc} is missing",
                                 hint="the classifier step's encoder: PATH names where it is now")
        ridge = Ridge(z["mean"], z["scale"], z["coef"], float(meta["intercept"]), float(meta["alpha"]))
        return cls(ridge, enc, meta)
