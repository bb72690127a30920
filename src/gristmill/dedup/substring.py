"""``substring_dedup``: exact-substring deduplication (Lee et al. 2021) with a suffix array.

Spans of at least ``min_length`` characters that occur in more than one document are cut from every
document but the first (input order) that holds them. Text is indexed as Unicode code points, with a
distinct separator after each document so no match crosses a document boundary.

How: the map state is each shard's UTF-8. The reduce joins a group's documents into one byte string, each
followed by a 6-byte separator (0xFF and the document's number), sorts its suffixes (libdivsufsort: byte
order of UTF-8 is code-point order, so the suffixes that start a character come in the same order as the
characters' suffixes), keeps those to a file, and then finds, for each suffix and its neighbour in sorted
order, their common prefix with the PLCP recurrence (``gristmill/_native/substring.c``: once with the
neighbour before, once with the one after; the later suffix of a pair that matches across documents over
``min_length`` characters or more is covered for that length).

Memory: about 5 bytes per UTF-8 byte of a group at the peak (the text and its int32 suffix array; then the
text and one int32 neighbour array), plus the interpreter; ``max_memory_mb`` bounds a group by that estimate.
Limits: the suffix array covers one group of shards at a time (at most ``group_chars`` characters and
``max_memory_mb``; a shard is never split), so a span repeated in two different groups is not found; raise
both (memory allowing) to cover the corpus. At most 2^30 documents in a group. Repeats inside one document
are left to the repetition signals.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.contract import Result, Step, register, text_column, with_column
from gristmill.params import param

try:
    from gristmill.dedup import _substring
except ImportError:  # built without a C compiler: the Python scan below (same result, far slower)
    _substring = None
if os.environ.get("GRISTMILL_PURE_PYTHON"):  # as for the quality signals' C core
    _substring = None

SEP = 6  # bytes of a document separator: 0xFF, then the document's number in 5 base-64 digits (0x80 | digit)
BYTES_PER_BYTE = 5  # peak memory of a group per byte of its text (the text and an int32 array)


@dataclass
class SubstringParams:
    min_length: int = param(100, "shortest repeated span to remove, in characters (Lee et al. used 50 "
                                 "tokens, about 100-250 characters of English)", min=10)
    min_chars: int = param(50, "reject documents shorter than this after removal", min=0)
    group_chars: int = param(32_000_000, "characters indexed by one suffix array (memory bound)", min=1000)
    max_memory_mb: int = param(2048, "memory one suffix array may take, about 5 bytes per UTF-8 byte of its "
                                     "group's text (a group closes before it would exceed this)", min=16)


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

    def map_state(self, table: pa.Table, resolve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The batch's text as UTF-8 (a copy of Arrow's own bytes, no Python strings), with each document's
        length in characters and in bytes."""
        import pyarrow.compute as pc  # here: the reduce's process need not load it (about 9 MB)

        col = table.column("text")
        col = pc.fill_null(col.cast(pa.string()) if pa.types.is_null(col.type) else col, "").combine_chunks()
        wide = pa.types.is_large_string(col.type)
        offsets = np.frombuffer(col.buffers()[1], np.int64 if wide else np.int32)[col.offset:col.offset + len(col) + 1]
        if not len(offsets):
            return np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)
        data = col.buffers()[2]
        data = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]].copy() if data is not None else np.zeros(0, np.uint8)
        lens = pc.utf8_length(col).to_numpy(zero_copy_only=False).astype(np.int64)
        return data, lens, np.diff(offsets).astype(np.int64)

    def save_state(self, path: str, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "text.bin.tmp"), "wb") as f:
            for data, _, _ in parts:
                f.write(memoryview(data))
        os.replace(os.path.join(path, "text.bin.tmp"), os.path.join(path, "text.bin"))
        for name, k in (("blens", 2), ("lens", 1)):
            arr = np.concatenate([np.zeros(0, np.int64)] + [part[k] for part in parts])
            with open(os.path.join(path, name + ".npy.tmp"), "wb") as f:
                np.save(f, arr)
            os.replace(os.path.join(path, name + ".npy.tmp"), os.path.join(path, name + ".npy"))

    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        p: SubstringParams = self.params
        _give_back_free_heap()
        os.makedirs(decision_dir, exist_ok=True)
        sizes = [_sizes(d) for d in state_paths]
        budget = p.max_memory_mb * 2**20 // BYTES_PER_BYTE
        groups, cur, acc, acc_bytes = [], [], 0, 0
        for s, (n, nbytes) in enumerate(sizes):
            if cur and (acc + n > p.group_chars or acc_bytes + nbytes > budget):
                groups.append(cur)
                cur, acc, acc_bytes = [], 0, 0
            cur.append(s)
            acc += n
            acc_bytes += nbytes
        if cur:
            groups.append(cur)
        removed = spans = 0
        for g in groups:
            lens = [np.load(os.path.join(state_paths[s], "lens.npy")) for s in g]
            cuts, n_spans = _repeats([state_paths[s] for s in g], p.min_length, decision_dir)
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


