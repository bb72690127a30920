"""Language-aware words: jieba words (Rust-backed rjieba) for Chinese, a fast spaCy-like tokenizer elsewhere.

The non-Chinese tokenizer follows the behaviour of spaCy's blank English tokenizer (what datatrove's Gopher,
C4 and FineWeb filters count) closely enough for the same decisions, at regex speed: URLs, e-mails and
numbers with separators stay whole, contractions split (``do`` ``n't``), hyphens between letters and other
punctuation become tokens of their own, ``...`` and ``--`` are one token.

>>> words("Don't stop -- it's 3.14 at https://x.org/a?b=1. well-known (foo) /usr/share", "en")
['Do', "n't", 'stop', '--', 'it', "'s", '3.14', 'at', 'https://x.org/a?b=1', '.', 'well', '-', 'known', '(', 'foo', ')', '/usr', '/', 'share']
>>> words("我来到北京清华大学，研究 apt-get 命令。", "zh")
['我', '来到', '北京', '清华大学', '，', '研究', 'apt-get', '命令', '。']
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import regex

_PRE = frozenset("([{<\"'`«“‘„‚#$£€¥§%&*=^|¿¡")           # split off the front of a whitespace chunk
_SUF = frozenset(")]}>\"'`»”’.,;:!?%…*([{。，、；：！？")      # split off its end
_WHOLE = regex.compile(r"(?:https?://|ftp://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:\p{L}\.){2,}|-+",
                       regex.V0)
_URL_TAIL = frozenset(".,;:!?)]'\"")
_INFIX = regex.compile(r"((?<=[\p{L}\d])(?:-+|–|—|~)(?=\p{L})|(?<=\p{L}),(?=\p{L})|°|(?<=[\p{L}\d])[:<>=/](?=\p{L})|(?<=\d)[-+*^](?=[\d-])"
                       r"|\.\.+|…|(?<=[\p{Ll}])\.(?=[\p{Lu}]))")
_SPECIAL = frozenset(["and/or", "w/o"])
UNITS = ["km", "m", "cm", "mm", "kg", "g", "mg", "lb", "lbs", "oz", "ft", "yd", "mph", "kmh", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "T", "G", "M", "K", "ha", "nm", "hPa", "Pa", "mbar", "am", "pm"]  # split off a number: 20km -> 20 km
_UNIT = regex.compile(r"(?<=\d)(?:" + "|".join(UNITS) + ")$")
ABBREVIATIONS = frozenset(["Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp", "vs", "Mt", "Gen", "Rep", "Sen", "Gov", "Ave", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Fig", "Vol", "approx", "dept", "est"])  # keep their "."
_ABBREV = regex.compile(r"(?:\p{L}\.)+|(?:" + "|".join(sorted(ABBREVIATIONS)) + r")\.")
_EMOTICONS = frozenset([":)", ":(", ";)", "8)", "):", "(:", ":-)", ":-(", ":D", ":P", ":p", "=)", "<3", ":/", ";-)"])
_NT = frozenset(["dont", "cant", "wont", "isnt", "arent", "didnt", "doesnt", "couldnt", "shouldnt", "wouldnt",
                 "havent", "hasnt", "wasnt", "werent", "aint", "hadnt", "mustnt", "neednt"])
_HAS_HAN = regex.compile(r"\p{Han}")
_CONTRACTIONS = ("'s", "'re", "'ve", "'ll", "'d", "'m", "’s", "’re", "’ve", "’ll", "’d", "’m")


@lru_cache(maxsize=1 << 12)
def _chunk(c: str) -> tuple[str, ...]:
    """Tokens of one whitespace-separated chunk that is not plain letters/digits."""
    if c in _SPECIAL:
        return (c,)
    if _WHOLE.fullmatch(c):
        if c[0] in "hwf" and ("://" in c or c.startswith("www.")):
            j = len(c)
            while j > 1 and c[j - 1] in _URL_TAIL:
                j -= 1
            return (c[:j], *_chunk(c[j:])) if j < len(c) else (c,)
        return (c,)
    if c[0] == "+" and c.strip("+-") == "":  # a diffstat: each + alone, then the run of -
        plus = len(c) - len(c.lstrip("+"))
        return ("+",) * plus + ((c[plus:],) if c[plus:] else ())
    i, n = 0, len(c)
    out: list[str] = []
    while i < n and c[i] in _PRE:
        out.append(c[i])
        i += 1
    tail: list[str] = []
    j = n
    while j > i:
        piece = c[i:j]
        if piece in _EMOTICONS:
            break
        if piece.endswith(("..", "…")) and j - i > 1:
            k = j - 1 if piece.endswith("…") else j - 2
            while k > i and c[k - 1] == ".":
                k -= 1
            tail.append(c[k:j])
            j = k
        elif piece.endswith(".") and _ABBREV.fullmatch(piece):
            break
        elif piece.endswith(("n't", "n’t")) and j - i > 3:
            tail.append(c[j - 3:j])
            j -= 3
        elif piece.endswith(_CONTRACTIONS) and j - i > 2:
            k = c.rfind("'", i, j) if "'" in piece else c.rfind("’", i, j)
            tail.append(c[k:j])
            j = k
        elif piece.endswith("):"):
            tail.append("):")
            j -= 2
        elif c[j - 1] in _SUF:
            tail.append(c[j - 1])
            j -= 1
        else:
            break
    core = c[i:j]
    if core:
        if core.isalnum():
            out.extend(_word(core))
        elif core in _EMOTICONS:
            out.append(core)
        else:
            for p in _INFIX.split(core):
                if p:
                    out.extend(_word(p) if p.isalnum() else (p,))
    out.extend(reversed(tail))
    return tuple(out)


def _word(w: str) -> tuple[str, ...]:
    """Split a letters/digits token the way spaCy's exceptions do: cannot, dont, 20ft, 5G."""
    low = w.lower()
    if low == "cannot":
        return (w[:3], w[3:])
    if low in _NT:
        return (w[:-2], w[-2:])
    if w[0].isdigit() and not w.isdigit():
        m = _UNIT.search(w)
        if m and w[: m.start()].isdigit():
            return (w[: m.start()], m.group())
    return (w,)


