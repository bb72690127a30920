#!/usr/bin/env python3
"""Near-duplicate P/R/F1 per language under two definitions of similarity, before and after, in one run.

    python bench/neardup_zh.py [--per-source 120] [--before-ref HEAD] [--json bench/results/neardup_zh.json]

The corpus (``bench/neardup_corpus.py``) is real English and Chinese text with edited copies; its sources
are split into ``tune`` (the only ones any setting was chosen on) and ``report``. Ground truth is every
pair of documents whose exact Jaccard is >= 0.7 under

- (a) ``chars``: character 5-grams, punctuation kept (lower-cased; whitespace, control and format
  characters dropped) — what a reader sees;
- (b) ``tokens``: 5-grams of gristmill's tokens (words of space-delimited scripts, single CJK characters,
  punctuation dropped) — what ``minhash_dedup`` measured before.

Both are computed here with plain Python sets, independently of the step. Candidate pairs for the truth are
the constructed (original, copy) pairs, every pair any run predicted, and a permissive LSH (50 bands of 2
rows on an independent signature: P(candidate | J=0.5) > 0.99999). A run predicts every pair inside one of
its clusters; precision counts every predicted pair below 0.7 (under the definition scored) as an error.

Runs ``gristmill run`` with one ``minhash_dedup`` step for each mode (``before``: ``similarity: tokens``,
the old shingles, or with ``--before-ref`` the code of that git revision, then also ``tokens``; ``after``:
the defaults; ``chars``: ``similarity: chars``), and times the map phase (shingles + signatures) of each
in its own process, in turn, best CPU seconds of 9. Prints one table per split, the "ceiling" (the best
min(F1 a, F1 b) any single decision per pair could reach, since the two definitions disagree on some
pairs), recall per edit operation and the cost ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import timed  # noqa: E402
from neardup_corpus import build  # noqa: E402

TAU = 0.7
N = 5
_DROP = {"Zs", "Zl", "Zp", "Cc", "Cf"}


def ngram_set(units: list[str], n: int = N) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the n-grams of ``units`` (fewer than n units: one shingle of all)."""
    grams = {"\x1f".join(units[i:i + n]) for i in range(len(units) - n + 1)} if len(units) >= n else \
        ({"\x1f".join(units)} if units else set())
    return np.unique(np.fromiter((hash(g) for g in grams), np.int64, len(grams)))


def chars_def(text: str) -> np.ndarray:
    """Definition (a): character 5-grams, punctuation kept."""
    return ngram_set([c for c in text.lower() if unicodedata.category(c) not in _DROP])


def tokens_def(text: str) -> np.ndarray:
    """Definition (b): 5-grams of gristmill's tokens (``gristmill.dedup.shingles.tokens``)."""
    from gristmill.dedup.shingles import tokens

    return ngram_set(tokens(text))


def jac(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 and len(b) == 0:
        return 1.0
    i = len(np.intersect1d(a, b, assume_unique=True))
    return i / (len(a) + len(b) - i)


def permissive_pairs(sets: list[np.ndarray], bands: int = 50, rows: int = 2, seed: int = 7) -> set[tuple]:
    """Pairs sharing a band of an independent MinHash (P(candidate | J) = 1 - (1 - J^2)^50)."""
    rng = np.random.default_rng(seed)
    k = bands * rows
    a = rng.integers(1, 2**63, size=k, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=k, dtype=np.uint64)
    sig = np.full((len(sets), k), np.iinfo(np.uint64).max, np.uint64)
    with np.errstate(over="ignore"):
        for i, s in enumerate(sets):
            if len(s):
                sig[i] = (s.view(np.uint64)[:, None] * a + b).min(axis=0)
    out: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets = defaultdict(list)
        for i, key in enumerate(map(bytes, sig[:, band * rows:(band + 1) * rows])):
            if len(sets[i]):
                buckets[key].append(i)
        for members in buckets.values():
            if 1 < len(members) <= 200:
                out.update(itertools.combinations(members, 2))
    return out


def run_mode(corpus: Path, params: dict, tmp: Path, label: str, pythonpath: str | None = None) -> dict:
    """Run gristmill with one minhash_dedup step; clusters (index -> cluster id), wall s, peak RSS MB."""
    lines = ["steps:", "  - step: minhash_dedup"] + [f"    {k}: {v}" for k, v in params.items()] + \
        ["output:", "  format: parquet", "  columns: [id, dup_cluster]"]
    (tmp / f"{label}.yaml").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {}))
    out = tmp / f"out-{label}"
    r = timed([sys.executable, "-m", "gristmill", "run", str(tmp / f"{label}.yaml"), "-i", str(corpus),
               "-o", str(out), "-w", "1", "--quiet"], env=env)
    import pyarrow.parquet as pq

    cluster = {}
    for part in ("kept", "rejected"):
        for p in sorted((out / part).glob("*.parquet")):
            for row in pq.read_table(p, columns=["id", "dup_cluster"]).to_pylist():
                if row["dup_cluster"] is not None:
                    cluster[row["id"]] = row["dup_cluster"]
    info = json.loads((out / "manifest.json").read_text())["global_steps"]["minhash_dedup"]
    return {"cluster": cluster, "wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"], "reduce": info}