def _give_back_free_heap() -> None:
    """Return the heap that earlier stages freed to the system (glibc's malloc_trim; elsewhere nothing), so
    the suffix array does not sit on top of it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _shard(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A shard's map state: its UTF-8 (uint8) and each document's length in bytes. (State written before
    the UTF-8 format, code points as uint32 in text.npy, is read too.)"""
    if os.path.exists(os.path.join(path, "text.bin")):
        return np.fromfile(os.path.join(path, "text.bin"), np.uint8), np.load(os.path.join(path, "blens.npy"))
    lens = np.load(os.path.join(path, "lens.npy"))
    text = np.load(os.path.join(path, "text.npy")).tobytes().decode("utf-32-le", "surrogatepass")
    ends = np.cumsum(lens).tolist()
    enc = [text[a:b].encode("utf-8", "surrogatepass") for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    return np.frombuffer(b"".join(enc), np.uint8), np.fromiter(map(len, enc), np.int64, count=len(enc))


def _sizes(path: str) -> tuple[int, int]:
    """(characters, bytes of the joined text with separators) of a shard's state."""
    lens = np.load(os.path.join(path, "lens.npy"))
    if os.path.exists(os.path.join(path, "blens.npy")):
        nbytes = int(np.load(os.path.join(path, "blens.npy")).sum())
    else:
        nbytes = len(_shard(path)[0])
    return int(lens.sum()), nbytes + SEP * len(lens)


def _sequence(paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The group's documents as one byte string ``doc0 SEP0 doc1 SEP1 …`` and each document's first byte.

    A separator (0xFF, then the document's number in 5 digits of 6 bits, each 0x80 | digit) sorts after
    every UTF-8 character and in document order, like the separators of the symbol sequence it stands for;
    its digits look like UTF-8 continuation bytes, so no suffix that starts a symbol starts inside one."""
    blens = [np.load(os.path.join(p, "blens.npy")) if os.path.exists(os.path.join(p, "blens.npy"))
             else _shard(p)[1] for p in paths]
    n_docs = sum(len(b) for b in blens)
    if n_docs >= 1 << 30:
        raise ValueError(f"substring_dedup: {n_docs:,} documents in one group (at most 2^30); lower group_chars")
    total = sum(int(b.sum()) for b in blens) + SEP * n_docs
    seq = np.empty(total, np.uint8)
    starts = np.zeros(n_docs, np.int64)
    pos = doc = 0
    for p in paths:
        data, bl = _shard(p)
        k = len(bl)
        local = np.concatenate([[0], np.cumsum(bl + SEP)[:-1]]).astype(np.int64)
        starts[doc:doc + k] = pos + local
        size = len(data) + SEP * k
        block = seq[pos:pos + size]
        at = (local + bl)[:, None] + np.arange(SEP)
        sep = np.zeros(size, bool)
        sep[at] = True
        block[~sep] = data
        del data, sep
        num = np.arange(doc, doc + k, dtype=np.int64)[:, None]
        block[at] = np.where(np.arange(SEP) == 0, 0xFF, 0x80 | (num >> (6 * (SEP - 1 - np.arange(SEP))) & 63))
        pos += size
        doc += k
    return seq, starts


CHUNK = 1 << 18  # suffix-array entries handled at a time


def _repeats(paths: list[str], min_length: int, workdir: str) -> tuple[np.ndarray, int]:
    """(rows of (document, start, end) character ranges to cut, in the group's document numbering, sorted;
    the number of neighbour suffix pairs that matched across documents)."""
    from pydivsufsort import divsufsort

    seq, starts = _sequence(paths)
    if len(seq) - int(np.count_nonzero((seq & 0xC0) == 0x80)) < 2:  # fewer than two symbols
        return np.zeros((0, 3), np.int64), 0
    sa = divsufsort(seq)
    wide = sa.dtype == np.int64
    tmp = os.path.join(workdir, "suffixes.tmp")
    n = 0
    with open(tmp, "wb") as f:  # the suffixes that start a symbol, in order
        for lo in range(0, len(sa), CHUNK):
            part = sa[lo:lo + CHUNK]
            part = part[(seq[part] & 0xC0) != 0x80]
            part.tofile(f)
            n += len(part)
    del sa, part
    nb = np.empty(len(seq), np.int64 if wide else np.int32)
    rows, pairs = [], 0
    for after in (False, True):
        _neighbours(tmp, n, nb, after)
        scan = _substring.runs if _substring is not None else _scan
        found, k = scan(seq, nb, wide, starts, min_length)
        rows.append(np.frombuffer(found, np.int64).reshape(-1, 3))
        pairs += k
    os.remove(tmp)
    return _union(np.concatenate(rows)), pairs


def _neighbours(path: str, n: int, nb: np.ndarray, after: bool) -> None:
    """``nb[sa[i]] = sa[i - 1]`` (or ``sa[i + 1]`` when ``after``; -1 past either end), reading the suffix
    array ``sa`` of ``n`` entries from ``path`` a chunk at a time."""
    ext = np.empty(CHUNK + 2, nb.dtype)  # sa[lo - 1:hi + 1], with -1 past either end
    with open(path, "rb") as f:
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            a, b = max(lo - 1, 0), min(hi + 1, n)
            f.seek(a * nb.itemsize)
            f.readinto(memoryview(ext[a - lo + 1:b - lo + 1]))
            if lo == 0:
                ext[0] = -1
            if b == n:
                ext[n - lo + 1] = -1
            nb[ext[1:hi - lo + 1]] = ext[2:hi - lo + 2] if after else ext[:hi - lo]


def _union(rows: np.ndarray) -> np.ndarray:
    """Covered (document, start, end) spans merged where they overlap or touch, sorted."""
    if not len(rows):
        return np.zeros((0, 3), np.int64)
    key_a, key_b = (rows[:, 0] << 32) | rows[:, 1], (rows[:, 0] << 32) | rows[:, 2]
    order = np.argsort(key_a, kind="stable")
    key_a, key_b = key_a[order], key_b[order]
    reach = np.maximum.accumulate(key_b)
    first = np.concatenate([[True], key_a[1:] > reach[:-1]])
    last = np.concatenate([first[1:], [True]])
    return np.stack([key_a[first] >> 32, key_a[first] & 0xFFFFFFFF, reach[last] & 0xFFFFFFFF], axis=1)


def _len(lead: int) -> int:
    return 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4 if lead < 0xF8 else SEP


def _scan(seq: np.ndarray, nb: np.ndarray, wide: bool, starts: np.ndarray, min_length: int) -> tuple[bytes, int]:
    """Python twin of ``runs`` in ``gristmill/_native/substring.c`` (used when it was not built)."""
    t, nbl, st = memoryview(seq), memoryview(nb), starts.tolist()  # views: no per-byte Python objects held
    m, out, pairs = len(t), [], 0
    h = hb = doc = c = 0
    b = 0
    while b < m:
        lead, q = t[b], nbl[b]
        ln = _len(lead)
        if q < 0:
            h = hb = 0
        else:
            while b + hb < m and q + hb < m and t[b + hb] == t[q + hb] and t[b + hb] != 0xFF:
                size = _len(t[b + hb])
                if t[b + hb:b + hb + size] != t[q + hb:q + hb + size]:
                    break
                h, hb = h + 1, hb + size
            if h >= min_length and q < b and bisect.bisect_right(st, q) - 1 != doc:
                pairs += 1
                if out and out[-1][0] == doc and c <= out[-1][2]:
                    out[-1][2] = max(out[-1][2], c + h)
                else:
                    out.append([doc, c, c + h])
        doc, c = (doc + 1, 0) if lead == 0xFF else (doc, c + 1)
        if h:
            h, hb = h - 1, hb - ln
        b += ln
    return np.array(out, np.int64).reshape(-1, 3).tobytes(), pairs
