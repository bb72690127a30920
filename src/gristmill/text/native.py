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

import os
from functools import lru_cache

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


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def document_signals(text: str, lang: str, families=None) -> dict:
    """The signals :func:`gristmill.steps.quality.reference_signals` gives (``fineweb_text: c4_kept``)."""
    from gristmill.text.chinese import ZERO, spam_cue_count, trad_fraction

    _setup()
    if families is None:
        from gristmill.steps.quality import FAMILIES as families
    zh = lang == "zh"
    if zh:
        import rjieba

        c = _qsignals.signals(text, True, rjieba.cut(text), _stop_hashes(lang), _count_zh)
    else:
        c = _qsignals.signals(text, False, None, _stop_hashes(lang), _count_en)
    n, n_words, raw_lines = c[0], c[1], c[2]
    out: dict = {"n_chars": n, "n_words": n_words, "n_lines": raw_lines}
    n_lines = max(raw_lines, 1)
    if "gopher" in families:
        out["gq_words"] = c[3]
        out["gq_mean_word_len"] = c[4] / c[3] if c[3] else None
        out["gq_hash_ratio"] = _ratio(c[5], n_words)
        out["gq_ellipsis_ratio"] = _ratio(c[6], n_words)
        out["gq_bullet_lines"] = c[7] / n_lines
        out["gq_ellipsis_lines"] = c[8] / n_lines
        out["gq_alpha_words"] = _ratio(c[9], n_words)
        out["gq_stopwords"] = c[10]
    if "repetition" in families:
        out["gr_dup_para_frac"], out["gr_dup_para_chars"] = c[11] / c[13], _ratio(c[12], n)
        out["gr_dup_line_frac"], out["gr_dup_line_chars"] = c[14] / c[16], _ratio(c[15], n)
        for k in (2, 3, 4):
            out[f"gr_top{k}"] = _ratio(c[17 + k - 2], n)
        for k in range(5, 11):
            out[f"gr_dup{k}"] = _ratio(c[20 + k - 5], n)
    if "c4" in families:
        out["c4_lines_kept"] = c[26] / n_lines
        out["c4_sentences"] = c[27]
        out["c4_terminal_lines"] = (c[29] - c[28]) / n_lines if raw_lines else 0.0
        out["c4_lorem"], out["c4_curly"] = c[30], c[31]
        out["c4_javascript_lines"], out["c4_policy_lines"], out["c4_citations"] = c[32], c[33], c[34]
    if "fineweb" in families:
        if c[35]:
            out["fw_line_punct"] = c[36] / c[35]
            out["fw_short_lines"] = c[37] / c[35]
            out["fw_dup_line_chars"] = _ratio(c[38], c[39])
            out["fw_newline_ratio"] = _ratio(c[40], c[41])
        else:
            out.update(fw_line_punct=None, fw_short_lines=None, fw_dup_line_chars=None, fw_newline_ratio=None)
    if "redpajama" in families:
        total = c[3]
        out["rp_unique_words"] = _ratio(c[42], total)
        out["rp_word_entropy"] = c[43] if total else None
        out["rp_caps_words"] = _ratio(c[44], n_words)
        nonspace = n - c[47]
        out["rp_digit_frac"] = _ratio(c[46], n)
        out["rp_non_alpha"] = _ratio(nonspace - c[45], nonspace)
        out["rp_url_density"] = _ratio(100 * c[54], n_words)  # no URL: 0.0 (None without words), as there
        out["rp_emails"] = c[55]
    if "chinese" in families:
        ns, han = c[48], c[49]
        if not ns:
            out.update(ZERO)
        else:
            out["zh_han_frac"] = round(han / ns, 4)
            out["zh_avg_line_len"] = round(c[51] / max(c[50], 1), 2)
            out["zh_rep13"] = round(c[52] / ns, 4) if han else 0.0
            out["zh_trad_frac"] = round(trad_fraction("".join(text.split()), han, _qsignals.han_changed), 4) \
                if han else 0.0
            out["zh_punct_density"] = round(c[53] / ns, 4) if han else 0.0
            out["zh_spam_cues"] = spam_cue_count(text, han, _qsignals.count_cues)
    return out
