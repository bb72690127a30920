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
import shutil
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.contract import Result, Step, register, text_column, with_column
from gristmill.dedup.clusters import DECISION_DTYPE, shard_ranges, write_decisions  # noqa: F401 (public)
from gristmill.dedup.components import components, serial_map
from gristmill.dedup.lsh import MinHasher, OnePermHasher, band_keys, optimal_bands, s_curve
from gristmill.dedup.shingles import batch_shingles
from gristmill.dedup.verify import Verifier, _NpyReader
from gristmill.params import param

KEY_DTYPE = np.dtype([("key", "<u8"), ("row", "<i8")])
N_BITS = 14  # band keys are bucketed by their top bits on disk (16,384 buckets: 1.5M keys each at 1B documents)
GROUP_ROWS = 3_000_000  # band keys of one bucket group at most (one bucket at least): about 40 B each in memory
EDGE_ROWS = 4_000_000    # candidate pairs of one edge partition, about (verified by one task)
RANGE_NODES = 1_000_000  # documents of one node range (components and cluster bookkeeping, one task each)
VERIFY_CHUNK = 20_000


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
    """Pairs of global row numbers that share a band key, within one bucket group: each key's rows in
    (shard, row) order, every row after the first paired with the first. About 40 bytes a key in memory."""
    state_paths, base, lo_b, hi_b = job
    spans = []
    for s, d in enumerate(state_paths):
        off = np.load(os.path.join(d, "key_offsets.npy"), mmap_mode="r")
        spans.append((s, int(off[lo_b]), int(off[hi_b])))
    total = sum(hi - lo for _, lo, hi in spans)
    keys, rows = np.empty(total, np.uint64), np.empty(total, np.int64)
    at = 0
    for s, lo, hi in spans:
        if hi > lo:  # read with pread: no file pages mapped into this process
            reader = _NpyReader(os.path.join(state_paths[s], "keys.npy"))
            part = reader.read(lo, hi)
            reader.close()
            keys[at:at + hi - lo], rows[at:at + hi - lo] = part["key"], part["row"] + base[s]
            at += hi - lo
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    same = keys[1:] == keys[:-1]
    del keys
    rows = rows[order]
    del order
    dpos = np.nonzero(same)[0] + 1  # rows whose key equals the previous row's
    del same
    streak = np.r_[True, np.diff(dpos) != 1] if len(dpos) else np.zeros(0, bool)
    first = (dpos[streak] - 1)[np.cumsum(streak) - 1]  # where each streak of equal keys starts
    a, b = rows[first], rows[dpos]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.stack([lo, hi], axis=1)[lo != hi]


def _top32(shingles: list[np.ndarray]) -> np.ndarray:
    """The top 32 bits of every document's shingle hashes, concatenated (what exact verification reads)."""
    if not shingles:
        return np.zeros(0, np.uint32)
    return (np.concatenate(shingles) >> np.uint64(32)).astype(np.uint32)


def _bucket_sizes(state_paths: list[str]) -> np.ndarray:
    """Band keys per bucket over all shards (one shard's offsets in memory at a time)."""
    sizes = None
    for d in state_paths:
        n = np.diff(np.load(os.path.join(d, "key_offsets.npy")))
        sizes = n if sizes is None else sizes + n
    return sizes if sizes is not None else np.zeros(1 << N_BITS, np.int64)


def _key_groups(sizes: np.ndarray, max_rows: int) -> list[tuple[int, int]]:
    """Consecutive bucket ranges [lo, hi) holding at most ``max_rows`` keys each (one bucket at least)."""
    ends = np.cumsum(sizes)
    groups, lo = [], 0
    while lo < len(sizes):
        start = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, start + max_rows, side="right")), lo + 1)
        groups.append((lo, hi))
        lo = hi
    return groups


def _edge_partition(lo: np.ndarray, n_parts: int) -> np.ndarray:
    """Edge partition of each pair, by a hash of its smaller row (the same pair always lands in one)."""
    with np.errstate(over="ignore"):
        h = lo.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return (((h >> np.uint64(32)) * np.uint64(n_parts)) >> np.uint64(32)).astype(np.int64)


def _spill_candidates(job) -> int:
    """One bucket group's candidate pairs, sorted by edge partition into ``PREFIX.npy``, with
    ``PREFIX.offsets.npy`` saying where each partition starts (one file per group, not per partition)."""
    state_paths, base, lo_b, hi_b, prefix, n_parts = job
    edges = _candidate_edges((state_paths, base, lo_b, hi_b))
    part = _edge_partition(edges[:, 0], n_parts)
    order = np.argsort(part, kind="stable")
    _save(prefix + ".npy", edges[order])
    _save(prefix + ".offsets.npy", np.searchsorted(part[order], np.arange(n_parts + 1)))
    return int(len(edges))


