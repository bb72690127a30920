"""``toxicity``: two scores per document, ``toxicity`` (offensive or abusive, hate included) and ``hate``
(attacks on people for who they are), from the model of the document's language (bundled models for
English and Chinese), and optionally a count of words from your own lists.

The language comes, per document, from the first of: the ``lang`` column of a ``langid`` step earlier in
the recipe; the input field ``lang_field``; ``default_lang``. A language without a model is scored by
``default_lang``'s model (or not at all). ``toxicity_lang`` says which model scored each document, and the
run manifest counts, under the step's ``notes``, where the language came from (``lang from langid``,
``lang from field lang``, ``lang from default_lang``, ``no model``).

Long documents are read as windows of ``window_chars`` (up to ``max_chars`` in all) and take the highest
window's score, so a toxic paragraph is not averaged away by the rest of the page.

>>> from gristmill.recipe import load_recipe
>>> import pyarrow as pa
>>> step = load_recipe(text="steps:\\n  - step: toxicity\\n").steps[0].build(); step.setup()
>>> t = pa.table({"id": ["a"], "text": ["河南人都是骗子，滚出去"], "meta": ['{"lang": "zh"}']})
>>> res = step.process(t)
>>> res.table["toxicity_lang"][0].as_py(), res.notes
('zh', {'lang from field lang': 1})
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import regex

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.record import meta_column
from gristmill.steps.base import Result, Step, register, text_column, with_column
from gristmill.text.lang import UNKNOWN, Lang


@dataclass
class ToxicityParams:
    models: dict[str, str] = param({}, "language -> model file (.npz from `gristmill toxicity train`, or a "
                                       "fastText .ftz/.bin, which gives toxicity only); languages not given "
                                       "use the bundled en/zh models")
    lang_field: str | None = param("lang", "input field holding the document's language, used when no langid "
                                           "step ran (null: none)")
    default_lang: str | None = param("en", "model for documents whose language is unknown or has no model "
                                           "(null: no score)")
    word_lists: list[str] = param([], "files of words (one per line); toxic_words counts their occurrences")
    column: str = param("toxicity", "name of the toxicity score column")
    hate_column: str = param("hate", "name of the hate score column (null for fastText models)")
    max_chars: int = param(10_000, "characters read per document (from the start)", min=1)
    window_chars: int = param(1_000, "long documents are scored in windows of this many characters; the "
                                     "document takes its highest window", min=50)


class _FastText:
    """A fastText model from train-classifier: toxicity only."""

    def __init__(self, path: str) -> None:
        from gristmill.classify.fasttext_model import Classifier

        self.clf = Classifier(path)

    def scores(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.clf.scores(texts), np.full(len(texts), np.nan)], 1)


class _Bag:
    def __init__(self, path: str) -> None:
        from gristmill.classify.bag_model import BagModel

        self.model = BagModel.load(path)

    def scores(self, texts: list[str]) -> np.ndarray:
        from gristmill.classify.toxicity import scores_of

        return scores_of(self.model, texts)


def load_model(path: str) -> _Bag | _FastText:
    return _Bag(path) if path.endswith(".npz") else _FastText(path)


@register
class Toxicity(Step):
    """Toxicity and hate scores by the document's language (bundled English and Chinese models)."""

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
        p = self.params
        return [p.column, p.hate_column, "toxicity_lang"] + (["toxic_words"] if self.words is not None else [])

    def setup(self) -> None:
        self.clf = {lang: load_model(p) for lang, p in self.paths.items()}

    def languages(self, table: pa.Table) -> tuple[list[str | None], list[str]]:
        """The model language of each row and where it came from."""
        p: ToxicityParams = self.params
        cands = [("langid", table.column("lang").to_pylist())] if "lang" in table.column_names else []
        if p.lang_field:
            with contextlib.suppress(KeyError):   # no meta column: the input had no other fields
                cands.append((f"field {p.lang_field}", meta_column(table, p.lang_field).to_pylist()))
        found = [next(((lang, src) for src, vals in cands if (lang := _lang(vals[i])) is not None), (None, ""))
                 for i in range(table.num_rows)]
        models, how = [], []
        for lang, src in found:
            if lang in self.clf:
                models.append(lang)
                how.append(f"lang from {src}")
            elif p.default_lang in self.clf:
                models.append(p.default_lang)
                how.append("lang from default_lang")
            else:
                models.append(None)
                how.append("no model")
        return models, how

    def process(self, table: pa.Table) -> Result:
        p: ToxicityParams = self.params
        texts = text_column(table)
        models, how = self.languages(table)
        scores = np.full((len(texts), 2), np.nan)
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(models):
            if m is not None:
                groups.setdefault(m, []).append(i)
        for m, idx in groups.items():
            scores[idx] = self._windows(self.clf[m], [texts[i] for i in idx])
        for j, name in enumerate((p.column, p.hate_column)):
            s = scores[:, j]
            table = with_column(table, name, pa.array(np.round(s, 5), pa.float64(), mask=np.isnan(s)))
        table = with_column(table, "toxicity_lang", pa.array(models, pa.string()))
        if self.words is not None:
            counts = [len(self.words.findall(t.lower())) for t in texts]
            table = with_column(table, "toxic_words", pa.array(counts, pa.int64()))
        notes: dict[str, int] = {}
        for h in how:
            notes[h] = notes.get(h, 0) + 1
        return Result(table, notes=notes)

    def _windows(self, model, texts: list[str]) -> np.ndarray:
        """Scores of each text's highest window."""
        p: ToxicityParams = self.params
        w = p.window_chars
        pieces, owner = [], []
        for i, t in enumerate(texts):
            t = t[: p.max_chars]
            for s in range(0, max(len(t), 1), w):
                pieces.append(t[s:s + w])
                owner.append(i)
        s = model.scores(pieces)
        out = np.full((len(texts), 2), -np.inf)
        np.maximum.at(out, np.array(owner), s)
        return out


def _lang(v: object) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return None
    try:
        lang = str(Lang.parse(v))
    except ValueError:
        return None
    return None if lang == UNKNOWN else lang