def predicted_pairs(cluster: dict[str, str], index: dict[str, int]) -> set[tuple[int, int]]:
    members = defaultdict(list)
    for doc, c in cluster.items():
        members[c].append(index[doc])
    out = set()
    for m in members.values():
        m.sort()
        out.update((m[x], m[y]) for x in range(len(m)) for y in range(x + 1, len(m)))
    return out


def prf(pred: set, truth: set) -> dict:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"P": round(p, 4), "R": round(r, 4), "F1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "pred": len(pred), "true": len(truth)}


def prf_either(pred: set, truth: set, other: set) -> dict:
    """P/R/F1 where a pair only the other definition calls a near-duplicate is "don't care": not an error,
    not a miss. Pairs below 0.7 under both definitions still count against precision."""
    dont_care = other - truth
    return prf(pred - dont_care, truth)


def ceiling(ta: set, tb: set) -> float:
    """Best min(F1 under a, F1 under b) of any set of predicted pairs: include every pair both call
    near-duplicates, and the best numbers x, y of the pairs only (a), resp. only (b), calls so."""
    both, da, db = len(ta & tb), len(ta - tb), len(tb - ta)
    if not both + da + db:
        return 1.0
    x, y = np.meshgrid(np.arange(da + 1), np.arange(db + 1), indexing="ij")
    f_a = 2 * (both + x) / (2 * (both + x) + y + (da - x))
    f_b = 2 * (both + y) / (2 * (both + y) + x + (db - y))
    return round(float(np.minimum(f_a, f_b).max()), 4)


_MAP_TIMER = """
import json, sys, time
import pyarrow as pa
from gristmill.dedup.minhash import MinHashDedup, MinHashParams
texts = json.load(open(sys.argv[1]))
step = MinHashDedup(MinHashParams(**json.loads(sys.argv[2])))
table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
step.map_state(table, None)
best = float("inf")
for _ in range(int(sys.argv[3])):
    t0 = time.process_time()
    step.map_state(table, None)
    best = min(best, time.process_time() - t0)
print(best)
"""


def map_seconds(texts: list[str], modes: dict[str, dict], tmp: Path, pythonpath: dict[str, str | None],
                rounds: int = 3, repeats: int = 3) -> dict[str, float]:
    """Best CPU seconds of the map phase (shingles + signatures) per mode: each mode in its own process
    (its own code for ``--before-ref``), ``rounds`` rounds in turn of ``repeats`` timings each (CPU time,
    so other processes on a shared machine disturb it less than wall time)."""
    path = tmp / "map-texts.json"
    path.write_text(json.dumps(texts, ensure_ascii=False))
    best = {m: float("inf") for m in modes}
    for _ in range(rounds):
        for m, params in modes.items():
            env = dict(os.environ, **({"PYTHONPATH": pythonpath[m]} if pythonpath.get(m) else {}))
            cmd = [sys.executable, "-c", _MAP_TIMER, str(path), json.dumps(params), str(repeats)]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode == 0:
                best[m] = min(best[m], float(r.stdout.strip().splitlines()[-1]))
    return {m: round(s, 3) for m, s in best.items() if s < float("inf")}


