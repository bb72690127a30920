"""``zh_spam``: Chinese spam and ads beyond a word list, as signal columns.

- ``zh_spam_contacts``: instant-messaging ids offered for business (QQ numbers, WeChat/加V ids, Telegram
  names next to their keyword), and requests to add one (``加微信咨询``);
- ``zh_spam_promo``: dark-pattern and gambling sign-up phrases (注册就送, 稳赚不赔, 名额有限, 体育app登录 …);
- ``zh_spam_score``: the probability of spam from a fastText model on jieba words and characters (the
  bundled ``resources/zh-spam.ftz``, or your own from ``gristmill spam train``); null for documents that
  are not Chinese (``lang`` not in ``langs``; without a ``lang`` column: Han under 30% of the letters).

The regular expressions are ``resources/zh_spam_patterns.txt``; the cue words stay in the ``quality`` step
(``zh_spam_cues``). Select with a filter, e.g. ``zh_spam_cues + zh_spam_contacts + zh_spam_promo == 0``.

>>> import pyarrow as pa
>>> step = ZhSpam(ZhSpamParams(score=False))
>>> t = step.process(pa.table({"id": ["a"], "text": ["加微信：abc_12345 咨询，QQ：123456789，注册就送88元"]})).table
>>> t["zh_spam_contacts"][0].as_py(), t["zh_spam_promo"][0].as_py()
(2, 1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column

ZH_SHARE = 0.3  # Han share of the letters that makes a document Chinese when there is no lang column


@dataclass
class ZhSpamParams:
    model: str | None = param(None, "fastText model from `gristmill spam train` (null: the bundled "
                                    "resources/zh-spam.ftz)")
    score: bool = param(True, "compute zh_spam_score with the model (false: only the pattern counts)")
    langs: list[str] = param(["zh"], "languages (lang column) whose documents get a zh_spam_score")


@register
class ZhSpam(Step):
    """Chinese spam signals: contact-for-business ids, dark-pattern phrases, a fastText spam score."""

    name = "zh_spam"
    path_params = ("model",)
    Params = ZhSpamParams
    outputs = ("zh_spam_contacts", "zh_spam_promo", "zh_spam_score")

    def __init__(self, params: ZhSpamParams, label: str | None = None) -> None:
        from gristmill.classify.spam import bundled_model

        super().__init__(params, label)
        self.model_path = params.model or bundled_model()
        if params.score and (not self.model_path or not os.path.exists(self.model_path)):
            raise GristmillError(f"zh_spam model not found: {self.model_path}",
                                 hint="train one with: gristmill spam train SPEC, or set score: false")
        self.clf = None

    def columns(self) -> list[str]:
        return list(self.outputs) if self.params.score else list(self.outputs[:2])

    def setup(self) -> None:
        if self.params.score and self.clf is None:
            from gristmill.classify.fasttext_model import Classifier, preparer

            self.clf = Classifier(self.model_path)
            if not os.path.exists(self.model_path + ".json"):  # e.g. shipped alone to a Ray worker
                self.clf.prepare = preparer("zh-spam")

    def _chinese(self, table: pa.Table, texts: list[str]) -> list[int]:
        if "lang" in table.column_names:
            langs = set(self.params.langs)
            return [i for i, lang in enumerate(table.column("lang").to_pylist()) if lang in langs]
        from gristmill.text.scripts import script_counts

        out = []
        for i, t in enumerate(texts):
            letters, han, _, _ = script_counts(t)
            if letters and han / letters >= ZH_SHARE:
                out.append(i)
        return out

    def process(self, table: pa.Table) -> Result:
        from gristmill.text.spam import pattern_counts

        texts = text_column(table)
        counts = [pattern_counts(t) for t in texts]
        table = with_column(table, "zh_spam_contacts", pa.array([c.get("contact", 0) for c in counts], pa.int64()))
        table = with_column(table, "zh_spam_promo", pa.array([c.get("promo", 0) for c in counts], pa.int64()))
        if self.params.score:
            self.setup()
            scores = np.full(len(texts), np.nan)
            idx = self._chinese(table, texts)
            if idx:
                scores[idx] = self.clf.scores([texts[i] for i in idx])
            table = with_column(table, "zh_spam_score", pa.array(np.round(scores, 5), mask=np.isnan(scores)))
        return Result(table)
