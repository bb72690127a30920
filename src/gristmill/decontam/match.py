"""A built decontamination index and matching documents against it.

A document is normalised like the items (:mod:`gristmill.decontam.normalize`); every run of tokens of each
length the index holds is hashed and looked up. A window that is an item's n-gram matches wherever it is; a
whole-item hash (an item shorter than n) matches only where the run stands alone, with a line or sentence
boundary (or the document edge) on both sides, so a short question quoted inside running prose does not
count. Matches carry the character spans they cover in the original text.

>>> import tempfile, json, pathlib
>>> from gristmill.decontam.index import build_index
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "b.jsonl").write_text(json.dumps({"id": "t2", "q": "Find x such that f(x) = 0."}) + "\\n")
>>> _ = build_index([("chat", str(d / "b.jsonl"), ["q"])], str(d / "idx"))
>>> idx = DecontamIndex(str(d / "idx"))
>>> m = idx.scan(["Turn 2:\\nFind x such that f(x) = 0.\\nThanks", "We find x such that f(x) = 0 holds."])
>>> [x.hits for x in m], m[0].spans
([1, 0], [(8, 33)])
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gristmill.decontam.items import IndexSettings
from gristmill.decontam.normalize import groups, normalise, windows
from gristmill.errors import GristmillError

FORMAT = 2


@dataclass
class Match:
    """What one document holds: matching windows, the items they belong to (indexes into
    ``DecontamIndex.items``, sorted) and the merged character spans they cover."""

    hits: int = 0
    items: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)


class DecontamIndex:
    """A built index (see :func:`gristmill.decontam.index.build_index`)."""

    def __init__(self, path: str) -> None:
        meta_path = Path(path, "index.json")
        if not meta_path.exists():
            raise GristmillError(f"no decontamination index in {path}", hint="build one: gristmill decontam build")
        self.meta = json.loads(meta_path.read_text())
        if self.meta.get("format") != FORMAT:
            raise GristmillError(f"the decontamination index in {path} was built by an older gristmill",
                                 hint="rebuild it: gristmill decontam build")
        self.n = self.meta["n"]
        self.lengths = self.meta["lengths"]
        self.grams = np.load(os.path.join(path, "grams.npy"))
        self.owner = np.load(os.path.join(path, "owner.npy"))
        self.whole = np.load(os.path.join(path, "whole.npy"))
        self.pos = np.load(os.path.join(path, "pos.npy"))
        with open(os.path.join(path, "items.jsonl"), encoding="utf-8") as f:
            self.items = [json.loads(line) for line in f]
        self.item_tokens = np.array([it["tokens"] for it in self.items], np.int64)
        settings = IndexSettings(**{k: self.meta[k] for k in IndexSettings.__dataclass_fields__})
        self.need = settings.need(np.array([it["distinct"] for it in self.items], np.int64))
        self._bits, self._shift = _bitmap(self.grams)

    def scan(self, texts: list[str], *, group_chars: int = 1 << 20) -> list[Match]:
        """One :class:`Match` per text (texts are normalised ``group_chars`` characters at a time)."""
        out = [Match() for _ in texts]
        for a, b in groups(texts, group_chars):
            self._scan_group(texts[a:b], out[a:b])
        return out

    def _lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``h`` are indexed, expanded to one entry per item: position in ``h``, index row)."""
        b = h >> self._shift
        maybe = np.nonzero((self._bits[b >> np.uint64(3)] >> (b & np.uint64(7)).astype(np.uint8)) & 1)[0]
        lo = np.searchsorted(self.grams, h[maybe])
        hi = np.searchsorted(self.grams, h[maybe], side="right")
        k = hi - lo
        where = np.repeat(maybe, k)
        rows = np.repeat(lo - np.cumsum(np.r_[0, k[:-1]]), k) + np.arange(int(k.sum()))
        return where, rows

    def _scan_group(self, texts: list[str], out: list[Match]) -> None:
        tok = normalise(texts)
        found_at, found_len, found_owner, found_whole, found_pos = [], [], [], [], []
        for size in self.lengths:
            h, at = windows(tok, size)
            if len(h) == 0 or len(self.grams) == 0:
                continue
            where, rows = self._lookup(h)
            at = at[where]
            whole = self.whole[rows]
            ok = ~whole | (tok.open[at] & tok.close[at + size - 1])
            found_at.append(at[ok])
            found_len.append(np.full(int(ok.sum()), size))
            found_owner.append(self.owner[rows[ok]])
            found_whole.append(whole[ok])
            found_pos.append(self.pos[rows[ok]])
        if not found_at or sum(map(len, found_at)) == 0:
            return
        at, size, owner = np.concatenate(found_at), np.concatenate(found_len), np.concatenate(found_owner)
        doc = tok.doc[at]
        ok = self._covered(doc, owner, at, size, np.concatenate(found_pos), np.concatenate(found_whole))
        if not ok.any():
            return
        doc, at, size, owner = doc[ok], at[ok], size[ok], owner[ok]
        begin, finish = tok.start[at], tok.end[at + size - 1]
        order = np.lexsort((finish, begin, doc))
        doc, begin, finish, owner = doc[order], begin[order], finish[order], owner[order]
        bounds = np.searchsorted(doc, np.arange(len(texts) + 1))
        # a window shared by several items is one hit
        windows_per_doc = np.bincount(doc[np.r_[True, (doc[1:] != doc[:-1]) | (begin[1:] != begin[:-1]) |
                                                (finish[1:] != finish[:-1])]], minlength=len(texts))
        for d in np.unique(doc).tolist():
            lo, hi = bounds[d], bounds[d + 1]
            out[d].hits = int(windows_per_doc[d])
            out[d].items = sorted(set(owner[lo:hi].tolist()))
            out[d].spans = _merge(begin[lo:hi], finish[lo:hi])

    def _covered(self, doc: np.ndarray, owner: np.ndarray, at: np.ndarray, size: np.ndarray, pos: np.ndarray,
                 whole: np.ndarray) -> np.ndarray:
        """Which matches count: a whole-item match; an item's n-gram matches where, within one stretch of the
        document (matches less than the item's length apart), they cover the tokens of the item it needs
        (``IndexSettings.need``; a part of the item repeated in the document counts once)."""
        order = np.lexsort((at, owner, doc))
        d, o, a, b = doc[order], owner[order], at[order], at[order] + size[order]
        pair = np.r_[True, (d[1:] != d[:-1]) | (o[1:] != o[:-1])]
        reach = _running_max(b, pair)  # furthest end of the earlier matches of the same document and item
        stretch = np.cumsum(pair | (a > reach + self.item_tokens[o])) - 1
        ip = pos[order]
        io = np.lexsort((ip, stretch))  # the union of the item tokens each stretch covers
        s, lo, hi = stretch[io], ip[io], ip[io] + size[order][io]
        first = np.r_[True, s[1:] != s[:-1]]
        gained = np.maximum(0, hi - np.maximum(lo, _running_max(hi, first)))
        covered = np.bincount(s, weights=gained)[stretch]
        ok = np.empty(len(owner), bool)
        ok[order] = (covered >= self.need[o]) | whole[order]
        return ok

    def match_text(self, text: str) -> tuple[int, list[dict]]:
        """(matching windows, the items they belong to) for one text."""
        m = self.scan([text])[0]
        return m.hits, [self.items[i] for i in m.items]


