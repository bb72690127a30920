#!/usr/bin/env python3
"""Near-duplicate detection on the peer-bench ground truth, side by side with datatrove and datasketch,
every tool scored by the same measure (its clusters) at matched settings and at its own defaults.

    python bench/dedup.py --corpus $PEERS/corpus --peer-python $PEERS/venv/bin/python \\
        [--peer-bench ../shared/peer-bench] [--peers datatrove,datasketch] [--sample 8] [--repeats 3] [--scale 1]

Every configuration runs once per round for ``--repeats`` rounds (one worker, its own process under
``/usr/bin/time -v``; rounds, so that a change of load on a shared machine hits all alike): the table gives the
median wall and CPU seconds with min-max, the peak RSS and the load average. The last run's clusters are
scored with the peer-bench ``eval_dedup.py --clusters`` (for every tool: datatrove with ``save_cluster_id``, so
no upper-bound pair recall) plus pairwise P/R/F1 per language for copies whose true word-5-gram Jaccard is
>= 0.7. gristmill and datatrove write the full documents they keep and remove (JSONL) with their cluster ids;
the peer-bench datasketch script writes ids and clusters only. Configurations (shingles are word 5-grams for
all; gristmill's tokens are its own, datatrove's spaCy's, datasketch's peer-bench ``textnorm``):

- gristmill defaults: 128 permutations, 25x5 bands, character shingles too for mostly-Chinese documents,
  exact Jaccard verification; gristmill 25x5 and 14x8 (112 permutations with ``lsh_threshold`` 0.78, for
  which the step chooses 14x8: the bench checks it) with token shingles only, with and without verification;
- datatrove at its defaults (14x8 = 112 hashes, no verification: it has none) and at 25x5;
- datasketch at the peer-bench defaults (128 permutations, LSH threshold 0.7: it picks its own bands).

``--sample K`` keeps the ground-truth clusters whose CRC32 is divisible by K (whole clusters, so the truth
stays exact; default 8: about 5,900 of 47,467 documents) because datatrove takes ~6 minutes a run on the
full corpus; ``--sample 1`` is the whole corpus. ``--scale N`` (default 1: off) also runs gristmill's
defaults on N distinct copies of the sample: copy k shifts every Latin letter by k places and every CJK
ideograph by k*997 code points, so the copies share no shingles with each other but keep their lengths and
near-duplicate structure (scored against the truth copied the same way): memory and speed at N times the size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import count_lines, fmt, interleaved, load_average  # noqa: E402

# (label, minhash_dedup parameters)
GRISTMILL = [
    ("gristmill defaults", {}),
    ("gristmill 25x5 tokens, verified", {"similarity": "tokens"}),
    ("gristmill 25x5 tokens, unverified", {"similarity": "tokens", "verify": "none"}),
    ("gristmill 14x8 tokens, verified", {"similarity": "tokens", "num_perm": 112, "lsh_threshold": 0.78}),
    ("gristmill 14x8 tokens, unverified", {"similarity": "tokens", "num_perm": 112, "lsh_threshold": 0.78,
                                          "verify": "none"}),
]
DATATROVE = [("datatrove defaults 14x8", (14, 8)), ("datatrove 25x5", (25, 5))]

# datatrove's four MinHash stages as the peer-bench bench_minhash_datatrove.py runs them with --clusters, with
# the bands x rows as arguments: argv = input file, output folder, buckets, hashes per bucket.
DT_CODE = r"""
import gzip, json, sys
from pathlib import Path
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
inp, out, b, r = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cfg = MinhashConfig(n_grams=5, num_buckets=b, hashes_per_bucket=r)
def run(name, pipeline, tasks):
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(out / "logs" / name),
                          skip_completed=False).run()
reader = lambda: JsonlReader(str(inp.parent), glob_pattern=inp.name)
run("1", [reader(), MinhashDedupSignature(output_folder=str(out / "sigs"), config=cfg)], 1)
run("2", [MinhashDedupBuckets(input_folder=str(out / "sigs"), output_folder=str(out / "buckets"), config=cfg)], b)
run("3", [MinhashDedupCluster(input_folder=str(out / "buckets"), output_folder=str(out / "remove_ids"), config=cfg,
                              save_cluster_id=True)], 1)
run("4", [reader(), MinhashDedupFilter(input_folder=str(out / "remove_ids"), load_cluster_ids=True,
                                       exclusion_writer=JsonlWriter(str(out / "removed"), compression=None)),
          JsonlWriter(str(out / "kept"), compression=None)], 1)
with open(out / "clusters.tsv", "w") as fo:
    for sub in ("kept", "removed"):
        for f in sorted((out / sub).rglob("*.jsonl*")):
            for line in open(f):
                d = json.loads(line)
                c = d.get("metadata", {}).get("minhash_cluster_id", -1)
                if c != -1:
                    fo.write(f"{d['id']}\t{c}\n")
