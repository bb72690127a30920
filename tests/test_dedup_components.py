"""MinHash dedup's reduce at corpus scale: connected components over edge partitions on disk equal a plain
union-find, whatever the partitions, node ranges and task order (and on Ray); cluster bookkeeping in numpy
equals the per-cluster choice of the kept member; real English and Chinese copies give the same bytes with
tiny partitions as with one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gristmill import run
from gristmill.dedup import minhash
from gristmill.dedup.clusters import shard_ranges, write_decisions
from gristmill.dedup.components import components
from tests.conftest import read_jsonl, shared, tree_bytes, write_jsonl


def union_find_labels(n: int, edges: np.ndarray) -> np.ndarray:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in edges.tolist():
        a, b = find(u), find(v)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return np.array([find(x) for x in range(n)])


def graph(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "chain":  # one long path, nodes in random order: the most rounds
        p = rng.permutation(n)
        return np.stack([p[:-1], p[1:]], 1)
    if kind == "stars":  # near-duplicate clusters: a few members around each original
        centres = rng.choice(n, n // 5, replace=False)
        return np.stack([np.repeat(centres, 3), rng.integers(0, n, len(centres) * 3)], 1)
    return rng.integers(0, n, (n // 2, 2))  # random sparse graph: many components of every size


def split(edges: np.ndarray, k: int, tmp, rng) -> list[str]:
    paths = []
    part = rng.integers(0, k, len(edges))
    for i in range(k):
        e = edges[part == i]
        e = np.sort(e, axis=1) if i % 2 else e
        np.save(tmp / f"e{i}.npy", e.astype(np.int64))
        paths.append(str(tmp / f"e{i}.npy"))
    return paths


def reversed_map(fn, items):
    """Tasks in the opposite order (as a parallel executor may finish them): results in order."""
    return [fn(x) for x in reversed(items)][::-1]


@pytest.mark.parametrize("kind", ["chain", "stars", "random"])
def test_components_equal_union_find(tmp_path, kind):
    rng = np.random.default_rng(len(kind))
    n = 3000
    edges = graph(kind, n, rng)
    expected = union_find_labels(n, edges)
    for parts, ranges, pmap in ((1, [0, n], None), (7, [0, 5, 900, 901, 2500, n], None),
                                (13, [0, 1000, 2000, n], reversed_map)):
        work = tmp_path / f"{parts}-{len(ranges)}"
        work.mkdir()
        path, rounds = components(split(edges, parts, work, rng), n, str(work / "cc"), ranges, pmap)
        assert np.array_equal(np.load(path), expected), (parts, ranges)
        assert rounds <= (24 if kind == "chain" else 10), rounds  # about log2 of the longest path


def reference_decisions(labels: np.ndarray, values: np.ndarray | None, base: np.ndarray) -> list[list[tuple]]:
    """The previous reduce's bookkeeping, cluster by cluster in Python."""
    members: dict[int, list[int]] = {}
    for g, lab in enumerate(labels.tolist()):
        members.setdefault(lab, []).append(g)
    shard_of = lambda g: int(np.searchsorted(base, g, side="right") - 1)  # noqa: E731
    out: list[list[tuple]] = [[] for _ in range(len(base) - 1)]
    for ms in members.values():
        if len(ms) < 2:
            continue
        kept = ms[0] if values is None else max(ms, key=lambda g: (np.nan_to_num(values[g], nan=-np.inf), -g))
        ks = shard_of(kept)
        for g in ms:
            s = shard_of(g)
            out[s].append((g - base[s], ks, kept - base[ks], len(ms), g != kept))
    return [sorted(x) for x in out]


@pytest.mark.parametrize("keep", ["first", "values"])
def test_cluster_bookkeeping_equals_the_per_cluster_choice(tmp_path, keep):
    rng = np.random.default_rng(5)
    n = 4000
    edges = graph("random", n, rng)
    labels = union_find_labels(n, edges)
    np.save(tmp_path / "labels.npy", labels)
    base = np.array([0, 700, 700, 1900, 2600, 4000])  # an empty shard too
    values = rng.choice([0.0, 1.0, 2.5, np.nan, np.inf, -np.inf], n) if keep == "values" else None
    expected = reference_decisions(labels, values, base)
    for max_nodes in (10_000, 800):
        cuts = shard_ranges(base, max_nodes)
        out = tmp_path / f"dec{max_nodes}"
        dups, hist = write_decisions(str(tmp_path / "labels.npy"), base, cuts, str(tmp_path / f"w{max_nodes}"),
                                     str(out), None if values is None else (lambda lo, hi: values[lo:hi]))
        got = [np.load(out / f"{s:05d}.npy").tolist() for s in range(len(base) - 1)]
        assert got == [[tuple(int(v) if not isinstance(v, bool) else v for v in t) for t in x] for x in expected]
        assert dups == sum(t[4] for x in expected for t in x) > 100
        assert hist.sum() == len({labels[g] for g in range(n) if (labels == labels[g]).sum() > 1})


