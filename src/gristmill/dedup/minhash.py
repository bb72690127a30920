"""``minhash_dedup``: near-duplicate documents across the whole corpus (MinHash-LSH), two-phase on disk.

Map phase (per shard): language-aware shingles (word n-grams; character n-grams for CJK), a MinHash
signature, one key per LSH band; written to ``state/`` with the shingle hashes (for exact verification)
and each row's keep-policy value. Reduce: rows sharing a band key are candidates; each candidate pair is
verified (exact Jaccard of the shingle sets by default) and verified pairs are joined into clusters with
union-find across all shards. Apply: every cluster member gets ``dup_cluster`` (the kept id) and
``dup_cluster_size``; all but the kept member are rejected as ``near_duplicate``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.dedup.exact import REDUCE_ROWS, _bucket_groups
from gristmill.dedup.lsh import MinHasher, band_keys, optimal_bands, s_curve
from gristmill.dedup.shingles import batch_shingles, jaccard
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
    ngram: int = param(5, "tokens per shingle (words; single characters for CJK)", min=1)
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


class _NpyReader:
    """Read element ranges of a flat .npy file with pread (no memory map held in the process)."""

    def __init__(self, path: str) -> None:
        self.f = open(path, "rb")  # noqa: SIM115
        version = np.lib.format.read_magic(self.f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        _, _, dtype = read_header(self.f)
        self.dtype, self.start = np.dtype(dtype), self.f.tell()

    def read(self, a: int, b: int) -> np.ndarray:
        n = int(b) - int(a)
        data = os.pread(self.f.fileno(), n * self.dtype.itemsize, self.start + int(a) * self.dtype.itemsize)
        return np.frombuffer(data, self.dtype)

    def close(self) -> None:
        self.f.close()


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


class _Verifier:
    """Checks a candidate pair against the threshold: exact Jaccard of shingle sets, or signature agreement."""

    def __init__(self, state_paths, base, verify: str, threshold: float, num_perm: int) -> None:
        self.paths, self.base, self.verify, self.threshold, self.k = state_paths, base, verify, threshold, num_perm
        self.cache: dict[int, dict] = {}
        self.sets: dict[tuple[int, int], np.ndarray] = {}

    def _state(self, s: int) -> dict:
        if s not in self.cache:
            d = self.paths[s]
            self.cache[s] = {"off": np.asarray(np.load(os.path.join(d, "sh_offsets.npy"), mmap_mode="r")),
                             "sh": _NpyReader(os.path.join(d, "shingles.npy")) if self.verify == "exact" else None,
                             "sig": _NpyReader(os.path.join(d, "sigs.npy")) if self.verify == "signature" else None}
        return self.cache[s]

    def _set(self, s: int, r: int) -> np.ndarray:
        """The document's distinct shingles; kept while its candidate pairs are checked."""
        if (s, r) not in self.sets:
            st = self._state(s)
            if len(self.sets) > 100_000:
                self.sets.clear()
            self.sets[(s, r)] = np.unique(st["sh"].read(st["off"][r], st["off"][r + 1]))
        return self.sets[(s, r)]

    def __call__(self, u: int, v: int) -> bool:
        if self.verify == "none":
            return True
        su = int(np.searchsorted(self.base, u, side="right") - 1)
        sv = int(np.searchsorted(self.base, v, side="right") - 1)
        ru, rv = u - self.base[su], v - self.base[sv]
        if self.verify == "signature":
            k = self.k
            return float(np.mean(self._state(su)["sig"].read(ru * k, ru * k + k) ==
                                 self._state(sv)["sig"].read(rv * k, rv * k + k))) >= self.threshold
        return jaccard(self._set(su, ru), self._set(sv, rv)) >= self.threshold

    def close(self) -> None:
        for c in self.cache.values():
            for r in (c["sh"], c["sig"]):
                if r is not None:
                    r.close()


