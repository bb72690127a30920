"""Chinese document rules (ChineseWebText, FineWeb-2 ``cmn``): Han share, line length, 13-character
repetition, Traditional characters, punctuation density and spam cues.

Every signal is computed on the Simplified view of the text (:func:`simplified`, OpenCC t2s; the text
itself is not changed), so a page and its Traditional version measure the same; only ``zh_trad_frac``
compares the text with its view.

>>> s = zh_signals("今天天气很好。今天天气很好。我们去公园散步吧！")
>>> s["zh_han_frac"], s["zh_rep13"] > 0, s["zh_trad_frac"]
(0.8696, False, 0.0)
>>> zh_signals("這是繁體中文的句子，裡面有很多繁體字。")["zh_trad_frac"]  # 這 體 裡 體 of 17 Han
0.2353
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import regex

from gristmill.text.scripts import HAN_RANGES

ZH_PUNCT = frozenset("，。！？；：、“”‘’（）《》【】「」『』…—～·")


@lru_cache(maxsize=1)
def spam_cues() -> tuple[regex.Pattern, tuple[str, ...]]:
    from gristmill.text.spam import cue_lexicon  # the lexicon and its matching rule live there

    return cue_lexicon()


@lru_cache(maxsize=1)
def _cues_longest_first() -> tuple[str, ...]:
    return tuple(sorted(spam_cues()[1], key=len, reverse=True))


@lru_cache(maxsize=1)
def _cues_without_han() -> tuple[str, ...]:
    return tuple(c for c in spam_cues()[1] if not regex.search(r"\p{Han}", c))


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s.json")


_HAN = regex.compile(r"\p{Han}")


def simplified(text: str) -> str:
    """The Simplified view of ``text`` (OpenCC t2s) that quality signals are computed on; ``text`` itself when
    it has no Han character.

    >>> simplified("我們說這個軟體"), simplified("plain text")
    ('我们说这个软体', 'plain text')
    """
    return _t2s().convert(text) if not text.isascii() and _HAN.search(text) else text


def _is_han(cp: np.ndarray) -> np.ndarray:
    m = np.zeros(len(cp), dtype=bool)
    for lo, hi in HAN_RANGES:
        m |= (cp >= lo) & (cp <= hi)
    return m


def repeated_span_frac(cp: np.ndarray, n: int = 13) -> float:
    """Share of characters covered by a character n-gram that occurs more than once in the document."""
    m = len(cp) - n + 1
    if m <= 1:
        return 0.0
    h = np.zeros(m, dtype=np.uint64)
    c = cp.astype(np.uint64)
    for j in range(n):
        h = (h * np.uint64(0x100000001B3)) ^ (c[j:j + m] * np.uint64(0x9E3779B97F4A7C15))
    _, inv, counts = np.unique(h, return_inverse=True, return_counts=True)
    rep = counts[inv] > 1
    if not rep.any():
        return 0.0
    covered = np.zeros(len(cp) + 1, dtype=np.int32)
    starts = np.nonzero(rep)[0]
    np.add.at(covered, starts, 1)
    np.add.at(covered, starts + n, -1)
    return float(np.count_nonzero(np.cumsum(covered)[: len(cp)]) / len(cp))


def trad_fraction(text: str, view: str, han: int, changed=None) -> float:
    """Share of the ``han`` Han characters of ``text`` that its Simplified ``view`` changes (Traditional
    forms). ``changed(a, b)``, when given, counts the Han characters of ``a`` that ``b`` changes (the C
    core's)."""
    if not han:
        return 0.0
    if len(view) == len(text):
        if changed is not None:
            return changed(text, view) / han
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        s_cp = np.frombuffer(view.encode("utf-32-le", "surrogatepass"), np.uint32)
        return float(np.count_nonzero((s_cp != cp) & _is_han(cp)) / han)
    # phrase conversion changed the length: compare character sets instead
    chars = set(view)
    return float(sum(1 for a in "".join(text.split()) if a not in chars) / han)


def spam_cue_count(text: str, han: int | None = None, count=None) -> int:
    """Distinct spam cue words (gambling, adult, black-hat SEO) in ``text``, case-insensitive. With ``han``
    (the text's Han characters) 0, only the cues without Han characters are looked for. ``count(text,
    cues, lower, not_after)``, when given, finds them instead of the regular expression (the C core's
    ``count_cues``; None when it cannot)."""
    if count is not None:
        from gristmill.text.spam import cue_not_after

        found = count(text, _cues_longest_first(), True, cue_not_after())
        if found is not None:
            return len(found)
    pattern, cues = spam_cues()
    lower = text.lower()
    if han == 0 or lower.isascii():
        return len(set(pattern.findall(lower))) if any(c in lower for c in _cues_without_han()) else 0
    return len(set(pattern.findall(lower)))


ZERO = {"zh_han_frac": 0.0, "zh_avg_line_len": 0.0, "zh_rep13": 0.0, "zh_trad_frac": 0.0,
        "zh_punct_density": 0.0, "zh_spam_cues": 0}


def zh_signals(text: str, lines: list[str] | None = None, view: str | None = None) -> dict[str, float]:
    """Chinese signals of one document (they are computed for every document; presets apply them to zh), on
    its Simplified ``view`` (:func:`simplified` of ``text`` when not given; ``lines`` are the view's)."""
    view = simplified(text) if view is None else view
    nonspace = "".join(view.split())
    if not nonspace:
        return dict(ZERO)
    cp = np.frombuffer(nonspace.encode("utf-32-le", "surrogatepass"), np.uint32)
    han = int(_is_han(cp).sum())
    lines = lines if lines is not None else [ln for ln in view.splitlines() if ln.strip()]
    return {
        "zh_han_frac": round(han / len(cp), 4),
        "zh_avg_line_len": round(sum(len(ln.strip()) for ln in lines) / max(len(lines), 1), 2),
        "zh_rep13": round(repeated_span_frac(cp, 13), 4) if han else 0.0,
        "zh_trad_frac": round(trad_fraction(text, view, han), 4),
        "zh_punct_density": round(sum(1 for ch in nonspace if ch in ZH_PUNCT) / len(cp), 4) if han else 0.0,
        "zh_spam_cues": spam_cue_count(view),
    }
