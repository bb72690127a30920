#!/usr/bin/env python3
"""Decontamination recall, false positives and speed, this version side by side with the previous one.

    python bench/decontam.py [--data ../shared/data] [--split report] [--per-benchmark 150] [--baseline HEAD]

Builds the index of ``recipes/decontam/shared-benchmarks.yaml`` with this tree's code and with the code at
``--baseline`` (``git show REV:src/gristmill/decontam/index.py``), generates the evaluation sets of
``bench/decontam_eval.py`` (planted copies of items of one split, clean real documents) and prints:

- the build report: per benchmark, items matched by full n-grams, shorter n-grams, whole-item hash only, or
  not at all;
- recall per benchmark and planting style (a copy counts as found when its document is flagged; the host
  documents are clean documents of the other split), both versions; ``edited`` recall by item length;
- false positives: clean documents with any match, per source, both versions (``quoted_sources``: poems and
  fortunes that exam questions quote, listed apart);
- build time and scan throughput (one process, one core: documents/s and MB/s over the clean and planted
  documents), both versions, and their ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import decontam_eval  # noqa: E402


def baseline_module(rev: str, tmp: Path):
    src = subprocess.run(["git", "show", f"{rev}:src/gristmill/decontam/index.py"], cwd=HERE.parent,
                         capture_output=True, text=True, check=True).stdout
    (tmp / "decontam_baseline.py").write_text(src)
    spec = importlib.util.spec_from_file_location("decontam_baseline", tmp / "decontam_baseline.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def table(title: str, rows: list[list], head: list[str]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for r in [head, ["-" * w for w in widths], *rows]:
        cells = [str(x).rjust(w) if i else str(x).ljust(w)
                 for i, (x, w) in enumerate(zip(r, widths, strict=True))]
        print("  ".join(cells))


def main() -> None:
    from gristmill.decontam.index import build_index
    from gristmill.decontam.items import read_spec
    from gristmill.decontam.match import DecontamIndex

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--split", choices=("design", "report"), default="report")
    ap.add_argument("--per-benchmark", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline", default="HEAD", help="git revision of the previous implementation")
    ap.add_argument("--results", default=str(HERE / "results" / "decontam.json"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    old = baseline_module(a.baseline, tmp)
    sources, settings = read_spec(decontam_eval.SPEC, a.data)
    sources.append(decontam_eval.turns_benchmark(a.data, tmp / "mt_bench_turns.jsonl"))
    res: dict = {"split": a.split, "settings": settings.__dict__}

    t0 = time.perf_counter()
    meta = build_index(sources, str(tmp / "new"), settings=settings)
    build_new = time.perf_counter() - t0
    t0 = time.perf_counter()
    old.build_index(sources, str(tmp / "old"), n=settings.n, max_item_frequency=settings.max_item_frequency)
    build_old = time.perf_counter() - t0
    new_idx, old_idx = DecontamIndex(str(tmp / "new")), old.DecontamIndex(str(tmp / "old"))
    res["build_report"] = meta["benchmarks"]
    cols = ["items", "full_ngram", "short_ngram", "whole_item_only", "unmatchable"]
    table("index: how each benchmark's items can be matched", [[b] + [v[c] for c in cols]
                                                                for b, v in meta["benchmarks"].items()],
          ["benchmark", *cols])

    plant, clean = decontam_eval.make(a.data, a.per_benchmark, a.seed, a.split)
    clean = [d for d in clean if d["split"] == a.split]
    texts = [p["text"] for p in plant] + [d["text"] for d in clean]
    bench_of = [it["benchmark"] for it in new_idx.items]

    t0 = time.perf_counter()
    new_m = new_idx.scan(texts)
    scan_new = time.perf_counter() - t0
    t0 = time.perf_counter()
    old_m = [old_idx.match_text(t) for t in texts]
    scan_old = time.perf_counter() - t0

    found: dict = defaultdict(lambda: [0, 0, 0])  # (benchmark, style) -> total, new, old
    by_size: dict = defaultdict(lambda: [0, 0])  # edited copies by item length: total, new
    tokens_of = {(it["benchmark"], it["id"]): it["tokens"] for it in new_idx.items}
    attributed = 0
    for p, nm, om in zip(plant, new_m, old_m[:len(plant)], strict=False):
        f = found[(p["benchmark"], p["style"])]
        f[0] += 1
        f[1] += nm.hits > 0  # hosts are clean documents of the other split: a match comes from the copy
        f[2] += om[0] > 0
        attributed += any(bench_of[i] == p["benchmark"] for i in nm.items)
        if p["style"] == "edited":
            ln = tokens_of[(p["benchmark"], p["id"])]
            b = by_size["< 15" if ln < 15 else "15-38" if ln < 39 else ">= 39"]
            b[0] += 1
            b[1] += nm.hits > 0
    styles = list(dict.fromkeys(p["style"] for p in plant))
    res["recall"] = {f"{b}/{s}": {"copies": v[0], "new": round(v[1] / v[0], 4),
                                  "previous": round(v[2] / v[0], 4)} for (b, s), v in found.items()}
    def cell(b: str, s: str) -> str:
        v = found.get((b, s))
        return f"{v[1] / v[0]:.1%} ({v[2] / v[0]:.0%})" if v else ""

    shipped = [b for b in dict.fromkeys(p["benchmark"] for p in plant) if b != "mt_bench_turns"]
    for s in styles:
        tot = [sum(v[k] for (b, st), v in found.items() if st == s and b in shipped) for k in range(3)]
        found[("all shipped", s)] = tot
        res["recall"][f"all shipped/{s}"] = {"copies": tot[0], "new": round(tot[1] / tot[0], 4),
                                             "previous": round(tot[2] / tot[0], 4)}
    rows = [[b] + [cell(b, s) for s in styles] for b in [*shipped, "all shipped", "mt_bench_turns"]]
    table(f"recall on planted copies of '{a.split}' items, this version (previous); mt_bench_turns: every "
          "MT-bench turn an item (a stress set, not in the shipped spec)", rows, ["benchmark", *styles])
    found_new = sum(v[1] for (b, _), v in found.items() if b != "all shipped")
    res["attributed"] = round(attributed / max(found_new, 1), 4)
    print(f"found copies whose match names an item of their benchmark: {res['attributed']:.2%}")
    res["edited_by_item_tokens"] = {k: {"copies": v[0], "new": round(v[1] / v[0], 4)}
                                    for k, v in by_size.items()}
    table("recall on 'edited' copies (two token edits) by the item's length in tokens, this version",
          [[k, v[0], f"{v[1] / v[0]:.1%}"] for k, v in sorted(by_size.items())],
          ["item tokens", "copies", "recall"])

    fp: dict = defaultdict(lambda: [0, 0, 0, []])
    for d, nm, om in zip(clean, new_m[len(plant):], old_m[len(plant):], strict=True):
        f = fp[d["source"]]
        f[0] += 1
        f[1] += nm.hits > 0
        f[2] += om[0] > 0
        if nm.hits:
            f[3].append(d["text"][nm.spans[0][0]:nm.spans[0][1]][:80])
    res["false_positives"] = {s: {"documents": v[0], "new": v[1], "previous": v[2], "examples": v[3][:3]}
                              for s, v in fp.items()}
    ordinary = [v for s, v in fp.items() if s not in decontam_eval.QUOTED]
    rows = [[s, v[0], v[1], v[2]] for s, v in fp.items()]
    rows.append(["all clean (quoted sources apart)", sum(v[0] for v in ordinary), sum(v[1] for v in ordinary),
                 sum(v[2] for v in ordinary)])
    table(f"false positives: clean '{a.split}' documents with a match", rows,
          ["source", "documents", "this version", "previous"])

    mb = sum(len(t.encode()) for t in texts) / 1e6
    res["speed"] = {"documents": len(texts), "mb": round(mb, 1),
                    "build_s": {"new": round(build_new, 2), "previous": round(build_old, 2)},
                    "scan_docs_per_s": {"new": round(len(texts) / scan_new),
                                        "previous": round(len(texts) / scan_old)},
                    "scan_mb_per_s": {"new": round(mb / scan_new, 2), "previous": round(mb / scan_old, 2)}}
    sp = res["speed"]
    table(f"speed (one core; scan over {len(texts):,} documents, {mb:.1f} MB)", [
        ["build (s)", sp["build_s"]["new"], sp["build_s"]["previous"], f"{build_old / build_new:.2f}x"],
        ["scan (docs/s)", sp["scan_docs_per_s"]["new"], sp["scan_docs_per_s"]["previous"],
         f"{scan_old / scan_new:.2f}x"],
        ["scan (MB/s)", sp["scan_mb_per_s"]["new"], sp["scan_mb_per_s"]["previous"], ""]],
        ["", "this version", "previous", "speed ratio"])
    Path(a.results).parent.mkdir(parents=True, exist_ok=True)
    Path(a.results).write_text(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