def truth_pairs(rows: list[dict], pred: dict[str, set]) -> tuple[dict, dict, int]:
    """Per definition: the shingle sets of every document and the candidate pairs with J >= TAU."""
    index = {r["id"]: i for i, r in enumerate(rows)}
    sets = {"chars": [chars_def(r["text"]) for r in rows], "tokens": [tokens_def(r["text"]) for r in rows]}
    cand = {(index[r["orig"]], index[r["id"]]) for r in rows if "orig" in r}
    for p in pred.values():
        cand |= p
    for s in sets.values():
        cand |= permissive_pairs(s)
    truth = {d: {pq for pq in cand if jac(sets[d][pq[0]], sets[d][pq[1]]) >= TAU} for d in sets}
    return sets, truth, len(cand)


def score(rows: list[dict], pred: dict[str, set], truth: dict[str, set]) -> dict:
    """P/R/F1 per language and split, per mode, under each definition (strict and "either")."""
    group = lambda pq: "/".join((rows[pq[0]]["lang"], rows[pq[0]]["split"]))  # noqa: E731
    out = {}
    for g in sorted({f"{r['lang']}/{r['split']}" for r in rows}):
        ta = {pq for pq in truth["chars"] if group(pq) == g}
        tb = {pq for pq in truth["tokens"] if group(pq) == g}
        res = {"ceiling": ceiling(ta, tb),
               "true_pairs": {"chars": len(ta), "tokens": len(tb), "both": len(ta & tb)}}
        for m, p in pred.items():
            pg = {pq for pq in p if group(pq) == g}
            res[m] = {"chars": prf(pg, ta), "tokens": prf(pg, tb),
                      "chars_either": prf_either(pg, ta, tb), "tokens_either": prf_either(pg, tb, ta)}
        out[g] = res
    return out