def partition_pairs(cand_dir: str, n_groups: int, k: int) -> np.ndarray:
    """The distinct candidate pairs of edge partition ``k``, read from every bucket group's spill file
    (``cand_dir/gNNNNN.npy``)."""
    parts = []
    for prefix in (os.path.join(cand_dir, f"g{i:05d}") for i in range(n_groups)):
        off = np.load(prefix + ".offsets.npy", mmap_mode="r")
        lo, hi = int(off[k]), int(off[k + 1])
        if hi > lo:
            reader = _NpyReader(prefix + ".npy")
            parts.append(reader.read(2 * lo, 2 * hi).reshape(-1, 2))
            reader.close()
    pairs = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def _verify_partition(job) -> tuple[int, int]:
    """One edge partition: its distinct candidate pairs verified; the verified ones saved as edges.
    Returns (candidate pairs, verified pairs)."""
    state_paths, base, verify, threshold, num_perm, cand_dir, n_groups, k, out = job
    pairs = partition_pairs(cand_dir, n_groups, k)
    ok = np.zeros(len(pairs), dtype=bool)
    check = Verifier(state_paths, base, verify, threshold, num_perm)
    try:
        for i in range(0, len(pairs), VERIFY_CHUNK):
            ok[i:i + VERIFY_CHUNK] = [check(u, v) for u, v in pairs[i:i + VERIFY_CHUNK].tolist()]
    finally:
        check.close()
    _save(out, pairs[ok])
    return int(len(pairs)), int(np.count_nonzero(ok))


class _Values:
    """``values_of(lo, hi)``: the keep values of documents lo … hi - 1 (global rows) from the shard states."""

    def __init__(self, state_paths: list[str], base: np.ndarray) -> None:
        self.paths, self.base = state_paths, base

    def __call__(self, lo: int, hi: int) -> np.ndarray:
        s0 = int(np.searchsorted(self.base, lo, side="right") - 1)
        parts, s = [], s0
        while s < len(self.paths) and self.base[s] < hi:
            parts.append(np.load(os.path.join(self.paths[s], "values.npy")))
            s += 1
        vals = np.concatenate(parts) if parts else np.zeros(0)
        return vals[lo - self.base[s0]:hi - self.base[s0]]


