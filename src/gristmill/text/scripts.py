"""Script shares of a text: Han, kana, Hangul and letters, counted with numpy over code points.

>>> script_counts("使用 apt-get 安装软件包")
(13, 7, 0, 0)
>>> round(han_fraction("使用 apt-get 安装软件包"), 2)
0.54
"""

from __future__ import annotations

from functools import cache

import numpy as np

from gristmill.text.core import CORE

_c_script_counts = CORE.script_counts if CORE else None  # the C core's, when built and not turned off
_c_line_parts = getattr(CORE, "line_parts", None)

_ASCII_ALPHA = np.array([chr(i).isalpha() for i in range(128)], dtype=bool)


@cache
def _bmp(test: str) -> np.ndarray:
    """Which BMP code points ``str.<test>`` is true of (``isalpha``: Unicode categories L*; ``isspace``,
    ``isdigit``), 64 KB, built at first use (the C core's paths need none)."""
    method = getattr(str, test)
    return np.array([method(chr(i)) for i in range(0x10000)], dtype=bool)


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
    letters = int(np.count_nonzero(_bmp("isalpha")[bmp])) + (len(cp) - len(bmp) and _count(cp[cp >= 0x10000], HAN_RANGES))
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
    letters = int(np.count_nonzero(_bmp("isalpha")[bmp])) + (len(cp) - len(bmp) and _count(cp[cp >= 0x10000], HAN_RANGES))
    return letters, int(np.count_nonzero(_bmp("isdigit")[bmp])), int(np.count_nonzero(_bmp("isspace")[bmp]))


# characters a word may hold besides letters (a token with any other character, or starting with "-", is an
# option, URL, path, identifier or number: its letters are not language)
WORD_PUNCT = frozenset(",.;:!?'\"()[]-\u2018\u2019\u201c\u201d")


@cache
def _wordlike() -> np.ndarray:
    """BMP characters a word may hold: letters and WORD_PUNCT (built at first use)."""
    table = _bmp("isalpha").copy()
    table[[ord(c) for c in WORD_PUNCT]] = True
    return table


def line_parts(text: str, zh_min_han: float) -> tuple[int, int, int, int, int, bytes]:
    """The CJK and the other lines of ``text.split("\\n")``, for language shares.

    Counted letters are CJK letters (Han, kana, Hangul) and the letters of word-like tokens (letters and
    ``WORD_PUNCT`` only, not starting with "-": not options, URLs, paths, identifiers). A line is CJK when its
    CJK letters are at least ``zh_min_han`` of its counted letters. A letter weighs its UTF-8 bytes (Han 3,
    Latin 1: about what each carries; CLD2 also shares by bytes). Returns (weight of the CJK lines, weight of
    the other lines, Han, kana and Hangul letters of the CJK lines, one byte per line: 0 no counted letter,
    1 CJK, 2 other).

    >>> line_parts("安装软件包\\n-a, --all  https://x.org\\nShow all.\\n2024", 0.3)
    (15, 7, 5, 0, 0, b'\\x01\\x00\\x02\\x00')
    """
    if _c_line_parts is not None:
        return _c_line_parts(text, zh_min_han)
    return line_parts_py(text, zh_min_han)


def line_parts_py(text: str, zh_min_han: float) -> tuple[int, int, int, int, int, bytes]:
    """:func:`line_parts` in Python and numpy (the reference of the C core's)."""
    n_lines = text.count("\n") + 1
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    if not len(cp):
        return 0, 0, 0, 0, 0, bytes(n_lines)
    bmp = cp < 0x10000
    safe = np.where(bmp, cp, 0)
    space = _bmp("isspace")[safe] & bmp
    han = _in(cp, HAN_RANGES)
    letter = np.where(bmp, _bmp("isalpha")[safe], han)
    kana = letter & _in(cp, KANA_RANGES)
    hangul = letter & _in(cp, HANGUL_RANGES)
    han &= letter
    cjk = han | kana | hangul
    # tokens: runs of non-space characters (a newline is a space, so no token spans two lines)
    start = ~space & np.concatenate(([True], space[:-1]))
    tok = np.cumsum(start) - 1
    bad = ~space & ~np.where(bmp, _wordlike()[safe], han)
    tok_bad = np.bincount(tok[bad], minlength=max(int(tok[-1]) + 1, 1)) > 0
    tok_bad[tok[start & (cp == 0x2D)]] = True  # "-x", "--all"
    counted = cjk | (letter & ~cjk & ~space & ~tok_bad[np.maximum(tok, 0)])
    width = np.where(cp < 0x80, 1, np.where(cp < 0x800, 2, np.where(bmp, 3, 4)))
    line = np.cumsum(cp == 10) - (cp == 10)

    def per_line(mask, weights=None) -> np.ndarray:
        return np.bincount(line[mask], weights=None if weights is None else weights[mask], minlength=n_lines)

    n_cjk, n_counted = per_line(cjk), per_line(counted)
    weight = per_line(counted, width)
    is_cjk = (n_cjk > 0) & (n_cjk >= zh_min_han * n_counted)
    kinds = np.where(is_cjk, 1, np.where(n_counted > 0, 2, 0)).astype(np.uint8)
    cjk_line = is_cjk[line]
    return (int(weight[is_cjk].sum()), int(weight[kinds == 2].sum()), int(np.count_nonzero(han & cjk_line)),
            int(np.count_nonzero(kana & cjk_line)), int(np.count_nonzero(hangul & cjk_line)), kinds.tobytes())


def _in(cp: np.ndarray, ranges) -> np.ndarray:
    m = np.zeros(len(cp), dtype=bool)
    for lo, hi in ranges:
        m |= (cp >= lo) & (cp <= hi)
    return m
