"""DSIR (Xie et al., 2023) pieces: hashed n-gram bag features, per-language bag models, log importance weights
and Gumbel top-k keys that depend only on a document's id and a seed.

Features are unigrams and bigrams of gristmill's language-aware tokens, hashed into ``buckets``: words
(``gristmill.text.words``, lower-cased) for most languages; for Chinese both characters and jieba words
(rjieba). Tokens are hashed as polynomials of their code points, bigrams are mixed from their two token
hashes: in C, one call per document (``gristmill.text._tokhash.dsir_features``, fed jieba's list of words or
the C core's word hashes, which it computes as it tokenizes), or without the extension in numpy array
operations over a whole batch of documents (the same ids, ``tests/test_token_lists.py``).

>>> f = Featurizer(buckets=1000)
>>> t = f.features("The cat sat on the mat.", "en")
>>> len(t), int(t.max()) < 1000          # 7 tokens: 7 unigrams + 6 bigrams
(13, True)
>>> zh = f.features("我喜欢这家酒店", "zh")   # 7 characters (7 + 6) and 4 jieba words (4 + 3)
>>> len(zh)
20
>>> m = BagModel.fit([f.features("python function argument", "en")], 1000)
>>> r = log_ratio(m, BagModel.fit([f.features("hotel room breakfast", "en")], 1000))
>>> bool(score([f.features("function argument", "en")], r)[0] > 0)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from gristmill.text import native, token_lists

_MIX = np.uint64(0x9E3779B97F4A7C15)       # golden-ratio multiplier (splitmix64)
_SALT_BI = np.uint64(0xD6E8FEB86659FD93)
_SALT_CHAR = np.uint64(0xA0761D6478BD642F)
_POLY = np.uint64(0x100000001B3)           # FNV prime: the token polynomial's base


def lang_key(lang: str | None, text: str = "") -> str:
    """The model a document belongs to: ``zh`` for any Chinese label (zh, zh-Hans, zh_TW, …), the label's
    primary subtag otherwise; a document without a label goes by script (``zh`` when ≥ 20 % of its
    characters are Han, else ``und``).

    >>> lang_key("zh-Hant"), lang_key("en_US"), lang_key(None, "这是中文 text"), lang_key("", "plain")
    ('zh', 'en', 'zh', 'und')
    """
    if lang:
        primary = str(lang).replace("_", "-").split("-")[0].lower()
        return "zh" if primary in ("zh", "cmn", "yue", "wuu") else primary
    from gristmill.text.scripts import han_fraction

    return "zh" if text and han_fraction(text) >= 0.2 else "und"


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


@dataclass
class Featurizer:
    """Text → hashed unigram+bigram bucket ids (``uint32``), per language.

    ``zh_chars``/``zh_words`` choose the Chinese token kinds (both by default); ``max_features`` bounds the
    features of one document (the rest of a very long document is not looked at).
    """

    buckets: int = 65536
    zh_chars: bool = True
    zh_words: bool = True
    max_features: int = 1 << 16

    @staticmethod
    def _hashes(tokens: list[str]) -> np.ndarray:
        """64-bit hashes of tokens, all at once: a polynomial of each token's code points (mod 2⁶⁴), mixed."""
        if not tokens:
            return np.zeros(0, np.uint64)
        lens = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        cp = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.uint64)
        starts = np.cumsum(lens) - lens
        pos = np.arange(len(cp)) - np.repeat(starts, lens)
        with np.errstate(over="ignore"):
            powers = np.cumprod(np.full(int(lens.max()), _POLY, np.uint64))  # P, P², … (wrapping)
            powers = np.concatenate([np.ones(1, np.uint64), powers[:-1]])
            return _mix64(np.add.reduceat(cp * powers[pos], starts) + lens.astype(np.uint64))

    def tokens(self, text: str, key: str) -> list[str]:
        """The word tokens (lower-cased) the features are built from (jieba words for zh)."""
        if key == "zh":
            import rjieba

            return [w for w in rjieba.cut(text) if w and not w.isspace()]
        from gristmill.text.words import words

        return [w for w in words(text.lower(), key) if w]

    def _word_hashes(self, texts: list[str], keys: list[str], wdocs: list[int], n_w: np.ndarray) -> np.ndarray:
        """The token hashes of documents ``wdocs`` in order (their counts into ``n_w``): jieba words hashed
        together in numpy; other languages' words hashed by the C core as it tokenizes (the same tokens and
        hashes as :meth:`tokens` and :meth:`_hashes`, without a str per word), or in numpy without it."""
        if not native.AVAILABLE or all(keys[i] == "zh" for i in wdocs):
            toks = [self.tokens(texts[i], keys[i]) for i in wdocs]
            n_w[wdocs] = [len(t) for t in toks]
            return self._hashes([w for t in toks for w in t])
        native._setup()
        per: list = [None] * len(wdocs)
        zh = [k for k, i in enumerate(wdocs) if keys[i] == "zh"]
        if zh:
            toks = [self.tokens(texts[wdocs[k]], "zh") for k in zh]
            h = self._hashes([w for t in toks for w in t])
            for k, part in zip(zh, np.split(h, np.cumsum([len(t) for t in toks])[:-1]), strict=True):
                per[k] = part
        hash_words = native._qsignals.dsir_token_hashes
        for k, i in enumerate(wdocs):
            if per[k] is None:
                per[k] = np.frombuffer(hash_words(texts[i].lower()), np.uint64)
        n_w[wdocs] = [len(x) for x in per]
        return np.concatenate(per) if per else np.zeros(0, np.uint64)

    def batch(self, texts: list[str], keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of many documents at once: bucket ids flat (``uint32``), offsets (document i's features
        are ``flat[offsets[i]:offsets[i+1]]``) and each document's token count (words; jieba words for zh,
        characters when zh_words is off). Per document: word unigrams, word bigrams, then (zh) character
        unigrams and bigrams, cut at ``max_features``; the same as one document at a time."""
        if token_lists.AVAILABLE:
            return self._batch_c(texts, keys)
        return self._batch_numpy(texts, keys)

    def _batch_c(self, texts: list[str], keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`batch` by the C extension, one call per document: jieba's words (as rjieba gives them: the
        extension skips whitespace), the C core's word hashes for other languages (or the Python tokens)."""
        features = token_lists._tokhash.dsir_features
        hash_words = None
        if native.AVAILABLE:
            native._setup()
            hash_words = native._qsignals.dsir_token_hashes
        cut = None
        if self.zh_words and "zh" in keys:
            import rjieba

            cut = rjieba.cut
        out, n_tok = [], np.zeros(len(texts), np.int64)
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            if key == "zh":
                words = cut(text) if cut else None
                chars = text if self.zh_chars else None
            else:
                words = hash_words(text.lower()) if hash_words else self.tokens(text, key)
                chars = None
            ids, n_w, n_c = features(words, chars, self.buckets, self.max_features)
            out.append(ids)
            n_tok[i] = n_w or n_c
        start = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(b) >> 2 for b in out], out=start[1:])
        return np.frombuffer(b"".join(out), np.uint32).copy(), start, n_tok

    def _batch_numpy(self, texts: list[str], keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`batch` without the extension: numpy operations over the whole batch."""
        n = len(texts)
        parts = []                                   # (hashes, per-doc lengths, salt) in feature order
        wdocs = [i for i in range(n) if keys[i] != "zh" or self.zh_words]
        n_w = np.zeros(n, np.int64)
        parts.append((self._word_hashes(texts, keys, wdocs, n_w), n_w, np.uint64(0)))
        n_tok = n_w
        cdocs = [i for i in range(n) if keys[i] == "zh" and self.zh_chars]
        if cdocs:
            cp = np.frombuffer("".join(texts[i] for i in cdocs).encode("utf-32-le", "surrogatepass"), np.uint32)
            doc = np.repeat(np.array(cdocs, np.int64), [len(texts[i]) for i in cdocs])
            keep = (cp > 32) & (cp != 0x3000)                 # no spaces (ASCII controls, ideographic)
            n_c = np.bincount(doc[keep], minlength=n)
            parts.append((cp[keep].astype(np.uint64), n_c, _SALT_CHAR))
            n_tok = np.where(n_w > 0, n_w, n_c)
        pieces, lens = [], []
        for h, ln, salt in parts:                           # unigrams, then bigrams within a document
            doc = np.repeat(np.arange(n), ln)
            pieces.append(_mix64(h ^ salt))
            lens.append(ln)
            same = doc[:-1] == doc[1:]
            with np.errstate(over="ignore"):
                pieces.append(_mix64(h[:-1][same] * _MIX + (h[1:][same] ^ _SALT_BI)))
            lens.append(np.maximum(ln - 1, 0))
        L = np.stack(lens)                                   # (parts, docs)
        total = L.sum(axis=0)
        start = np.zeros(n + 1, np.int64)
        np.cumsum(total, out=start[1:])
        full = np.empty(int(start[-1]), np.uint64)
        before = np.cumsum(L, axis=0) - L                    # features of the earlier parts, per doc
        for k, vals in enumerate(pieces):
            ln = L[k]
            first = np.zeros(n, np.int64)
            np.cumsum(ln[:-1], out=first[1:])
            local = np.arange(len(vals)) - np.repeat(first, ln)
            full[np.repeat(start[:-1] + before[k], ln) + local] = vals
        flat = (full % np.uint64(self.buckets)).astype(np.uint32)
        if int(total.max(initial=0)) > self.max_features:
            local = np.arange(len(full)) - np.repeat(start[:-1], total)
            flat = flat[local < self.max_features]
            total = np.minimum(total, self.max_features)
            np.cumsum(total, out=start[1:])
        return flat, start, n_tok

    def features(self, text: str, key: str) -> np.ndarray:
        """Bucket ids of ``text``'s features (``key``: see :func:`lang_key`)."""
        return self.batch([text], [key])[0]


@dataclass
class BagModel:
    """Bucket counts of a hashed bag-of-n-grams model (add-``alpha`` smoothed when turned into logs)."""

    counts: np.ndarray

    @classmethod
    def fit(cls, docs, buckets: int) -> BagModel:
        c = np.zeros(buckets, dtype=np.int64)
        for f in docs:
            c += np.bincount(f, minlength=buckets)
        return cls(c)

    def log_probs(self, alpha: float = 1.0) -> np.ndarray:
        c = self.counts.astype(np.float64) + alpha
        return np.log(c) - np.log(c.sum())


def log_ratio(target: BagModel, raw: BagModel, alpha: float = 1.0) -> np.ndarray:
    """Per-bucket log p_target − log p_raw: a document's log importance weight is the sum over its features."""
    return target.log_probs(alpha) - raw.log_probs(alpha)


def score_flat(feats: np.ndarray, offsets: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Log importance weights of documents stored flat: features ``feats[offsets[i]:offsets[i+1]]``.

    Sums run document by document in feature order, so a document's weight does not depend on its batch.
    """
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.float64)
    if n == 0 or len(feats) == 0:
        return out
    v = ratio[feats]
    lens = np.diff(offsets)
    nz = lens > 0
    out[nz] = np.add.reduceat(v, offsets[:-1][nz])
    return out


def score(docs: list[np.ndarray], ratio: np.ndarray) -> np.ndarray:
    """Log importance weights of feature arrays (see :func:`score_flat`)."""
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    feats = np.concatenate(docs) if docs else np.zeros(0, np.uint32)
    return score_flat(feats, offsets, ratio)


def id_keys(ids: list[str], seed: int) -> np.ndarray:
    """64-bit hashes of document ids under ``seed`` (the only source of randomness)."""
    return np.array([xxhash.xxh3_64_intdigest(i.encode(), seed=seed) for i in ids], dtype=np.uint64)


def gumbel(keys: np.ndarray) -> np.ndarray:
    """Standard Gumbel noise from 64-bit hashes: u = (top 52 bits + ½) / 2⁵², never 0 or 1, g = −log(−log u).

    >>> bool(np.all(np.isfinite(gumbel(np.array([0, 2**64 - 1], dtype=np.uint64)))))
    True
    """
    u = ((keys >> np.uint64(12)).astype(np.float64) + 0.5) / float(1 << 52)
    return -np.log(-np.log(u))


def gumbel_order(logw: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Indices by Gumbel top-k priority (``logw`` + noise, highest first; ties by key): the first k are a
    sample without replacement with probabilities proportional to the weights."""
    return np.lexsort((keys, -(logw + gumbel(keys))))
