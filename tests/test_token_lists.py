"""The token-list extension (``gristmill.text._tokhash``) gives what its Python definitions give: joined jieba
words and masked numbers (fastText's text preparation) and DSIR's feature ids, on real English and Chinese
documents of the shared data, on every Unicode code point, on seeded random strings, and the features on
mixed batches against the numpy path and a plain-Python reference."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from gristmill.select.dsir import Featurizer, lang_key
from gristmill.text import native, token_lists
from gristmill.text.token_lists import join_words_py, mask_numbers_py
from tests.conftest import ROOT, SHARED, read_texts

sys.path.insert(0, str(ROOT / "bench"))
from dsir_speed import _token_hash, _uni_bi  # noqa: E402  (the plain-Python DSIR definition the bench times)
from dsir_speed import reference_features as reference  # noqa: E402

pytestmark = pytest.mark.skipif(not token_lists.AVAILABLE, reason="needs the token-list extension")
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
C = token_lists._tokhash

ALPHABET = list("aZ09 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u202f\u205f\u3000\ufeff") + \
    ["中", "国", "。", "，", "١", "٣", "０", "９", "²", "½", "Ⅻ", "İ", "Σ", "ß", "\U0001F600", "\ud800", "\udfff",
     "\U00020000", "\u200b", "x1", "3.5", "<num>"]


def _random_tokens(rng: random.Random) -> list[str]:
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 12))]


# -- join_words and mask_numbers -----------------------------------------------------------------------------

def test_whitespace_and_digits_are_pythons_on_every_code_point():
    cps = [chr(c) for c in range(0x110000)]
    assert C.join_words(cps) == join_words_py(cps)
    assert C.join_words([c * 2 for c in cps]) == join_words_py([c * 2 for c in cps])
    spaced = " ".join(cps)                          # each code point a word of its own, or a separator
    assert C.mask_numbers(spaced) == mask_numbers_py(spaced)
    inside = "".join(f"x{c}y {c}z " for c in cps)   # in the middle of a word and at its start
    assert C.mask_numbers(inside) == mask_numbers_py(inside)


def test_join_and_mask_examples():
    assert C.join_words([]) == "" and C.join_words(["", " ", "a"]) == " a"     # empty tokens are kept, as words() keeps them
    assert C.join_words(["北京", "\r\n", "\u3000", "欢迎", "\xa0"]) == "北京 欢迎"
    assert C.mask_numbers("") == "" and C.mask_numbers("  \n ") == ""
    assert C.mask_numbers(" 共 ３ 个\u3000１９９９年 ok ") == "共 <num> 个 <num> ok"
    s = "已 是 单 空格"
    assert C.mask_numbers(s) is s                      # nothing to change: the same object


def test_join_and_mask_on_random_tokens():
    rng = random.Random(5)
    for _ in range(20000):
        toks = _random_tokens(rng)
        joined = C.join_words(toks)
        assert joined == join_words_py(toks), toks
        assert C.mask_numbers(joined) == mask_numbers_py(joined), joined
        raw = "".join(toks)
        assert C.mask_numbers(raw) == mask_numbers_py(raw), raw


@needs_data
def test_fasttext_preparation_matches_python_on_real_text(monkeypatch):
    from gristmill.classify.fasttext_model import prepare, prepare_num

    docs = read_texts("text_zh/*.jsonl*", 300) + read_texts("text_en/*.jsonl*", 100)
    fast = [(prepare(r["text"]), prepare_num(r["text"])) for r in docs]
    monkeypatch.setattr(token_lists, "AVAILABLE", False)
    slow = [(prepare(r["text"]), prepare_num(r["text"])) for r in docs]
    assert fast == slow
    assert any("<num>" in b for _, b in fast) and any("北京" in a for a, _ in fast)


def test_bad_arguments():
    with pytest.raises(TypeError):
        C.join_words(["a", 1])
    with pytest.raises(TypeError):
        C.mask_numbers(b"12")
    with pytest.raises(TypeError):
        C.dsir_features([b"x"], None, 16, 10)
    with pytest.raises(ValueError):
        C.dsir_features(b"1234567", None, 16, 10)   # not whole uint64s
    with pytest.raises(ValueError):
        C.dsir_features(None, "x", 0, 10)


# -- DSIR features -------------------------------------------------------------------------------------------

def test_features_of_random_token_lists_are_the_reference():
    rng = random.Random(9)
    f = Featurizer(buckets=1000)
    for _ in range(3000):
        toks = _random_tokens(rng)
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        ids, n_w, n_c = C.dsir_features(toks, text, 1000, 1 << 16)
        words = [t for t in toks if t and not t.isspace()]
        chars = [ord(c) for c in text if ord(c) > 32 and c != "\u3000"]
        want = _uni_bi([_token_hash(t) for t in words], 0) + _uni_bi(chars, 0xA0761D6478BD642F)
        assert np.frombuffer(ids, np.uint32).tolist() == [h % 1000 for h in want], (toks, text)
        assert (n_w, n_c) == (len(words), len(chars))
        cut = rng.randint(0, 20)                              # max_features cuts the same list
        ids, _, _ = C.dsir_features(toks, text, 1000, cut)
        assert np.frombuffer(ids, np.uint32).tolist() == [h % 1000 for h in want][:cut]
    assert f.buckets == 1000


def test_features_from_hashes_are_the_ones_from_tokens():
    toks = ["北京", "欢迎", "你"]
    hashes = Featurizer._hashes(toks).tobytes()
    assert C.dsir_features(hashes, "北京", 4096, 99) == C.dsir_features(toks, "北京", 4096, 99)
    assert C.dsir_features(None, None, 16, 99) == (b"", 0, 0)


@needs_data
@pytest.mark.parametrize("f", [Featurizer(), Featurizer(1000), Featurizer(4096, zh_words=False),
                               Featurizer(zh_chars=False), Featurizer(max_features=300)],
                         ids=["default", "1000-buckets", "chars-only", "words-only", "max-300"])
def test_batches_match_numpy_and_reference_on_real_text(monkeypatch, f):
    docs = read_texts("text_zh/*.jsonl*", 120) + read_texts("text_en/*.jsonl*", 60)
    rng = random.Random(3)
    rng.shuffle(docs)
    texts = [r["text"] for r in docs] + ["", "   ", "\u3000\n"]
    keys = [lang_key(r.get("lang"), r["text"]) for r in docs] + ["zh", "zh", "en"]
    assert {"en", "zh"} <= set(keys)
    fast = f.batch(texts, keys)
    for core in (True, False):                        # with and without the C core's word hashes
        monkeypatch.setattr(native, "AVAILABLE", core and native.CORE is not None)
        assert all(np.array_equal(a, b) for a, b in zip(fast, f.batch(texts, keys), strict=True))
    monkeypatch.setattr(token_lists, "AVAILABLE", False)
    slow = f.batch(texts, keys)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    flat, off, _ = fast
    for i in range(0, len(texts), 7):
        assert flat[off[i]:off[i + 1]].tolist() == reference(f, texts[i], keys[i])
