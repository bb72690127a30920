"""``substring_dedup``: exact-substring deduplication (Lee et al. 2021) with a suffix array.

Spans of at least ``min_length`` characters that occur in more than one document are cut from every
document but the first (input order) that holds them. Text is indexed as Unicode code points, with a
distinct separator after each document so no match crosses a document boundary.

Limits: the suffix array covers one group of shards at a time (``group_chars`` characters; about 14
bytes of memory per character at the peak: the text as 2-byte symbols, the int32 suffix and LCP arrays,
and kasai's rank array), so a span repeated in two different groups is not found; raise ``group_chars``
(memory allowing) to cover the corpus. Repeats inside one document are left to the repetition signals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.contract import Result, Step, register, text_column, with_column
from gristmill.params import param


@dataclass
class SubstringParams:
    min_length: int = param(100, "shortest repeated span to remove, in characters (Lee et al. used 50 "
                                 "tokens, about 100-250 characters of English)", min=10)
    min_chars: int = param(50, "reject documents shorter than this after removal", min=0)
    group_chars: int = param(32_000_000, "characters indexed by one suffix array (memory bound)", min=1000)


@register
class SubstringDedup(Step):
    """Cut spans repeated across documents (suffix array, Lee et al. 2021); the first holder keeps them."""

    name = "substring_dedup"
    Params = SubstringParams
    kind = "global"
    requires = {"pydivsufsort": "dedup"}
    outputs = ("text", "substr_removed_chars")

    def columns(self) -> list[str]:
        return ["substr_removed_chars"]

    def map_state(self, table: pa.Table, resolve) -> list[str]:
        return text_column(table)

    def save_state(self, path: str, parts: list[list[str]]) -> None:
        texts = [t for p in parts for t in p]
        data = "".join(texts).encode("utf-32-le", "surrogatepass")
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        os.makedirs(path, exist_ok=True)
        for name, arr in (("lens", lens), ("text", np.frombuffer(data, np.uint32))):
            with open(os.path.join(path, name + ".npy.tmp"), "wb") as f:
                np.save(f, arr)
            os.replace(os.path.join(path, name + ".npy.tmp"), os.path.join(path, name + ".npy"))

    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        p: SubstringParams = self.params
        os.makedirs(decision_dir, exist_ok=True)
        sizes = [int(np.load(os.path.join(d, "lens.npy")).sum()) for d in state_paths]
        groups, cur, acc = [], [], 0
        for s, n in enumerate(sizes):
            if cur and acc + n > p.group_chars:
                groups.append(cur)
                cur, acc = [], 0
            cur.append(s)
            acc += n
        if cur:
            groups.append(cur)
        removed = spans = 0
        for g in groups:
            lens = [np.load(os.path.join(state_paths[s], "lens.npy")) for s in g]
            cuts, n_spans = _repeats(state_paths, g, lens, p.min_length)
            spans += n_spans
            base = 0
            for s, ln in zip(g, lens, strict=True):
                arr = cuts[(cuts[:, 0] >= base) & (cuts[:, 0] < base + len(ln))].copy()
                arr[:, 0] -= base
                removed += int((arr[:, 2] - arr[:, 1]).sum())
                base += len(ln)
                tmp = os.path.join(decision_dir, f"{s:05d}.tmp.npy")
                np.save(tmp, arr)
                os.replace(tmp, os.path.join(decision_dir, f"{s:05d}.npy"))
        return {"removed_chars": removed, "matching_suffix_pairs": spans, "groups": len(groups)}

    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, cuts: np.ndarray, offset: int, kept_id) -> Result:
        p: SubstringParams = self.params
        texts = text_column(table)
        removed = [0] * len(texts)
        lo, hi = np.searchsorted(cuts[:, 0], [offset, offset + len(texts)]) if len(cuts) else (0, 0)
        by_row: dict[int, list[tuple[int, int]]] = {}
        for r, a, b in cuts[lo:hi].tolist():
            by_row.setdefault(r - offset, []).append((a, b))
        for i, ranges in by_row.items():
            t = texts[i]
            pieces, last = [], 0
            for a, b in ranges:
                pieces.append(t[last:a])
                removed[i] += b - a
                last = b
            pieces.append(t[last:])
            texts[i] = "".join(pieces)
        table = with_column(table, "text", pa.array(texts, pa.string()))
        table = with_column(table, "substr_removed_chars", pa.array(removed, pa.int64()))
        short = np.array([r > 0 and len(t) < p.min_chars for t, r in zip(texts, removed, strict=True)], dtype=bool)
        details = [f"{len(texts[i])} characters left after cutting {removed[i]} repeated ones"
                   for i in np.nonzero(short)[0]]
        return Result(table, short, ["too_short_after_substring_dedup"] * len(details), details)


def _sequence(state_paths: list[str], group: list[int], lens: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The group's documents as one array of symbols, ``doc0 SEP0 doc1 SEP1 …``, and each document's start.

    Characters are renumbered densely and each separator is a symbol of its own, larger than every
    character and growing with the document's number (so no match crosses a document boundary, and equal
    spans that end a document sort in input order); uint16 when all of that fits, else uint32."""
    n_docs = sum(len(x) for x in lens)
    counts = np.zeros(0x110000, np.int64)
    for s in group:
        t = np.load(os.path.join(state_paths[s], "text.npy"))
        if len(t):
            counts += np.bincount(t, minlength=0x110000)[:0x110000]
        del t
    used = np.nonzero(counts)[0]
    del counts
    dtype = np.uint16 if len(used) + n_docs <= 65536 else np.uint32
    remap = np.zeros(0x110000, dtype)
    remap[used] = np.arange(len(used), dtype=dtype)
    total = sum(int(x.sum()) for x in lens) + n_docs
    seq = np.empty(total, dtype)
    starts = np.zeros(n_docs, np.int64)
    pos = doc = 0
    for s, ln in zip(group, lens, strict=True):
        t = remap[np.load(os.path.join(state_paths[s], "text.npy"))]
        seps = (len(used) + doc + np.arange(len(ln))).astype(dtype)
        block = np.insert(t, np.cumsum(ln), seps)  # each document followed by its separator
        del t
        starts[doc:doc + len(ln)] = pos + np.concatenate([[0], np.cumsum(ln + 1)[:-1]]).astype(np.int64)
        seq[pos:pos + len(block)] = block
        pos += len(block)
        doc += len(ln)
    return seq, starts


