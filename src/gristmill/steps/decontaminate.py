"""``decontaminate``: find benchmark items in documents with a prebuilt index; mark the documents, remove
them, or cut the matching spans with a margin (GPT-3 / NeMo style).

Documents are normalised like the items (option letters, ``答案：``-style labels, punctuation and layout
dropped; see :mod:`gristmill.decontam.normalize`), so a multiple-choice item is found however its options
are laid out, and ``cut`` removes the matching characters of the original text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@lru_cache(maxsize=4)
def _index(path: str):
    from gristmill.decontam.match import DecontamIndex

    return DecontamIndex(path)


@dataclass
class DecontaminateParams:
    index: str = param(doc="index folder made by gristmill decontam build")
    action: Literal["mark", "remove", "cut"] = param("remove", "mark (columns only), remove the document, or "
                                                               "cut the matching spans")
    min_ngrams: int = param(1, "matching windows (item n-grams, whole short items) needed before a "
                               "document counts as contaminated", min=1)
    margin: int = param(200, "cut: characters removed on each side of a matching span", min=0)
    min_chars: int = param(200, "cut: reject the document if less than this is left", min=0)


def cut_spans(text: str, spans: list[tuple[int, int]], margin: int) -> str:
    """``text`` without ``spans`` (character [start, end) pairs) widened by ``margin`` on each side.

    >>> cut_spans("keep this. BENCHMARK ITEM. keep that.", [(11, 26)], 1)
    'keep this.keep that.'
    """
    out, pos = [], 0
    for a, b in sorted(spans):
        a, b = max(a - margin, 0), min(b + margin, len(text))
        if a > pos:
            out.append(text[pos:a])
        pos = max(pos, b)
    out.append(text[pos:])
    return "".join(out)


@register
class Decontaminate(Step):
    """Find benchmark items in documents (word n-grams for English, character n-grams for Chinese)."""

    name = "decontaminate"
    path_params = ("index",)
    Params = DecontaminateParams
    outputs = ("text", "contam_ngrams", "contam_benchmarks", "contam_items")

    def __init__(self, params: DecontaminateParams, label: str | None = None) -> None:
        from gristmill.errors import GristmillError

        super().__init__(params, label)
        if not os.path.exists(os.path.join(params.index, "index.json")):
            raise GristmillError(f"no decontamination index in {params.index}",
                                 hint="build one: gristmill decontam build")

    def columns(self) -> list[str]:
        return ["contam_ngrams", "contam_benchmarks", "contam_items"]

    def process(self, table: pa.Table) -> Result:
        p: DecontaminateParams = self.params
        idx = _index(os.path.abspath(p.index))
        texts = text_column(table)
        matches = idx.scan([t or "" for t in texts])
        counts, benches, items = [], [], []
        reject = np.zeros(len(texts), dtype=bool)
        reasons, details = [], []
        for i, m in enumerate(matches):
            counts.append(m.hits)
            benches.append(",".join(sorted({idx.items[o]["benchmark"] for o in m.items})) or None)
            items.append(",".join(idx.items[o]["id"] for o in m.items[:20]) or None)
            if m.hits < p.min_ngrams:
                continue
            if p.action == "remove":
                reject[i] = True
                reasons.append("contaminated")
                details.append(f"{m.hits} benchmark windows from {benches[-1]} ({items[-1]})")
            elif p.action == "cut":
                texts[i] = cut_spans(texts[i], m.spans, p.margin)
                if len(texts[i]) < p.min_chars:
                    reject[i] = True
                    reasons.append("contaminated")
                    details.append(f"{len(texts[i])} characters left after cutting {benches[-1]} spans")
        table = with_column(table, "text", pa.array(texts, pa.string()))
        table = with_column(table, "contam_ngrams", pa.array(counts, pa.int64()))
        table = with_column(table, "contam_benchmarks", pa.array(benches, pa.string()))
        table = with_column(table, "contam_items", pa.array(items, pa.string()))
        return Result(table, reject, reasons, details)