def test_tiny_partitions_give_the_same_bytes_on_real_text(tmp_path, monkeypatch):
    """Real English and Chinese pages, each with two edited copies, in many shards: edge partitions of ~100
    pairs, node ranges of ~25 documents and bucket groups of ~300 keys decide exactly as one of each."""
    rng = random.Random(3)
    en = [d for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl")) if len(d["text"]) > 1200][:25]
    zh = [d for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz")) if len(d["text"]) > 1200][:25]
    rows = []
    for d in en + zh:
        rows.append({"id": d["id"], "text": d["text"], "score": rng.random()})
        for k in range(2):
            t = d["text"]
            cut = rng.randrange(len(t) // 20)
            rows.append({"id": f"{d['id']}~{k}", "text": t[cut:] + f"\n{k}", "score": rng.random()})
    rng.shuffle(rows)
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "r.yaml").write_text("input: {shard_size: 40KB}\nsteps:\n  - step: minhash_dedup\n"
                                     "    keep: max:score\n")
    one = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "one"),
              workers=1, quiet=True)
    seen = {"parts": 0, "ranges": 0}
    spill, comps = minhash._spill_candidates, minhash.components

    def counting(job):
        seen["parts"] = max(seen["parts"], job[-1])
        return spill(job)

    def ranges(edges, n, work, bounds, pmap):
        seen["ranges"] = len(bounds) - 1
        return comps(edges, n, work, bounds, pmap)

    monkeypatch.setattr(minhash, "_spill_candidates", counting)
    monkeypatch.setattr(minhash, "components", ranges)
    monkeypatch.setattr(minhash, "EDGE_ROWS", 100)
    monkeypatch.setattr(minhash, "RANGE_NODES", 25)
    monkeypatch.setattr(minhash, "GROUP_ROWS", 300)
    tiny = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "tiny"),
               workers=1, quiet=True)
    assert one["shards"] >= 8 and seen["parts"] >= 10 and seen["ranges"] >= 5
    a, b = one["global_steps"]["minhash_dedup"], tiny["global_steps"]["minhash_dedup"]
    for k in ("duplicates", "clusters", "candidate_pairs", "verified_pairs", "cluster_sizes"):
        assert a[k] == b[k], k
    assert a["cluster_sizes"].get("3", 0) >= 40 and one["counts"]["rejected"] >= 80
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "tiny")


@pytest.mark.ray
def test_components_on_ray_equal_single_process(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is part of the test extra")
    from gristmill.exec.ray import RayExecutor

    rng = np.random.default_rng(11)
    n = 5000
    edges = np.concatenate([graph("stars", n, rng), graph("random", n, rng)[:800]])
    paths = split(edges, 4, tmp_path, rng)
    bounds = [0, 2500, 3700, n]
    serial, _ = components(paths, n, str(tmp_path / "serial"), bounds)
    ex = RayExecutor(2)
    try:
        dist, _ = components(paths, n, str(tmp_path / "ray"), bounds, ex.pmap)
        base = np.array([0, 1000, 1200, 2500, 3000, 3700, n])
        cuts = shard_ranges(base, 2600)
        for name, labels, pmap in (("s", serial, None), ("r", dist, ex.pmap)):
            write_decisions(labels, base, cuts, str(tmp_path / f"w{name}"), str(tmp_path / f"d{name}"), None, pmap)
    finally:
        ex.close()
    assert np.array_equal(np.load(dist), np.load(serial))
    assert np.array_equal(np.load(serial), union_find_labels(n, edges))
    for s in range(len(base) - 1):
        assert (tmp_path / "ds" / f"{s:05d}.npy").read_bytes() == (tmp_path / "dr" / f"{s:05d}.npy").read_bytes()
