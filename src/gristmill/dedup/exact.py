"""``exact_dedup``: drop exact copies across the whole corpus, on a normalised key, in two phases on disk.

Map phase (per shard): hash each surviving row's key with xxh3-128 and write the hashes, bucketed by their
top bits, to ``state/``. Reduce (per bucket, so memory is bounded by a bucket): the first copy in stable
order (shard, then row) wins. Apply phase: the next pass over each shard rejects the other copies, naming
the kept id.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import regex
import xxhash

from gristmill.contract import Result, Step, register
from gristmill.params import param
from gristmill.text.core import CORE

_PUNCT = regex.compile(r"[\p{P}\p{S}]+")
_DIGITS = regex.compile(r"\p{Nd}")
N_BUCKET_BITS = 8        # hashes are bucketed by their top 8 bits on disk …
REDUCE_ROWS = 1_000_000  # … and the reduce takes consecutive buckets up to this many rows at a time (about 96
                         # bytes a row at its peak: ~100 MB; the decisions do not depend on it)
STATE_DTYPE = np.dtype([("h0", "<u8"), ("h1", "<u8"), ("row", "<i8")])


@dataclass
class ExactDedupParams:
    key: str = param("text", "column (or input field) whose value must match: text, url, …")
    normalize: list[Literal["lower", "whitespace", "punctuation", "digits", "nfkc", "url"]] = param(
        ["whitespace"], "normalisations applied to the key before hashing (url: canonical URL form)")


def normalise_key(value: str, ops: list[str]) -> str:
    """Apply the key normalisations (in a fixed order, whatever order they are listed in).

    >>> normalise_key("  Hello,   World! 2024 ", ["lower", "whitespace", "punctuation", "digits"])
    'hello world 0000'
    """
    if "url" in ops:
        from gristmill.text.urls import normalise_url

        value = normalise_url(value)
    if "nfkc" in ops:
        value = unicodedata.normalize("NFKC", value)
    if "lower" in ops:
        value = value.lower()
    if "punctuation" in ops:
        value = _PUNCT.sub(" ", value)
    if "digits" in ops:
        value = _DIGITS.sub("0", value)
    if "whitespace" in ops:
        value = " ".join(value.split())  # str.split() splits on every Unicode space: same as \s+ and strip
    return value


def _key_bytes(ops: list[str]):
    """The function from a key to the UTF-8 bytes that are hashed: its normalised form (:func:`normalise_key`),
    in one pass of the C core for the default ``[whitespace]``."""
    if list(ops) == ["whitespace"] and CORE is not None:
        return CORE.collapse_ws_utf8
    return lambda v: normalise_key(v, ops).encode("utf-8", "surrogatepass")


def batch_decisions(decision: np.ndarray, offset: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a batch (``offset`` … ``offset + n``) that a reduce decided on: a reject mask, and the decision
    rows (sorted by their first column, the row number) that fall in the batch."""
    reject = np.zeros(n, dtype=bool)
    lo, hi = np.searchsorted(decision[:, 0], [offset, offset + n]) if len(decision) else (0, 0)
    part = decision[lo:hi]
    reject[part[:, 0] - offset] = True
    return reject, part


