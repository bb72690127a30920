"""Connected components of a graph whose edges live on disk in partitions, with bounded memory per process.

The label of every node is kept in one int64 array on disk (``labels.npy``, 8 bytes a node, memory-mapped),
initially the node's own number. Rounds alternate two kinds of independent tasks, each run through
``pmap(fn, items)`` (a list comprehension locally, Ray tasks under the Ray executor):

- **hook** (one task per edge partition): read the partition's edges and the labels of their ends; for the
  edges whose ends have different labels, the connected components of those *labels* are computed locally
  (numpy min-label propagation with pointer jumping) and every label is hooked to the smallest label of its
  local component. Hooks are written to one file per task, sorted by node, with where each node range starts.
- **apply** (one task per node range): lower the range's labels to their hooks (``min``), then shortcut every
  node of the range to its label's label until nothing changes (pointer jumping, reading other ranges).

Labels only decrease and always name a node of the same component, so a round without any hook means every
edge has equal labels at both ends: each component carries one label, which is its smallest node (that node's
label can only be itself). Every round lowers the sum of the labels, so the loop ends; on near-duplicate graphs
(small clusters) it takes two or three rounds. No process holds more than one edge partition, one node range
and its hooks; the driver holds nothing but file names.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> np.save(os.path.join(d, "e0.npy"), np.array([[5, 7], [1, 2]], np.int64))
>>> np.save(os.path.join(d, "e1.npy"), np.array([[2, 7], [3, 4]], np.int64))
>>> path, rounds = components([os.path.join(d, "e0.npy"), os.path.join(d, "e1.npy")], 9, d, [0, 4, 9])
>>> np.load(path).tolist()
[0, 1, 1, 3, 3, 1, 6, 1, 8]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

MAX_ROUNDS = 64  # a safeguard: every round makes progress, and near-duplicate graphs need two or three
_CHUNK = 1 << 22  # nodes initialised or scanned at a time
_PAGE = 4096  # bytes read at a time when gathering labels


def serial_map(fn: Callable, items: list) -> list:
    return [fn(x) for x in items]


def local_min_labels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, smallest node of each one's component) of the graph with edges ``a[i] - b[i]``, in numpy.

    >>> n, m = local_min_labels(np.array([4, 9, 2]), np.array([9, 6, 3]))
    >>> dict(zip(n.tolist(), m.tolist()))
    {2: 2, 3: 2, 4: 4, 6: 4, 9: 4}
    """
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = inv[:len(a)], inv[len(a):]
    lab = np.arange(len(nodes), dtype=np.int64)  # compact ids keep the order of the nodes
    while True:
        m = np.minimum(lab[ca], lab[cb])
        new = lab.copy()
        np.minimum.at(new, ca, m)
        np.minimum.at(new, cb, m)
        while True:  # pointer jumping: every id to its label's label
            nxt = new[new]
            if np.array_equal(nxt, new):
                break
            new = nxt
        if np.array_equal(new, lab):
            return nodes, nodes[lab]
        lab = new


def gather(path: str, idx: np.ndarray) -> np.ndarray:
    """``np.load(path)[idx]`` for a flat .npy file, read page by page with pread: no file pages are mapped
    into this process, so its memory stays that of ``idx`` however large the file.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(p, np.arange(10_000) * 3)
    >>> gather(p, np.array([9_999, 5, 5, 2_000])).tolist()
    [29997, 15, 15, 6000]
    """
    uniq, inv = np.unique(idx, return_inverse=True)
    out = np.empty(len(uniq), np.int64)
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        read(f)
        start = f.tell()
        per = _PAGE // 8
        page = uniq // per
        cuts = np.nonzero(np.r_[True, page[1:] != page[:-1]])[0].tolist() + [len(uniq)]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            first = int(page[a]) * per
            buf = np.frombuffer(os.pread(f.fileno(), _PAGE, start + first * 8), np.int64)
            out[a:b] = buf[uniq[a:b] - first]
    return out[inv]