CHUNK = 1 << 22  # matching suffix pairs handled at a time


def _repeats(state_paths, group, lens, min_length: int) -> tuple[np.ndarray, int]:
    """(rows of (document, start, end) character ranges to cut, in the group's document numbering; the
    number of suffix pairs that matched). Peak memory: the sequence (2-4 bytes a character), the int32
    suffix and LCP arrays and kasai's rank array; then an int32 coverage count per character."""
    from pydivsufsort import divsufsort, kasai

    seq, starts = _sequence(state_paths, group, lens)
    total = len(seq)
    if total < 2:
        return np.zeros((0, 3), np.int64), 0
    sa = divsufsort(seq)
    lcp = kasai(seq, sa)
    del seq
    diff = np.zeros(total + 1, np.int32)
    pairs = 0
    for lo in range(0, total - 1, CHUNK):
        hi = min(lo + CHUNK, total - 1)
        i = lo + np.nonzero(lcp[lo:hi] >= min_length)[0]
        if not len(i):
            continue
        a, b = sa[i].astype(np.int64), sa[i + 1].astype(np.int64)
        cross = (np.searchsorted(starts, a, side="right") != np.searchsorted(starts, b, side="right"))
        later = np.maximum(a, b)[cross]
        length = lcp[i][cross].astype(np.int64)
        pairs += len(later)
        np.add.at(diff, later, 1)
        np.add.at(diff, later + length, -1)
    del sa, lcp
    covered = np.cumsum(diff[:-1], dtype=np.int32) > 0
    del diff
    out = []
    ends = starts + np.concatenate(lens).astype(np.int64)
    any_cut = np.logical_or.reduceat(covered, starts) if len(starts) else np.zeros(0, bool)
    for d in np.nonzero(any_cut)[0].tolist():
        cov = covered[starts[d]:ends[d]]
        edges = np.diff(np.concatenate([[0], cov.view(np.int8), [0]]))
        out += [(d, int(x), int(y)) for x, y in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0],
                                                      strict=True)]
    return np.array(out, np.int64).reshape(-1, 3), pairs
