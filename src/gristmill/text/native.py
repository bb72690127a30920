"""The quality signals from the C core's counts (``gristmill._qsignals``), as a dict like the reference.

The C extension is built with the package when a C compiler is present (``setup.py``, optional); without it,
or with ``GRISTMILL_PURE_PYTHON=1`` in the environment, :data:`AVAILABLE` is false and the quality step uses
:func:`gristmill.steps.quality.reference_signals`. The C core reads the text once as code points and does
the tokenizing (plain words in C; other chunks through the cached Python rules of
:mod:`gristmill.text.words`), the n-gram tables, lines, paragraphs, C4's line rules and sentence ends, and the
character classes, and which lines are prose (``prose_lines.c``; the definition is
:func:`gristmill.text.prose.line_kinds_py`). Python keeps the parts that are regular expressions or
dictionaries: URLs, e-mails, spam cues, OpenCC's Simplified view and Traditional forms, and jieba (rjieba) for
Chinese words.

>>> from gristmill.steps.quality import reference_signals
>>> text = "The cat sat on the mat. The cat sat on the mat.\\n我们去公园散步吧！"
>>> not AVAILABLE or document_signals(text, "en") == reference_signals(text, "en")
True
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from gristmill.text.core import AVAILABLE, CORE, _qsignals  # noqa: F401 - AVAILABLE, CORE: read here by their users


@lru_cache(maxsize=1)
def _setup() -> None:
    from gristmill.text.signal_tables import SYMBOLS as _SYMBOLS
    from gristmill.text.words import _EMOTICONS, _NT, _PRE, _SUF, ABBREVIATIONS, UNITS, _piece_rare

    def bitmap(chars) -> bytes:
        out = bytearray(8192)
        for ch in chars:
            cp = ord(ch)
            out[cp >> 3] |= 1 << (cp & 7)
        return bytes(out)

    _qsignals.init(bitmap(_SYMBOLS), bitmap(_PRE), bitmap(_SUF), _piece_rare, ABBREVIATIONS,
                   frozenset(_NT | {"cannot"}), _EMOTICONS, frozenset(UNITS))


@lru_cache(maxsize=64)
def _stop_hashes(lang: str) -> bytes:
    from gristmill.text.stopwords import STOP_WORDS

    words = sorted(STOP_WORDS.get(lang, ()))[:64]
    return b"".join(_qsignals.word_hash(w).to_bytes(8, "little") for w in words)


def _count_zh(line: str) -> int:
    from gristmill.text.words import words

    return len(words(line, "zh"))


def _count_en(line: str) -> int:
    from gristmill.text.words import _tokens

    return len(_tokens(line))


# what _qsignals.signals returns, in order (qsignals.c fills them at the end of signals())
COUNTS = ("chars", "words", "lines", "nonsym_words", "nonsym_chars", "hashes", "ellipses", "bullet_lines",
          "ellipsis_lines", "alpha_words", "stop_words", "dup_paras", "dup_para_chars", "paras",
          "dup_lines", "dup_line_chars", "nl_lines", "top2", "top3", "top4", "dup5", "dup6", "dup7",
          "dup8", "dup9", "dup10", "c4_kept", "c4_sentences", "c4_no_terminal", "c4_lines", "c4_lorem",
          "c4_curly", "c4_javascript", "c4_policy", "c4_citations", "fw_lines", "fw_punct", "fw_short",
          "fw_dup_chars", "fw_chars", "fw_newlines", "fw_words", "distinct_words", "entropy",
          "caps_words", "letters", "digits", "spaces", "nonspace", "han", "zh_lines", "zh_line_chars",
          "rep13_chars", "zh_punct", "urls", "emails", "prose_chars", "prose_han", "prose_lines",
          "prose_terminal", "prose_words", "prose_alpha", "prose_zh_chars")


def _counts(text: str, lang: str, prose: bool = True) -> tuple:
    from gristmill.text.prose import ZH_MIN_HAN

    zh_min_han = ZH_MIN_HAN if prose else -1.0  # the C core finds the prose lines itself (line_kinds)
    if lang == "zh":
        import rjieba

        return _qsignals.signals(text, True, rjieba.cut(text), _stop_hashes(lang), _count_zh, zh_min_han)
    return _qsignals.signals(text, False, None, _stop_hashes(lang), _count_en, zh_min_han)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, NaN (undefined: null in the output) where b is 0."""
    out = np.full(len(a), np.nan)
    ok = b != 0
    np.divide(a, b, out=out, where=ok)
    return out


