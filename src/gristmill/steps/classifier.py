"""``classifier``: the score of a trained fastText model as a signal column (quality, domain, toxicity …)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@dataclass
class ClassifierParams:
    model: str = param(doc="path of a model made by gristmill train-classifier (a fastText .bin/.ftz)")
    column: str = param("quality_score", "name of the score column")


@register
class ClassifierStep(Step):
    """Score documents with a trained fastText classifier (probability of its positive label)."""

    name = "classifier"
    path_params = ("model",)
    Params = ClassifierParams

    def __init__(self, params: ClassifierParams, label: str | None = None) -> None:
        import os

        from gristmill.errors import GristmillError

        super().__init__(params, label)
        if not os.path.exists(params.model):
            raise GristmillError(f"model not found: {params.model}", hint="train one with: gristmill train-classifier")

    def columns(self) -> list[str]:
        return [self.params.column]

    def setup(self) -> None:
        from gristmill.classify.fasttext_model import Classifier

        self.clf = Classifier(self.params.model)

    def process(self, table: pa.Table) -> Result:
        scores = self.clf.scores(text_column(table))
        return Result(with_column(table, self.params.column, pa.array(np.round(scores, 5))))
