"""``quality``: every quality measurement as a per-document signal column, English and Chinese.

Shared intermediates (lines, paragraphs, words, word n-gram ids, C4 line decisions) are computed once per
document and reused by all signal families. Words are jieba words (rjieba) for Chinese and spaCy-like tokens
otherwise (see :mod:`gristmill.text.words`). The step rejects nothing: selection is the ``filter`` step's
job, with presets ``gopher``, ``c4``, ``fineweb``, ``zh-web`` and ``bilingual``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column
from gristmill.text import native
from gristmill.text.c4 import c4_lines
from gristmill.text.chinese import simplified, zh_signals
from gristmill.text.prose import MEASURED, OTHER_SCRIPT, line_kinds, line_languages
from gristmill.text.repetition import Ngrams, find_duplicates
from gristmill.text.scripts import HAN_RANGES, char_counts, script_counts
from gristmill.text.signal_tables import FAMILIES, TERMINAL
from gristmill.text.signal_tables import SYMBOLS as _SYMBOLS
from gristmill.text.stopwords import STOP_WORDS
from gristmill.text.words import _tokens, zh_words_by_line
from gristmill.text.words import words as split_words

_PARA = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

SIGNALS: dict[str, tuple[str, str]] = {  # column -> (family, meaning)
    "n_chars": ("basic", "characters"), "n_words": ("basic", "words (jieba words for Chinese)"),
    "n_lines": ("basic", "lines"),
    "gq_words": ("gopher", "words with a non-symbol character"),
    "gq_mean_word_len": ("gopher", "mean length of those words, characters"),
    "gq_hash_ratio": ("gopher", "'#' per word"), "gq_ellipsis_ratio": ("gopher", "'...' and '…' per word"),
    "gq_bullet_lines": ("gopher", "share of lines starting with a bullet (• or -)"),
    "gq_ellipsis_lines": ("gopher", "share of lines ending in an ellipsis"),
    "gq_alpha_words": ("gopher", "share of words with at least one letter"),
    "gq_stopwords": ("gopher", "distinct stop words of the document's language present"),
    "gr_dup_para_frac": ("repetition", "share of paragraphs that repeat an earlier one"),
    "gr_dup_para_chars": ("repetition", "characters in repeated paragraphs / all characters"),
    "gr_dup_line_frac": ("repetition", "share of lines that repeat an earlier one"),
    "gr_dup_line_chars": ("repetition", "characters in repeated lines / all characters"),
    **{f"gr_top{n}": ("repetition", f"characters of the most frequent word {n}-gram × its count / all characters")
       for n in (2, 3, 4)},
    **{f"gr_dup{n}": ("repetition", f"characters in repeated word {n}-grams / all characters") for n in range(5, 11)},
    "c4_lines_kept": ("c4", "share of lines C4's line rules keep"),
    "c4_sentences": ("c4", "sentences in the kept lines"),
    "c4_terminal_lines": ("c4", "share of lines ending in terminal punctuation (Chinese 。！？…” count)"),
    "c4_lorem": ("c4", "1 if a candidate line contains 'lorem ipsum'"),
    "c4_curly": ("c4", "1 if a candidate line contains '{'"),
    "c4_javascript_lines": ("c4", "lines mentioning javascript"),
    "c4_policy_lines": ("c4", "lines with cookie / terms-of-use phrases"),
    "c4_citations": ("c4", "citation markers such as [1], [edit], [citation needed]"),
    "fw_line_punct": ("fineweb", "share of non-empty lines ending in terminal punctuation"),
    "fw_short_lines": ("fineweb", "share of non-empty lines of at most 30 characters"),
    "fw_dup_line_chars": ("fineweb", "characters in repeated lines / characters without newlines"),
    "fw_newline_ratio": ("fineweb", "newlines per word"),
    "rp_unique_words": ("redpajama", "distinct words / words (lower-cased)"),
    "rp_word_entropy": ("redpajama", "unigram entropy of the words, nats"),
    "rp_caps_words": ("redpajama", "share of words in capitals"),
    "rp_digit_frac": ("redpajama", "share of characters that are digits"),
    "rp_non_alpha": ("redpajama", "share of non-space characters that are not letters"),
    "rp_url_density": ("redpajama", "URLs per 100 words"), "rp_emails": ("redpajama", "e-mail addresses"),
    "zh_han_frac": ("chinese", "Han characters / non-space characters"),
    "zh_avg_line_len": ("chinese", "mean characters per non-empty line"),
    "zh_rep13": ("chinese", "share of characters inside a 13-character span that occurs twice"),
    "zh_trad_frac": ("chinese", "share of Han characters that are Traditional forms (OpenCC t2s)"),
    "zh_punct_density": ("chinese", "Chinese punctuation / non-space characters"),
    "zh_spam_cues": ("chinese", "distinct spam cue words (gambling, adult, black-hat SEO)"),
    "prose_share": ("prose", "non-space characters on prose lines / all non-space characters (prose lines: "
                             "not code, option or definition lists, tables; lines without letters count)"),
    "prose_alpha_words": ("prose", "share of the words of prose lines with at least one letter"),
    "prose_terminal_lines": ("prose", "share of prose lines ending in terminal punctuation, not '...' "
                                      "(closing quotes and brackets after it allowed)"),
    "prose_han_frac": ("prose", "Han characters / non-space characters, on the prose lines of the Chinese part "
                                "(prose lines not in a language of another script); 0 without Han"),
}
PROSE_CLOSERS = "\"')]）」』’”"  # may follow the terminal mark at a prose line's end


@lru_cache(maxsize=1 << 16)
def _is_symbol(w: str) -> bool:
    return all(ch in _SYMBOLS for ch in w)


@lru_cache(maxsize=1 << 16)
def _not_symbol(w: str) -> bool:
    return not all(ch in _SYMBOLS for ch in w)


@lru_cache(maxsize=1 << 16)
def _has_alpha(w: str) -> bool:
    return any(ch.isalpha() for ch in w)


@dataclass
class QualityParams:
    families: list[Literal["gopher", "repetition", "c4", "fineweb", "redpajama", "chinese", "prose"]] = param(
        list(FAMILIES), "signal families to compute")
    fineweb_text: Literal["c4_kept", "text"] = param(
        "c4_kept", "FineWeb signals on the lines C4's rules keep (datatrove's chain order) or on the whole text")


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def document_signals(text: str, lang: str, families=FAMILIES, fineweb_text: str = "c4_kept") -> dict:
    """All signals of one document (``None`` where a signal is undefined, e.g. ratios over no words).

    The counts come from the C core (:mod:`gristmill.text.native`) when it is built, else from
    :func:`reference_signals`; the two give the same values.
    """
    if native.AVAILABLE and fineweb_text == "c4_kept":
        return native.document_signals(text, lang, families)
    return reference_signals(text, lang, families, fineweb_text)


def reference_signals(text: str, lang: str, families=FAMILIES, fineweb_text: str = "c4_kept") -> dict:
    """The signals in plain Python: the definition the C core is tested against. They are measured on the
    Simplified view of the text (:func:`gristmill.text.chinese.simplified`)."""
    out: dict = {}
    original, text = text, simplified(text)
    zh = lang == "zh"
    raw_lines = text.splitlines()
    zh_line_words = None
    if zh:
        line_tokens = None
        ws, zh_line_words = zh_words_by_line(text)
    else:  # tokens of the text are the tokens of its lines, one after another; keep them per line
        line_tokens = [_tokens(ln) for ln in raw_lines]
        ws = list(itertools.chain.from_iterable(line_tokens))
    n_words = len(ws)
    out["n_chars"], out["n_words"], out["n_lines"] = len(text), n_words, len(raw_lines)
    n_lines = max(len(raw_lines), 1)
    if "gopher" in families:
        nonsym = list(itertools.compress(ws, map(_not_symbol, ws)))
        out["gq_words"] = len(nonsym)
        out["gq_mean_word_len"] = sum(map(len, nonsym)) / len(nonsym) if nonsym else None
        out["gq_hash_ratio"] = _ratio(text.count("#"), n_words)
        out["gq_ellipsis_ratio"] = _ratio(text.count("...") + text.count("…"), n_words)
        stripped = [ln.strip() for ln in raw_lines] if ("-" in text or "•" in text or "..." in text
                                                          or "…" in text) else None
        out["gq_bullet_lines"] = sum(ln.startswith(("•", "-")) for ln in stripped) / n_lines if stripped else 0.0
        out["gq_ellipsis_lines"] = sum(ln.endswith(("...", "…")) for ln in stripped) / n_lines if stripped else 0.0
        out["gq_alpha_words"] = _ratio(sum(map(_has_alpha, ws)), n_words)
        out["gq_stopwords"] = len(STOP_WORDS.get(lang, frozenset()).intersection(ws))
    if "repetition" in families:
        n = len(text)
        paras = _PARA.split(text.strip())
        d, c = find_duplicates(paras)
        out["gr_dup_para_frac"], out["gr_dup_para_chars"] = d / len(paras), _ratio(c, n)
        lines = _LINES.split(text)
        d, c = find_duplicates(lines)
        out["gr_dup_line_frac"], out["gr_dup_line_chars"] = d / len(lines), _ratio(c, n)
        ng = Ngrams(ws)
        for k in (2, 3, 4):
            out[f"gr_top{k}"] = _ratio(ng.top_chars(k), n)
        for k in range(5, 11):
            out[f"gr_dup{k}"] = _ratio(ng.dup_chars(k), n)
    c4 = None
    if "c4" in families or ("fineweb" in families and fineweb_text == "c4_kept"):
        zw = (lambda line: len(split_words(line, "zh"))) if zh else None
        c4 = c4_lines(text, lang, zh_words=zw, line_words=zh_line_words)
    if "c4" in families:
        out["c4_lines_kept"] = len(c4.kept) / n_lines
        out["c4_sentences"] = c4.sentences
        out["c4_terminal_lines"] = (c4.lines - c4.no_terminal_lines) / n_lines if raw_lines else 0.0
        out["c4_lorem"], out["c4_curly"] = int(c4.lorem), int(c4.curly)
        out["c4_javascript_lines"], out["c4_policy_lines"] = c4.javascript_lines, c4.policy_lines
        out["c4_citations"] = c4.citations
    if "fineweb" in families:
        if fineweb_text == "c4_kept":
            t = "\n".join(c4.kept).strip()
            counts = zh_line_words if zh else [len(x) for x in line_tokens]
            recount = (lambda k: len(split_words(k, "zh"))) if zh else (lambda k: len(_tokens(k)))
            fw_words = sum(recount(k) if ch else counts[i]
                           for k, i, ch in zip(c4.kept, c4.kept_index, c4.changed, strict=True))
        else:
            t, fw_words = text, n_words
        lines = [ln for ln in t.split("\n") if ln.strip()]
        if lines:
            out["fw_line_punct"] = sum(ln.endswith(TERMINAL) for ln in lines) / len(lines)
            out["fw_short_lines"] = sum(len(ln) <= 30 for ln in lines) / len(lines)
            out["fw_dup_line_chars"] = _ratio(find_duplicates(lines)[1], len(t) - t.count("\n"))
            out["fw_newline_ratio"] = _ratio(t.count("\n"), fw_words)
        else:
            out.update(fw_line_punct=None, fw_short_lines=None, fw_dup_line_chars=None, fw_newline_ratio=None)
    if "redpajama" in families:
        low = list(map(str.lower, nonsym)) if "gopher" in families else \
            [w.lower() for w in ws if not _is_symbol(w)]
        counts = Counter(low)
        total = len(low)
        out["rp_unique_words"] = _ratio(len(counts), total)
        out["rp_word_entropy"] = -sum(c / total * math.log(c / total) for c in counts.values()) if total else None
        out["rp_caps_words"] = _ratio(sum(1 for w in ws if w.isupper() and len(w) > 1), n_words)
        letters, digits, spaces = char_counts(text)
        nonspace = len(text) - spaces
        out["rp_digit_frac"] = _ratio(digits, len(text))
        out["rp_non_alpha"] = _ratio(nonspace - letters, nonspace)
        out["rp_url_density"] = _ratio(100 * len(_URL.findall(text)), n_words) if "://" in text or "www." in text \
            else (0.0 if n_words else None)
        out["rp_emails"] = len(_EMAIL.findall(text)) if "@" in text else 0
    if "chinese" in families:
        out.update(zh_signals(original, view=text))
    if "prose" in families:
        out.update(_prose_signals(text, raw_lines, line_tokens, ws, zh_line_words))
    return out


def _prose_signals(text: str, raw_lines: list[str], line_tokens, ws: list[str], zh_line_words) -> dict:
    """The prose_* signals: the lines :func:`gristmill.text.prose.line_kinds` measures, and their words; the
    Han share on those of the Chinese part (:func:`gristmill.text.prose.line_languages`)."""
    kinds = line_kinds(text)
    has_han = any(map(_is_han_char, text)) if not text.isascii() else False
    parts = line_languages(text) if has_han else bytes([OTHER_SCRIPT]) * len(raw_lines)
    if line_tokens is None:  # Chinese: the document's words, by the line they start on
        starts = list(itertools.accumulate(zh_line_words, initial=0))
        line_tokens = [ws[a:b] for a, b in itertools.pairwise(starts)]
    chars = prose_chars = zh_chars = han = lines = terminal = words = alpha = 0
    for line, kind, part, toks in zip(raw_lines, kinds, parts, line_tokens, strict=True):
        n = sum(1 for ch in line if not ch.isspace())
        chars += n
        if kind not in MEASURED:
            continue
        prose_chars += n
        if part != OTHER_SCRIPT:
            zh_chars += n
            han += sum(1 for ch in line if _is_han_char(ch))
        lines += 1
        end = line.strip().rstrip(PROSE_CLOSERS)
        terminal += end.endswith(TERMINAL) and not end.endswith("...")  # "..." is cut off text, as in C4
        words += len(toks)
        alpha += sum(map(_has_alpha, toks))
    return {"prose_share": _ratio(prose_chars, chars), "prose_alpha_words": _ratio(alpha, words),
            "prose_terminal_lines": _ratio(terminal, lines),
            "prose_han_frac": _ratio(han, zh_chars) if has_han else 0.0}


def _is_han_char(ch: str) -> bool:
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in HAN_RANGES)


@register
class Quality(Step):
    """Quality signals (Gopher, C4, FineWeb, RedPajama, Chinese rules) as columns; rejects nothing."""

    name = "quality"
    Params = QualityParams
    outputs = tuple(SIGNALS)

    def columns(self) -> list[str]:
        p: QualityParams = self.params
        fam = set(p.families) | {"basic"}
        return [c for c, (f, _) in SIGNALS.items() if f in fam]

    def process(self, table: pa.Table) -> Result:
        p: QualityParams = self.params
        texts = text_column(table)
        langs = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * len(texts)
        for i, (t, lang) in enumerate(zip(texts, langs, strict=True)):
            if lang is None:
                letters, han, _, _ = script_counts(t)
                langs[i] = "zh" if letters and han / letters >= 0.3 else "en"
        if native.AVAILABLE and p.fineweb_text == "c4_kept":  # columns straight from the C core's counts
            cols = native.batch_signals(texts, langs, p.families)
            values = {c: cols[c] for c in self.columns()}
        else:
            rows = [reference_signals(t, lang, p.families, p.fineweb_text) for t, lang in zip(texts, langs, strict=True)]
            values = {c: [r.get(c) for r in rows] for c in self.columns()}
        for c, v in values.items():
            if c.startswith(_INT_SIGNALS):
                arr = pa.array(v, pa.int64())
            else:  # six decimals; None or NaN (undefined) becomes null
                x = np.round(np.array(v, np.float64), 6)
                arr = pa.array(x, pa.float64(), mask=np.isnan(x))
            table = with_column(table, c, arr)
        return Result(table)


_INT_SIGNALS = ("n_", "c4_sentences", "c4_lorem", "c4_curly", "c4_java", "c4_policy", "c4_cit", "gq_words",
                "gq_stopwords", "rp_emails", "zh_spam")


def signal_docs() -> list[tuple[str, str, str]]:
    """(column, family, meaning) for documentation."""
    return [(c, f, m) for c, (f, m) in SIGNALS.items()]


