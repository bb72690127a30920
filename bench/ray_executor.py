"""The Ray executor's cost and scaling on one machine, side by side with the local executor.

    python bench/ray_executor.py [CORPUS.jsonl] [--docs N]

Runs the same recipe (normalise, language ID, exact + MinHash dedup, quality signals, bilingual filter) with
the local executor and with Ray (a local Ray started by the run, so its start-up is counted) on 1 and 2
workers, and checks that every run wrote the same bytes. CORPUS defaults to the real English and Chinese text
of ../shared/data (text_en + text_zh), cut into ~1 MB shards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shared_text_corpus  # noqa: E402

RECIPE = """input: {shard_size: 1MB}
steps:
  - step: normalize
  - step: langid
  - step: exact_dedup
  - step: minhash_dedup
  - step: quality
  - step: filter
    preset: [bilingual]
"""


def files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for part in ("kept", "rejected", "quarantine")
            for p in sorted((root / part).rglob("*")) if p.is_file()}


def main() -> None:
    import gristmill

    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--docs", type=int, default=100_000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    src = Path(a.corpus) if a.corpus else shared_text_corpus(tmp / "c.jsonl", a.docs)
    (tmp / "r.yaml").write_text(RECIPE)
    results, ref = {}, None
    for executor, workers in (("local", 1), ("ray", 1), ("local", 2), ("ray", 2)):
        out = tmp / f"{executor}-{workers}"
        t0 = time.perf_counter()
        m = gristmill.run(str(tmp / "r.yaml"), inputs=[str(src)], output=str(out), workers=workers, quiet=True,
                          executor=executor)
        wall = time.perf_counter() - t0
        same = ref is None or files(out) == ref
        ref = ref or files(out)
        results[(executor, workers)] = wall
        print(f"{executor:5} {workers} worker(s): {wall:6.2f} s, {m['counts']['input'] / wall:7.1f} docs/s, "
              f"{m['shards']} shards, output identical: {same}", flush=True)
    for w in (1, 2):
        print(f"ray / local on {w} worker(s): {results[('ray', w)] / results[('local', w)]:.2f}x wall time")
    for ex in ("local", "ray"):
        print(f"{ex}: 1 → 2 workers speed-up {results[(ex, 1)] / results[(ex, 2)]:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
