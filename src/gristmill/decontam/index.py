"""Build an index of benchmark items: n-grams of one normalised token sequence per item (GPT-3 / NeMo
style, see :mod:`gristmill.decontam.normalize`), of a length chosen per item, and a whole-item hash for items
shorter than n.

A document holds an item when its matching n-grams, in one stretch of the document, cover enough of the
item (``IndexSettings``: 13 tokens, or half its distinctive tokens but at least 8); each item's n-gram length
is the longest that still leaves that much after two edits anywhere in a copy (13 for items of 39 tokens or
more, down to 5). Items shorter than ``n`` are also indexed by a hash of the whole item; items shorter than
``min_item_tokens`` (4) cannot be matched. A window found in more than ``max_item_frequency`` (10) items —
counted over every item's windows of that length, long items included — is boilerplate and dropped: the
tokens only such windows cover are not distinctive, and an item left with fewer than ``short_n`` (8)
distinctive tokens falls back on its whole-item hash. The build report counts, per benchmark, the items
matched by full n-grams, by shorter n-grams, by their whole-item hash only, and those that cannot be matched.

>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> rows = [{"id": "q1", "question": "甲状腺的动脉来自", "choices": ["颈内动脉", "颈外动脉", "锁骨下动脉的分支", "颈总动脉"]}]
>>> _ = (d / "b.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\\n" for r in rows))
>>> info = build_index([("cmmlu", str(d / "b.jsonl"), ["question", "choices"])], str(d / "idx"))
>>> info["benchmarks"]["cmmlu"]["short_ngram"], DecontamIndex(str(d / "idx")).match_text(
...     "甲状腺的动脉来自（ ） A. 颈内动脉 B. 颈外动脉 C. 锁骨下动脉的分支 D. 颈总动脉 答案：D")[1][0]["id"]
(1, 'q1')
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from gristmill.decontam.items import IndexSettings, item_text, records
from gristmill.decontam.match import FORMAT, DecontamIndex
from gristmill.decontam.normalize import Tokens, groups, normalise, windows
from gristmill.errors import GristmillError

__all__ = ["DecontamIndex", "build_index"]


def _normalise_all(texts: list[str]) -> Tokens:
    parts = []
    for a, b in groups(texts):
        t = normalise(texts[a:b])
        t.doc += a
        parts.append(t)
    return Tokens(*(np.concatenate([getattr(p, k) for p in parts]) for k in
                    ("hash", "start", "end", "doc", "open", "close")))


def _item_counts(h: np.ndarray, item: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """For each window, how many distinct items hold its hash; and the first window of each (hash, item)."""
    order = np.argsort(h)
    hs = h[order]
    group = np.cumsum(np.r_[True, hs[1:] != hs[:-1]]) - 1
    key = group * n_items + item[order]
    korder = np.argsort(key, kind="stable")
    ks = key[korder]
    first = np.r_[True, ks[1:] != ks[:-1]]
    per_group = np.bincount(ks[first] // n_items, minlength=int(group[-1]) + 1 if len(group) else 0)
    count = np.empty(len(h), np.int64)
    count[order] = per_group[group]
    return count, np.sort(order[korder[first]])


def build_index(sources: list[tuple[str, str, list[str]]], out_dir: str, *, n: int = 13,
                max_item_frequency: int = 10, settings: IndexSettings | None = None) -> dict:
    """Index benchmark items: ``sources`` are (benchmark name, file, fields whose text makes the item)."""
    s = settings or IndexSettings(max_item_frequency=max_item_frequency).with_n(n)
    items, texts, files = [], [], {}
    for name, path, fields in sources:
        files[name] = path
        for rid, rec in records(path):
            items.append({"benchmark": name, "id": rid})
            texts.append(item_text(rec, fields))
    if not items:
        raise GristmillError("no benchmark items to index", hint="check the benchmark files and their fields")
    tok = _normalise_all(texts)
    n_items, n_tok = len(items), len(tok.hash)
    length = np.bincount(tok.doc, minlength=n_items)
    item_start = np.r_[0, np.cumsum(length)[:-1]]
    item_n = s.item_n(length)
    whole_ok = (length >= s.min_item_tokens) & (length < s.n)
    cover = np.zeros(n_tok + 1, np.int64)  # +1 / -1 at the edges of kept n-grams: distinctive tokens
    rows, dropped = [], 0
    for size in sorted(set(item_n[item_n > 0].tolist()) | set(length[whole_ok].tolist())):
        h, at = windows(tok, size)
        it = tok.doc[at]
        count, first = _item_counts(h, it, n_items)
        common = count > s.max_item_frequency
        own = item_n[it] == size
        dropped += int((own & common)[first].sum())
        kept = own & ~common
        np.add.at(cover, at[kept], 1)
        np.add.at(cover, at[kept] + size, -1)
        whole = (length[it] == size) & whole_ok[it] & ~common
        f = first[(kept | whole)[first]]
        rows.append((h[f], it[f], (whole & ~kept)[f], at[f] - item_start[it[f]]))
    distinct = np.bincount(tok.doc[np.cumsum(cover)[:n_tok] > 0], minlength=n_items)
    g, o, w, pos = (np.concatenate([r[k] for r in rows]) for k in range(4))
    usable = (distinct[o] >= s.short_n) | w  # too few distinctive tokens: the whole-item hash only
    order = np.nonzero(usable)[0]
    order = order[np.argsort(g[order])]  # one row per (window, item), sorted by window
    g, o, w, pos = g[order], o[order], w[order], pos[order]
    has_ngrams = np.bincount(o[~w], minlength=n_items) > 0
    has_whole = np.bincount(o[w], minlength=n_items) > 0
    kind = np.where(has_ngrams, np.where(item_n == s.n, "ngram", "short_ngram"),
                    np.where(has_whole, "whole_item", "none"))
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "grams.npy"), g)
    np.save(os.path.join(out_dir, "owner.npy"), o.astype(np.int32))
    np.save(os.path.join(out_dir, "whole.npy"), w)
    np.save(os.path.join(out_dir, "pos.npy"), pos.astype(np.int32))  # the window's first token in the item
    with open(os.path.join(out_dir, "items.jsonl"), "w", encoding="utf-8") as fh:
        columns = (kind.tolist(), length.tolist(), distinct.tolist(), item_n.tolist())
        for it, k, ln, dt, ni in zip(items, *columns, strict=True):
            rec = {**it, "tokens": ln, "distinct": dt, "n": ni, "match": k}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    lengths = sorted(set(item_n[has_ngrams].tolist()) | set(length[has_whole].tolist()))
    meta = {"format": FORMAT, **s.__dict__, "lengths": lengths, "windows": len(g),
            "whole_item_windows": int(w.sum()), "dropped_common_windows": dropped,
            "benchmarks": _report(items, files, kind, length, s), "bytes": len(g) * 17}
    Path(out_dir, "index.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return meta


def _report(items: list[dict], files: dict, kind: np.ndarray, length: np.ndarray, s: IndexSettings) -> dict:
    """Per benchmark: how its items can be matched."""
    out = {}
    bench = np.array([it["benchmark"] for it in items])
    for name, path in files.items():
        m = bench == name
        k = kind[m]
        too_short = int(((k == "none") & (length[m] < s.min_item_tokens)).sum())
        none = int((k == "none").sum())
        out[name] = {"items": int(m.sum()), "indexed_items": int(m.sum()) - none,
                     "full_ngram": int((k == "ngram").sum()), "short_ngram": int((k == "short_ngram").sum()),
                     "whole_item_only": int((k == "whole_item").sum()), "unmatchable": none,
                     "unmatchable_too_short": too_short, "unmatchable_common": none - too_short, "file": path}
    return out
