"""The C core's shortcuts give the definitions' results: n-gram repetition counted only where an n-gram can
repeat, spam cues tried only at word starts, C4's phrases in one scan, and exact dedup's whitespace key in one
pass. Texts are built to hit them: few distinct words (long repeats), short texts, cues inside and at the start
of words, capitals, citations and phrases."""

from __future__ import annotations

import random

import pytest

from gristmill.dedup.exact import _key_bytes, normalise_key
from gristmill.text import native
from gristmill.text.chinese import spam_cue_count
from gristmill.text.core import CORE
from tests.test_quality_native import _assert_same

pytestmark = pytest.mark.skipif(CORE is None, reason="the C core is not built")

VOCAB = ["the", "cat", "sat", "on", "a", "mat", "The", "is", "of", "Bet365", "bet365x", "xbet365", "casino", "yabo",
         "lorem ipsum", "Javascript", "cookie policy", "Terms of Use", "x", "1", "...", "-", "•", "[1]", "[edit]",
         "don't", "dont", "cannot", "20km", "U.S.", "foo_bar()", "x = 1;", "|", "中文", "博彩", "赌场", "我们", "。"]
SEPS = [" ", " ", " ", "\n", "\n\n", "  ", "\t"]


def _texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.choice([1, 2, 3, 5, 40])  # a small vocabulary: long repeated n-grams
        words = [rng.choice(VOCAB[:k]) if rng.random() < 0.8 else rng.choice(VOCAB) for _ in range(rng.randrange(60))]
        text = "".join(w + rng.choice(SEPS) for w in words)
        out.append(text.upper() if rng.random() < 0.2 else text)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_signals_equal_the_reference_on_repetitive_and_short_texts(lang):
    for i, text in enumerate(_texts(1 if lang == "en" else 2, 400)):
        _assert_same(text, lang, f"{lang}:{i}")


def test_spam_cues_equal_the_regular_expression():
    native._setup()
    for text in _texts(3, 600) + ["Bet365 and xbet365, 2bet365 bet365", "BWIN bwin-bwin_bwin"]:
        assert spam_cue_count(text, 1, CORE.count_cues) == spam_cue_count(text, 1), text


def test_whitespace_key_in_one_pass():
    rng = random.Random(4)
    chars = [" ", "\t", "\n", "\x1f", "\x85", "\xa0", "\u2000", "\u3000", "\u200b", "a", "é", "中", "\U0001F600",
             "\ud800"]
    texts = ["  Hello,   World! 2024 ", "", "   "] + ["".join(rng.choice(chars) for _ in range(rng.randrange(12)))
                                                      for _ in range(3000)]
    fast = _key_bytes(["whitespace"])
    for t in texts:
        assert fast(t) == normalise_key(t, ["whitespace"]).encode("utf-8", "surrogatepass"), repr(t)
