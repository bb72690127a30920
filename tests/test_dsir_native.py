"""DSIR's word hashes from the C core (``dsir_token_hashes``: hashed as the tokenizer runs, no str per word)
are the ones the Python tokenizer and numpy hashing give: on every document of the shared English and other
non-Chinese data, on seeded random texts over the characters the tokenizer rules look at, and on whole
batches mixing English and Chinese (features identical with the core and in pure Python, with and without the
token-list extension)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gristmill.select.dsir import Featurizer, lang_key
from gristmill.text import native, token_lists
from tests.conftest import SHARED, read_texts

pytestmark = [pytest.mark.skipif(not native.AVAILABLE, reason="needs the C core"),
              pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")]


def _python_hashes(f: Featurizer, text: str, key: str) -> list[int]:
    return f._hashes(f.tokens(text, key)).tolist()


def test_word_hashes_are_the_python_ones_on_real_and_random_text():
    native._setup()
    f = Featurizer()
    docs = read_texts("text_en/*.jsonl*")
    assert len(docs) > 400
    for r in docs:
        text = r["text"].lower()
        got = np.frombuffer(native._qsignals.dsir_token_hashes(text), np.uint64).tolist()
        assert got == _python_hashes(f, r["text"], "en"), r.get("id")
    rng = random.Random(11)
    alphabet = list("aAzZ09_-–—~.,;:!?'’\"“”()[]{}<>@/#$%&*+=^|°…ntsNT8Dw  \n\t") + \
        ["é", "É", "ß", "Σ", "中", "½", "²", "https://", "www.", "a@b.org", "n't", "...", "\U0001F600"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))).lower()
        got = np.frombuffer(native._qsignals.dsir_token_hashes(text), np.uint64).tolist()
        assert got == _python_hashes(f, text, "en"), repr(text)


def test_batch_features_match_pure_python_on_mixed_batches(monkeypatch):
    docs = read_texts("text_en/*.jsonl*", 150) + read_texts("text_zh/*.jsonl*", 150)
    rng = random.Random(3)
    rng.shuffle(docs)
    texts = [r["text"] for r in docs]
    keys = [lang_key(r.get("lang"), r["text"]) for r in docs]
    assert {"en", "zh"} <= set(keys)
    for f in (Featurizer(), Featurizer(4096, zh_words=False), Featurizer(max_features=300)):
        fast = f.batch(texts, keys)
        for lists in (True, False):  # with the token-list extension, and numpy's hashing over the batch
            monkeypatch.setattr(token_lists, "AVAILABLE", lists and token_lists._tokhash is not None)
            monkeypatch.setattr(native, "AVAILABLE", False)
            slow = f.batch(texts, keys)
            monkeypatch.setattr(native, "AVAILABLE", True)
            for a, b in zip(fast, slow, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b)
