"""Chinese spam and ads: the cue lexicon (``resources/zh_spam_cues.txt``), the contact and dark-pattern
regular expressions (``resources/zh_spam_patterns.txt``) and the text a spam classifier sees.

Cues are substrings of the lower-cased text; a cue that begins with an ASCII letter or digit does not
match right after one (``bt365`` is a gambling brand, ``qbt365.com`` is not). Patterns are counted per
group on the NFKC, lower-cased text. The classifier's view masks numbers the same way everywhere, so a
corpus whose digits were masked as ``x`` (the Chinese SMS spam set) teaches nothing from the masking.

>>> sorted(cues_in("必威betway体育，官方网站登录送彩金"))
['betway', '官方网站登录', '必威']
>>> cues_in("版权所有 © qbt365.com，Java在线教程")
set()
>>> pattern_counts("加微信：abc_12345 咨询，QQ：123456789，注册就送88元")
{'contact': 2, 'promo': 1}
>>> model_text("加Ｖ：xxxxxxxx，送100元！")
'加 v : NUMC , 送 NUMB 元 !'
"""

from __future__ import annotations

import string
import unicodedata
from functools import lru_cache
from importlib import resources

import regex

MAX_CUES = 256  # the C core's count_cues limit
_ASCII_ALNUM = string.ascii_lowercase + string.digits
_MODEL_MAX_CHARS = 10_000


def _resource(name: str) -> str:
    return (resources.files("gristmill") / "resources" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def cue_lexicon() -> tuple[regex.Pattern, tuple[str, ...]]:
    """(the pattern that finds the cues in lower-cased text, the cues in file order)."""
    cues = tuple(dict.fromkeys(w.strip().lower() for w in _resource("zh_spam_cues.txt").splitlines()
                               if w.strip() and not w.lstrip().startswith("#")))
    if len(cues) > MAX_CUES:
        raise ValueError(f"zh_spam_cues.txt has {len(cues)} cues; at most {MAX_CUES}")
    alt = "|".join((f"(?<![a-z0-9]){regex.escape(c)}" if c[0] in _ASCII_ALNUM else regex.escape(c))
                   for c in sorted(cues, key=len, reverse=True))
    return regex.compile(alt), cues


@lru_cache(maxsize=1)
def cue_not_after() -> dict[str, str]:
    """Cue -> the characters that must not precede it (the C core's ``count_cues`` look-behind)."""
    return {c: _ASCII_ALNUM for c in cue_lexicon()[1] if c[0] in _ASCII_ALNUM}


def cues_in(text: str) -> set[str]:
    """The distinct cues found in ``text`` (what ``zh_spam_cues`` counts)."""
    return set(cue_lexicon()[0].findall(text.lower()))


@lru_cache(maxsize=1)
def patterns() -> dict[str, regex.Pattern]:
    """Group (``contact``, ``promo``) -> one pattern of all its regular expressions."""
    groups: dict[str, list[str]] = {}
    for n, line in enumerate(_resource("zh_spam_patterns.txt").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, rx = line.partition(" = ")
        if not sep or "/" not in name:
            raise ValueError(f"zh_spam_patterns.txt line {n}: expected GROUP/NAME = REGEX")
        regex.compile(rx)  # a bad expression fails here, with its line
        groups.setdefault(name.split("/")[0].strip(), []).append(f"(?:{rx.strip()})")
    return {g: regex.compile("|".join(rs)) for g, rs in groups.items()}


_SPACED = regex.compile(r"(?<!\S)\S(?: \S){2,}(?!\S)")  # three or more single characters, one space apart


def folded(text: str) -> str:
    """The view the patterns read: NFKC, lower case, and letter-spaced runs closed up (full-width ＱＱ：１２３
    reads as qq:123, the evasive 注 册 就 送 as 注册就送; "hello world" stays)."""
    view = unicodedata.normalize("NFKC", text).lower()
    return _SPACED.sub(lambda m: m.group().replace(" ", ""), view) if " " in view else view


def pattern_counts(text: str) -> dict[str, int]:
    """Matches of each pattern group in ``text``."""
    view = folded(text)
    return {g: sum(1 for _ in p.finditer(view)) for g, p in patterns().items()}


_URL = regex.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = regex.compile(r"(?<![a-z])x+(?![a-z])|\d+")  # digit runs, and x runs standing for masked digits


def _number_token(m: regex.Match) -> str:
    n = len(m.group())
    return " NUMA " if n <= 2 else " NUMB " if n <= 6 else " NUMC "


def model_text(text: str, max_chars: int = _MODEL_MAX_CHARS) -> str:
    """What the spam classifier reads: the NFKC, lower-cased text (its first ``max_chars`` characters), URLs
    and e-mails as ``URL``, each number (or run of ``x`` standing alone) as ``NUMA``/``NUMB``/``NUMC`` by its
    length (1-2, 3-6, 7+ characters), then jieba words; fastText adds the characters (sub-words)."""
    import rjieba

    view = _URL.sub(" URL ", folded(text[:max_chars]))
    view = _NUMBER.sub(_number_token, view)
    return " ".join(w for w in rjieba.cut(view) if w.strip())
