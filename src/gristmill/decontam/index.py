"""Build and query an n-gram index of benchmark items (GPT-3 / NeMo style).

Items are tokenised like the dedup shingles (words for space-delimited scripts, single characters for
Chinese), so ``n`` tokens are ``n`` words of English or ``n`` characters of Chinese. An n-gram found in more
than ``max_item_frequency`` items (boilerplate such as answer templates) is dropped; items shorter than ``n``
tokens cannot be indexed and are counted as such.

>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "b.jsonl").write_text(json.dumps({"id": "q1", "text": "one two three four five six seven"}) + "\\n")
>>> info = build_index([("toy", str(d / "b.jsonl"), ["text"])], str(d / "idx"), n=5)
>>> info["benchmarks"]["toy"]["indexed_items"], DecontamIndex(str(d / "idx")).match_text("x one two three four five y")[0]
(1, 1)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from gristmill.dedup.shingles import shingle_hashes, tokens
from gristmill.errors import GristmillError


def _records(path: str):
    p = Path(path)
    if not p.exists():
        raise GristmillError(f"benchmark file not found: {path}")
    name = p.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json")):
        import gzip

        op = gzip.open if name.endswith(".gz") else open
        with op(p, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if line.strip():
                    rec = json.loads(line)
                    yield str(rec.get("id", f"{p.name}:{i}")), rec
    elif name.endswith(".csv"):
        import csv

        with open(p, newline="", encoding="utf-8") as f:
            for i, rec in enumerate(csv.DictReader(f)):
                yield str(rec.get("id", f"{p.name}:{i}")), rec
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, rec in enumerate(pq.read_table(p).to_pylist()):
            yield str(rec.get("id", f"{p.name}:{i}")), rec
    else:
        raise GristmillError(f"cannot read benchmark file {path}", hint="use JSONL, CSV or Parquet")


def _item_text(rec: dict, fields: list[str]) -> str:
    parts = []
    for f in fields:
        v = rec.get(f)
        if isinstance(v, list):
            parts.extend(str(x) for x in v)
        elif v is not None:
            parts.append(str(v))
    return "\n".join(parts)


def build_index(sources: list[tuple[str, str, list[str]]], out_dir: str, *, n: int = 13,
                max_item_frequency: int = 10) -> dict:
    """Index benchmark items: ``sources`` are (benchmark name, file, fields whose text is joined)."""
    hashes, owners, items, info = [], [], [], {}
    for name, path, fields in sources:
        st = info.setdefault(name, {"items": 0, "indexed_items": 0, "too_short": 0, "file": path})
        for rid, rec in _records(path):
            st["items"] += 1
            text = _item_text(rec, fields)
            if len(tokens(text)) < n:
                st["too_short"] += 1
                continue
            h = shingle_hashes(text, n)
            st["indexed_items"] += 1
            hashes.append(h)
            owners.append(np.full(len(h), len(items), np.int32))
            items.append({"benchmark": name, "id": rid})
    if not items:
        raise GristmillError("no benchmark item could be indexed", hint=f"items need at least {n} tokens")
    h, o = np.concatenate(hashes), np.concatenate(owners)
    order = np.lexsort((o, h))
    h, o = h[order], o[order]
    uniq, first, counts = np.unique(h, return_index=True, return_counts=True)
    # distinct items per n-gram: an n-gram in too many items is boilerplate
    items_per = np.add.reduceat(np.r_[True, (h[1:] != h[:-1]) | (o[1:] != o[:-1])].astype(np.int64), first)
    keep = items_per <= max_item_frequency
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "ngrams.npy"), uniq[keep])
    np.save(os.path.join(out_dir, "owner.npy"), o[first][keep])
    with open(os.path.join(out_dir, "items.jsonl"), "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    meta = {"n": n, "max_item_frequency": max_item_frequency, "ngrams": int(keep.sum()),
            "dropped_common_ngrams": int((~keep).sum()), "benchmarks": info,
            "bytes": int(keep.sum() * 12)}
    Path(out_dir, "index.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return meta


class DecontamIndex:
    """A built index: ``match(hashes)`` marks which document n-grams are benchmark n-grams."""

    def __init__(self, path: str) -> None:
        meta_path = Path(path, "index.json")
        if not meta_path.exists():
            raise GristmillError(f"no decontamination index in {path}", hint="build one: gristmill decontam build")
        self.meta = json.loads(meta_path.read_text())
        self.n = self.meta["n"]
        self.ngrams = np.load(os.path.join(path, "ngrams.npy"))
        self.owner = np.load(os.path.join(path, "owner.npy"))
        with open(os.path.join(path, "items.jsonl"), encoding="utf-8") as f:
            self.items = [json.loads(line) for line in f]

    def match(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(boolean mask over ``hashes``, owning item of each matching n-gram)."""
        if len(hashes) == 0 or len(self.ngrams) == 0:
            return np.zeros(len(hashes), bool), np.zeros(0, np.int64)
        pos = np.searchsorted(self.ngrams, hashes)
        pos[pos == len(self.ngrams)] = 0
        hit = self.ngrams[pos] == hashes
        return hit, self.owner[pos[hit]]

    def match_text(self, text: str) -> tuple[int, list[dict]]:
        hit, owners = self.match(shingle_hashes(text, self.n, distinct=False))
        return int(hit.sum()), [self.items[i] for i in sorted(set(owners.tolist()))]
