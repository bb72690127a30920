"""``minhash_dedup``: near-duplicate documents across the whole corpus (MinHash-LSH), two-phase on disk.

Map phase (per shard): language-aware token shingles (word n-grams; character n-grams for CJK), a MinHash
signature, one key per LSH band; documents whose tokens are mostly CJK (``cjk_share``) also get a second,
one-permutation signature over character shingles with punctuation kept (``similarity: either``, the
default), its band keys in their own key space. Everything is written to ``state/`` with the shingle
hashes (for exact verification) and each row's keep-policy value. Reduce: rows sharing a band key are
candidates; each candidate pair is verified (exact Jaccard of the shingle sets by default: a near-duplicate when either
similarity reaches the threshold) and verified pairs are joined into clusters with union-find across all
shards. Apply: every cluster member gets ``dup_cluster`` (the kept id) and ``dup_cluster_size``; all but
the kept member are rejected as ``near_duplicate``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.dedup.exact import REDUCE_ROWS, _bucket_groups
from gristmill.dedup.lsh import MinHasher, OnePermHasher, band_keys, optimal_bands, s_curve
from gristmill.dedup.shingles import batch_shingles
from gristmill.dedup.verify import Verifier, verify_chunk
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column

KEY_DTYPE = np.dtype([("key", "<u8"), ("row", "<i8")])
N_BITS = 8  # band keys are bucketed by their top bits on disk; the reduce takes bucket groups
DECISION_DTYPE = np.dtype([("row", "<i8"), ("kept_shard", "<i8"), ("kept_row", "<i8"), ("size", "<i8"),
                           ("dup", "?")])


@dataclass
class MinHashParams:
    threshold: float = param(0.7, "Jaccard similarity of shingle sets at or above which two documents are "
                                  "near-duplicates", min=0.05, max=1)
    num_perm: int = param(128, "MinHash permutations", min=8, max=1024)
    ngram: int = param(5, "units per shingle: tokens (words; single characters for CJK), or characters",
                       min=1)
    similarity: Literal["either", "tokens", "chars"] = param(
        "either", "what is compared for documents that are mostly CJK (see cjk_share): either (a "
                  "near-duplicate when their token or their character similarity reaches the threshold), "
                  "tokens (words and CJK characters, punctuation dropped: the old behaviour), or chars "
                  "(characters with punctuation kept); other documents always compare tokens")
    cjk_share: float = param(0.5, "share of a document's tokens that must be CJK characters for its "
                                  "character shingles to be compared", min=0, max=1)
    lsh_threshold: float | None = param(None, "Jaccard the LSH bands are designed for (null: threshold - 0.1, "
                                              "so pairs at the threshold are found with high probability)",
                                        min=0.05, max=1)
    verify: Literal["exact", "signature", "none"] = param(
        "exact", "check candidate pairs: exact Jaccard of the shingle sets, Jaccard estimated from the "
                 "signatures, or not at all")
    digits: bool = param(False, "fold every digit to 0 before shingling")
    keep: str = param("first", "which member of a cluster stays: first (input order), longest, or max:COLUMN "
                               "(highest value of a signal)")
    seed: int = param(42, "seed of the hash permutations")
    column: str = param("text", "column (or input field) compared: text, or e.g. sft_instruction to find "
                                "near-duplicate instructions")


def _candidate_edges(job) -> np.ndarray:
    """Pairs of global row numbers that share a band key, within one bucket group."""
    state_paths, base, lo_b, hi_b = job
    ks, rs = [], []
    for s, d in enumerate(state_paths):
        rec = np.load(os.path.join(d, "keys.npy"), mmap_mode="r")
        off = np.load(os.path.join(d, "key_offsets.npy"))
        part = np.asarray(rec[off[lo_b]:off[hi_b]])
        ks.append(part["key"])
        rs.append(part["row"] + base[s])
    if not ks:
        return np.zeros((0, 2), np.int64)
    keys, rows = np.concatenate(ks), np.concatenate(rs)
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    same = np.zeros(len(keys), dtype=bool)
    same[1:] = keys[1:] == keys[:-1]
    first = np.maximum.accumulate(np.where(~same, np.arange(len(keys)), 0))
    a, b = rows[first[same]], rows[same]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.stack([lo, hi], axis=1)[lo != hi]


def _shingles(texts: list[str], p: MinHashParams, char_hasher: OnePermHasher):
    """Token shingles of every document and, unless ``similarity: tokens``, character shingles and their
    signatures for those whose ``cjk_share`` is reached (empty / zeros for the others; both None when no
    document has any). With ``similarity: chars`` a document with character shingles has no token shingles."""
    shingles, cshingles, any_chars = [], [], False
    csigs = np.zeros((len(texts), p.num_perm), np.uint32)
    empty = np.zeros(0, np.uint64)
    for i in range(0, len(texts), 16):
        group = texts[i:i + 16]
        h, off, share = batch_shingles(group, p.ngram, p.digits, shares=True)
        tok = [h[off[j]:off[j + 1]] for j in range(len(group))]
        chars = [empty] * len(group)
        pick = [j for j in range(len(group)) if share[j] >= p.cjk_share and share[j] > 0] \
            if p.similarity != "tokens" else []
        if pick:
            any_chars = True
            ch, coff = batch_shingles([group[j] for j in pick], p.ngram, p.digits, units="chars")
            csigs[i + np.array(pick)] = char_hasher.signatures(ch, coff)
            for k, j in enumerate(pick):
                chars[j] = ch[coff[k]:coff[k + 1]]
                if p.similarity == "chars":
                    tok[j] = empty
        shingles += tok
        cshingles += chars
    return shingles, (cshingles if any_chars else None), (csigs if any_chars else None)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p.get(root, root) != root:
            root = p[root]
        while p.get(x, x) != root:
            p[x], x = root, p[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@register
class MinHashDedup(Step):
    """Near-duplicate removal with MinHash-LSH over language-aware shingles (plus character shingles with
    punctuation for documents that are mostly CJK), verified, clustered globally."""

    name = "minhash_dedup"
    Params = MinHashParams
    kind = "global"
    outputs = ("dup_cluster", "dup_cluster_size")

    def __init__(self, params: MinHashParams, label: str | None = None) -> None:
        super().__init__(params, label)
        lsh_t = params.lsh_threshold if params.lsh_threshold is not None else max(params.threshold - 0.1, 0.05)
        self.bands, self.rows = optimal_bands(lsh_t, params.num_perm, fn_weight=0.9)
        if not (params.keep in ("first", "longest") or params.keep.startswith("max:")):
            from gristmill.errors import GristmillError

            raise GristmillError(f"keep must be first, longest or max:COLUMN, not {params.keep!r}")
        self._hasher: MinHasher | None = None
        self._char_hasher: OnePermHasher | None = None

    def columns(self) -> list[str]:
        return list(self.outputs)

    def s_curve(self) -> dict[str, float]:
        return {f"{j:.1f}": round(s_curve(j, self.bands, self.rows), 4) for j in (0.5, 0.6, 0.7, 0.8, 0.9)}

    # -- map phase ---------------------------------------------------------------------------------
    def map_state(self, table: pa.Table, resolve) -> dict:
        p: MinHashParams = self.params
        if self._hasher is None:
            self._hasher, self._char_hasher = MinHasher(p.num_perm, p.seed), OnePermHasher(p.num_perm, p.seed)
        if p.column == "text":
            texts = text_column(table)
        else:
            col = table.column(p.column) if p.column in table.column_names else resolve(p.column)
            texts = ["" if v is None else str(v) for v in col.to_pylist()]
        shingles, cshingles, csigs = _shingles(texts, p, self._char_hasher)
        sign = self._hasher.signature
        sigs = np.stack([sign(s) for s in shingles]) if shingles else np.zeros((0, p.num_perm), np.uint32)
        if p.keep == "longest":
            values = np.array([len(t) for t in texts], dtype=np.float64)
        elif p.keep.startswith("max:"):
            col = p.keep[4:]
            arr = table.column(col) if col in table.column_names else resolve(col)
            values = np.array([np.nan if v is None else float(v) for v in arr.to_pylist()], dtype=np.float64)
        else:
            values = np.zeros(len(texts))
        return {"sigs": sigs, "shingles": shingles, "values": values, "csigs": csigs, "cshingles": cshingles,
                "empty": np.array([len(s) == 0 for s in shingles], dtype=bool)}

    def save_state(self, path: str, parts: list[dict]) -> None:
        p: MinHashParams = self.params
        sigs = np.concatenate([x["sigs"] for x in parts]) if parts else np.zeros((0, p.num_perm), np.uint32)
        shingles = [s for x in parts for s in x["shingles"]]
        values = np.concatenate([x["values"] for x in parts]) if parts else np.zeros(0)
        empty = np.concatenate([x["empty"] for x in parts]) if parts else np.zeros(0, bool)
        n = len(sigs)
        has_chars = any(x.get("csigs") is not None for x in parts)
        if has_chars:
            csigs = np.concatenate([x["csigs"] if x.get("csigs") is not None else np.zeros_like(x["sigs"])
                                    for x in parts])
            none = np.zeros(0, np.uint64)
            cshingles = [s for x in parts for s in (x.get("cshingles") or [none] * len(x["sigs"]))]
            cempty = np.array([len(s) == 0 for s in cshingles], dtype=bool)
        kinds = [("", sigs, shingles, empty, 0)] + ([("c", csigs, cshingles, cempty, 1)] if has_chars else [])
        recs = []
        for _, sg, _, emp, salt in kinds:
            keys = band_keys(sg, self.bands, self.rows, salt) if n else np.zeros((0, self.bands), np.uint64)
            rec = np.empty(n * self.bands, dtype=KEY_DTYPE)
            rec["key"] = keys.reshape(-1)
            rec["row"] = np.repeat(np.arange(n, dtype=np.int64), self.bands)
            recs.append(rec[~np.repeat(emp, self.bands)])   # empty documents never match anything
        rec = np.concatenate(recs)
        bucket = (rec["key"] >> np.uint64(64 - N_BITS)).astype(np.int64)
        order = np.argsort(bucket, kind="stable")
        rec = rec[order]
        key_offsets = np.searchsorted(bucket[order], np.arange((1 << N_BITS) + 1))
        arrays = {"keys": rec, "key_offsets": key_offsets, "values": values}
        for kind, sg, sh, _, _ in kinds:
            lens = np.fromiter(map(len, sh), dtype=np.int64, count=n)
            arrays[kind + "sh_offsets"] = np.concatenate([[0], np.cumsum(lens)])
            if p.verify == "exact":  # the top 32 bits of each shingle hash are plenty to compare documents
                arrays[kind + "shingles"] = (np.concatenate(sh) >> np.uint64(32)).astype(np.uint32) \
                    if n else np.zeros(0, np.uint32)
            elif p.verify == "signature":
                arrays[kind + "sigs"] = sg
        os.makedirs(path, exist_ok=True)
        for name, arr in arrays.items():
            with open(os.path.join(path, name + ".npy.tmp"), "wb") as f:
                np.save(f, arr)
            os.replace(os.path.join(path, name + ".npy.tmp"), os.path.join(path, name + ".npy"))

    # -- reduce --------------------------------------------------------------------------------------
    def reduce(self, state_paths: list[str], decision_dir: str, pmap=None) -> dict:
        """Candidate pairs bucket group by bucket group, verified, then connected components.

        With ``pmap`` (the Ray executor) the bucket groups and the verification of pair chunks run as parallel
        tasks; only the verified pairs (edges) come back to the driver for the connected components."""
        p: MinHashParams = self.params
        load = lambda d, name: np.load(os.path.join(d, name + ".npy"), mmap_mode="r")  # noqa: E731
        counts = [len(load(d, "values")) for d in state_paths]
        base = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        states = [(load(d, "keys"), np.load(os.path.join(d, "key_offsets.npy"))) for d in state_paths]
        total_keys = sum(len(k) for k, _ in states)
        max_rows = REDUCE_ROWS if pmap is None else max(min(REDUCE_ROWS, total_keys // 16), 1)
        jobs = [(state_paths, base, lo, hi) for lo, hi in _bucket_groups(states, max_rows)]
        edge_parts = (pmap or (lambda fn, xs: [fn(x) for x in xs]))(_candidate_edges, jobs)
        edges = np.concatenate(edge_parts) if edge_parts else np.zeros((0, 2), np.int64)
        pairs = np.unique(edges, axis=0) if len(edges) else edges
        shard_of = lambda g: int(np.searchsorted(base, g, side="right") - 1)  # noqa: E731
        uf = _UnionFind()
        verified = 0
        if pmap is None:
            check = Verifier(state_paths, base, p.verify, p.threshold, p.num_perm)
            for u, v in pairs.tolist():
                if uf.find(u) == uf.find(v):
                    continue
                if check(u, v):
                    verified += 1
                    uf.union(u, v)
            check.close()
        else:
            chunks = [pairs[k:k + 20_000] for k in range(0, len(pairs), 20_000)]
            oks = pmap(verify_chunk, [(state_paths, base, p.verify, p.threshold, p.num_perm, c)
                                      for c in chunks])
            for c, ok in zip(chunks, oks, strict=True):
                for u, v in c[ok].tolist():
                    verified += 1
                    uf.union(u, v)
        members_of: dict[int, set[int]] = {}
        for x in list(uf.parent):
            r = uf.find(x)
            members_of.setdefault(r, {r}).add(x)
        clusters = {r: list(m) for r, m in members_of.items()}
        values = np.concatenate([np.asarray(load(d, "values")) for d in state_paths]) if state_paths else np.zeros(0)
        per_shard: list[list[tuple]] = [[] for _ in state_paths]
        dups = 0
        sizes = []
        for members in clusters.values():
            members.sort()
            if p.keep == "first":
                kept = members[0]
            else:  # highest value, ties to input order
                kept = max(members, key=lambda g: (np.nan_to_num(values[g], nan=-np.inf), -g))
            ks = shard_of(kept)
            sizes.append(len(members))
            for g in members:
                s = shard_of(g)
                per_shard[s].append((g - base[s], ks, kept - base[ks], len(members), g != kept))
                dups += g != kept
        os.makedirs(decision_dir, exist_ok=True)
        for s, items in enumerate(per_shard):
            arr = np.array(sorted(items), dtype=DECISION_DTYPE)
            tmp = os.path.join(decision_dir, f"{s:05d}.tmp.npy")
            np.save(tmp, arr)
            os.replace(tmp, os.path.join(decision_dir, f"{s:05d}.npy"))
        state_bytes = sum(os.path.getsize(os.path.join(d, f)) for d in state_paths for f in os.listdir(d))
        char_docs = sum(int(np.count_nonzero(np.diff(np.load(os.path.join(d, "csh_offsets.npy")))))
                        for d in state_paths if os.path.exists(os.path.join(d, "csh_offsets.npy")))
        hist = np.bincount(sizes) if sizes else np.zeros(0, int)
        return {"duplicates": int(dups), "clusters": len(clusters), "candidate_pairs": int(len(pairs)),
                "verified_pairs": verified, "bands": self.bands, "rows": self.rows, "s_curve": self.s_curve(),
                "similarity": p.similarity, "docs_with_char_shingles": char_docs,
                "state_bytes_per_doc": round(state_bytes / max(int(base[-1]), 1), 1),
                "cluster_sizes": {str(k): int(v) for k, v in enumerate(hist) if v}}

    # -- apply ---------------------------------------------------------------------------------------
    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, decision: np.ndarray, offset: int, kept_id) -> Result:
        n = table.num_rows
        lo, hi = np.searchsorted(decision["row"], [offset, offset + n]) if len(decision) else (0, 0)
        part = decision[lo:hi]
        cluster: list[str | None] = [None] * n
        size: list[int | None] = [None] * n
        reject = np.zeros(n, dtype=bool)
        details = []
        for row, ks, kr, sz, dup in part.tolist():
            i = row - offset
            kid = kept_id(ks, kr)
            cluster[i], size[i] = kid, sz
            if dup:
                reject[i] = True
        for i in np.nonzero(reject)[0]:
            details.append(f"near-duplicate of {cluster[i]} (cluster of {size[i]})")
        table = with_column(table, "dup_cluster", pa.array(cluster, pa.string()))
        table = with_column(table, "dup_cluster_size", pa.array(size, pa.int64()))
        return Result(table, reject, ["near_duplicate"] * len(details), details)
