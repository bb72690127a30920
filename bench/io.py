#!/usr/bin/env python3
"""I/O benchmark: gristmill's identity recipe (JSONL -> Parquet, zstd and uncompressed "-raw") and default
recipe, side by side with a plain orjson read + parse + dump + write of the same file, on one core (workers=1).
Also peak RSS as the input grows.

    python bench/io.py --input /path/to/plain.jsonl [--scale 4] [--results bench/results/io.json]

Each measurement runs in its own process (so peak RSS is its own) and is repeated --repeat times (median).
The corpus is the peer-bench corpus (shared/peer-bench/make_corpus.py), ~150 MB of real English and Chinese
text. ``--scale 4`` also builds a 4x file (the corpus concatenated, ids made unique) to show RSS vs size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

IDENTITY = "output:\n  format: parquet\n  compression: {comp}\nsteps: []\n"


def child(mode: str, inp: str, out: str) -> None:
    """Run one measurement in this process (called via --child)."""
    if mode == "orjson":
        import orjson

        n = 0
        with open(inp, "rb") as f, open(os.path.join(out, "copy.jsonl"), "wb") as g:
            for line in f:
                g.write(orjson.dumps(orjson.loads(line)) + b"\n")
                n += 1
        print(json.dumps({"docs": n, "rss": _self_rss()}))
        return
    import gristmill

    recipe = os.path.join(out, "identity.yaml")
    if mode.startswith("identity"):
        Path(recipe).write_text(IDENTITY.format(comp="none" if mode.endswith("-raw") else "zstd"))
    else:
        recipe = None
    m = gristmill.run(recipe, inputs=[inp], output=os.path.join(out, "run"), workers=1, quiet=True,
                      resume=False)
    print(json.dumps({"docs": m["counts"]["input"], "kept": m["counts"]["kept"], "rss": _self_rss(),
                      "steps": {s["name"]: s["seconds"] for s in m["steps"]}}))


def measure(mode: str, inp: str, repeat: int) -> dict:
    walls, rss, info = [], [], {}
    for _ in range(repeat):
        out = tempfile.mkdtemp(prefix=f"bench-io-{mode}-")
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, __file__, "--child", mode, "--input", inp, "--out", out],
                             stdout=subprocess.PIPE, text=True)
        stdout, _ = p.communicate()
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"{mode} failed")
        info = json.loads(stdout.strip().splitlines()[-1])
        rss.append(info.pop("rss"))
        walls.append(wall)
        shutil.rmtree(out, ignore_errors=True)
    size = os.path.getsize(inp)
    w = statistics.median(walls)
    return {"mode": mode, "input_mb": round(size / 1e6, 1), "docs": info["docs"], "wall_s": round(w, 2),
            "walls": [round(x, 2) for x in walls], "docs_per_s": round(info["docs"] / w),
            "mb_per_s": round(size / 1e6 / w, 1), "peak_rss_mb": round(max(rss), 1), **{
                k: v for k, v in info.items() if k != "docs"}}


def _self_rss() -> float:
    """Peak resident memory of this process in MB (workers=1 runs everything in-process)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_scaled(inp: str, scale: int, tmp: str) -> str:
    import orjson

    out = os.path.join(tmp, f"x{scale}.jsonl")
    with open(out, "wb") as g:
        for k in range(scale):
            with open(inp, "rb") as f:
                for line in f:
                    rec = orjson.loads(line)
                    rec["id"] = f"{rec.get('id')}#{k}"
                    g.write(orjson.dumps(rec) + b"\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--results", default=str(HERE / "results" / "io.json"))
    a = ap.parse_args()
    if a.child:
        child(a.child, a.input, a.out)
        return
    rows = []
    for mode in ("orjson", "identity", "identity-raw", "default"):
        rows.append(measure(mode, a.input, a.repeat))
        print(json.dumps(rows[-1]), flush=True)
    tmp = tempfile.mkdtemp(prefix="bench-io-scale-")
    try:
        if a.scale > 1:
            big = build_scaled(a.input, a.scale, tmp)
            for mode in ("identity", "default"):
                r = measure(mode, big, 1)
                r["mode"] += f" x{a.scale}"
                rows.append(r)
                print(json.dumps(r), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]
    print("\n| run | input MB | docs | wall s | docs/s | MB/s per core | peak RSS MB | vs orjson read+write |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['input_mb']} | {r['docs']:,} | {r['wall_s']} | {r['docs_per_s']:,} | "
              f"{r['mb_per_s']} | {r['peak_rss_mb']} | {r['mb_per_s'] / base['mb_per_s']:.2f}x |")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
