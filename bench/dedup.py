#!/usr/bin/env python3
"""Near-duplicate detection on the peer-bench ground truth, side by side with datatrove and datasketch.

    python bench/dedup.py --corpus $PEERS/corpus --peer-python $PEERS/venv/bin/python \\
        --peer-bench ../shared/peer-bench [--peers datatrove,datasketch] [--scale 4]

Runs ``gristmill run`` with a single ``minhash_dedup`` step (defaults: 5-gram shingles, 128 permutations,
threshold 0.7, exact verification) on ``neardup.jsonl`` with one worker under ``/usr/bin/time -v``, writes
``id<TAB>cluster`` for every document and scores it with the peer-bench ``eval_dedup.py`` (precision, recall,
F1 overall, for copies with true Jaccard >= 0.7, per language). The peers run with their peer-bench scripts on
the same file in the same run. ``--scale 4`` also runs gristmill on the corpus repeated 4 times (peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import timed as _timed  # noqa: E402


def timed(cmd: list[str]) -> dict:
    r = _timed(cmd)
    r.pop("stdout", None)
    return r

RECIPE = "steps:\n  - step: minhash_dedup\noutput:\n  format: parquet\n  columns: [id, dup_cluster]\n"


def clusters_tsv(out: Path, dest: Path) -> None:
    import pyarrow.parquet as pq

    with open(dest, "w") as f:
        for part in ("kept", "rejected"):
            for p in sorted((out / part).glob("*.parquet")):
                for r in pq.read_table(p, columns=["id", "dup_cluster"]).to_pylist():
                    f.write(f"{r['id']}\t{r['dup_cluster'] or r['id']}\n")


def evaluate(peer_python: str, peer_bench: str, truth: Path, arg: str, path: Path, label: str) -> dict:
    out = path.parent / f"eval-{label}.json"
    subprocess.run([peer_python, f"{peer_bench}/eval_dedup.py", "--truth", str(truth), arg, str(path),
                    "--label", label, "--json", str(out)], check=True, capture_output=True)
    return json.loads(out.read_text())


def summary(res: dict) -> dict:
    by_lang = res["pair_recall_by"]["lang"]
    return {"F1": res["removal"]["f1"], "P": res["removal"]["precision"], "R": res["removal"]["recall"],
            "F1_j>=0.7": res["removal_j5ge0.7"]["f1"], "P_j>=0.7": res["removal_j5ge0.7"]["precision"],
            "R_j>=0.7": res["removal_j5ge0.7"]["recall"],
            "pair_recall_j": {k: v["recall"] for k, v in res["pair_recall_by"]["j5"].items()},
            "pair_recall_en": by_lang.get("en", {}).get("recall"), "pair_recall_zh": by_lang.get("zh", {}).get("recall"),
            "unique_docs_removed": res["removal"]["unique_docs_removed"]}


def per_language(truth: Path, clusters: Path, tau: float = 0.7) -> dict:
    """Pairwise precision/recall/F1 per language over (original, copy) pairs: a true pair counts when its
    true word-5-gram Jaccard is >= tau; predicted pairs involving a copy below tau are ignored (don't care)."""
    import itertools
    from collections import defaultdict

    rows = [json.loads(x) for x in truth.read_text().splitlines()]
    pred = {}
    for line in clusters.read_text().splitlines():
        a, b = line.split("\t")
        pred[a] = b
    j = {r["id"]: r.get("j5", 1.0) for r in rows}
    true_cluster = {r["id"]: r["cluster"] for r in rows}
    lang = {r["id"]: r["lang"] for r in rows}
    members = defaultdict(list)
    for r in rows:
        members[pred.get(r["id"], r["id"])].append(r["id"])
    out = {}
    for L in ("en", "zh"):
        tp = fp = 0
        for m in members.values():
            for a, b in itertools.combinations(sorted(m), 2):
                if lang[a] != L:
                    continue
                if j[a] < tau or j[b] < tau:
                    continue  # a copy below tau: don't care
                if true_cluster[a] == true_cluster[b]:
                    tp += 1
                else:
                    fp += 1
        groups = defaultdict(list)
        for r in rows:
            if r["lang"] == L and r.get("j5", 1.0) >= tau:
                groups[r["cluster"]].append(r["id"])
        true_pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
        p = tp / (tp + fp) if tp + fp else 1.0
        rc = tp / true_pairs if true_pairs else 1.0
        out[L] = {"precision": round(p, 4), "recall": round(rc, 4), "f1": round(2 * p * rc / (p + rc), 4) if p + rc else 0,
                  "true_pairs": true_pairs}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--peer-bench", default=str(HERE.parent.parent / "shared" / "peer-bench"))
    ap.add_argument("--peers", default="datatrove,datasketch")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--results", default=str(HERE / "results" / "dedup.json"))
    a = ap.parse_args()
    nd, truth = a.corpus / "neardup.jsonl", a.corpus / "neardup.truth.jsonl"
    with open(nd, "rb") as f:
        docs = sum(1 for _ in f)
    mb = os.path.getsize(nd) / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    rows = []
    try:
        (tmp / "r.yaml").write_text(RECIPE)
        r = timed([sys.executable, "-m", "gristmill", "run", str(tmp / "r.yaml"), "-i", str(nd), "-o",
                   str(tmp / "gm"), "-w", "1", "--quiet"])
        clusters_tsv(tmp / "gm", tmp / "gm.tsv")
        reduce_info = json.loads((tmp / "gm" / "_work" / "done" / "reduce-minhash_dedup.json").read_text())
        rows.append({"tool": "gristmill", **r, **summary(evaluate(a.peer_python, a.peer_bench, truth, "--clusters",
                                                                   tmp / "gm.tsv", "gristmill")),
                     "pairwise_j>=0.7_by_lang": per_language(truth, tmp / "gm.tsv"),
                     "s_curve": reduce_info["s_curve"], "bands_x_rows": f"{reduce_info['bands']}x{reduce_info['rows']}",
                     "state_bytes_per_doc": reduce_info["state_bytes_per_doc"]})
        print(json.dumps(rows[-1]), flush=True)
        for peer in [p for p in a.peers.split(",") if p]:
            script = {"datatrove": "bench_minhash_datatrove.py", "datasketch": "bench_minhash_datasketch.py"}[peer]
            r = timed([a.peer_python, f"{a.peer_bench}/{script}", "--input", str(nd), "--out", str(tmp / peer),
                       "--workers", "1"])
            if peer == "datatrove":
                res = evaluate(a.peer_python, a.peer_bench, truth, "--kept", tmp / peer / "kept", peer)
                rows.append({"tool": peer, **r, **summary(res)})
            else:
                res = evaluate(a.peer_python, a.peer_bench, truth, "--clusters", tmp / peer / "clusters.tsv", peer)
                rows.append({"tool": peer, **r, **summary(res),
                             "pairwise_j>=0.7_by_lang": per_language(truth, tmp / peer / "clusters.tsv")})
            print(json.dumps(rows[-1]), flush=True)
        if a.scale > 1:
            big = tmp / f"x{a.scale}.jsonl"
            with open(big, "w") as g:
                for k in range(a.scale):
                    with open(nd) as f:
                        for line in f:
                            rec = json.loads(line)
                            rec["id"] = f"{rec['id']}#{k}"
                            g.write(json.dumps(rec, ensure_ascii=False) + "\n")
            r = timed([sys.executable, "-m", "gristmill", "run", str(tmp / "r.yaml"), "-i", str(big), "-o",
                       str(tmp / "gm-big"), "-w", "1", "--quiet"])
            rows.append({"tool": f"gristmill x{a.scale}", **r})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ncorpus: {docs:,} docs, {mb:.1f} MB\n")
    print("| tool | wall s | docs/s per core | MB/s per core | peak RSS MB | F1 all | P/R/F1 j>=0.7 | pair recall en / zh | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---|---|---:|")
    dt = next((r for r in rows if r["tool"] == "datatrove"), None)
    for r in rows:
        n = docs * (a.scale if r["tool"].startswith("gristmill x") else 1)
        sp = f"{dt['wall_s'] / r['wall_s']:.1f}x" if dt and "x" not in r["tool"][-3:] else "-"
        q = (f"{r['F1']:.3f} | {r['P_j>=0.7']:.3f}/{r['R_j>=0.7']:.3f}/{r['F1_j>=0.7']:.3f} | "
             f"{r['pair_recall_en']:.3f} / {r['pair_recall_zh']:.3f}") if "F1" in r else "- | - | -"
        print(f"| {r['tool']} | {r['wall_s']} | {n / r['wall_s']:,.0f} | {n * mb / docs / r['wall_s']:.2f} | "
              f"{r['peak_rss_mb']} | {q} | {sp} |")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
