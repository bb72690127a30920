"""The quality signals from the C core's counts (``gristmill._qsignals``), as a dict like the reference.

The C extension is built with the package when a C compiler is present (``setup.py``, optional); without it,
or with ``GRISTMILL_PURE_PYTHON=1`` in the environment, :data:`AVAILABLE` is false and the quality step uses
:func:`gristmill.steps.quality.reference_signals`. The C core reads the text once as code points and does
the tokenizing (plain words in C; other chunks through the cached Python rules of
:mod:`gristmill.text.words`), the n-gram tables, lines, paragraphs, C4's line rules and sentence ends, and the
character classes. Python keeps the parts that are regular expressions or dictionaries: URLs, e-mails, spam
cues, OpenCC's Traditional forms, and jieba (rjieba) for Chinese words.

>>> from gristmill.steps.quality import reference_signals
>>> text = "The cat sat on the mat. The cat sat on the mat.\\n我们去公园散步吧！"
>>> not AVAILABLE or document_signals(text, "en") == reference_signals(text, "en")
True
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

import numpy as np

try:
    from gristmill import _qsignals
except ImportError:  # built without a C compiler
    _qsignals = None

AVAILABLE = _qsignals is not None and not os.environ.get("GRISTMILL_PURE_PYTHON")


@lru_cache(maxsize=1)
def _setup() -> None:
    from gristmill.steps.quality import _SYMBOLS
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


def _counts(text: str, lang: str) -> tuple:
    if lang == "zh":
        import rjieba

        return _qsignals.signals(text, True, rjieba.cut(text), _stop_hashes(lang), _count_zh)
    return _qsignals.signals(text, False, None, _stop_hashes(lang), _count_en)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, NaN (undefined: null in the output) where b is 0."""
    out = np.full(len(a), np.nan)
    ok = b != 0
    np.divide(a, b, out=out, where=ok)
    return out


def batch_signals(texts: list[str], langs: list[str], families=None) -> dict[str, np.ndarray]:
    """The signals of many documents as columns: int64 arrays for counts, float64 arrays (NaN where a signal is
    undefined) for the rest; the values :func:`gristmill.steps.quality.reference_signals` gives."""
    from gristmill.text.chinese import spam_cue_count, trad_fraction

    _setup()
    if families is None:
        from gristmill.steps.quality import FAMILIES as families
    rows = [_counts(t, lang) for t, lang in zip(texts, langs, strict=True)]
    m = len(rows)
    c = np.array([r[:43] + (0,) + r[44:] for r in rows], dtype=np.int64).reshape(m, -1).T if m else \
        np.zeros((56, 0), np.int64)
    entropy = np.fromiter((r[43] for r in rows), np.float64, m)
    n, n_words, raw_lines = c[0], c[1], c[2]
    n_lines = np.maximum(raw_lines, 1)
    out: dict[str, np.ndarray] = {"n_chars": n, "n_words": n_words, "n_lines": raw_lines}
    if "gopher" in families:
        out["gq_words"] = c[3]
        out["gq_mean_word_len"] = _div(c[4], c[3])
        out["gq_hash_ratio"] = _div(c[5], n_words)
        out["gq_ellipsis_ratio"] = _div(c[6], n_words)
        out["gq_bullet_lines"] = c[7] / n_lines
        out["gq_ellipsis_lines"] = c[8] / n_lines
        out["gq_alpha_words"] = _div(c[9], n_words)
        out["gq_stopwords"] = c[10]
    if "repetition" in families:
        out["gr_dup_para_frac"], out["gr_dup_para_chars"] = c[11] / c[13], _div(c[12], n)
        out["gr_dup_line_frac"], out["gr_dup_line_chars"] = c[14] / c[16], _div(c[15], n)
        for k in (2, 3, 4):
            out[f"gr_top{k}"] = _div(c[17 + k - 2], n)
        for k in range(5, 11):
            out[f"gr_dup{k}"] = _div(c[20 + k - 5], n)
    if "c4" in families:
        out["c4_lines_kept"] = c[26] / n_lines
        out["c4_sentences"] = c[27]
        out["c4_terminal_lines"] = np.where(raw_lines > 0, (c[29] - c[28]) / n_lines, 0.0)
        out["c4_lorem"], out["c4_curly"] = c[30], c[31]
        out["c4_javascript_lines"], out["c4_policy_lines"], out["c4_citations"] = c[32], c[33], c[34]
    if "fineweb" in families:
        kept = c[35] > 0  # FineWeb's signals are undefined when C4 keeps no line
        out["fw_line_punct"] = np.where(kept, _div(c[36], c[35]), np.nan)
        out["fw_short_lines"] = np.where(kept, _div(c[37], c[35]), np.nan)
        out["fw_dup_line_chars"] = np.where(kept, _div(c[38], c[39]), np.nan)
        out["fw_newline_ratio"] = np.where(kept, _div(c[40], c[41]), np.nan)
    if "redpajama" in families:
        total = c[3]
        out["rp_unique_words"] = _div(c[42], total)
        out["rp_word_entropy"] = np.where(total > 0, entropy, np.nan)
        out["rp_caps_words"] = _div(c[44], n_words)
        nonspace = n - c[47]
        out["rp_digit_frac"] = _div(c[46], n)
        out["rp_non_alpha"] = _div(nonspace - c[45], nonspace)
        out["rp_url_density"] = _div(100 * c[54], n_words)  # no URL: 0.0 (NaN without words), as there
        out["rp_emails"] = c[55]
    if "chinese" in families:  # rounded per document with Python's round, as the reference does
        zh = {k: np.zeros(m) for k in ("zh_han_frac", "zh_avg_line_len", "zh_rep13", "zh_trad_frac",
                                        "zh_punct_density")}
        spam = np.zeros(m, np.int64)
        for i in np.nonzero(c[48])[0].tolist():
            ns, han = int(c[48, i]), int(c[49, i])
            zh["zh_han_frac"][i] = round(han / ns, 4)
            zh["zh_avg_line_len"][i] = round(int(c[51, i]) / max(int(c[50, i]), 1), 2)
            if han:
                zh["zh_rep13"][i] = round(int(c[52, i]) / ns, 4)
                zh["zh_trad_frac"][i] = round(trad_fraction("".join(texts[i].split()), han,
                                                            _qsignals.han_changed), 4)
                zh["zh_punct_density"][i] = round(int(c[53, i]) / ns, 4)
            spam[i] = spam_cue_count(texts[i], han, _qsignals.count_cues)
        out.update(zh)
        out["zh_spam_cues"] = spam
    return out


def document_signals(text: str, lang: str, families=None) -> dict:
    """The signals :func:`gristmill.steps.quality.reference_signals` gives (``fineweb_text: c4_kept``)."""
    cols = batch_signals([text], [lang], families)
    out: dict = {}
    for k, v in cols.items():
        x = v[0].item()
        out[k] = None if isinstance(x, float) and math.isnan(x) else x
    return out
