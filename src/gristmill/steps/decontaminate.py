"""``decontaminate``: find benchmark text in documents with a prebuilt n-gram index; mark the documents,
remove them, or cut the matching spans with a margin (GPT-3 / NeMo style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.dedup.shingles import shingle_hashes, token_spans
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@lru_cache(maxsize=4)
def _index(path: str):
    from gristmill.decontam.index import DecontamIndex

    return DecontamIndex(path)


@dataclass
class DecontaminateParams:
    index: str = param(doc="index folder made by gristmill decontam build")
    action: Literal["mark", "remove", "cut"] = param("remove", "mark (columns only), remove the document, or "
                                                               "cut the matching spans")
    min_ngrams: int = param(1, "matching n-grams needed before a document counts as contaminated", min=1)
    margin: int = param(200, "cut: characters removed on each side of a matching span", min=0)
    min_chars: int = param(200, "cut: reject the document if less than this is left", min=0)


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
        n = idx.n
        texts = text_column(table)
        counts, benches, items = [], [], []
        reject = np.zeros(len(texts), dtype=bool)
        reasons, details = [], []
        for i, t in enumerate(texts):
            h = shingle_hashes(t, n, distinct=False)
            hit, owners = idx.match(h)
            k = int(hit.sum())
            counts.append(k)
            found = sorted(set(owners.tolist()))
            benches.append(",".join(sorted({idx.items[o]["benchmark"] for o in found})) or None)
            items.append(",".join(idx.items[o]["id"] for o in found[:20]) or None)
            if k < p.min_ngrams:
                continue
            if p.action == "remove":
                reject[i] = True
                reasons.append("contaminated")
                details.append(f"{k} benchmark {n}-grams from {benches[-1]} ({items[-1]})")
            elif p.action == "cut":
                starts, ends = token_spans(t)
                if len(starts) != len(h) + n - 1:  # positions unreliable: drop the whole document
                    reject[i] = True
                    reasons.append("contaminated")
                    details.append(f"{k} benchmark {n}-grams; positions unavailable, document removed")
                    continue
                keep = np.ones(len(t) + 1, dtype=np.int64)
                diff = np.zeros(len(t) + 1, dtype=np.int64)
                for g in np.nonzero(hit)[0]:
                    a = max(int(starts[g]) - p.margin, 0)
                    b = min(int(ends[g + n - 1]) + p.margin, len(t))
                    diff[a] += 1
                    diff[b] -= 1
                keep = np.cumsum(diff)[:len(t)] == 0
                new = "".join(ch for ch, k_ in zip(t, keep, strict=True) if k_)
                texts[i] = new
                if len(new) < p.min_chars:
                    reject[i] = True
                    reasons.append("contaminated")
                    details.append(f"{len(new)} characters left after cutting {benches[-1]} spans")
        table = with_column(table, "text", pa.array(texts, pa.string()))
        table = with_column(table, "contam_ngrams", pa.array(counts, pa.int64()))
        table = with_column(table, "contam_benchmarks", pa.array(benches, pa.string()))
        table = with_column(table, "contam_items", pa.array(items, pa.string()))
        return Result(table, reject, reasons, details)
