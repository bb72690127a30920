#!/usr/bin/env python3
"""input.encoding: how often ``auto`` decodes real Chinese text right, by length, and what decoding costs.

    python bench/encodings.py [--trials 60] [--results bench/results/encodings.json]

1. Detection: files of 30-3,000 characters of real text (random Chinese poems, fortunes, hotel reviews, zh_CN
   and zh_TW man pages from ../shared/data/text_zh, one per line, cut at the size), written in GBK or Big5 and
   given to ``decide`` whole; a trial is right when the decoded text equals the original. The length matters: charset detection
   is a statistical guess, and 30 characters are little evidence.
2. Reading cost: the same JSONL (zh_CN man pages, repeated to ~20 MB) read with ``read_shard`` as UTF-8,
   GB18030 and UTF-16, side by side in the same run, one core; ratios to UTF-8.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gristmill.io.encoding import decide
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "text_zh"


def _load(name: str, field: str = "text") -> list[str]:
    p = DATA / name
    with gzip.open(p, "rt", encoding="utf-8") if p.suffix == ".gz" else open(p, encoding="utf-8") as f:
        return [json.loads(line)[field] for line in f if line.strip()]


def detection(trials: int) -> dict:
    sources = {"poetry": _load("chinese_poetry_shared.jsonl"), "fortunes": _load("fortunes_zh_shared.jsonl.gz"),
               "hotel": _load("chnsenticorp_hotel_reviews.jsonl.gz")[:3000],
               "man_zh_cn": _load("manpages_zh_cn_shared.jsonl.gz"),
               "man_zh_tw": _load("manpages_zh_tw_shared_subset.jsonl.gz")}
    rng = random.Random(0)
    out: dict = defaultdict(dict)
    for name, texts in sources.items():
        for enc in ("gbk", "big5"):
            for size in (30, 100, 300, 3000):
                right = n = 0
                wrong: dict[str, int] = defaultdict(int)
                for _ in range(trials * 4):
                    if n == trials:
                        break
                    s = ""
                    while len(s) < size:            # a file of `size` characters: texts one per line
                        s += rng.choice(texts) + "\n"
                    s = s[:size]
                    try:
                        b = s.encode(enc)
                    except UnicodeEncodeError:
                        continue
                    if b.isascii():
                        continue
                    n += 1
                    d = decide(b, "auto", whole=True)
                    try:
                        ok = b[d.bom:].decode(d.name) == s
                    except UnicodeDecodeError:
                        ok = False
                    right += ok
                    if not ok:
                        wrong[d.name] += 1
                if n >= 10:
                    out[f"{name}/{enc}"][size] = {"trials": n, "right": round(right / n, 3),
                                                  "wrong_as": dict(wrong)}
    return out


def reading_cost(mb: float = 20.0) -> dict:
    texts = _load("manpages_zh_cn_shared.jsonl.gz")
    body = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    body *= max(1, int(mb * 1e6 / len(body.encode())))
    tmp = Path(tempfile.mkdtemp())
    res = {}
    for enc in ("utf-8", "gb18030", "utf-16"):
        p = tmp / f"docs-{enc}.jsonl"
        p.write_bytes(body.encode(enc, errors="replace"))
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            n = 0
            for sh in plan_shards([str(p)]):
                for rb in read_shard(sh, ReadOptions()):
                    n += rb.table.num_rows if rb.table is not None else 0
            wall = time.perf_counter() - t0
            best = wall if best is None else min(best, wall)
        res[enc] = {"docs": n, "file_mb": round(p.stat().st_size / 1e6, 1), "seconds": round(best, 3)}
    for enc in res:
        res[enc]["x_utf8_time"] = round(res[enc]["seconds"] / res["utf-8"]["seconds"], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--results", default=None)
    a = ap.parse_args()
    det = detection(a.trials)
    for src, sizes in det.items():
        print(f"{src:22s} " + "  ".join(f"{s} chars: {v['right']:.0%} of {v['trials']}" for s, v in sizes.items()))
    cost = reading_cost()
    for enc, v in cost.items():
        print(f"read {enc:8s} {v['file_mb']:6.1f} MB {v['docs']:,} docs {v['seconds']:.2f} s  x{v['x_utf8_time']}")
    if a.results:
        Path(a.results).write_text(json.dumps({"detection": det, "reading": cost}, indent=2))


if __name__ == "__main__":
    main()
