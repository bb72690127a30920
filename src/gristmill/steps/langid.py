"""``langid``: language and score per document with the bundled fastText lid.176 model, plus Han share."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column
from gristmill.text.lang import Lang, normalise_label
from gristmill.text.scripts import script_counts


@dataclass
class LangIdParams:
    keep: list[Lang] | None = param(None, "languages to keep (null: annotate only, reject nothing)")
    min_score: float = param(0.0, "reject documents whose language score is below this", min=0, max=1)
    max_chars: int = param(2000, "characters from the start of the document given to the model", min=1)
    zh_min_han: float = param(0.3, "label a document zh when at least this share of its letters are Han "
                                   "characters and it has no kana or Hangul to speak of (mixed zh/en "
                                   "technical text)", min=0, max=1)


@lru_cache(maxsize=1)
def load_model():
    import fasttext

    path = resources.files("gristmill") / "resources" / "lid.176.ftz"
    with resources.as_file(path) as p:
        return fasttext.load_model(str(p))


def decide(label: str, score: float, letters: int, han: int, kana: int, hangul: int,
           zh_min_han: float) -> tuple[str, float]:
    """Combine the model's answer with script counts (documented rule for mixed Chinese/English text)."""
    han_frac = han / letters if letters else 0.0
    if han_frac >= zh_min_han and kana < 0.05 * han and hangul < 0.05 * han:
        return "zh", score if label == "zh" else han_frac
    if letters == 0:
        return "und", 0.0
    return label, score


@register
class LangId(Step):
    """Language ID per document (fastText lid.176, offline) with score and Han-character share."""

    name = "langid"
    Params = LangIdParams
    outputs = ("lang", "lang_score", "han_frac")

    def setup(self) -> None:
        self.model = load_model()

    def process(self, table: pa.Table) -> Result:
        p: LangIdParams = self.params
        texts = text_column(table)
        samples = [t[: p.max_chars].replace("\n", " ").replace("\r", " ") for t in texts]
        labels, scores = self.model.predict(samples, k=1) if samples else ([], [])
        langs, out_scores, han_fracs = [], np.zeros(len(texts)), np.zeros(len(texts))
        for i, (t, lab, sc) in enumerate(zip(texts, labels, scores, strict=True)):
            letters, han, kana, hangul = script_counts(t)
            lang, s = decide(normalise_label(lab[0]), float(sc[0]), letters, han, kana, hangul, p.zh_min_han)
            langs.append(lang)
            out_scores[i] = min(s, 1.0)
            han_fracs[i] = han / letters if letters else 0.0
        table = with_column(table, "lang", pa.array(langs, pa.string()))
        table = with_column(table, "lang_score", pa.array(np.round(out_scores, 4)))
        table = with_column(table, "han_frac", pa.array(np.round(han_fracs, 4)))
        reject = np.zeros(len(texts), dtype=bool)
        reasons, details = [], []
        if p.keep is not None or p.min_score > 0:
            keep = set(p.keep) if p.keep is not None else None
            for i, lang in enumerate(langs):
                if keep is not None and lang not in keep:
                    reject[i] = True
                    reasons.append("language")
                    details.append(f"lang={lang} score={out_scores[i]:.3f} not in {sorted(keep)}")
                elif out_scores[i] < p.min_score:
                    reject[i] = True
                    reasons.append("low_score")
                    details.append(f"lang={lang} score={out_scores[i]:.3f} < {p.min_score}")
        return Result(table, reject, reasons, details)
