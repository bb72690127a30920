"""Hashed bag-of-features for short-text classifiers, per language, as ids below ``2**BITS``.

English and other space-delimited text: lower-cased words, word bigrams and the character 3- to 5-grams of
each word (so ``id10t`` and ``idiot`` share pieces). Chinese: jieba words, word bigrams and the character
1- to 3-grams of every Han run (segmentation errors cost little). Before that, social-media noise is
normalised the same way for training and scoring: HTML entities decoded, URLs and @mentions replaced by one
token each, emoji skin-tone modifiers dropped. Only the first ``max_chars`` characters are read.

>>> ids = features("You people are vermin @bob http://t.co/x", "en")
>>> ids.dtype, len(ids) > 20, bool((features("YOU people are vermin", "en") == features("you people are vermin", "en")).all())
(dtype('uint32'), True, True)
>>> len(features("你们这些人", "zh")) > len(features("你们这些人", "en"))
True
"""

from __future__ import annotations

import html

import numpy as np
import regex
import xxhash

from gristmill.text.words import words

MAX_CHARS = 2000   # a tweet or comment is far shorter; long documents are read from the start
BITS = 22          # feature ids are < 2**BITS (a model looks them up in a table of that size)
_MASK = (1 << BITS) - 1
_URL = regex.compile(r"(?:https?://|www\.)\S+")
_MENTION = regex.compile(r"(?<!\w)@\w+")
_SKIN = regex.compile(r"[\U0001F3FB-\U0001F3FF]")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_EOS = xxhash.xxh64_intdigest(b"</s>") & _MASK  # in every document: with mean pooling, it tells length


def normalise(text: str, max_chars: int = MAX_CHARS) -> str:
    text = html.unescape(text[: max_chars + 200])[:max_chars]
    return _SKIN.sub("", _MENTION.sub(" @user ", _URL.sub(" http ", text)))


def _h(s: str) -> int:
    return xxhash.xxh64_intdigest(s.encode("utf-8", "surrogatepass"))


CACHE_WORDS = 1 << 17   # words whose ids are kept (per language kind); the cache is emptied when full
_CACHES: dict[bool, dict[str, tuple[int, np.ndarray]]] = {True: {}, False: {}}


def _word(w: str, chars: bool) -> tuple[int, np.ndarray]:
    """(hash of the word, ids of the word and of its character n-grams), cached."""
    cache = _CACHES[chars]
    if len(cache) >= CACHE_WORDS:
        cache.clear()
    hw = _h("w" + w)
    ids = [hw]
    if chars and len(w) > 2 and w.isalpha():
        s = f"<{w}>"
        ids += [_h("c" + s[i:i + n]) for n in (3, 4, 5) for i in range(len(s) - n + 1)]
    cache[w] = v = (hw, np.array([i & _MASK for i in ids], np.uint32))
    return v


def _mix(a: np.ndarray) -> np.ndarray:
    a = a * _MIX
    return (a ^ (a >> np.uint64(29))) >> np.uint64(64 - BITS)


def _han_ngrams(text: str) -> list[np.ndarray]:
    """Ids of the character 1-, 2- and 3-grams inside Han runs, vectorised over the whole text."""
    c = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    han = ((c >= 0x4E00) & (c <= 0x9FFF)) | ((c >= 0x3400) & (c <= 0x4DBF)) | ((c >= 0xF900) & (c <= 0xFAFF)) | (
        (c >= 0x20000) & (c <= 0x2FFFF))
    if not han.any():
        return []
    c = c.astype(np.uint64)
    out, key, ok = [], np.zeros(len(c), np.uint64), np.ones(len(c), bool)
    for n in (1, 2, 3):
        if len(c) < n:
            break
        m = len(c) - n + 1
        key = key[:m] * np.uint64(1_000_003) + c[n - 1:n - 1 + m]
        ok = ok[:m] & han[n - 1:n - 1 + m]
        out.append(_mix(key[ok] + np.uint64(n) + np.uint64(0x5A5A)))
    return out


def features(text: str, lang: str, max_chars: int = MAX_CHARS) -> np.ndarray:
    """The document's feature ids (uint32, with repeats: a bag)."""
    text = normalise(text, max_chars)
    zh = lang == "zh"
    toks = words(text.lower(), "zh" if zh else "en")
    if not toks:
        return np.array([_EOS], np.uint32)
    chars = not zh
    get = _CACHES[chars].get
    pairs = [get(w) or _word(w, chars) for w in toks]
    parts = [v[1] for v in pairs]
    parts.append(np.array([_EOS], np.uint32))
    if len(pairs) > 1:
        hw = np.array([v[0] for v in pairs], np.uint64)
        parts.append(_mix(hw[:-1] * np.uint64(31) + hw[1:] + np.uint64(0xB16)).astype(np.uint32))
    if zh:
        parts += [a.astype(np.uint32) for a in _han_ngrams(text)]
    return np.concatenate(parts)