def _verify_chunk(job) -> np.ndarray:
    state_paths, base, verify, threshold, num_perm, pairs = job
    check = _Verifier(state_paths, base, verify, threshold, num_perm)
    try:
        return np.array([check(u, v) for u, v in pairs.tolist()], dtype=bool)
    finally:
        check.close()


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
    """Near-duplicate removal with MinHash-LSH over language-aware shingles, verified, clustered globally."""

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

    def columns(self) -> list[str]:
        return list(self.outputs)

    def s_curve(self) -> dict[str, float]:
        return {f"{j:.1f}": round(s_curve(j, self.bands, self.rows), 4) for j in (0.5, 0.6, 0.7, 0.8, 0.9)}

    # -- map phase ---------------------------------------------------------------------------------
    def map_state(self, table: pa.Table, resolve) -> dict:
        p: MinHashParams = self.params
        if self._hasher is None:
            self._hasher = MinHasher(p.num_perm, p.seed)
        if p.column == "text":
            texts = text_column(table)
        else:
            col = table.column(p.column) if p.column in table.column_names else resolve(p.column)
            texts = ["" if v is None else str(v) for v in col.to_pylist()]
        shingles = []
        for i in range(0, len(texts), 16):
            h, off = batch_shingles(texts[i:i + 16], p.ngram, p.digits)
            shingles += [h[off[j]:off[j + 1]] for j in range(len(off) - 1)]
        sigs = np.stack([self._hasher.signature(s) for s in shingles]) if shingles else \
            np.zeros((0, p.num_perm), np.uint32)
        if p.keep == "longest":
            values = np.array([len(t) for t in texts], dtype=np.float64)
        elif p.keep.startswith("max:"):
            col = p.keep[4:]
            arr = table.column(col) if col in table.column_names else resolve(col)
            values = np.array([np.nan if v is None else float(v) for v in arr.to_pylist()], dtype=np.float64)
        else:
            values = np.zeros(len(texts))
        return {"sigs": sigs, "shingles": shingles, "values": values,
                "empty": np.array([len(s) == 0 for s in shingles], dtype=bool)}

    def save_state(self, path: str, parts: list[dict]) -> None:
        p: MinHashParams = self.params
        sigs = np.concatenate([x["sigs"] for x in parts]) if parts else np.zeros((0, p.num_perm), np.uint32)
        shingles = [s for x in parts for s in x["shingles"]]
        values = np.concatenate([x["values"] for x in parts]) if parts else np.zeros(0)
        empty = np.concatenate([x["empty"] for x in parts]) if parts else np.zeros(0, bool)
        n = len(sigs)
        keys = band_keys(sigs, self.bands, self.rows) if n else np.zeros((0, self.bands), np.uint64)
        rec = np.empty(n * self.bands, dtype=KEY_DTYPE)
        rec["key"] = keys.reshape(-1)
        rec["row"] = np.repeat(np.arange(n, dtype=np.int64), self.bands)
        rec = rec[~np.repeat(empty, self.bands)]            # empty documents never match anything
        bucket = (rec["key"] >> np.uint64(64 - N_BITS)).astype(np.int64)
        order = np.argsort(bucket, kind="stable")
        rec = rec[order]
        key_offsets = np.searchsorted(bucket[order], np.arange((1 << N_BITS) + 1))
        lens = np.fromiter(map(len, shingles), dtype=np.int64, count=n)
        arrays = {"keys": rec, "key_offsets": key_offsets, "values": values,
                  "sh_offsets": np.concatenate([[0], np.cumsum(lens)])}
        if p.verify == "exact":  # the top 32 bits of each shingle hash are plenty to compare two documents
            arrays["shingles"] = (np.concatenate(shingles) >> np.uint64(32)).astype(np.uint32) if n else \
                np.zeros(0, np.uint32)
        elif p.verify == "signature":
            arrays["sigs"] = sigs
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
            check = _Verifier(state_paths, base, p.verify, p.threshold, p.num_perm)
            for u, v in pairs.tolist():
                if uf.find(u) == uf.find(v):
                    continue
                if check(u, v):
                    verified += 1
                    uf.union(u, v)
            check.close()
        else:
            chunks = [pairs[k:k + 20_000] for k in range(0, len(pairs), 20_000)]
            oks = pmap(_verify_chunk, [(state_paths, base, p.verify, p.threshold, p.num_perm, c) for c in chunks])
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
        hist = np.bincount(sizes) if sizes else np.zeros(0, int)
        return {"duplicates": int(dups), "clusters": len(clusters), "candidate_pairs": int(len(pairs)),
                "verified_pairs": verified, "bands": self.bands, "rows": self.rows, "s_curve": self.s_curve(),
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
