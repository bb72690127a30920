"""Lists of word tokens (jieba's output, the tokenizer's) joined, masked and hashed without a Python loop per
token: by the C extension ``gristmill.text._tokhash`` when it is built, else by the Python definitions here
(the same results, ``tests/test_token_lists.py``). ``GRISTMILL_PURE_PYTHON=1`` turns the extension off, as it
does the C core.

>>> join_words(["我们", " ", "在", "北京", "\\n", "。"])
'我们 在 北京 。'
>>> mask_numbers("in 1999 it cost ４.50 dollars")
'in <num> it cost <num> dollars'
"""

from __future__ import annotations

import os

try:
    from gristmill.text import _tokhash
except ImportError:  # built without a C compiler
    _tokhash = None

AVAILABLE = _tokhash is not None and not os.environ.get("GRISTMILL_PURE_PYTHON")


def join_words_py(tokens: list[str]) -> str:
    """The tokens that are not whitespace, joined by single spaces."""
    return " ".join(w for w in tokens if not w.isspace())


def mask_numbers_py(text: str) -> str:
    """The whitespace-separated words of ``text`` joined by single spaces, ``<num>`` for every word that starts
    with a digit (any script's digits: ``str.isdigit``)."""
    return " ".join("<num>" if w[:1].isdigit() else w for w in text.split())


def join_words(tokens: list[str]) -> str:
    """:func:`join_words_py`, in C when the extension is built."""
    return _tokhash.join_words(tokens) if AVAILABLE else join_words_py(tokens)


def mask_numbers(text: str) -> str:
    """:func:`mask_numbers_py`, in C when the extension is built."""
    return _tokhash.mask_numbers(text) if AVAILABLE else mask_numbers_py(text)