def _hook(job) -> int:
    """One edge partition: hooks (label, smaller label) for its edges whose ends differ, split by node range."""
    labels_path, edge_path, bounds, out_prefix = job
    edges = np.load(edge_path, mmap_mode="r")
    if not len(edges):
        return 0
    ends = gather(labels_path, np.asarray(edges).reshape(-1))
    lu, lv = ends[0::2], ends[1::2]
    diff = lu != lv
    if not diff.any():
        return 0
    nodes, mins = local_min_labels(lu[diff], lv[diff])
    keep = nodes != mins
    nodes, mins = nodes[keep], mins[keep]
    part = np.searchsorted(bounds, nodes, side="right") - 1  # nodes are sorted: so are their ranges
    _save(out_prefix + ".npy", np.stack([nodes, mins], 1))
    _save(out_prefix + ".offsets.npy", np.searchsorted(part, np.arange(len(bounds))))
    return int(len(nodes))


def _apply(job) -> int:
    """One node range: labels lowered to their hooks, then every node shortcut to its root. Returns changes."""
    labels_path, work, rnd, hooked, r, lo, hi = job
    labels = np.load(labels_path, mmap_mode="r+")
    own = np.array(labels[lo:hi])
    before = own.copy()
    for prefix in (_hook_prefix(work, rnd, k) for k in hooked):  # this range's slice of every hook file
        off = np.load(prefix + ".offsets.npy", mmap_mode="r")
        if off[r + 1] > off[r]:
            h = np.load(prefix + ".npy", mmap_mode="r")[off[r]:off[r + 1]]
            np.minimum.at(own, h[:, 0] - lo, h[:, 1])
    labels[lo:hi] = own
    idx = np.nonzero(own != np.arange(lo, hi))[0]  # roots label themselves: nothing to shortcut
    x = own[idx]
    while len(x):
        y = gather(labels_path, x)
        if np.array_equal(x, y):
            break
        x = y
    own[idx] = x
    labels[lo:hi] = own
    labels.flush()
    return int(np.count_nonzero(own != before))


def _hook_prefix(work: str, rnd: int, k: int) -> str:
    return os.path.join(work, f"hooks{rnd:02d}-e{k:05d}")


def _save(path: str, arr: np.ndarray) -> None:
    with open(path + ".tmp", "wb") as f:
        np.save(f, arr)
    os.replace(path + ".tmp", path)


def components(edge_paths: Sequence[str], n_nodes: int, work: str, bounds: Sequence[int],
               pmap: Callable | None = None) -> tuple[str, int]:
    """Label every node 0 … ``n_nodes - 1`` with the smallest node of its connected component.

    ``edge_paths``: .npy files of (k, 2) int64 edges (the partitions); ``bounds``: node ranges
    ``[bounds[i], bounds[i + 1])`` that one apply task owns (0 first, ``n_nodes`` last). Returns the path of
    ``work/labels.npy`` and the number of rounds run."""
    pmap = pmap or serial_map
    os.makedirs(work, exist_ok=True)
    bounds = np.asarray(bounds, dtype=np.int64)
    path = os.path.join(work, "labels.npy")
    labels = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=np.int64, shape=(n_nodes,))
    for lo in range(0, n_nodes, _CHUNK):
        labels[lo:lo + _CHUNK] = np.arange(lo, min(lo + _CHUNK, n_nodes), dtype=np.int64)
    labels.flush()
    del labels
    os.replace(path + ".tmp", path)
    edge_paths = [p for p in edge_paths if os.path.exists(p)]
    for rnd in range(MAX_ROUNDS):
        counts = pmap(_hook, [(path, e, bounds, _hook_prefix(work, rnd, k)) for k, e in enumerate(edge_paths)])
        if sum(counts) == 0:
            return path, rnd + 1
        hooked = np.nonzero(counts)[0].astype(np.int32)  # the tasks that wrote hooks (a small array per job)
        pmap(_apply, [(path, work, rnd, hooked, r, int(bounds[r]), int(bounds[r + 1]))
                      for r in range(len(bounds) - 1)])
        for k in hooked.tolist():
            os.remove(_hook_prefix(work, rnd, k) + ".npy")
            os.remove(_hook_prefix(work, rnd, k) + ".offsets.npy")
    from gristmill.errors import GristmillError

    raise GristmillError(f"connected components did not settle in {MAX_ROUNDS} rounds",
                         hint="this is a bug in gristmill; please report it")