@lru_cache(maxsize=1 << 15)
def _piece(c: str) -> tuple[str, ...]:
    """Tokens of one whitespace-separated chunk (cached: most chunks of a corpus are seen many times)."""
    if c.isalpha():
        return _word(c) if c.lower() in _NT or c.lower() == "cannot" else (c,)
    if c.isalnum():
        return _word(c)
    return _chunk(c)


# the C tokenizer (gristmill.text.native) asks Python only for chunks it leaves alone (URLs, e-mails ...),
# which seldom repeat: a small cache of its own keeps memory flat
_piece_rare = lru_cache(maxsize=1 << 12)(_piece.__wrapped__)


def _tokens(text: str) -> list[str]:
    return list(itertools.chain.from_iterable(map(_piece, text.split())))


def zh_words_by_line(text: str) -> tuple[list[str], list[int]]:
    """jieba words of ``text`` (whitespace dropped) and how many of them start on each line of
    ``text.splitlines()``: one segmentation of the document serves its lines too.

    >>> zh_words_by_line("我来到北京。\\n研究 apt-get 命令。")
    (['我', '来到', '北京', '。', '研究', 'apt-get', '命令', '。'], [4, 4])
    """
    import rjieba

    starts = list(itertools.accumulate(map(len, text.splitlines(keepends=True)), initial=0))[:-1]
    counts = [0] * len(starts)
    ws: list[str] = []
    li = pos = 0
    for w in rjieba.cut(text):
        if not w.isspace():
            while li + 1 < len(starts) and pos >= starts[li + 1]:
                li += 1
            ws.append(w)
            counts[li] += 1
        pos += len(w)
    return ws, counts


def words(text: str, lang: str | None = None) -> list[str]:
    """Words of ``text``: jieba words when ``lang`` is zh (or the text holds Han characters and no lang
    is given), the spaCy-like tokenizer otherwise. Whitespace is never a word."""
    if lang == "zh" or (lang is None and _HAS_HAN.search(text)):
        import rjieba

        return [w for w in rjieba.cut(text) if not w.isspace()]
    return _tokens(text)
