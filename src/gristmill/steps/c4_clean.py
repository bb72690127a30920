"""``c4_clean``: rewrite each document to the lines C4's rules keep (optional; the ``c4`` signals and preset
measure without rewriting). Chinese terminal punctuation counts, and Chinese lines count jieba words."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column
from gristmill.text.c4 import c4_lines
from gristmill.text.words import words


@dataclass
class C4CleanParams:
    min_words: int = param(3, "drop lines with fewer words", min=0)
    max_word_length: int = param(1000, "drop lines holding a longer word (characters)", min=1)


@register
class C4Clean(Step):
    """Keep only the lines C4's rules keep (terminal punctuation, ≥3 words, no javascript/cookie lines)."""

    name = "c4_clean"
    Params = C4CleanParams
    outputs = ("text", "c4_removed_lines")

    def columns(self) -> list[str]:
        return ["c4_removed_lines"]

    def process(self, table: pa.Table) -> Result:
        p: C4CleanParams = self.params
        langs = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * table.num_rows
        texts, removed = [], []
        for t, lang in zip(text_column(table), langs, strict=True):
            r = c4_lines(t, lang, min_words=p.min_words, max_word_length=p.max_word_length,
                         zh_words=lambda line: len(words(line, "zh")))
            texts.append("\n".join(r.kept))
            removed.append(r.lines - len(r.kept))
        table = with_column(table, "text", pa.array(texts, pa.string()))
        return Result(with_column(table, "c4_removed_lines", pa.array(removed, pa.int64())))
