"""``classifier``: the score of a trained model as a signal column (quality, domain, toxicity …): a fastText
model (the probability of its positive label, or the expected score of an ordinal model trained on
annotations), or a ``.npz`` scorer: ridge on word shares (linear) or on a local model's hidden states (embed).
All come from ``gristmill train-classifier``; see docs/quality.md, "Model-based quality"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@dataclass
class ClassifierParams:
    model: str = param(doc="path of a model made by gristmill train-classifier (a fastText .bin/.ftz, or a "
                           "linear or embed scorer .npz)")
    column: str = param("quality_score", "name of the score column")
    encoder: str | None = param(None, "embedding scorers: the encoder folder, when it is no longer where the "
                                      "model was trained (null: the path stored in the model)")


FASTTEXT_MAGIC = 793712314   # the first 4 bytes (little-endian int32) of a fastText .bin/.ftz


def check_model(path: str) -> None:
    """A :class:`GristmillError` unless ``path`` is a readable fastText model file.

    >>> check_model("/etc/hostname")
    Traceback (most recent call last):
    ...
    gristmill.errors.GristmillError: not a fastText model: /etc/hostname (a .bin/.ftz from gristmill train-classifier)
    """
    import os
    import stat

    from gristmill.classify.scores import ZIP_MAGIC

    hint = "train one with: gristmill train-classifier"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise GristmillError(f"model is not a file: {path}", hint=hint)
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise GristmillError(f"model not found: {path}", hint=hint) from None
    except OSError as e:
        raise GristmillError(f"cannot read model {path}: {e.strerror or type(e).__name__}", hint=hint) from None
    if head[:2] == ZIP_MAGIC:  # an embedding scorer (.npz); loading checks the rest
        return
    if len(head) < 4 or int.from_bytes(head, "little") != FASTTEXT_MAGIC:
        raise GristmillError(f"not a fastText model: {path} (a .bin/.ftz from gristmill train-classifier)")


@register
class ClassifierStep(Step):
    """Score documents with a trained classifier or scorer (fastText, ridge on word shares, ridge on hidden states)."""

    name = "classifier"
    path_params = ("model",)
    Params = ClassifierParams

    def __init__(self, params: ClassifierParams, label: str | None = None) -> None:
        super().__init__(params, label)
        check_model(params.model)

    def columns(self) -> list[str]:
        return [self.params.column]

    def setup(self) -> None:
        from gristmill.classify.scores import load_scorer

        check_model(self.params.model)
        try:
            self.clf = load_scorer(self.params.model, self.params.encoder)
        except (OSError, ValueError, RuntimeError) as e:
            raise GristmillError(f"cannot load model {self.params.model}: {str(e)[:200]}") from None

    def process(self, table: pa.Table) -> Result:
        scores = self.clf.scores(text_column(table))
        return Result(with_column(table, self.params.column, pa.array(np.round(scores, 5))))
