"""``line_dedup``: remove lines or paragraphs that repeat across many documents (CCNet / Dolma style:
navigation, cookie banners, footers), then drop documents left too short.

Map phase: each document contributes the hashes of its distinct normalised units (lower case, digits to 0,
punctuation and spaces dropped). Reduce: units found in at least ``min_docs`` documents are boilerplate.
Apply: boilerplate units are cut from every document; ``boiler_units`` and ``boiler_chars_frac`` record what
was removed; a document left under ``min_chars`` is rejected.

>>> unit_key("  Copyright © 2024 ACME Inc. All rights reserved. ")
'copyright0000acmeincallrightsreserved'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import regex
import xxhash

from gristmill.contract import Result, Step, register, text_column, with_column
from gristmill.dedup.exact import _bucket_groups
from gristmill.params import param

N_BITS = 8
_NORM = regex.compile(r"[\p{P}\p{S}\s]+")
_DIGIT = regex.compile(r"\p{Nd}")
_PARA = re.compile(r"\n\s*\n")


def unit_key(unit: str) -> str:
    return _NORM.sub("", _DIGIT.sub("0", unit.lower()))


def _hash(key: str) -> int:
    return xxhash.xxh3_64_intdigest(key.encode("utf-8", "surrogatepass")) | 1


@dataclass
class LineDedupParams:
    unit: Literal["line", "paragraph"] = param("line", "what is counted and removed")
    min_docs: int = param(5, "a unit found in at least this many documents is boilerplate", min=2)
    min_unit_chars: int = param(10, "units whose normalised form is shorter are never counted or removed", min=1)
    min_chars: int = param(50, "reject documents shorter than this after removal (characters)", min=0)
    keep_first: bool = param(False, "the first document (input order) holding a repeated unit keeps it, as "
                                    "Dolma's paragraph dedup does; otherwise it is cut everywhere")


@register
class LineDedup(Step):
    """Remove lines/paragraphs repeated across many documents (boilerplate); drop documents left too short."""

    name = "line_dedup"
    Params = LineDedupParams
    kind = "global"
    outputs = ("text", "boiler_units", "boiler_chars_frac")

    def columns(self) -> list[str]:
        return ["boiler_units", "boiler_chars_frac"]

    def _units(self, text: str) -> list[str]:
        return text.split("\n") if self.params.unit == "line" else _PARA.split(text)

    def _doc_hashes(self, text: str) -> list[int]:
        return [_hash(k) for u in self._units(text) if len(k := unit_key(u)) >= self.params.min_unit_chars]

    def map_state(self, table: pa.Table, resolve) -> tuple[np.ndarray, np.ndarray]:
        out = [np.unique(np.array(self._doc_hashes(t), dtype=np.uint64)) for t in text_column(table)]
        counts = np.fromiter(map(len, out), dtype=np.int64, count=len(out))
        return (np.concatenate(out) if out else np.zeros(0, np.uint64)), counts

    def save_state(self, path: str, parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        h = np.concatenate([x[0] for x in parts]) if parts else np.zeros(0, np.uint64)
        counts = np.concatenate([x[1] for x in parts]) if parts else np.zeros(0, np.int64)
        rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        bucket = (h >> np.uint64(64 - N_BITS)).astype(np.int64)
        order = np.argsort(bucket, kind="stable")
        offsets = np.searchsorted(bucket[order], np.arange((1 << N_BITS) + 1))
        rec = np.empty(len(h), dtype=[("h", "<u8"), ("row", "<i8")])
        rec["h"], rec["row"] = h[order], rows[order]
        for target, arr in ((path + ".offsets.npy", offsets), (path, rec)):
            with open(target + ".tmp", "wb") as f:
                np.save(f, arr)
            os.replace(target + ".tmp", target)

    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        states = [(np.load(p, mmap_mode="r"), np.load(p + ".offsets.npy")) if os.path.exists(p) else None
                  for p in state_paths]
        freq, owner_shard, owner_row = [], [], []
        for lo_b, hi_b in _bucket_groups(states):
            hs, shards, rows = [], [], []
            for s, st in enumerate(states):
                if st is not None and st[1][hi_b] > st[1][lo_b]:
                    part = np.asarray(st[0][st[1][lo_b]:st[1][hi_b]])
                    hs.append(part["h"])
                    rows.append(part["row"])
                    shards.append(np.full(len(part), s, dtype=np.int64))
            if not hs:
                continue
            h, sh, rw = np.concatenate(hs), np.concatenate(shards), np.concatenate(rows)
            order = np.lexsort((rw, sh, h))
            h, sh, rw = h[order], sh[order], rw[order]
            vals, first, counts = np.unique(h, return_index=True, return_counts=True)
            m = counts >= self.params.min_docs
            freq.append(vals[m])
            owner_shard.append(sh[first[m]])
            owner_row.append(rw[first[m]])
        cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))  # noqa: E731
        out = np.empty(sum(len(x) for x in freq), dtype=[("h", "<u8"), ("shard", "<i8"), ("row", "<i8")])
        out["h"], out["shard"], out["row"] = cat(freq, np.uint64), cat(owner_shard, np.int64), cat(owner_row, np.int64)
        os.makedirs(decision_dir, exist_ok=True)
        tmp = os.path.join(decision_dir, "frequent.tmp.npy")
        np.save(tmp, out)
        os.replace(tmp, os.path.join(decision_dir, "frequent.npy"))
        return {"repeated_units": int(len(out))}

    @staticmethod
    def load_decision(decision_dir: str, shard: int):
        return np.load(os.path.join(decision_dir, "frequent.npy")), shard

    def apply(self, table: pa.Table, decision, offset: int, kept_id) -> Result:
        p: LineDedupParams = self.params
        frequent, shard = decision
        if not hasattr(self, "_owner"):
            self._owner = dict(zip(frequent["h"].tolist(), zip(frequent["shard"].tolist(),
                                                               frequent["row"].tolist(), strict=True), strict=True))
        owner = self._owner
        sep = "\n" if p.unit == "line" else "\n\n"
        texts, removed, fracs = [], [], []
        for j, t in enumerate(text_column(table)):
            units = self._units(t)
            keep, gone = [], 0
            me = (shard, offset + j)
            for u in units:
                k = unit_key(u)
                if len(k) >= p.min_unit_chars and (o := owner.get(_hash(k))) is not None \
                        and not (p.keep_first and o == me):
                    gone += len(u)
                else:
                    keep.append(u)
            new = sep.join(keep).strip("\n") if gone else t
            texts.append(new)
            removed.append(len(units) - len(keep))
            fracs.append(round(gone / len(t), 4) if t else 0.0)
        table = with_column(table, "text", pa.array(texts, pa.string()))
        table = with_column(table, "boiler_units", pa.array(removed, pa.int64()))
        table = with_column(table, "boiler_chars_frac", pa.array(fracs, pa.float64()))
        short = np.array([len(t) < p.min_chars for t in texts], dtype=bool)
        details = [f"{len(texts[i])} characters left after removing {removed[i]} boilerplate {p.unit}s"
                   for i in np.nonzero(short)[0]]
        return Result(table, short, ["too_short_after_boilerplate"] * len(details), details)
