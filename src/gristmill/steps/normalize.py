"""``normalize``: repair and normalise text without damaging Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from gristmill.contract import with_text
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column
from gristmill.text import normalize as tn


@dataclass
class NormalizeParams:
    terminal: bool = param(True, "remove ANSI/VT100 escape sequences (colours, cursor moves, OSC titles) and "
                                 "backspace overstrike (X\\bX bold, _\\bX underline, as man writes them), "
                                 "before the other repairs")
    fix_mojibake: bool = param(True, "repair UTF-8 read as Latin-1/cp1252 (ftfy, with Chinese punctuation kept)")
    form: Literal["NFC", "NFKC", "none"] = param("NFC", "Unicode normal form; NFKC also folds full-width "
                                                  "punctuation, so it is not the default")
    remove_controls: bool = param(True, "drop control, zero-width and BOM characters (tab and newline stay)")
    whitespace: bool = param(True, "\\r\\n to \\n, odd spaces to plain ones, strip trailing spaces "
                                   "(indentation is kept)")
    max_blank_lines: int = param(1, "keep at most this many consecutive blank lines (-1: no limit)", min=-1)
    fold_fullwidth_ascii: bool = param(False, "fold full-width Latin letters and digits (Ａ０) to ASCII; "
                                               "Chinese punctuation (，。！) is never folded")
    convert: Literal["none", "t2s", "s2t", "s2tw", "tw2s", "s2twp", "tw2sp", "hk2s", "s2hk"] = param(
        "none", "Simplified/Traditional Chinese conversion with OpenCC")


@register
class Normalize(Step):
    """Strip terminal codes, repair mojibake, normalise Unicode, controls and whitespace; optional
    Simplified<->Traditional."""

    name = "normalize"
    Params = NormalizeParams
    outputs = ("text",)

    def setup(self) -> None:
        p: NormalizeParams = self.params
        if p.convert != "none":
            self._cc = tn.opencc_converter(p.convert)

    def normalize(self, text: str, *, scan: bool = True) -> str:
        """``text`` normalised; ``scan=False`` runs every repair without looking first (the same result)."""
        p: NormalizeParams = self.params
        flags = tn.scan(text, p.max_blank_lines if p.whitespace else -1) if scan else tn.REPAIRS | tn.WHITESPACE
        if not flags & tn.REPAIRS:  # terminal codes, mojibake and controls: none (the usual case)
            return self._finish(text, flags)
        if p.terminal:
            text = tn.remove_terminal_codes(text)
        if p.fix_mojibake:
            text = tn.fix_mojibake(text)
        if p.remove_controls:
            text = tn.remove_controls(text)
        return self._finish(text, tn.WHITESPACE)

    def _finish(self, text: str, flags: int) -> str:
        """The Unicode form, full-width folding, whitespace (only where ``flags`` or a change made so far
        says it is needed) and the Chinese conversion."""
        p: NormalizeParams = self.params
        before = text
        text = tn.unicode_normalize(text, p.form)
        if p.fold_fullwidth_ascii:
            text = tn.fold_fullwidth_ascii(text)
        if p.whitespace:
            if flags & tn.WHITESPACE or text is not before and text != before:
                text = tn.normalize_whitespace(text, max_blank_lines=p.max_blank_lines)
            else:
                text = text.strip("\n")
        if p.convert != "none":
            text = self._cc.convert(text)
        return text

    def process(self, table: pa.Table) -> Result:
        out = [self.normalize(t) for t in text_column(table)]
        return Result(with_text(table, out))
