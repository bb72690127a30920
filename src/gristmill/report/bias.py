"""Simple bias indicators: counts of gendered and demographic terms per language, with the lists shown.

These are frequencies, not judgements: they tell a reader whether, say, "he" outnumbers "she" five to one in
the kept data, or whether some groups are named far more often than others. English terms match whole words
(case-insensitive); Chinese terms match as substrings (Chinese has no spaces between words).

>>> c = count_terms("He said she and her sister met him.", "en")
>>> c["gender.male:he"], c["gender.female:she"], c["gender.female:her"], c["gender.male:him"]
(1, 1, 1, 1)
>>> count_terms("她和她的母亲见了他。", "zh")["gender.female:她"]
2
>>> count_terms("其他人", "zh")
Counter()
"""

from __future__ import annotations

import re
from collections import Counter

from gristmill.text.core import CORE

# the C core's, when built and not turned off
_c_count_cues, _c_term_counts = (CORE.count_cues, CORE.term_counts) if CORE else (None, None)

# group.category -> terms. Chinese lists avoid single characters that mostly occur inside unrelated words.
TERMS: dict[str, dict[str, list[str]]] = {
    "en": {
        "gender.male": ["he", "him", "his", "himself", "man", "men", "boy", "boys", "father", "son", "husband",
                        "brother", "king", "mr"],
        "gender.female": ["she", "her", "hers", "herself", "woman", "women", "girl", "girls", "mother",
                          "daughter", "wife", "sister", "queen", "mrs", "ms"],
        "religion": ["christian", "christians", "muslim", "muslims", "jewish", "jews", "hindu", "hindus",
                     "buddhist", "buddhists", "atheist", "atheists"],
        "ethnicity": ["black", "white", "asian", "asians", "african", "africans", "hispanic", "latino",
                      "european", "europeans", "arab", "arabs", "indigenous"],
        "age": ["young", "old", "elderly", "teenager", "teenagers", "child", "children", "senior", "seniors"],
    },
    "zh": {
        "gender.male": ["他", "男人", "男性", "男孩", "父亲", "爸爸", "儿子", "丈夫", "兄弟", "先生"],
        "gender.female": ["她", "女人", "女性", "女孩", "母亲", "妈妈", "女儿", "妻子", "姐妹", "女士"],
        "religion": ["基督教", "伊斯兰", "穆斯林", "犹太", "佛教", "道教", "印度教", "无神论"],
        "ethnicity": ["汉族", "少数民族", "黑人", "白人", "亚洲人", "非洲人", "欧洲人", "阿拉伯人", "维吾尔", "藏族"],
        "age": ["年轻人", "老年人", "老人", "青少年", "儿童", "孩子"],
    },
}
LANGS = tuple(TERMS)
# terms that also occur inside unrelated words: 其他 ("other") is not a man
_CONTEXT = {"他": "(?<!其)他"}
_NOT_AFTER = {"他": "其"}  # the same rule for the C core: characters that must not precede the term


def _terms(lang: str) -> tuple[str, ...]:
    """The terms of ``lang``, longest first, ties in the order of :data:`TERMS` (never a set's order, which
    changes from process to process with the strings' hashes and would reorder the counts in the report)."""
    return tuple(sorted(dict.fromkeys(w for ws in TERMS[lang].values() for w in ws), key=len, reverse=True))


def _pattern(lang: str) -> re.Pattern:
    words = _terms(lang)
    alt = "|".join(_CONTEXT.get(w, re.escape(w)) for w in words)
    return re.compile(alt)


_PATTERNS = {lg: _pattern(lg) for lg in LANGS}
_CATEGORY = {lg: {w: c for c, ws in TERMS[lg].items() for w in ws} for lg in LANGS}
_TERMS_EN = frozenset(_CATEGORY["en"])
_TERMS_LONGEST_FIRST = {lg: _terms(lg) for lg in LANGS}
_ASCII_WORD = re.compile(r"\b[A-Za-z]+\b")  # a whole word of ASCII letters (the English terms are such words)


def count_terms(text: str, lang: str) -> Counter:
    """Counts keyed ``CATEGORY:TERM`` of every listed term of ``lang`` in ``text``."""
    if lang == "en":  # whole words, case-insensitive: one pass over the words, then a set lookup
        cat = _CATEGORY[lang]
        if _c_term_counts is not None:
            found = Counter(_c_term_counts(text, _TERMS_EN))
        else:
            found = Counter(w for w in map(str.lower, _ASCII_WORD.findall(text)) if w in cat)
    elif _c_count_cues is not None:
        found = Counter(_c_count_cues(text, _TERMS_LONGEST_FIRST[lang], False, _NOT_AFTER))
    else:
        found = Counter(_PATTERNS[lang].findall(text))
    cat = _CATEGORY[lang]
    return Counter({f"{cat[w]}:{w}": n for w, n in found.items()})


def summarize(counts: dict[str, int], chars: int) -> dict:
    """Per category: total, per million characters, top terms; and the male:female ratio."""
    cats: dict[str, dict] = {}
    for key, n in counts.items():
        c, w = key.split(":", 1)
        e = cats.setdefault(c, {"total": 0, "terms": {}})
        e["total"] += n
        e["terms"][w] = n
    for e in cats.values():
        e["per_million_chars"] = round(e["total"] / max(chars, 1) * 1e6, 2)
        e["terms"] = dict(sorted(e["terms"].items(), key=lambda kv: -kv[1]))
    male = cats.get("gender.male", {}).get("total", 0)
    female = cats.get("gender.female", {}).get("total", 0)
    return {"categories": cats, "male_female_ratio": round(male / female, 3) if female else None,
            "chars": chars}
