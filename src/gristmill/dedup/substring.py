"""``substring_dedup``: exact-substring deduplication (Lee et al. 2021) with a suffix array.

Spans of at least ``min_length`` characters that occur in more than one document are cut from every
document but the first (input order) that holds them. Text is indexed as Unicode code points, with a
distinct separator after each document so no match crosses a document boundary.

Limits: the suffix array covers one group of shards at a time (``group_chars`` characters, about 12 bytes
of memory per character: text, suffix array and LCP array), so a span repeated in two different groups is
not found; raise ``group_chars`` (memory allowing) to cover the corpus. Repeats inside one document are
left to the repetition signals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column

SEP = 0x110000  # beyond Unicode: separators never equal a character or each other


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
        from pydivsufsort import divsufsort, kasai

        p: SubstringParams = self.params
        os.makedirs(decision_dir, exist_ok=True)
        sizes = [len(np.load(os.path.join(d, "lens.npy"))) and int(np.load(os.path.join(d, "lens.npy")).sum())
                 for d in state_paths]
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
            texts = [np.load(os.path.join(state_paths[s], "text.npy")) for s in g]
            n_docs = sum(len(x) for x in lens)
            all_lens = np.concatenate(lens) if lens else np.zeros(0, np.int64)
            # concatenation: doc0 SEP0 doc1 SEP1 ...
            total = int(all_lens.sum()) + n_docs
            seq = np.empty(total, dtype=np.uint32)
            starts = np.concatenate([[0], np.cumsum(all_lens + 1)[:-1]]).astype(np.int64)
            flat = np.concatenate(texts) if texts else np.zeros(0, np.uint32)
            doc_of_char = np.repeat(np.arange(n_docs), all_lens)
            char_pos = np.arange(len(flat)) + doc_of_char  # each earlier document adds one separator
            seq[char_pos] = flat
            seq[starts + all_lens] = SEP + np.arange(n_docs, dtype=np.uint32)
            if total < 2:
                covered = np.zeros(total, bool)
            else:
                sa = divsufsort(seq)
                lcp = kasai(seq, sa)
                doc = np.searchsorted(starts, sa, side="right") - 1
                i = np.nonzero((lcp[:-1] >= p.min_length) & (doc[:-1] != doc[1:]))[0]
                later = np.maximum(sa[i], sa[i + 1]).astype(np.int64)
                length = lcp[i].astype(np.int64)
                diff = np.zeros(total + 1, dtype=np.int64)
                np.add.at(diff, later, 1)
                np.add.at(diff, later + length, -1)
                covered = np.cumsum(diff[:-1]) > 0
                spans += len(i)
            removed += int(covered.sum())
            # per shard: (row, start, end) character ranges to cut, in each document's own coordinates
            base = 0
            for s, ln in zip(g, lens, strict=True):
                out = []
                for r in range(len(ln)):
                    st = int(starts[base + r])
                    cov = covered[st:st + int(ln[r])]
                    if cov.any():
                        edges = np.diff(np.concatenate([[0], cov.view(np.int8), [0]]))
                        for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
                            out.append((r, int(a), int(b)))
                base += len(ln)
                arr = np.array(out, dtype=np.int64).reshape(-1, 3)
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
