"""``toxicity``: a toxicity score per document from a fastText model chosen by the document's language
(bundled English and Chinese models by default), and optionally a count of words from your own lists."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import regex

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@dataclass
class ToxicityParams:
    models: dict[str, str] = param({}, "language -> model file (from train-classifier or toxicity train); "
                                       "languages not given use the bundled en/zh models")
    default_lang: str | None = param("en", "model for documents of other languages (null: no score)")
    word_lists: list[str] = param([], "files of words (one per line); toxic_words counts their occurrences")
    column: str = param("toxicity", "name of the score column")


@register
class Toxicity(Step):
    """Toxicity score (bundled fastText models for English and Chinese) and optional word-list counts."""

    name = "toxicity"
    path_params = ("models", "word_lists")
    Params = ToxicityParams

    def __init__(self, params: ToxicityParams, label: str | None = None) -> None:
        from gristmill.classify.toxicity import bundled_models

        super().__init__(params, label)
        self.paths = bundled_models() | dict(params.models)
        for lang, p in self.paths.items():
            if not os.path.exists(p):
                raise GristmillError(f"toxicity model for {lang} not found: {p}")
        words = []
        for f in params.word_lists:
            if not os.path.exists(f):
                raise GristmillError(f"word list not found: {f}")
            words += [w.strip().lower() for w in Path(f).read_text(encoding="utf-8").splitlines()
                      if w.strip() and not w.startswith("#")]
        self.words = regex.compile("|".join(
            (rf"\b{regex.escape(w)}\b" if w.isascii() else regex.escape(w)) for w in sorted(set(words), key=len,
                                                                                           reverse=True))) if words else None

    def columns(self) -> list[str]:
        return [self.params.column] + (["toxic_words"] if self.words is not None else [])

    def setup(self) -> None:
        from gristmill.classify.fasttext_model import Classifier

        self.clf = {lang: Classifier(p) for lang, p in self.paths.items()}

    def process(self, table: pa.Table) -> Result:
        p: ToxicityParams = self.params
        texts = text_column(table)
        langs = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * len(texts)
        scores = np.full(len(texts), np.nan)
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            model = lang if lang in self.clf else p.default_lang
            if model in self.clf:
                groups.setdefault(model, []).append(i)
        for model, idx in groups.items():
            scores[idx] = self.clf[model].scores([texts[i] for i in idx])
        table = with_column(table, p.column, pa.array(np.round(scores, 5), mask=np.isnan(scores)))
        if self.words is not None:
            counts = [len(self.words.findall(t.lower())) for t in texts]
            table = with_column(table, "toxic_words", pa.array(counts, pa.int64()))
        return Result(table)