def per_op(rows: list[dict], pred: dict[str, set], truth: dict[str, set]) -> dict:
    """Chinese constructed pairs per edit operation and mode/definition: found, near-duplicates, and merged
    although below 0.7."""
    index = {r["id"]: i for i, r in enumerate(rows)}
    counts: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for r in rows:
        if "orig" not in r or r["lang"] != "zh":
            continue
        pq = (index[r["orig"]], index[r["id"]])
        for op in {":".join(o.split(":")[:2 if o.startswith("punct") else 1]) for o in r["ops"]}:
            for d in truth:
                for m in pred:
                    c, pos, hit = counts[op][f"{m}/{d}"], pq in truth[d], pq in pred[m]
                    c[0], c[1], c[2] = c[0] + (pos and hit), c[1] + pos, c[2] + (not pos and hit)
    return {op: {k: {"found": v[0], "true": v[1], "merged_below": v[2]} for k, v in d.items()}
            for op, d in sorted(counts.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-source", type=int, default=120)
    ap.add_argument("--seed", type=int, default=20251201)
    ap.add_argument("--before-ref", default=None, help="git revision whose src/ is 'before' (default: the "
                                                       "similarity: tokens setting of the working tree)")
    ap.add_argument("--repo", default=str(HERE.parent), help="git repository of --before-ref")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    t_start = time.perf_counter()
    rows = build(a.per_source, seed=a.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-neardup-"))
    try:
        corpus = tmp / "corpus.jsonl"
        with open(corpus, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")
        modes = {"before": {"similarity": "tokens"}, "after": {}, "chars": {"similarity": "chars"}}
        pythonpath = {}
        if a.before_ref:  # the old code itself, and the setting that should reproduce it
            subprocess.run(f"git -C {a.repo} archive {a.before_ref} src | tar -x -C {tmp}", shell=True,
                           check=True)
            pythonpath["before"] = str(tmp / "src")
            modes = {"before": {}, "tokens": {"similarity": "tokens"}, "after": modes["after"],
                     "chars": modes["chars"]}
        runs = {}
        for m, params in modes.items():
            try:
                runs[m] = run_mode(corpus, params, tmp, m, pythonpath.get(m))
            except SystemExit as e:  # e.g. a revision that does not know the setting
                print(f"mode {m} failed: {str(e)[:300]}", file=sys.stderr)
        index = {r["id"]: i for i, r in enumerate(rows)}
        pred = {m: predicted_pairs(r["cluster"], index) for m, r in runs.items()}
        _, truth, n_cand = truth_pairs(rows, pred)
        results: dict = {"docs": len(rows), "candidates": n_cand, "groups": score(rows, pred, truth),
                         "per_op_zh": per_op(rows, pred, truth)}
        texts = {L: [r["text"] for r in rows if r["lang"] == L] for L in ("zh", "en")}
        results["map_seconds"] = {L: map_seconds(t, modes, tmp, pythonpath) for L, t in texts.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["runs"] = {m: {"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                           "reduce_s": r["reduce"].get("seconds"),
                           "candidate_pairs": r["reduce"]["candidate_pairs"],
                           "state_bytes_per_doc": r["reduce"]["state_bytes_per_doc"]}
                       for m, r in runs.items()}
    en = {i for i, r in enumerate(rows) if r["lang"] == "en"}
    en_pairs = {m: {pq for pq in p if pq[0] in en} for m, p in pred.items()}
    results["en_pairs_identical"] = {m: en_pairs[m] == en_pairs["before"] for m in pred if m != "before"}
    if "tokens" in pred:
        results["tokens_setting_equals_before_ref"] = pred["tokens"] == pred["before"]
    results["bench_seconds"] = round(time.perf_counter() - t_start, 1)
    report(results, list(runs))
    if a.json:
        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        Path(a.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))


def report(res: dict, modes: list[str]) -> None:
    print(f"corpus: {res['docs']} docs, {res['candidates']} candidate pairs scored exactly")
    for suffix, title in (("", "strict: every predicted pair below 0.7 under the definition scored is wrong"),
                          ("_either", "don't care where the definitions disagree: a pair only the other "
                                      "definition calls a near-duplicate is neither an error nor a miss")):
        print(f"\nP / R / F1, {title}")
        print("| lang/split | true pairs a / b | ceiling | " + " | ".join(f"{m} (a) chars | {m} (b) tokens"
                                                                     for m in modes) + " |")
        print("|---|---|---:|" + "---|---|" * len(modes))
        for g, r in res["groups"].items():
            cells = []
            for m in modes:
                for d in ("chars", "tokens"):
                    x = r[m][d + suffix]
                    cells.append(f"{x['P']:.3f} / {x['R']:.3f} / **{x['F1']:.3f}**")
            ceil = f"{r['ceiling']:.3f}" if not suffix else "1"
            tp = r["true_pairs"]
            print(f"| {g} | {tp['chars']} / {tp['tokens']} | {ceil} | " + " | ".join(cells) + " |")
    print("\nChinese constructed pairs per edit operation: found / near-duplicates (merged below 0.7)")
    print("| op | " + " | ".join(f"{m} (a) | {m} (b)" for m in modes) + " |")
    print("|---|" + "---|---|" * len(modes))
    for op, d in res["per_op_zh"].items():
        cells = [f"{d[f'{m}/{x}']['found']}/{d[f'{m}/{x}']['true']} ({d[f'{m}/{x}']['merged_below']})"
                 for m in modes for x in ("chars", "tokens")]
        print(f"| {op} | " + " | ".join(cells) + " |")
    print("\ncost: map phase (shingles + signatures) best-of-9 CPU seconds, and whole runs")
    for L, s in res["map_seconds"].items():
        base = s.get("before") or s.get("tokens")
        print(f"  {L}: " + ", ".join(f"{m} {v:.3f} s" + (f" ({v / base:.2f}x)" if base else "")
                                     for m, v in s.items()))
    b = res["runs"].get("before")
    for m, r in res["runs"].items():
        ratio = f" ({r['wall_s'] / b['wall_s']:.2f}x wall, {r['peak_rss_mb'] / b['peak_rss_mb']:.2f}x RSS)" \
            if b else ""
        print(f"  run {m}: {r['wall_s']} s, {r['peak_rss_mb']} MB peak, reduce {r['reduce_s']} s, "
              f"{r['candidate_pairs']} candidate pairs, "
              f"{r['state_bytes_per_doc']} B state/doc{ratio}")
    print(f"English pairs identical to before: {res['en_pairs_identical']}")
    if "tokens_setting_equals_before_ref" in res:
        same = res["tokens_setting_equals_before_ref"]
        print(f"similarity: tokens gives the same pairs as --before-ref: {same}")
    print(f"bench: {res['bench_seconds']} s")


if __name__ == "__main__":
    main()