def _save(path: str, arr: np.ndarray) -> None:
    with open(path + ".tmp", "wb") as f:
        np.save(f, arr)
    os.replace(path + ".tmp", path)


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
        out = {"sigs": sigs, "values": values, "csigs": csigs}
        for kind, sh in (("", shingles), ("c", cshingles)):  # kept compact until the shard's state is saved
            if sh is not None:
                out[kind + "lens"] = np.fromiter(map(len, sh), dtype=np.int64, count=len(sh))
                out[kind + "sh"] = _top32(sh) if p.verify == "exact" else None
        return out

    def save_state(self, path: str, parts: list[dict]) -> None:
        p: MinHashParams = self.params
        sigs = np.concatenate([x["sigs"] for x in parts]) if parts else np.zeros((0, p.num_perm), np.uint32)
        values = np.concatenate([x["values"] for x in parts]) if parts else np.zeros(0)
        n = len(sigs)
        none32 = np.zeros(0, np.uint32)
        lens = np.concatenate([x["lens"] for x in parts]) if parts else np.zeros(0, np.int64)
        kinds = [("", sigs, [x["sh"] for x in parts], lens, 0)]
        if any(x.get("csigs") is not None for x in parts):
            csigs = np.concatenate([x["csigs"] if x.get("csigs") is not None else np.zeros_like(x["sigs"])
                                    for x in parts])
            clens = np.concatenate([x["clens"] if "clens" in x else np.zeros(len(x["sigs"]), np.int64)
                                    for x in parts])
            kinds.append(("c", csigs, [x.get("csh", none32) for x in parts], clens, 1))
        recs = []
        for _, sg, _, ln, salt in kinds:
            keys = band_keys(sg, self.bands, self.rows, salt) if n else np.zeros((0, self.bands), np.uint64)
            rec = np.empty(n * self.bands, dtype=KEY_DTYPE)
            rec["key"] = keys.reshape(-1)
            rec["row"] = np.repeat(np.arange(n, dtype=np.int64), self.bands)
            recs.append(rec[~np.repeat(ln == 0, self.bands)])   # empty documents never match anything
        rec = np.concatenate(recs)
        bucket = (rec["key"] >> np.uint64(64 - N_BITS)).astype(np.int64)
        order = np.argsort(bucket, kind="stable")
        rec = rec[order]
        key_offsets = np.searchsorted(bucket[order], np.arange((1 << N_BITS) + 1))
        arrays = {"keys": rec, "key_offsets": key_offsets, "values": values}
        for kind, sg, sh, ln, _ in kinds:
            arrays[kind + "sh_offsets"] = np.concatenate([[0], np.cumsum(ln)])
            if p.verify == "exact":  # the top 32 bits of each shingle hash are plenty to compare documents
                arrays[kind + "shingles"] = np.concatenate(sh) if n else none32
            elif p.verify == "signature":
                arrays[kind + "sigs"] = sg
        os.makedirs(path, exist_ok=True)
        for name, arr in arrays.items():
            with open(os.path.join(path, name + ".npy.tmp"), "wb") as f:
                np.save(f, arr)
            os.replace(os.path.join(path, name + ".npy.tmp"), os.path.join(path, name + ".npy"))

    # -- reduce --------------------------------------------------------------------------------------
    def reduce(self, state_paths: list[str], decision_dir: str, pmap=None) -> dict:
        """Candidate pairs bucket group by bucket group, spilled to edge partitions on disk; each partition
        deduplicated and verified; connected components over the partitions; cluster bookkeeping per node
        range (:mod:`~gristmill.dedup.components`, :mod:`~gristmill.dedup.clusters`).

        Every phase is a list of independent parts run through ``pmap(fn, items)`` (the Ray executor runs
        them as tasks); parts read and write files under ``DECISION_DIR.work``, so no process, the driver
        included, holds all candidate pairs, edges or labels: memory is bounded by a bucket group, an edge
        partition and a node range whatever the share of duplicates."""
        p: MinHashParams = self.params
        run = pmap or serial_map
        load = lambda d, name: np.load(os.path.join(d, name + ".npy"), mmap_mode="r")  # noqa: E731
        counts = [len(load(d, "values")) for d in state_paths]
        base = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        sizes = _bucket_sizes(state_paths)
        total_keys = int(sizes.sum())
        groups = _key_groups(sizes, GROUP_ROWS if pmap is None else max(min(GROUP_ROWS, total_keys // 16), 1))
        work = decision_dir.rstrip(os.sep) + ".work"
        shutil.rmtree(work, ignore_errors=True)  # a reduce interrupted before its marker starts again
        for sub in ("cand", "edges"):
            os.makedirs(os.path.join(work, sub))
        n_parts = max(-(-total_keys // EDGE_ROWS), 1 if pmap is None else 8)
        cand = os.path.join(work, "cand")
        run(_spill_candidates, [(state_paths, base, lo, hi, os.path.join(cand, f"g{i:05d}"), n_parts)
                                for i, (lo, hi) in enumerate(groups)])
        edges = [os.path.join(work, "edges", f"p{k:05d}.npy") for k in range(n_parts)]
        checked = run(_verify_partition, [(state_paths, base, p.verify, p.threshold, p.num_perm, cand, len(groups),
                                           k, edges[k]) for k in range(n_parts)])
        shutil.rmtree(os.path.join(work, "cand"))
        cuts = shard_ranges(base, RANGE_NODES)
        labels, _ = components(edges, int(base[-1]), os.path.join(work, "cc"), base[cuts], run)
        values_of = None if p.keep == "first" else _Values(state_paths, base)
        dups, hist = write_decisions(labels, base, cuts, os.path.join(work, "clusters"), decision_dir, values_of,
                                     run)
        shutil.rmtree(work, ignore_errors=True)
        state_bytes = sum(os.path.getsize(os.path.join(d, f)) for d in state_paths for f in os.listdir(d))
        char_docs = sum(int(np.count_nonzero(np.diff(np.load(os.path.join(d, "csh_offsets.npy")))))
                        for d in state_paths if os.path.exists(os.path.join(d, "csh_offsets.npy")))
        return {"duplicates": dups, "clusters": int(hist.sum()), "candidate_pairs": sum(c for c, _ in checked),
                "verified_pairs": sum(v for _, v in checked), "bands": self.bands, "rows": self.rows,
                "s_curve": self.s_curve(), "similarity": p.similarity, "docs_with_char_shingles": char_docs,
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
