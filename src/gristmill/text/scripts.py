"""Script shares of a text: Han, kana, Hangul and letters, counted with numpy over code points.

>>> script_counts("使用 apt-get 安装软件包")
(13, 7, 0, 0)
>>> round(han_fraction("使用 apt-get 安装软件包"), 2)
0.54
"""

from __future__ import annotations

import numpy as np

from gristmill.text.native import CORE

_c_script_counts = CORE.script_counts if CORE else None  # the C core's, when built and not turned off

# which BMP code points are letters (str.isalpha: Unicode categories L*), built once (64 KB)
_ALPHA_BMP = np.array([chr(i).isalpha() for i in range(0x10000)], dtype=bool)
_ASCII_ALPHA = _ALPHA_BMP[:128].copy()

HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF),
              (0x2F800, 0x2FA1F), (0x30000, 0x3134F), (0x3007, 0x3007))
KANA_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


def _count(cp: np.ndarray, ranges) -> int:
    return int(sum(np.count_nonzero((cp >= lo) & (cp <= hi)) for lo, hi in ranges))


def script_counts(text: str) -> tuple[int, int, int, int]:
    """(letters, han, kana, hangul) character counts; Han and kana count as letters."""
    if _c_script_counts is not None:
        return _c_script_counts(text)
    return script_counts_py(text)


def script_counts_py(text: str) -> tuple[int, int, int, int]:
    """:func:`script_counts` in Python and numpy (the reference of the C core's)."""
    if text.isascii():
        return int(np.count_nonzero(_ASCII_ALPHA[np.frombuffer(text.encode("ascii"), np.uint8)])), 0, 0, 0
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    bmp = cp[cp < 0x10000]
    han = _count(cp, HAN_RANGES)
    letters = int(np.count_nonzero(_ALPHA_BMP[bmp])) + (len(cp) - len(bmp) and _count(cp[cp >= 0x10000], HAN_RANGES))
    if letters == 0:
        return 0, 0, 0, 0
    return letters, han, _count(bmp, KANA_RANGES), _count(bmp, HANGUL_RANGES)


def han_fraction(text: str) -> float:
    """Share of Han characters among all letters; 0.0 for text without letters."""
    letters, han, _, _ = script_counts(text)
    return han / letters if letters else 0.0


_ASCII_DIGIT = np.zeros(128, dtype=bool)
_ASCII_DIGIT[48:58] = True
_ASCII_SPACE = np.zeros(128, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_SPACE_BMP = np.array([chr(i).isspace() for i in range(0x10000)], dtype=bool)
_DIGIT_BMP = np.array([chr(i).isdigit() for i in range(0x10000)], dtype=bool)


def char_counts(text: str) -> tuple[int, int, int]:
    """(letters, digits, whitespace) characters, as str.isalpha / isdigit / isspace count them.

    >>> char_counts("abc 123，好")
    (4, 3, 1)
    """
    if text.isascii():
        b = np.frombuffer(text.encode("ascii"), np.uint8)
        return (int(np.count_nonzero(_ASCII_ALPHA[b])), int(np.count_nonzero(_ASCII_DIGIT[b])),
                int(np.count_nonzero(_ASCII_SPACE[b])))
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    bmp = cp[cp < 0x10000]
    letters = int(np.count_nonzero(_ALPHA_BMP[bmp])) + (len(cp) - len(bmp) and _count(cp[cp >= 0x10000], HAN_RANGES))
    return letters, int(np.count_nonzero(_DIGIT_BMP[bmp])), int(np.count_nonzero(_SPACE_BMP[bmp]))