print(json.dumps({"config": str(cfg)}))
"""


def f3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def recipe(params: dict) -> str:
    lines = ["steps:", "  - step: minhash_dedup"] + [f"    {k}: {json.dumps(v)}" for k, v in params.items()]
    return "\n".join(lines) + "\noutput:\n  format: jsonl\n"


def sample(corpus: Path, k: int, tmp: Path) -> tuple[Path, Path]:
    """Whole ground-truth clusters whose CRC32 is divisible by ``k``, in corpus order."""
    nd, truth = corpus / "neardup.jsonl", corpus / "neardup.truth.jsonl"
    if k <= 1:
        return nd, truth
    keep = set()
    (tmp / "in").mkdir()  # a folder of its own: datatrove reads every file whose name ends with the one given
    with open(truth) as f, open(tmp / "truth.jsonl", "w") as g:
        for line in f:
            t = json.loads(line)
            if zlib.crc32(str(t["cluster"]).encode()) % k == 0:
                keep.add(t["id"])
                g.write(line)
    with open(nd) as f, open(tmp / "in" / "neardup.jsonl", "w") as g:
        for line in f:
            if json.loads(line)["id"] in keep:
                g.write(line)
    return tmp / "in" / "neardup.jsonl", tmp / "truth.jsonl"


def shift(text: str, k: int) -> str:
    """Latin letters shifted by ``k`` places, CJK ideographs by ``k * 997`` code points (within the block)."""
    out = []
    for ch in text:
        o = ord(ch)
        if 97 <= o <= 122:
            o = 97 + (o - 97 + k) % 26
        elif 65 <= o <= 90:
            o = 65 + (o - 65 + k) % 26
        elif 0x4E00 <= o <= 0x9FFF:
            o = 0x4E00 + (o - 0x4E00 + k * 997) % 0x5200
        out.append(chr(o))
    return "".join(out)


def scaled(nd: Path, truth: Path, n: int, tmp: Path) -> tuple[Path, Path]:
    big, big_truth = tmp / f"x{n}.jsonl", tmp / f"x{n}.truth.jsonl"
    with open(big, "w") as g, open(big_truth, "w") as gt:
        for k in range(n):
            with open(nd) as f:
                for line in f:
                    rec = json.loads(line)
                    rec["id"], rec["text"] = f"{rec['id']}#{k}", shift(rec["text"], k)
                    g.write(json.dumps(rec, ensure_ascii=False) + "\n")
            with open(truth) as f:
                for line in f:
                    t = json.loads(line)
                    t["id"], t["cluster"] = f"{t['id']}#{k}", f"{t['cluster']}#{k}"
                    gt.write(json.dumps(t, ensure_ascii=False) + "\n")
    return big, big_truth


def clusters_tsv(out: Path, dest: Path) -> None:
    with open(dest, "w") as f:
        for part in ("kept", "rejected"):
            for p in sorted((out / part).glob("*.jsonl")):
                with open(p) as g:
                    for line in g:
                        r = json.loads(line)
                        if r.get("dup_cluster"):
                            f.write(f"{r['id']}\t{r['dup_cluster']}\n")


def evaluate(peer_python: str, peer_bench: str, truth: Path, clusters: Path, label: str) -> dict:
    out = clusters.parent / f"eval-{label.replace(' ', '_')}.json"
    subprocess.run([peer_python, f"{peer_bench}/eval_dedup.py", "--truth", str(truth), "--clusters", str(clusters),
                    "--label", label, "--json", str(out)], check=True, capture_output=True)
    return json.loads(out.read_text())


def summary(res: dict) -> dict:
    by_lang = res["pair_recall_by"]["lang"]
    return {"pairwise_P": res["pairwise"]["precision"], "pairwise_R": res["pairwise"]["recall"],
            "pairwise_F1": res["pairwise"]["f1"],
            "F1": res["removal"]["f1"], "P": res["removal"]["precision"], "R": res["removal"]["recall"],
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
    ap.add_argument("--sample", type=int, default=8, help="keep ground-truth clusters with CRC32 %% K == 0 (1: all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", type=int, default=1, help="also run gristmill's defaults on N distinct copies")
    ap.add_argument("--only", default="", help="comma-separated labels to run (default: all)")
    ap.add_argument("--results", default=str(HERE / "results" / "dedup.json"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    rows = []
    load_start = load_average()
    try:
        nd, truth = sample(a.corpus, a.sample, tmp)
        peers = [p for p in a.peers.split(",") if p]
        jobs = []  # (label, settings, command, output folder, clusters file, truth, docs, mb)
        docs, mb = count_lines(nd), os.path.getsize(nd) / 1e6

        def gm_job(label: str, params: dict, inp: Path, tr: Path, n_docs: int, n_mb: float) -> None:
            out = tmp / label.replace(" ", "_").replace(",", "")
            (tmp / f"{out.name}.yaml").write_text(recipe(params))
            cmd = [sys.executable, "-m", "gristmill", "run", str(tmp / f"{out.name}.yaml"), "-i", str(inp), "-o",
                   str(out), "-w", "1", "--quiet", "--no-resume"]
            jobs.append((label, params, cmd, out, out.parent / f"{out.name}.tsv", tr, n_docs, n_mb))

        for label, params in GRISTMILL:
            gm_job(label, params, nd, truth, docs, mb)
        if "datatrove" in peers:
            (tmp / "dt.py").write_text(DT_CODE)
            for label, (b, r) in DATATROVE:
                out = tmp / f"dt{b}x{r}"
                jobs.append((label, {"bands": b, "rows": r, "verify": "none"},
                             [a.peer_python, str(tmp / "dt.py"), str(nd), str(out), str(b), str(r)], out,
                             out / "clusters.tsv", truth, docs, mb))
        if "datasketch" in peers:
            out = tmp / "datasketch"
            jobs.append(("datasketch defaults", {"num_perm": 128, "threshold": 0.7, "verify": "none"},
                         [a.peer_python, f"{a.peer_bench}/bench_minhash_datasketch.py", "--input", str(nd),
                          "--out", str(out), "--workers", "1"], out, out / "clusters.tsv", truth, docs, mb))
        if a.scale > 1:
            big, big_truth = scaled(nd, truth, a.scale, tmp)
            gm_job(f"gristmill defaults x{a.scale}", {}, big, big_truth, docs * a.scale,
                   os.path.getsize(big) / 1e6)
        only = {x.strip() for x in a.only.split(",") if x.strip()}
        jobs = [j for j in jobs if not only or j[0] in only]
        timings = interleaved({label: (cmd, None, lambda o=out: shutil.rmtree(o, ignore_errors=True))
                               for label, _, cmd, out, *_ in jobs}, a.repeats)
        for label, settings, _, out, tsv, tr, n_docs, n_mb in jobs:
            row = {"tool": label, "settings": dict(settings), "docs": n_docs, "mb": round(n_mb, 1), **timings[label]}
            row.pop("stdout")
            if label.startswith("gristmill"):
                clusters_tsv(out, tsv)
                info = json.loads((out / "manifest.json").read_text())["global_steps"]["minhash_dedup"]
                row["settings"] = {**settings, "bands_x_rows": f"{info['bands']}x{info['rows']}",
                                   "state_bytes_per_doc": info["state_bytes_per_doc"]}
                want = label.split()[1]
                if "x" in want and want != row["settings"]["bands_x_rows"]:
                    raise SystemExit(f"{label}: the step chose {row['settings']['bands_x_rows']} bands x rows")
            elif label.startswith("datasketch"):
                s = json.loads((out / "summary.json").read_text())
                row["settings"]["bands_x_rows"] = "x".join(map(str, s["bands_rows"]))
            else:
                row["settings"]["bands_x_rows"] = f"{settings['bands']}x{settings['rows']}"
            row.update(summary(evaluate(a.peer_python, a.peer_bench, tr, tsv, label)))
            row["pairwise_j>=0.7_by_lang"] = per_language(tr, tsv)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_end = load_average()
    base = next((r for r in rows if r["tool"] == "datatrove defaults 14x8"), None)
    print(f"\ncorpus: {docs:,} docs, {mb:.1f} MB (neardup.jsonl, sample 1/{a.sample} of its clusters); "
          f"{a.repeats} rounds of every configuration in turn, one worker; load average (1/5/15 min) {load_start} "
          f"at the start, {load_end} at the end, on a shared machine\n")
    print("| tool | bands x rows | verification | wall s median (min-max) | CPU s median (min-max) | docs per CPU s | "
          "peak RSS MB | pairwise P / R / F1 | removal F1 j>=0.7 | pairwise F1 j>=0.7 en / zh | pair recall en / zh | "
          "x datatrove defaults (wall / CPU) |")
    print("|---|---|---|---:|---:|---:|---:|---|---:|---|---|---:|")
    for r in rows:
        s = r["settings"]
        verify = s.get("verify", "exact")
        if r["tool"].startswith("gristmill") and s.get("similarity") != "tokens":
            verify += " (+ CJK character shingles)"
        w, c, pl = r["wall_s"]["median"], r["cpu_s"]["median"], r["pairwise_j>=0.7_by_lang"]
        sp = (f"{base['wall_s']['median'] / w:.1f}x / {base['cpu_s']['median'] / c:.1f}x"
              if base and r["docs"] == docs else "-")
        print(f"| {r['tool']} | {s['bands_x_rows']} | {verify} | {fmt(r['wall_s'])} | {fmt(r['cpu_s'])} | "
              f"{r['docs'] / c:,.0f} | {r['peak_rss_mb']['median']:.0f} | {r['pairwise_P']:.3f} / "
              f"{r['pairwise_R']:.3f} / {r['pairwise_F1']:.3f} | {r['F1_j>=0.7']:.3f} | {pl['en']['f1']:.3f} / "
              f"{pl['zh']['f1']:.3f} | {f3(r['pair_recall_en'])} / {f3(r['pair_recall_zh'])} | {sp} |")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps({"docs": docs, "mb": round(mb, 1), "sample": a.sample,
                                           "repeats": a.repeats, "load_start": load_start, "load_end": load_end,
                                           "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