@register
class ExactDedup(Step):
    """Remove exact duplicates across all shards on a normalised key; the first copy in input order is kept."""

    name = "exact_dedup"
    Params = ExactDedupParams
    kind = "global"

    # -- map phase ---------------------------------------------------------------------------------
    def map_state(self, table: pa.Table, resolve) -> np.ndarray:
        """xxh3-128 of each row's normalised key as an (n, 2) uint64 array; rows without a key get (0, 0)."""
        p: ExactDedupParams = self.params
        values = table.column(p.key).to_pylist() if p.key in table.column_names else resolve(p.key).to_pylist()
        out = np.zeros((len(values), 2), dtype=np.uint64)
        key_bytes = _key_bytes(p.normalize)
        for i, v in enumerate(values):
            if v is None:
                continue
            h = xxhash.xxh3_128_intdigest(key_bytes(str(v)))
            out[i, 0] = h >> 64
            out[i, 1] = (h & 0xFFFFFFFFFFFFFFFF) | 1  # never (0, 0): that marks "no key"
        return out

    def save_state(self, path: str, parts: list[np.ndarray]) -> None:
        """Write one shard's hashes (with the row of each), sorted by bucket: ``PATH`` holds a structured
        array readable with mmap, ``PATH.offsets.npy`` where each bucket starts."""
        hashes = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.uint64)
        rows = np.arange(len(hashes), dtype=np.int64)
        has_key = hashes[:, 1] != 0
        hashes, rows = hashes[has_key], rows[has_key]
        bucket = (hashes[:, 0] >> np.uint64(64 - N_BUCKET_BITS)).astype(np.int64)
        order = np.argsort(bucket, kind="stable")
        rec = np.empty(len(order), dtype=STATE_DTYPE)
        rec["h0"], rec["h1"], rec["row"] = hashes[order, 0], hashes[order, 1], rows[order]
        offsets = np.searchsorted(bucket[order], np.arange((1 << N_BUCKET_BITS) + 1))
        for target, arr in ((path + ".offsets.npy", offsets), (path, rec)):
            with open(target + ".tmp", "wb") as f:
                np.save(f, arr)
            os.replace(target + ".tmp", target)

    # -- reduce --------------------------------------------------------------------------------------
    def reduce(self, state_paths: list[str], decision_dir: str, pmap=None) -> dict:
        """Decide, bucket group by bucket group, which rows are copies; writes ``decision_dir/SHARD.npy`` arrays
        of (row, kept_shard, kept_row) per shard. Returns the number of copies, of clusters and their sizes.

        Bucket groups are independent: ``pmap(fn, items)`` may run them in parallel (the Ray executor does)."""
        os.makedirs(decision_dir, exist_ok=True)
        states = _open_states(state_paths)
        total_rows = sum(int(st[1][-1]) for st in states if st is not None)
        max_rows = REDUCE_ROWS if pmap is None else max(min(REDUCE_ROWS, total_rows // 16), 1)
        groups = [(state_paths, lo, hi) for lo, hi in _bucket_groups(states, max_rows)]
        results = (pmap or (lambda fn, xs: [fn(x) for x in xs]))(_reduce_group, groups)
        losers: list[list[np.ndarray]] = [[] for _ in state_paths]
        total = 0
        sizes: list[np.ndarray] = []
        for per_shard, n_dup, group_sizes in results:
            total += n_dup
            sizes.append(group_sizes)
            for s, arr in per_shard.items():
                losers[s].append(arr)
        for s, parts in enumerate(losers):
            arr = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
            arr = arr[np.argsort(arr[:, 0], kind="stable")] if len(arr) else arr
            tmp = os.path.join(decision_dir, f"{s:05d}.tmp.npy")
            np.save(tmp, arr)
            os.replace(tmp, os.path.join(decision_dir, f"{s:05d}.npy"))
        all_sizes = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
        hist = np.bincount(all_sizes) if len(all_sizes) else np.zeros(0, np.int64)
        return {"duplicates": int(total), "clusters": int(len(all_sizes)),
                "cluster_sizes": {str(k): int(v) for k, v in enumerate(hist) if v}}

    # -- apply ---------------------------------------------------------------------------------------
    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, decision: np.ndarray, offset: int, kept_id) -> Result:
        """Reject the rows of this batch (rows ``offset`` … ``offset + n``) that the reduce marked as copies."""
        reject, part = batch_decisions(decision, offset, table.num_rows)
        details = [f"duplicate of {kept_id(int(s), int(r))}" for _, s, r in part]
        return Result(table, reject, ["duplicate"] * len(part), details)


def _open_states(state_paths: list[str]):
    return [(np.load(p, mmap_mode="r"), np.load(p + ".offsets.npy")) if os.path.exists(p) else None
            for p in state_paths]


def _reduce_group(job) -> tuple[dict, int, np.ndarray]:
    """One bucket group: (shard -> (row, kept_shard, kept_row) array of its copies, copies, cluster sizes)."""
    state_paths, lo_b, hi_b = job
    states = _open_states(state_paths)
    hs, shards, rows = [], [], []
    for s, st in enumerate(states):
        if st is None:
            continue
        rec, o = st
        lo, hi = int(o[lo_b]), int(o[hi_b])
        if hi > lo:
            part = np.asarray(rec[lo:hi])
            hs.append(np.stack([part["h0"], part["h1"]], axis=1))
            rows.append(part["row"])
            shards.append(np.full(hi - lo, s, dtype=np.int64))
    if not hs:
        return {}, 0, np.zeros(0, np.int64)
    h, sh, rw = np.concatenate(hs), np.concatenate(shards), np.concatenate(rows)
    order = np.lexsort((rw, sh, h[:, 1], h[:, 0]))
    h, sh, rw = h[order], sh[order], rw[order]
    same = np.zeros(len(h), dtype=bool)
    same[1:] = (h[1:, 0] == h[:-1, 0]) & (h[1:, 1] == h[:-1, 1])
    if not same.any():
        return {}, 0, np.zeros(0, np.int64)
    # index of the group's first member for every row
    first = np.maximum.accumulate(np.where(~same, np.arange(len(h)), 0))
    dup = np.nonzero(same)[0]
    group = np.bincount(first)
    out = {}
    for s in np.unique(sh[dup]):
        m = dup[sh[dup] == s]
        out[int(s)] = np.stack([rw[m], sh[first[m]], rw[first[m]]], axis=1)
    return out, int(len(dup)), group[group > 1]


def _bucket_groups(states, max_rows: int = REDUCE_ROWS) -> list[tuple[int, int]]:
    """Consecutive bucket ranges [lo, hi) holding at most ``max_rows`` hashes each (one bucket at least)."""
    n = 1 << N_BUCKET_BITS
    sizes = np.zeros(n, dtype=np.int64)
    for st in states:
        if st is not None:
            sizes += np.diff(st[1])
    groups, lo, acc = [], 0, 0
    for b in range(n):
        if acc and acc + sizes[b] > max_rows:
            groups.append((lo, b))
            lo, acc = b, 0
        acc += int(sizes[b])
    groups.append((lo, n))
    return groups
