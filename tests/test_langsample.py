"""The language model's sample (``gristmill.text.langsample``): the C extension's ``sample_text`` and
``sample_texts`` give what the Python definition gives, on real English and Chinese documents of the shared data
and on seeded random strings made to hit the edges (words longer than the cut's reach, no spaces, newlines and
carriage returns at cut points, texts of the budget plus or minus one, surrogates and astral characters)."""

from __future__ import annotations

import random

import pytest

from gristmill.text import langsample, token_lists
from gristmill.text.langsample import sample_text, sample_text_py, sample_texts
from tests.conftest import SHARED, read_texts

needs_c = pytest.mark.skipif(not token_lists.AVAILABLE, reason="needs the token-list extension")
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
C = token_lists._tokhash

SETTINGS = [(500, 5), (500, 1), (500, 3), (100, 7), (60, 3), (25, 2), (10, 2), (7, 64), (3, 3), (1, 5), (2000, 64)]
PIECES = ["a", "bc", "word", "x" * 30, "长词" * 20, " ", "  ", "\n", "\r", "\r\n", " \n ", "\t", "\u3000", "\xa0",
          "\x85", "\u2028", "é", "中", "文", "。", "\U0001F600", "\U00020000", "\ud800", "\udfff", "ÿ"]


def _random_text(rng: random.Random, budget: int) -> str:
    n = rng.choice([budget - 1, budget, budget + 1, rng.randint(0, 4 * budget + 60)])
    out, size = [], 0
    while size < n:
        piece = rng.choice(PIECES)
        out.append(piece)
        size += len(piece)
    return "".join(out)[:max(n, 0)]


def test_examples():
    assert sample_text("", 5) == "" and sample_text("a\r\nb", 5) == "a  b"
    assert sample_text("abcdefgh", 4, 1) == "abcd" and sample_text("ab\ncdefgh", 4, 1) == "ab c"
    text = " ".join(f"w{i}" for i in range(1000))
    s = sample_text(text, 60, 3)
    assert s == sample_text_py(text, 60, 3) and s.split()[0] == "w0" and s.split()[-1] == "w999"


@needs_c
def test_same_samples_on_random_text():
    rng = random.Random(11)
    for _ in range(30000):
        budget, windows = rng.choice(SETTINGS)
        text = _random_text(rng, budget)
        assert C.sample_text(text, budget, windows) == sample_text_py(text, budget, windows), (text, budget, windows)


def _near_cuts(n: int, budget: int, windows: int) -> set[int]:
    """The places a cut looks at in a text of ``n`` characters: around each piece's start and end."""
    windows = max(1, min(windows, budget))
    width = (budget - windows + 1) // windows
    if windows == 1 or width < 1:
        return {budget - 1, budget, budget + 1}
    step = (n - width) / (windows - 1)
    starts = [int(j * step) for j in range(windows)]
    reach = langsample._SLACK + 2
    return {i for s in starts for i in range(s - reach, s + width + reach) if 0 <= i < n}


@needs_c
def test_cuts_at_every_place():
    """A line break, a space or a wide character at each place near a cut, in long words (no space within
    the cut's reach otherwise)."""
    for budget, windows in [(60, 3), (25, 2), (500, 5), (10, 2)]:
        for n in [budget - 1, budget, budget + 1, budget + 7, 2 * budget, 3 * budget + 1]:
            for mark in (" ", "\n", "\r", "中", "\U0001F600"):
                for at in _near_cuts(n, budget, windows):
                    text = "x" * at + mark + "y" * (n - at - 1)
                    assert C.sample_text(text, budget, windows) == sample_text_py(text, budget, windows), (n, at)
                    text = ("ab " * n)[:at] + mark + "\n" * (n - at - 1)
                    assert C.sample_text(text, budget, windows) == sample_text_py(text, budget, windows), (n, at)


@needs_c
def test_results_are_canonical_strings():
    """A sample of wide text whose pieces are narrow is a narrow str (equal to, and hashed as, Python's)."""
    text = "中" * 300 + " " + "plain ascii words " * 40 + "é" * 10 + "\U0001F600"
    for budget, windows in [(100, 2), (600, 3), (10_000, 3)]:
        a, b = C.sample_text(text, budget, windows), sample_text_py(text, budget, windows)
        assert a == b and hash(a) == hash(b) and a.isascii() == b.isascii()
    short = "one line, no breaks"
    assert C.sample_text(short, 100) is short  # as str.replace gives it back: no copy


@needs_c
@needs_data
def test_same_samples_on_real_text():
    docs = [r["text"] for r in read_texts("text_en/*.jsonl*", 300) + read_texts("text_zh/*.jsonl*", 300)]
    assert len(docs) > 1000
    for budget, windows in [(500, 5), (500, 1), (200, 3), (2000, 64)]:
        assert C.sample_texts(docs, budget, windows) == [sample_text_py(t, budget, windows) for t in docs]


def test_pure_python_switch(monkeypatch):
    text = "first line\nsecond line " * 100
    fast = sample_texts([text, "short"], 80, 3)
    monkeypatch.setattr(token_lists, "AVAILABLE", False)
    assert sample_texts([text, "short"], 80, 3) == fast == [sample_text_py(text, 80, 3), "short"]
    assert langsample.sample_text(text, 80, 3) == fast[0]


@needs_c
def test_bad_arguments():
    with pytest.raises(TypeError):
        C.sample_text(b"bytes", 10)
    with pytest.raises(TypeError):
        C.sample_texts(["a", 1], 10)
    with pytest.raises(ValueError):
        C.sample_text("abc", 0)
    assert sample_text("abc", 0) == sample_text_py("abc", 0)  # the Python rule for a budget below 1


def test_settings_beyond_c_integers_take_the_python_rule():
    text = "one two three four five six seven eight nine ten " * 50
    huge = 10**30
    assert sample_text(text, huge, 3) == sample_text_py(text, huge, 3) == text  # shorter than the budget: whole
    assert sample_text(text, 40, huge) == sample_text_py(text, 40, huge)
    assert sample_texts([text, "短"], huge) == [sample_text_py(text, huge), "短"]
