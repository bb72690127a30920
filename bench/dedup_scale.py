#!/usr/bin/env python3
"""MinHash dedup's reduce at corpus scale, in simulation: synthetic band keys for N documents with a chosen
duplicate structure, written as ``minhash_dedup`` map-phase state, then the real reduce (bucket groups ->
candidate pairs spilled to edge partitions -> distinct pairs -> connected components -> cluster bookkeeping ->
per-shard decisions), with one change: a candidate pair is "verified" when both documents belong to the same
true cluster (the simulation has no shingles; exact verification's cost per pair is measured on real text by
``bench/dedup.py`` and added in docs/dedup.md).

    python bench/dedup_scale.py --docs 1000000 [--docs-per-shard 50000] [--dup-share 0.3] [--giant 0.002]
        [--false-share 0.02] [--keep DIR] [--json OUT]

Duplicate structure: ``--dup-share`` of the documents are copies of an original drawn with a heavy tail
(original ``k`` of the M non-copies picked with probability ~ u**3, so a few originals have hundreds of
copies), ``--giant`` of the documents are copies of one page (a template: one cluster of N * giant), every
copy has a Jaccard j ~ U(0.7, 1) to its original and shares each of the 25 bands with it with probability
j**5 (the LSH S-curve), and ``--false-share`` of the documents share one band with an unrelated document
(LSH false positives, rejected by verification). Everything runs in this one process, one task at a time (as
the local executor with one worker does); each phase's peak RSS is measured by resetting the peak
(``malloc_trim``, then ``/proc/self/clear_refs``) before each task, so it is the memory one worker needs for
one task of that phase (this process's own baseline, numpy and pyarrow imported, included).
Prints one JSON line per phase and a summary; state, candidate, edge, label and decision bytes on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from gristmill.dedup import clusters as cl  # noqa: E402
from gristmill.dedup import components as cc  # noqa: E402
from gristmill.dedup import minhash  # noqa: E402

BANDS, ROWS = 25, 5
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: uint64 -> well-mixed uint64."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        return x ^ (x >> np.uint64(31))


def truth_clusters(n: int, dup_share: float, giant: float, rng: np.random.Generator) -> np.ndarray:
    """True cluster (the original's number) of every document."""
    truth = np.arange(n, dtype=np.int64)
    n_copies, n_giant = int(n * dup_share), int(n * giant)
    copies = rng.choice(n, n_copies + n_giant, replace=False)
    is_copy = np.zeros(n, bool)
    is_copy[copies] = True
    originals = np.nonzero(~is_copy)[0]
    pick = (len(originals) * rng.random(n_copies) ** 3).astype(np.int64)  # heavy tail: a few big clusters
    truth[copies[:n_copies]] = originals[pick]
    truth[copies[n_copies:]] = originals[-1]
    return truth


def write_state(out: Path, truth: np.ndarray, lo: int, hi: int, false_share: float, seed: int) -> None:
    """One shard's map-phase state in minhash_dedup's format (keys bucketed by their top bits)."""
    d = np.arange(lo, hi, dtype=np.uint64)
    c = truth[lo:hi].astype(np.uint64)
    s = np.uint64(seed << 40)
    band = np.arange(BANDS, dtype=np.uint64)
    own = mix(mix(c[:, None] ^ s) + band[None, :])  # the cluster's key in each band
    alone = mix(mix(d[:, None] ^ s ^ np.uint64(1 << 62)) + band[None, :])  # a key nobody else has
    j = 0.7 + 0.3 * (mix(d ^ s ^ np.uint64(7)) >> np.uint64(11)).astype(np.float64) / 2.0**53
    u = (mix((d[:, None] << np.uint64(5)) + band[None, :] ^ s ^ np.uint64(3)) >> np.uint64(11)) / 2.0**53
    share = (u < (j ** ROWS)[:, None]) | (c == d)[:, None]  # an original has its cluster's keys
    keys = np.where(share, own, alone)
    fp = (mix(d ^ s ^ np.uint64(11)) >> np.uint64(11)) / 2.0**53 < false_share
    keys[fp, 0] = mix((d[fp] >> np.uint64(1)) ^ s ^ np.uint64(5 << 56))  # pairs of unrelated documents collide
    n = hi - lo
    rec = np.empty(n * BANDS, dtype=minhash.KEY_DTYPE)
    rec["key"] = keys.reshape(-1)
    rec["row"] = np.repeat(np.arange(n, dtype=np.int64), BANDS)
    bucket = (rec["key"] >> np.uint64(64 - minhash.N_BITS)).astype(np.int64)
    order = np.argsort(bucket, kind="stable")
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "keys.npy", rec[order])
    np.save(out / "key_offsets.npy", np.searchsorted(bucket[order], np.arange((1 << minhash.N_BITS) + 1)))
    np.save(out / "values.npy", np.zeros(n))


