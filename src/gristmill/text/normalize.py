"""Unicode repair and normalisation that keeps Chinese intact.

>>> fix_mojibake("æ\\x88\\x91ä»¬")     # UTF-8 Chinese that was decoded as Latin-1
'我们'
>>> fold_fullwidth_ascii("ＧＰＴ－４，你好！")   # letters and digits fold; Chinese punctuation stays
'GPT－4，你好！'
>>> remove_terminal_codes("N\bNA\bAM\bME\bE  _\bf_\bi_\bl_\be  \x1b[1;31m名称\x1b[0m")  # man bold, underline; colour
'NAME  file  名称'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from gristmill.text.native import CORE

_c_scan = getattr(CORE, "norm_scan", None)  # the C core's scan, when built and not turned off

# A UTF-8 lead byte seen as Latin-1/cp1252 followed by a continuation byte seen the same way: the mark of
# the mojibake ftfy can undo. Text without it is left alone, which keeps the step fast on clean text.
_CONT = "\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d" \
        "\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
MOJIBAKE_HINT = re.compile(f"[\u00c2-\u00f4][{_CONT}]")

# C0/C1 controls except tab and newline, plus zero-width and BOM characters that carry no text.
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u2060\ufeff]")
_TRAILING_WS = re.compile(r"[ \t\u3000\u00a0]+$", re.M)
_ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")
# Terminal output: 7-bit escape sequences (ECMA-48) and nroff's backspace overstrike. The 8-bit CSI (U+009B)
# is left to remove_controls: it also appears in UTF-8 text read as Latin-1, which fix_mojibake repairs.
_ESCAPES = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]"               # CSI: colours (SGR), cursor moves, erasing
    "|\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)"    # OSC: window titles, hyperlinks (ended by BEL or ST)
    "|\x1b[PX^_][^\x1b]*\x1b\\\\"              # DCS, SOS, PM and APC strings
    "|\x1b[ -/]*[0-Z\\\\^-~]")                # the rest: ESC ( B, ESC =, ESC 7 … (not a cut-short [ or ])
_CUT_SHORT = re.compile("\x1b\\[[0-?]*[ -/]*|\x1b\\][0-9;]*")   # a CSI or OSC interrupted by another
_UNDERLINE_AFTER = re.compile("([^\x08\n])\x08_")       # X BS _ : X underlined (the underscore second)
_STRUCK = re.compile("[^\x08\n]\x08(?=[^\x08\n])")    # X BS Y : Y printed over X (bold X BS X, _ BS X)
_ODD_WS = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u2028\u2029]")  # what scan() calls odd whitespace
_FW_ALNUM = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
             for c in range(r[0], r[1] + 1)}


@lru_cache(maxsize=1)
def _ftfy_config():
    import ftfy

    # ftfy's defaults turn full-width Chinese punctuation into ASCII and uncurl “” quotes: both off.
    return ftfy.TextFixerConfig(fix_character_width=False, uncurl_quotes=False, normalization=None,
                                fix_line_breaks=False, remove_control_chars=False, explain=False)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-Latin-1/cp1252 damage; text without the telltale pattern is returned as is."""
    if text.isascii() or not MOJIBAKE_HINT.search(text):
        return text
    import ftfy

    return ftfy.fix_text(text, _ftfy_config())


def fold_fullwidth_ascii(text: str) -> str:
    """Fold full-width Latin letters and digits (Ａ, ０) to ASCII; punctuation such as ，！ stays."""
    return text.translate(_FW_ALNUM)


def normalize_whitespace(text: str, *, max_blank_lines: int = 1) -> str:
    """Line endings to \\n, odd spaces (NBSP, thin, en…) to a plain space, trailing spaces removed,
    at most ``max_blank_lines`` blank lines in a row (-1: no limit). Indentation is kept (code, tables).

    >>> normalize_whitespace("a\\u00a0b  \\r\\n\\r\\n\\r\\n  c\\u3000")
    'a b\\n\\n  c'
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = _ODD_SPACES.sub(" ", text.replace("\u2028", "\n").replace("\u2029", "\n\n"))
    if _has_trailing_space(text):
        text = _TRAILING_WS.sub("", text)
    if max_blank_lines >= 0 and "\n" * (max_blank_lines + 2) in text:
        text = re.sub(f"\n{{{max_blank_lines + 2},}}", "\n" * (max_blank_lines + 1), text)
    return text.strip("\n")


def _has_trailing_space(text: str) -> bool:
    """Cheap substring checks before the regex (most lines have no trailing space)."""
    return (" \n" in text or "\t\n" in text or text[-1:] in (" ", "\t", "\u3000", "\u00a0")
            or (not text.isascii() and ("\u3000\n" in text or "\u00a0\n" in text)))


REPAIRS, WHITESPACE = 1, 2  # what :func:`scan` finds


def scan(text: str, max_blank_lines: int = 1) -> int:
    r"""What the repairs and :func:`normalize_whitespace` would change in ``text``, in one pass: ``REPAIRS``
    (a control, zero-width or BOM character, which covers terminal codes, or the mojibake mark),
    ``WHITESPACE`` (a carriage return, an odd space, a trailing space, a run of blank lines over
    ``max_blank_lines``; -1: runs are not looked for). Text with neither changes only by its Unicode form
    and the newlines stripped at its ends. The C core's ``norm_scan`` when built.

    >>> scan("plain text\nline two"), scan("tab\t\nend"), scan("\x1b[1mbold"), scan("cafÃ©")
    (0, 2, 1, 1)
    """
    if _c_scan is not None:
        return _c_scan(text, max_blank_lines)
    return scan_py(text, max_blank_lines)


def scan_py(text: str, max_blank_lines: int = 1) -> int:
    """:func:`scan` with the regular expressions (the reference of the C core's)."""
    flags = REPAIRS if (_CONTROL.search(text) or (not text.isascii() and MOJIBAKE_HINT.search(text))) else 0
    if ("\r" in text or _has_trailing_space(text) or (not text.isascii() and _ODD_WS.search(text))
            or (max_blank_lines >= 0 and "\n" * (max_blank_lines + 2) in text)):
        flags |= WHITESPACE
    return flags


def remove_terminal_codes(text: str) -> str:
    """Remove ANSI/VT100 escape sequences and resolve backspace overstrike as ``man``/``nroff`` write bold
    (``X\\bX``) and underline (``_\\bX`` or ``X\\b_``): the character that stays is the one a reader saw, as
    ``col -b`` keeps it. Sequences written inside one another (a colour code inserted into another, as in
    some fortune files) are removed inside out; lone backspaces are left for :func:`remove_controls`."""
    for _ in range(4):
        if "\x1b" not in text:
            break
        text, n = _ESCAPES.subn("", text)
        if not n:
            break
    if "\x1b" in text:
        text = _CUT_SHORT.sub("", text)
    if "\x08" in text:
        text = _STRUCK.sub("", _UNDERLINE_AFTER.sub(r"\1", text))
    return text


def remove_controls(text: str) -> str:
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def unicode_normalize(text: str, form: str) -> str:
    if form == "none" or text.isascii():
        return text
    return unicodedata.normalize(form, text)


@lru_cache(maxsize=8)
def opencc_converter(config: str):
    import opencc

    return opencc.OpenCC(config if config.endswith(".json") else config + ".json")
