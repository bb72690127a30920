"""Choose fine-tuning samples: instruction-following difficulty (IFD) and diversity (k-center greedy).

IFD (Li et al. 2024, "From Quantity to Quality"): IFD = PPL(answer | instruction) / PPL(answer). Near 1 the
instruction barely helps the model predict the answer (a hard, informative sample); above 1 the answer does
not follow from the instruction at all (usually noise, dropped). Any causal LM scores it: a proxy model
from ``gristmill train``, or a Hugging Face model folder when ``transformers`` is installed.

k-center greedy (Sener & Savarese 2018) picks N samples that cover the data: each next pick is the sample
farthest (cosine) from everything picked so far, over TF-IDF vectors (hashed, word and character n-grams so
Chinese works) or the proxy model's mean hidden states.

>>> vecs = tfidf_vectors(["sort a list", "sort a list in python", "翻译这句话", "写一首诗"], dim=256)
>>> k_center(vecs, 2, seed=0)
[0, 2]
"""

from __future__ import annotations

import math
import re

import numpy as np
import xxhash

from gristmill.errors import GristmillError

_WORD = re.compile(r"[\u3400-\u9fff]|[^\W_]+", re.UNICODE)


def tfidf_vectors(texts: list[str], dim: int = 2048) -> np.ndarray:
    """L2-normalised hashed TF-IDF of word unigrams+bigrams (Han characters count as words)."""
    rows = []
    df = np.zeros(dim, dtype=np.float64)
    for t in texts:
        u = [w.lower() for w in _WORD.findall(t)]
        feats = u + [a + " " + b for a, b in zip(u, u[1:], strict=False)]
        idx = np.array([xxhash.xxh3_64_intdigest(f.encode()) % dim for f in feats], dtype=np.int64)
        rows.append(idx)
        if len(idx):
            df[np.unique(idx)] += 1
    idf = np.log((1 + len(texts)) / (1 + df)) + 1
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, idx in enumerate(rows):
        if len(idx):
            np.add.at(out[i], idx, 1.0)
            out[i] *= idf
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
    return out


def k_center(vectors: np.ndarray, n: int, seed: int = 0, first: int | None = None) -> list[int]:
    """Indices of ``n`` rows chosen by k-center greedy (cosine distance on normalised vectors)."""
    m = len(vectors)
    if n >= m:
        return list(range(m))
    start = first if first is not None else int(np.random.default_rng(seed).integers(m)) if seed else 0
    chosen = [start]
    dist = 1.0 - vectors @ vectors[start]
    dist[start] = -1
    for _ in range(n - 1):
        k = int(np.argmax(dist))
        chosen.append(k)
        dist = np.minimum(dist, 1.0 - vectors @ vectors[k])
        dist[chosen] = -1
    return chosen


class ProxyScorer:
    """Token log-likelihoods from a ``gristmill train`` model folder."""

    def __init__(self, path: str) -> None:
        from gristmill.tokenize.tokenizer import eos_id
        from gristmill.train.trainer import load_model

        self.model, self.tok = load_model(path)
        self.eos = eos_id(self.tok)
        self.ctx = self.model.config.seq_len

    def mean_nll(self, prefix: str, target: str) -> float:
        """Mean negative log-likelihood (nats) of ``target``'s tokens after ``prefix`` (EOS when empty)."""
        import torch

        p = [self.eos] + self.tok.encode(prefix, add_special_tokens=False).ids
        t = self.tok.encode(target, add_special_tokens=False).ids
        if not t:
            return float("nan")
        ids = (p + t)[-(self.ctx + 1):]
        n_t = min(len(t), len(ids) - 1)
        x = torch.tensor([ids])
        with torch.no_grad():
            logits, _ = self.model(x[:, :-1])
            lp = torch.nn.functional.cross_entropy(logits[0], x[0, 1:], reduction="none")
        return float(lp[-n_t:].mean())

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.no_grad():
            for t in texts:
                ids = ([self.eos] + self.tok.encode(t, add_special_tokens=False).ids)[: self.ctx]
                v = self.model.hidden(torch.tensor([ids]))[0].mean(0).numpy()
                out.append(v / (np.linalg.norm(v) or 1))
        return np.array(out, dtype=np.float32)


class HFScorer:
    """The same from a Hugging Face causal LM folder (needs ``transformers``)."""

    def __init__(self, path: str) -> None:
        from gristmill.sft.models import load_hf

        self.model, self.tok = load_hf(path)
        self.ctx = getattr(self.model.config, "max_position_embeddings", 1024)

    def mean_nll(self, prefix: str, target: str) -> float:
        import torch

        p = self.tok(prefix, add_special_tokens=False)["input_ids"] if prefix else []
        if not p and self.tok.bos_token_id is not None:
            p = [self.tok.bos_token_id]
        t = self.tok(target, add_special_tokens=False)["input_ids"]
        if not t:
            return float("nan")
        ids = (p + t)[-self.ctx:]
        n_t = min(len(t), len(ids) - 1)
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = self.model(x).logits
            lp = torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:], reduction="none")
        return float(lp[-n_t:].mean())


def scorer(path: str):
    from gristmill.sft.models import kind

    return ProxyScorer(path) if kind(path) == "proxy" else HFScorer(path)


def ifd(scorer_, instruction: str, answer: str) -> float:
    """PPL(answer | instruction) / PPL(answer)."""
    cond = scorer_.mean_nll(instruction + "\n", answer)
    free = scorer_.mean_nll("", answer)
    if math.isnan(cond) or math.isnan(free):
        return float("nan")
    return math.exp(cond - free)


def select(samples, n: int, *, method: str = "kcenter", model: str | None = None, max_ifd: float = 1.0,
           pool_factor: int = 3, seed: int = 0) -> tuple[list[int], dict]:
    """Indices of the chosen samples and per-sample scores. Methods: ``kcenter`` (TF-IDF, or the model's
    embeddings with ``model``), ``ifd`` (highest IFD ≤ ``max_ifd``), ``ifd+kcenter`` (k-center among the
    ``pool_factor × n`` highest-IFD samples)."""
    if method not in ("kcenter", "ifd", "ifd+kcenter"):
        raise GristmillError(f"unknown selection method {method!r}", hint="kcenter, ifd or ifd+kcenter")
    texts = [s.prompt_text() + "\n" + s.response_text() for s in samples]
    info: dict = {}
    sc = scorer(model) if model else None
    cand = list(range(len(samples)))
    if method.startswith("ifd"):
        if sc is None:
            raise GristmillError("IFD needs a causal LM", hint="--model MODEL_DIR (gristmill train, or Hugging Face)")
        scores = [ifd(sc, s.prompt_text(), s.response_text()) for s in samples]
        info["ifd"] = scores
        ok = [i for i in cand if not math.isnan(scores[i]) and scores[i] <= max_ifd]
        ok.sort(key=lambda i: -scores[i])
        cand = ok[: n if method == "ifd" else pool_factor * n]
        if method == "ifd":
            return cand, info
    vecs = (sc.embed([texts[i] for i in cand]) if isinstance(sc, ProxyScorer) and method == "kcenter"
            else tfidf_vectors([texts[i] for i in cand]))
    picked = k_center(vecs, n, seed=seed)
    return [cand[i] for i in picked], info
