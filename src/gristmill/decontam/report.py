"""Scan a corpus with a decontamination index and count, per benchmark, the items it contains."""

from __future__ import annotations

import glob
import os
from collections import defaultdict

import pyarrow.parquet as pq

from gristmill.decontam.match import DecontamIndex


def scan(index: str, inputs: list[str], output: str, *, workers: int | None = None) -> dict:
    from gristmill.exec.local import run
    from gristmill.recipe import load_recipe

    idx = DecontamIndex(index)
    recipe = load_recipe(text=f"name: decontam-scan\noutput:\n  format: parquet\n  columns: [id, contam_ngrams, "
                              f"contam_benchmarks, contam_items]\nsteps:\n  - step: decontaminate\n"
                              f"    index: {os.path.abspath(index)}\n    action: mark\n")
    m = run(recipe, inputs=inputs, output=output, workers=workers, quiet=True, resume=False)
    bench_of = {it["id"]: it["benchmark"] for it in idx.items}
    found: dict[str, set] = defaultdict(set)
    docs: dict[str, int] = defaultdict(int)
    for f in glob.glob(os.path.join(output, "kept", "*.parquet")):
        for r in pq.read_table(f).to_pylist():
            if r["contam_items"]:
                ids = r["contam_items"].split(",")
                for b in (r["contam_benchmarks"] or "").split(","):
                    docs[b] += 1
                for i in ids:
                    found[bench_of.get(i, "?")].add(i)
    bench = {b: {"items": v["items"], "indexed_items": v["indexed_items"], "found": len(found.get(b, ())),
                 "documents": docs.get(b, 0)} for b, v in idx.meta["benchmarks"].items()}
    return {"documents_scanned": m["counts"]["input"], "benchmarks": bench}
