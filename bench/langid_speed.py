#!/usr/bin/env python3
"""Language ID: time per document and agreement with full-text language ID, default settings vs the earlier
rule (the first 2,000 characters), in one run.

    python bench/langid_speed.py                      # shared English and Chinese data, ~1 min on one core
    python bench/langid_speed.py --peer /work/peers/corpus/plain.jsonl   # also the peer-bench corpus (held-out 6/7)

Three settings of the ``langid`` step run on the same documents, in batches of 2,000 (the default batch):

- ``default``: the step's defaults (``max_chars`` characters from ``windows`` places);
- ``first-2000``: ``max_chars: 2000, windows: 1``, the rule before (the first 2,000 characters);
- ``full``: ``max_chars: 10**9``, the model reading the whole text (the reference).

Agreement is the share of documents whose ``lang`` equals the ``full`` one, over all documents and over those
longer than the budget (the only ones sampling can change). Time is CPU seconds of ``step.process`` per
document, the best of ``--repeat`` rounds taken in turn (the machine is shared), and as a ratio to
``first-2000``. The budget and windows were chosen on every 7th document of the peer-bench corpus (``--peer``
reports on the other 6/7); the shared data was not used to choose them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SETS = {  # name: (files under shared/data, text field)
    "text_en": (sorted((SHARED / "text_en").glob("*.jsonl*")), "text"),
    "text_zh": (sorted((SHARED / "text_zh").glob("*.jsonl*")), "text"),
    "web_en (aeb gold)": ([SHARED / "extraction" / "aeb_en_shared.jsonl.gz"], "gold_text"),
    "web_zh (cwce gold)": ([SHARED / "extraction" / "cwce_zh_shared.jsonl.gz"], "gold_text"),
}
SETTINGS = {"default": {}, "first-2000": {"max_chars": 2000, "windows": 1}, "full": {"max_chars": 10**9}}
BATCH = 2000


def read(paths: list[Path], field: str) -> list[str]:
    out = []
    for p in paths:
        with (gzip.open(p, "rt", encoding="utf-8") if p.suffix == ".gz" else open(p, encoding="utf-8")) as f:
            out += [t for line in f if line.strip() and isinstance(t := json.loads(line).get(field), str)]
    return out


def read_peer(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for i, line in enumerate(f) if i % 7]  # every 7th was for tuning


def build(params: dict):
    from gristmill.recipe import load_recipe

    body = "".join(f"\n    {k}: {v}" for k, v in params.items())
    step = load_recipe(text=f"steps:\n  - step: langid{body}\n").steps[0].build()
    step.setup()
    return step


def run(step, texts: list[str]) -> tuple[list[str], float]:
    """(labels, CPU seconds) of ``step`` over ``texts`` in batches."""
    labels = []
    t0 = time.process_time()
    for i in range(0, len(texts), BATCH):
        chunk = texts[i:i + BATCH]
        t = step.process(pa.table({"id": [str(j) for j in range(len(chunk))], "text": chunk})).table
        labels += t["lang"].to_pylist()
    return labels, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", help="the peer-bench plain.jsonl: also report on its held-out 6/7")
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds (best of)")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    steps = {name: build(p) for name, p in SETTINGS.items()}
    budget = steps["default"].params.max_chars
    print(f"default: max_chars {budget}, windows {steps['default'].params.windows}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    sets = {name: read(paths, field) for name, (paths, field) in SETS.items()}
    if a.peer:
        sets["peer-bench held-out 6/7"] = read_peer(a.peer)
    for step in steps.values():  # first calls load OpenCC, jieba tables and the like: not timed
        run(step, [t for texts in sets.values() for t in texts[:20]])
    rows = []
    print("\n| documents | docs | longer than budget | default ms/doc | first-2000 ms/doc | full ms/doc | "
          "default vs first-2000 time | agree default/full | (long docs) | agree first-2000/full | "
          "decisions default vs first-2000 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, texts in sets.items():
        best = {k: float("inf") for k in steps}
        labels = {}
        for _ in range(a.repeat):
            for k, step in steps.items():
                if k == "full" and k in labels:
                    continue  # the reference is timed once: it is slow on long documents
                labels[k], cpu = run(step, texts)
                best[k] = min(best[k], cpu)
        long_ = [i for i, t in enumerate(texts) if len(t) > budget]
        n = len(texts)

        def agree(k: str, idx, labels=labels) -> float:
            return 100 * sum(labels[k][i] == labels["full"][i] for i in idx) / max(len(idx), 1)

        changed = sum(x != y for x, y in zip(labels["default"], labels["first-2000"], strict=True))
        row = {"set": name, "docs": n, "long": len(long_), **{f"{k}_ms": 1e3 * best[k] / n for k in steps},
               "agree_default": agree("default", range(n)),
               "agree_default_long": agree("default", long_), "agree_first2000": agree("first-2000", range(n)), "changed_vs_first2000": changed}
        rows.append(row)
        print(f"| {name} | {n:,} | {len(long_):,} | {row['default_ms']:.4f} | {row['first-2000_ms']:.4f} | "
              f"{row['full_ms']:.4f} | {best['default'] / best['first-2000']:.2f}x | {row['agree_default']:.2f}% | "
              f"{row['agree_default_long']:.2f}% | {row['agree_first2000']:.2f}% | {changed} |", flush=True)
    tot = {k: sum(r[k] * r["docs"] for r in rows) / sum(r["docs"] for r in rows)
           for k in ("default_ms", "first-2000_ms", "agree_default", "agree_first2000")}
    print(f"\nall: default {tot['default_ms']:.4f} ms/doc, first-2000 {tot['first-2000_ms']:.4f} ms/doc; agreement "
          f"with full text {tot['agree_default']:.2f}% (first-2000: {tot['agree_first2000']:.2f}%)")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