def batch_signals(texts: list[str], langs: list[str], families=None) -> dict[str, np.ndarray]:
    """The signals of many documents as columns: int64 arrays for counts, float64 arrays (NaN where a signal is
    undefined) for the rest; the values :func:`gristmill.steps.quality.reference_signals` gives, measured on
    the Simplified view of each text."""
    from gristmill.text.chinese import simplified, spam_cue_count, trad_fraction

    _setup()
    if families is None:
        from gristmill.text.signal_tables import FAMILIES as families
    views = [simplified(t) for t in texts]
    prose = "prose" in families
    rows = [_counts(v, lang, prose) for v, lang in zip(views, langs, strict=True)]
    m = len(rows)
    e = COUNTS.index("entropy")  # the one float among the counts
    c = np.array([r[:e] + (0,) + r[e + 1:] for r in rows], dtype=np.int64).reshape(m, -1).T if m else \
        np.zeros((len(COUNTS), 0), np.int64)
    entropy = np.fromiter((r[e] for r in rows), np.float64, m)
    k = dict(zip(COUNTS, c, strict=True))  # count name -> one value per document
    n, n_words, raw_lines = k["chars"], k["words"], k["lines"]
    n_lines = np.maximum(raw_lines, 1)
    out: dict[str, np.ndarray] = {"n_chars": n, "n_words": n_words, "n_lines": raw_lines}
    if "gopher" in families:
        out["gq_words"] = k["nonsym_words"]
        out["gq_mean_word_len"] = _div(k["nonsym_chars"], k["nonsym_words"])
        out["gq_hash_ratio"] = _div(k["hashes"], n_words)
        out["gq_ellipsis_ratio"] = _div(k["ellipses"], n_words)
        out["gq_bullet_lines"] = k["bullet_lines"] / n_lines
        out["gq_ellipsis_lines"] = k["ellipsis_lines"] / n_lines
        out["gq_alpha_words"] = _div(k["alpha_words"], n_words)
        out["gq_stopwords"] = k["stop_words"]
    if "repetition" in families:
        out["gr_dup_para_frac"], out["gr_dup_para_chars"] = k["dup_paras"] / k["paras"], _div(k["dup_para_chars"], n)
        out["gr_dup_line_frac"], out["gr_dup_line_chars"] = k["dup_lines"] / k["nl_lines"], _div(k["dup_line_chars"], n)
        for g in (2, 3, 4):
            out[f"gr_top{g}"] = _div(k[f"top{g}"], n)
        for g in range(5, 11):
            out[f"gr_dup{g}"] = _div(k[f"dup{g}"], n)
    if "c4" in families:
        out["c4_lines_kept"] = k["c4_kept"] / n_lines
        out["c4_sentences"] = k["c4_sentences"]
        out["c4_terminal_lines"] = np.where(raw_lines > 0, (k["c4_lines"] - k["c4_no_terminal"]) / n_lines, 0.0)
        out["c4_lorem"], out["c4_curly"] = k["c4_lorem"], k["c4_curly"]
        out["c4_javascript_lines"], out["c4_policy_lines"], out["c4_citations"] = k["c4_javascript"], k["c4_policy"], k["c4_citations"]
    if "fineweb" in families:
        kept = k["fw_lines"] > 0  # FineWeb's signals are undefined when C4 keeps no line
        out["fw_line_punct"] = np.where(kept, _div(k["fw_punct"], k["fw_lines"]), np.nan)
        out["fw_short_lines"] = np.where(kept, _div(k["fw_short"], k["fw_lines"]), np.nan)
        out["fw_dup_line_chars"] = np.where(kept, _div(k["fw_dup_chars"], k["fw_chars"]), np.nan)
        out["fw_newline_ratio"] = np.where(kept, _div(k["fw_newlines"], k["fw_words"]), np.nan)
    if "redpajama" in families:
        total = k["nonsym_words"]
        out["rp_unique_words"] = _div(k["distinct_words"], total)
        out["rp_word_entropy"] = np.where(total > 0, entropy, np.nan)
        out["rp_caps_words"] = _div(k["caps_words"], n_words)
        nonspace = n - k["spaces"]
        out["rp_digit_frac"] = _div(k["digits"], n)
        out["rp_non_alpha"] = _div(nonspace - k["letters"], nonspace)
        out["rp_url_density"] = _div(100 * k["urls"], n_words)  # no URL: 0.0 (NaN without words), as there
        out["rp_emails"] = k["emails"]
    if "chinese" in families:  # rounded per document with Python's round, as the reference does
        zh = {k: np.zeros(m) for k in ("zh_han_frac", "zh_avg_line_len", "zh_rep13", "zh_trad_frac",
                                        "zh_punct_density")}
        spam = np.zeros(m, np.int64)
        for i in np.nonzero(k["nonspace"])[0].tolist():
            ns, han = int(k["nonspace"][i]), int(k["han"][i])
            zh["zh_han_frac"][i] = round(han / ns, 4)
            zh["zh_avg_line_len"][i] = round(int(k["zh_line_chars"][i]) / max(int(k["zh_lines"][i]), 1), 2)
            if han:
                zh["zh_rep13"][i] = round(int(k["rep13_chars"][i]) / ns, 4)
                zh["zh_trad_frac"][i] = round(trad_fraction(texts[i], views[i], han, _qsignals.han_changed), 4)
                zh["zh_punct_density"][i] = round(int(k["zh_punct"][i]) / ns, 4)
            spam[i] = spam_cue_count(views[i], han, _qsignals.count_cues)
        out.update(zh)
        out["zh_spam_cues"] = spam
    if prose:
        out["prose_share"] = _div(k["prose_chars"], k["nonspace"])
        out["prose_alpha_words"] = _div(k["prose_alpha"], k["prose_words"])
        out["prose_terminal_lines"] = _div(k["prose_terminal"], k["prose_lines"])
        out["prose_han_frac"] = np.where(k["han"] > 0, _div(k["prose_han"], k["prose_zh_chars"]), 0.0)
    return out


def document_signals(text: str, lang: str, families=None) -> dict:
    """The signals :func:`gristmill.steps.quality.reference_signals` gives (``fineweb_text: c4_kept``)."""
    cols = batch_signals([text], [lang], families)
    out: dict = {}
    for k, v in cols.items():
        x = v[0].item()
        out[k] = None if isinstance(x, float) and math.isnan(x) else x
    return out