def _peak_reset() -> None:
    """Give freed heap back to the system, then restart the peak: the next peak is one task's own."""
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


class Phases:
    """Wraps minhash's phase functions: wall and CPU seconds and the largest per-task peak RSS of each."""

    def __init__(self) -> None:
        self.stats: dict[str, dict] = {}

    def wrap(self, name: str, fn):
        def run(*a, **k):
            _peak_reset()
            t, c = time.perf_counter(), time.process_time()
            r = fn(*a, **k)
            st = self.stats.setdefault(name, {"tasks": 0, "wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mb": 0.0})
            st["tasks"] += 1
            st["wall_s"] += time.perf_counter() - t
            st["cpu_s"] += time.process_time() - c
            st["peak_rss_mb"] = max(st["peak_rss_mb"], _peak_mb())
            return r
        return run


def verify_by_truth(truth_path: str):
    def verify(job) -> tuple[int, int]:
        """``_verify_partition`` with the true clusters instead of shingle sets."""
        _, _, _, _, _, cand_dir, n_groups, k, out = job
        pairs = minhash.partition_pairs(cand_dir, n_groups, k)
        t = cc.gather(truth_path, pairs.reshape(-1))  # pread, as the real verification reads its state
        ok = t[0::2] == t[1::2]
        minhash._save(out, pairs[ok])
        return int(len(pairs)), int(np.count_nonzero(ok))
    return verify