def _running_max(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each element, the largest earlier ``x`` (>= 0) of its group (groups start where ``first``; -1 for
    the first element of a group)."""
    group = np.cumsum(first) - 1
    span = int(x.max()) + 2 if len(x) else 1
    shifted = x + group * span  # groups on one increasing axis: one running max serves them all
    prev = np.maximum.accumulate(np.r_[-1, shifted[:-1]])
    return np.where(first, -1, prev - group * span)


def _bitmap(grams: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """A bit set over the top bits of the hashes (about 64 bits per window, at most 128 MiB): most windows of
    a document are rejected by one memory access instead of a binary search."""
    bits = int(min(max(20, (64 * max(len(grams), 1)).bit_length()), 30))
    shift = np.uint64(64 - bits)
    b = grams >> shift
    table = np.zeros(1 << (bits - 3), np.uint8)
    np.bitwise_or.at(table, b >> np.uint64(3), (np.uint8(1) << (b & np.uint64(7)).astype(np.uint8)))
    return table, shift


def _merge(begin: np.ndarray, finish: np.ndarray) -> list[tuple[int, int]]:
    """Union of [begin, finish) spans sorted by begin."""
    spans: list[tuple[int, int]] = []
    for b, f in zip(begin.tolist(), finish.tolist(), strict=True):
        if spans and b <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], f))
        else:
            spans.append((b, f))
    return spans
