"""Script shares of a text: Han, kana, Hangul, letters. Used by language ID and the Chinese rules.

>>> round(han_fraction("使用 apt-get 安装软件包"), 2)
0.5
"""

from __future__ import annotations

import regex

HAN = regex.compile(r"\p{Han}")
KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
HANGUL = regex.compile(r"\p{Hangul}")
LETTER = regex.compile(r"\p{L}")


def han_fraction(text: str) -> float:
    """Share of Han characters among all letters (Han counts as a letter); 0.0 for text without letters."""
    if text.isascii():
        return 0.0
    letters = len(LETTER.findall(text))
    return len(HAN.findall(text)) / letters if letters else 0.0


def script_counts(text: str) -> tuple[int, int, int, int]:
    """(letters, han, kana, hangul) character counts."""
    if text.isascii():
        return sum(c.isalpha() for c in text), 0, 0, 0
    return (len(LETTER.findall(text)), len(HAN.findall(text)), len(KANA.findall(text)),
            len(HANGUL.findall(text)))