def extrapolate(sm: dict, text_ms: float, text_state: float, verify_us: float, map_mb: float,
                machines: list[int], cores: int) -> list[str]:
    """Markdown rows: 100M and 1B documents on each number of machines, from this run's per-document
    figures (reduce without verification) plus the measured real-text ones (map + apply per document, state
    per document, exact verification per candidate pair)."""
    n = sm["docs"]
    pairs = sm["candidate_pairs"] / n
    reduce_s = sm["reduce_cpu_s"] / n + pairs * verify_us / 1e6
    work = sm["candidate_bytes_per_doc"] + sm["edge_bytes_per_doc"] + sm["labels_bytes_per_doc"] + \
        sm["decision_bytes_per_doc"]
    keys = sm["key_state_bytes_per_doc"] / minhash.KEY_DTYPE.itemsize
    rows = []
    for docs in (100_000_000, 1_000_000_000):
        tasks = (f"{-(-int(docs * keys) // minhash.GROUP_ROWS):,} / {-(-int(docs * keys) // minhash.EDGE_ROWS):,}"
                 f" / {-(-docs // minhash.RANGE_NODES):,}")
        for m in machines:
            core_h = docs * (text_ms / 1e3 + reduce_s) / 3600
            rows.append(f"| {docs / 1e6:,.0f}M | {m} × {cores} | {docs * text_state / 1e12:.2f} TB | "
                        f"{docs * work / 1e9:.1f} GB | {docs * reduce_s / 3600:,.0f} | {core_h:,.0f} | "
                        f"{core_h * 60 / (m * cores):,.1f} min | {map_mb:.0f} / {sm['max_task_peak_rss_mb']:.0f} MB | "
                        f"{tasks} |")
    return rows


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--docs-per-shard", type=int, default=50_000)
    ap.add_argument("--dup-share", type=float, default=0.3)
    ap.add_argument("--giant", type=float, default=0.002)
    ap.add_argument("--false-share", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="work folder to use and keep (default: a temporary one, removed)")
    ap.add_argument("--json", help="append the summary as one JSON line to this file")
    ap.add_argument("--text-ms-per-doc", type=float, default=0.27,
                    help="CPU ms a real document costs minhash_dedup outside the reduce (map + apply; bench/dedup.py)")
    ap.add_argument("--text-state-per-doc", type=float, default=3626,
                    help="bytes of map-phase state a real document leaves (shingles, keys; the manifest)")
    ap.add_argument("--verify-us-per-pair", type=float, default=130,
                    help="CPU microseconds exact verification takes per candidate pair on real text")
    ap.add_argument("--text-map-peak-mb", type=float, default=500,
                    help="peak RSS of one worker's map task on real text (128 MB shards; bench/dedup.py)")
    ap.add_argument("--machines", default="10,100", help="cluster sizes to extrapolate to")
    ap.add_argument("--cores", type=int, default=16, help="cores per machine")
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="dedup-scale-"))
    rng = np.random.default_rng(a.seed)
    try:
        t0 = time.perf_counter()
        truth = truth_clusters(a.docs, a.dup_share, a.giant, rng)
        np.save(work / "truth.npy", truth)
        bounds = list(range(0, a.docs, a.docs_per_shard)) + [a.docs]
        paths = []
        for s in range(len(bounds) - 1):
            p = work / "state" / f"{s:05d}"
            write_state(p, truth, bounds[s], bounds[s + 1], a.false_share, a.seed)
            paths.append(str(p))
        true_dups = a.docs - len(np.unique(truth))
        del truth
        gen_s = time.perf_counter() - t0
        state_bytes = du(work / "state")
        print(json.dumps({"phase": "generate", "docs": a.docs, "shards": len(paths), "seconds": round(gen_s, 1),
                          "state_bytes_per_doc": round(state_bytes / a.docs, 1)}), flush=True)
        ph = Phases()
        disk = {"peak": 0}
        orig = {n: getattr(minhash, n) for n in ("_spill_candidates", "components")}
        minhash._spill_candidates = ph.wrap("candidates", orig["_spill_candidates"])
        verify = ph.wrap("dedup+verify pairs", verify_by_truth(str(work / "truth.npy")))

        def verify_first(job):
            disk.setdefault("candidates", du(work / "decision" / "minhash_dedup.work"))
            return verify(job)
        minhash._verify_partition = verify_first

        def components(*args, **kw):
            disk["edges"] = du(work / "decision" / "minhash_dedup.work")
            r = orig["components"](*args, **kw)
            disk["rounds"] = r[1]
            disk["labels"] = os.path.getsize(r[0])
            return r
        minhash.components = components
        for mod, name, label in ((cc, "_hook", "components: hook"), (cc, "_apply", "components: apply"),
                                 (cl, "_parts", "bookkeeping: parts"), (cl, "_table", "bookkeeping: clusters"),
                                 (cl, "_decisions", "bookkeeping: decisions")):
            setattr(mod, name, ph.wrap(label, getattr(mod, name)))
        step = minhash.MinHashDedup(minhash.MinHashParams())
        t = time.perf_counter()
        _peak_reset()
        info = step.reduce(paths, str(work / "decision" / "minhash_dedup"))
        reduce_s = time.perf_counter() - t
        decided = du(work / "decision" / "minhash_dedup")
        for name, st in ph.stats.items():
            print(json.dumps({"phase": name, **{k: round(v, 2) if isinstance(v, float) else v
                                                 for k, v in st.items()}}), flush=True)
        summary = {"docs": a.docs, "shards": len(paths), "dup_share": a.dup_share, "giant": a.giant,
                   "false_share": a.false_share, "true_duplicates": int(true_dups),
                   "found_duplicates": info["duplicates"], "clusters": info["clusters"],
                   "largest_cluster": max(int(k) for k in info["cluster_sizes"]) if info["cluster_sizes"] else 0,
                   "candidate_pairs": info["candidate_pairs"], "verified_pairs": info["verified_pairs"],
                   "rounds": disk["rounds"], "reduce_wall_s": round(reduce_s, 1),
                   "reduce_cpu_s": round(sum(s["cpu_s"] for s in ph.stats.values()), 1),
                   "max_task_peak_rss_mb": round(max(s["peak_rss_mb"] for s in ph.stats.values()), 1),
                   "key_state_bytes_per_doc": round(state_bytes / a.docs, 1),
                   "candidate_bytes_per_doc": round(disk.get("candidates", 0) / a.docs, 2),
                   "edge_bytes_per_doc": round(disk["edges"] / a.docs, 2),
                   "labels_bytes_per_doc": round(disk["labels"] / a.docs, 2),
                   "decision_bytes_per_doc": round(decided / a.docs, 2),
                   "phases": ph.stats}
        print(json.dumps({k: v for k, v in summary.items() if k != "phases"}), flush=True)
        print("\n| documents | machines × cores | map state on disk | reduce work on disk (peak) | reduce CPU h "
              "(with verification) | total CPU h | wall (ideal) | memory per worker: map / reduce task | tasks: groups / "
              "partitions / ranges |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---|")
        print("\n".join(extrapolate(summary, a.text_ms_per_doc, a.text_state_per_doc, a.verify_us_per_pair,
                                    a.text_map_peak_mb, [int(x) for x in a.machines.split(",")], a.cores)))
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps(summary) + "\n")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
