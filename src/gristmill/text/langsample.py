"""What the language model reads: a fixed budget of characters taken from several places in a text.

A text no longer than ``budget`` is read whole. A longer one gives its first ``budget`` characters when
``windows`` is 1 (the earlier rule), else ``windows`` pieces of ``budget // windows``
characters, evenly spaced from its start to its end, each cut at spaces so that no word is broken; newlines
become spaces (the model reads one line). The cost is then the same for a 2 KB and a 2 MB document, and a page
whose first paragraph is in another language is still named by what most of it is.

The C extension ``gristmill.text._tokhash`` gives the same samples in one pass (:func:`sample_texts` takes a
whole batch); :func:`sample_text_py` is the definition, used when the extension is not built or
``GRISTMILL_PURE_PYTHON=1`` (``tests/test_langsample.py`` checks that both agree).

>>> sample_text("one two three", 100)
'one two three'
>>> text = " ".join(f"w{i}" for i in range(1000))
>>> s = sample_text(text, 60, 3)
>>> s.split()[:3], s.split()[-1], len(s) <= 60
(['w0', 'w1', 'w2'], 'w999', True)
"""

from __future__ import annotations

from gristmill.text import token_lists

_SLACK = 24  # how far a cut looks for a space before giving up and cutting inside a word


def flat(text: str) -> str:
    """``text`` as one line: newlines and carriage returns become spaces."""
    return text.replace("\n", " ").replace("\r", " ")


def _cut(text: str, start: int, end: int) -> str:
    """``text[start:end]`` moved inwards to a space or newline at both ends (when one is near)."""
    if start:
        hits = [i for i in (text.find(" ", start - 1, start + _SLACK), text.find("\n", start - 1, start + _SLACK))
                if i >= 0]
        if hits and min(hits) < end:
            start = min(hits) + 1
    if end < len(text) and text[end] not in " \n":
        cut = max(text.rfind(" ", end - _SLACK, end), text.rfind("\n", end - _SLACK, end))
        if cut > start:
            end = cut
    return text[start:end]


def sample_text(text: str, budget: int, windows: int = 3) -> str:
    """At most ``budget`` characters of ``text`` for the model, from ``windows`` evenly spaced places, as one
    line (see the module docstring): :func:`sample_text_py`, in C when the extension is built."""
    if token_lists.AVAILABLE and _c_args(budget, windows):
        return token_lists._tokhash.sample_text(text, budget, windows)
    return sample_text_py(text, budget, windows)


def sample_texts(texts: list[str], budget: int, windows: int = 3) -> list[str]:
    """:func:`sample_text` of each of ``texts`` (one C call for the list when the extension is built)."""
    if token_lists.AVAILABLE and _c_args(budget, windows):
        return token_lists._tokhash.sample_texts(texts, budget, windows)
    return [sample_text_py(t, budget, windows) for t in texts]


def _c_args(budget: int, windows: int) -> bool:
    """Whether the C version takes these settings (C integers; the Python version takes any)."""
    return 1 <= budget <= _C_MAX and -_C_MAX <= windows <= _C_MAX


_C_MAX = 2**62


def sample_text_py(text: str, budget: int, windows: int = 3) -> str:
    """:func:`sample_text` in Python (the definition the C extension follows)."""
    n = len(text)
    if n <= budget:
        return flat(text)
    windows = max(1, min(windows, budget))
    width = (budget - windows + 1) // windows  # the pieces and the spaces between them fit the budget
    if windows == 1 or width < 1:  # the first ``budget`` characters (the earlier rule)
        return flat(text[:budget])
    step = (n - width) / (windows - 1)
    pieces = []
    for j in range(windows):
        s = int(j * step)
        pieces.append(_cut(text, s, s + width))
    return flat(" ".join(pieces))
