"""Cluster bookkeeping from component labels on disk: each cluster's size and kept member, then one decision
array per shard, in numpy over node ranges (no Python object per document or per cluster).

A node's label is the smallest node of its cluster (:mod:`gristmill.dedup.components`), so a cluster is named
by its smallest member, which lies in the same or an earlier node range than every other member. Three passes
of independent tasks, one per node range, through ``pmap``:

1. **parts**: per range, for the nodes whose label is not themselves: per label, their count and their best
   member (highest keep value, ties to the smaller node), split by the label's range;
2. **table**: per range, the clusters named by its nodes: size (1 + counts) and kept member (the root itself
   when it is at least as good: it is the smallest node), written as ``clusters-RANGE.npy``;
3. **decisions**: per range, every member of a cluster gets (row, kept shard, kept row, size, dup), written
   per shard in row order (``DECISION_DTYPE``).

With ``keep: first`` the kept member is the label itself and no values are read.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

DECISION_DTYPE = np.dtype([("row", "<i8"), ("kept_shard", "<i8"), ("kept_row", "<i8"), ("size", "<i8"),
                           ("dup", "?")])
PART_DTYPE = np.dtype([("label", "<i8"), ("count", "<i8"), ("value", "<f8"), ("node", "<i8")])
TABLE_DTYPE = np.dtype([("root", "<i8"), ("size", "<i8"), ("kept", "<i8")])


def _save(path: str, arr: np.ndarray) -> None:
    with open(path + ".tmp", "wb") as f:
        np.save(f, arr)
    os.replace(path + ".tmp", path)


def _values(values_of: Callable | None, lo: int, hi: int) -> np.ndarray | None:
    """Keep values of nodes lo … hi - 1, NaN as -inf exactly as the single-process reduce compared them."""
    if values_of is None:
        return None
    return np.nan_to_num(values_of(lo, hi), nan=-np.inf)


def _best_per_label(label: np.ndarray, count: np.ndarray, value: np.ndarray, node: np.ndarray) -> np.ndarray:
    """One PART_DTYPE row per label: counts summed, the best (highest value, then smallest node) member."""
    order = np.lexsort((node, -value, label))
    label, count, value, node = label[order], count[order], value[order], node[order]
    starts = np.nonzero(np.r_[True, label[1:] != label[:-1]])[0] if len(label) else np.zeros(0, np.int64)
    out = np.empty(len(starts), PART_DTYPE)
    out["label"], out["value"], out["node"] = label[starts], value[starts], node[starts]
    out["count"] = np.add.reduceat(count, starts) if len(starts) else 0
    return out


def _parts(job) -> None:
    labels_path, bounds, r, values_of, work = job
    lo, hi = int(bounds[r]), int(bounds[r + 1])
    own = np.array(np.load(labels_path, mmap_mode="r")[lo:hi])
    member = np.nonzero(own != np.arange(lo, hi))[0]
    lab = own[member]
    vals = _values(values_of, lo, hi)
    value = vals[member] if vals is not None else np.zeros(len(member))
    agg = _best_per_label(lab, np.ones(len(member), np.int64), value, member + lo)
    cuts = np.searchsorted(agg["label"], bounds)
    for j in range(r + 1):
        if cuts[j + 1] > cuts[j]:
            _save(os.path.join(work, f"part-{j:05d}-{r:05d}.npy"), agg[cuts[j]:cuts[j + 1]])


def _table(job) -> np.ndarray:
    """The clusters named by nodes of range ``r``; returns the histogram of their sizes."""
    bounds, r, values_of, work = job
    lo, hi = int(bounds[r]), int(bounds[r + 1])
    names = sorted(n for n in os.listdir(work) if n.startswith(f"part-{r:05d}-") and n.endswith(".npy"))
    agg, pending, rows = np.zeros(0, PART_DTYPE), [], 0
    for i, name in enumerate(names):  # merged a few parts at a time: at most ~3 rows a document of the range
        pending.append(np.load(os.path.join(work, name)))
        rows += len(pending[-1])
        if rows > hi - lo or i == len(names) - 1:
            a = np.concatenate([agg, *pending])
            agg = _best_per_label(a["label"], a["count"], a["value"], a["node"])
            pending, rows = [], 0
    table = np.empty(len(agg), TABLE_DTYPE)
    table["root"], table["size"] = agg["label"], agg["count"] + 1
    vals = _values(values_of, lo, hi)
    if vals is None:
        table["kept"] = agg["label"]
    else:  # the root is the smallest member: it wins ties
        table["kept"] = np.where(vals[agg["label"] - lo] >= agg["value"], agg["label"], agg["node"])
    _save(os.path.join(work, f"clusters-{r:05d}.npy"), table)
    for n in names:
        os.remove(os.path.join(work, n))
    return np.bincount(table["size"]) if len(table) else np.zeros(0, np.int64)


def _decisions(job) -> int:
    """Decision arrays of the shards of range ``r``; returns their number of rejected members."""
    labels_path, bounds, r, base, shards, work, decision_dir = job
    lo, hi = int(bounds[r]), int(bounds[r + 1])
    own = np.array(np.load(labels_path, mmap_mode="r")[lo:hi])
    nodes = np.arange(lo, hi, dtype=np.int64)
    table = np.load(os.path.join(work, f"clusters-{r:05d}.npy"))
    is_root = np.zeros(hi - lo, bool)
    is_root[table["root"] - lo] = True
    member = np.nonzero((own != nodes) | is_root)[0]
    g, lab = nodes[member], own[member]
    size, kept = np.zeros(len(g), np.int64), np.zeros(len(g), np.int64)
    which = np.searchsorted(bounds, lab, side="right") - 1
    for j in np.unique(which):  # the cluster table of each range the labels fall in, one at a time
        sel = np.nonzero(which == j)[0]
        t = table if j == r else np.load(os.path.join(work, f"clusters-{j:05d}.npy"))
        k = np.searchsorted(t["root"], lab[sel])
        size[sel], kept[sel] = t["size"][k], t["kept"][k]
    shard_of = lambda x: np.searchsorted(base, x, side="right") - 1  # noqa: E731
    s_of, ks = shard_of(g), shard_of(kept)
    dups = 0
    for s in shards:
        sel = s_of == s
        arr = np.empty(int(np.count_nonzero(sel)), DECISION_DTYPE)
        arr["row"] = g[sel] - base[s]
        arr["kept_shard"], arr["kept_row"] = ks[sel], kept[sel] - base[ks[sel]]
        arr["size"], arr["dup"] = size[sel], g[sel] != kept[sel]
        dups += int(np.count_nonzero(arr["dup"]))
        _save(os.path.join(decision_dir, f"{s:05d}.npy"), arr)
    return dups


def shard_ranges(base: np.ndarray, max_nodes: int) -> np.ndarray:
    """Cut points (shard indices) grouping consecutive shards into node ranges of at most ``max_nodes``
    nodes (one shard at least); empty shards join a neighbour, so the node bounds ``base[cuts]`` increase.

    >>> shard_ranges(np.array([0, 3, 3, 7, 9]), 4).tolist()
    [0, 2, 3, 4]
    """
    cuts, acc = [0], 0
    for s in range(len(base) - 1):
        n = int(base[s + 1] - base[s])
        if acc and n and acc + n > max_nodes:
            cuts.append(s)
            acc = 0
        acc += n
    cuts.append(len(base) - 1)
    return np.array(cuts, np.int64)


def write_decisions(labels_path: str, base: np.ndarray, cuts: np.ndarray, work: str, decision_dir: str,
                    values_of: Callable | None = None, pmap: Callable | None = None) -> tuple[int, np.ndarray]:
    """Per-shard decision arrays from component labels. ``base``: first node of every shard (and the total
    last); ``cuts``: :func:`shard_ranges`; ``values_of(lo, hi)``: keep values of nodes lo … hi - 1 (None: keep
    the first). Returns (rejected members, histogram of cluster sizes)."""
    pmap = pmap or (lambda fn, xs: [fn(x) for x in xs])
    os.makedirs(work, exist_ok=True)
    os.makedirs(decision_dir, exist_ok=True)
    bounds = base[cuts]
    ranges = range(len(bounds) - 1)
    pmap(_parts, [(labels_path, bounds, r, values_of, work) for r in ranges])
    hists = pmap(_table, [(bounds, r, values_of, work) for r in ranges])
    dups = pmap(_decisions, [(labels_path, bounds, r, base, range(int(cuts[r]), int(cuts[r + 1])), work,
                              decision_dir) for r in ranges])
    hist = np.zeros(max((len(h) for h in hists), default=0), np.int64)
    for h in hists:
        hist[:len(h)] += h
    return int(sum(dups)), hist
