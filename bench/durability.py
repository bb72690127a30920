#!/usr/bin/env python3
"""What durable output costs: the default recipe on real English and Chinese text (../shared/data), with the
fsyncs on (the default) and off (``GRISTMILL_FSYNC=0``), alternating, in the same run.

    python bench/durability.py [--docs 6000] [--repeat 3] [--shard-size 256KB] [--results bench/results/durability.json]

A small shard size makes many tasks (many files, many fsyncs): the worst case for the fsyncs. Each run is
a fresh ``gristmill run`` process (one worker) into a fresh folder on the same disk; the figure is the
median wall time with fsync over the median without. On a shared machine wall times are noisy, so the
script also runs once in one process with ``os.fsync`` timed: the fsync count and the share of the wall
time spent inside fsync (``fsync_share``), the direct measure of the cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shared_text_corpus  # noqa: E402


def one(corpus: Path, recipe: Path | None, work: Path, fsync: bool, k: int) -> float:
    out = work / f"out-{int(fsync)}-{k}"
    cmd = [sys.executable, "-m", "gristmill", "run", *([str(recipe)] if recipe else []), "-i", str(corpus),
           "-o", str(out), "-w", "1", "--quiet"]
    env = {**os.environ, "GRISTMILL_FSYNC": "1" if fsync else "0"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - t0


def fsync_share(corpus: Path, recipe: Path, work: Path) -> dict:
    """One in-process run (one worker) with every ``os.fsync`` timed."""
    import gristmill

    real, spent = os.fsync, []

    def timed(fd):
        t = time.perf_counter()
        real(fd)
        spent.append(time.perf_counter() - t)

    os.fsync = timed
    try:
        t0 = time.perf_counter()
        gristmill.run(str(recipe), inputs=[str(corpus)], output=str(work / "out-timed"), workers=1, quiet=True)
        wall = time.perf_counter() - t0
    finally:
        os.fsync = real
    return {"fsyncs": len(spent), "fsync_s": round(sum(spent), 3), "wall_s": round(wall, 2),
            "fsync_share": round(sum(spent) / wall, 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shard-size", default="256KB", help="input.shard_size (default: 256KB, many tasks)")
    ap.add_argument("--results")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
    corpus = shared_text_corpus(work / "corpus.jsonl", a.docs)
    recipe = work / "r.yaml"
    from gristmill.recipe import default_recipe_path

    text = Path(default_recipe_path()).read_text()  # the default recipe, with small shards
    recipe.write_text(text.replace("input:\n", f"input:\n  shard_size: {a.shard_size}\n", 1))
    times: dict[bool, list[float]] = {True: [], False: []}
    for k in range(a.repeat):
        for fsync in (True, False) if k % 2 == 0 else (False, True):
            times[fsync].append(one(corpus, recipe, work, fsync, k))
    m = json.loads((work / "out-1-0" / "manifest.json").read_text())
    res = {"docs": m["counts"]["input"], "mb": round(corpus.stat().st_size / 1e6, 1), "tasks": m["tasks_run"],
           "files": sum(1 for _ in (work / "out-1-0").rglob("*") if _.is_file()),
           "shard_size": a.shard_size, "fsync_s": [round(t, 2) for t in times[True]],
           "no_fsync_s": [round(t, 2) for t in times[False]],
           "ratio": round(statistics.median(times[True]) / statistics.median(times[False]), 3),
           "in_process": fsync_share(corpus, recipe, work),
           "command": " ".join(["python", "bench/durability.py", *sys.argv[1:]])}
    print(json.dumps(res, indent=2))
    if a.results:
        Path(a.results).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
