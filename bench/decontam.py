#!/usr/bin/env python3
"""Decontamination quality and speed on the shared benchmark sets.

    python bench/decontam.py [--data ../shared/data] [--corpus $PEERS/corpus/plain.jsonl] [--per-benchmark 200]

Builds the index of ``recipes/decontam/shared-benchmarks.yaml`` (time and size), then plants benchmark items
into real text — verbatim, embedded in the middle of a real document (C4 for English, CWCE for Chinese), and
lightly edited (two words or characters changed) — and reports the share found per benchmark and variant.
False positives: the share of clean real documents (C4, Dolma CC, Debian Reference, Chinese man pages and
Debian Reference zh-cn) flagged. Speed: the ``decontaminate`` step (mark) over ``--corpus``, one worker.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import run_speed  # noqa: E402

SPEC = HERE.parent / "src" / "gristmill" / "recipes" / "decontam" / "shared-benchmarks.yaml"


def read(path: Path) -> list[dict]:
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def edit(text: str, rng: random.Random) -> str:
    """Change two words (or two characters of Chinese) at random places."""
    zh = sum("\u4e00" <= c <= "\u9fff" for c in text) > len(text) / 4
    units = list(text) if zh else text.split(" ")
    for _ in range(2):
        i = rng.randrange(len(units))
        units[i] = "的" if zh else "changed"
    return ("" if zh else " ").join(units)


def main() -> None:
    import yaml

    from gristmill.decontam.index import DecontamIndex, _item_text, build_index
    from gristmill.dedup.shingles import tokens

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--per-benchmark", type=int, default=200)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--results", default=str(HERE / "results" / "decontam.json"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tmp = Path(tempfile.mkdtemp())
    spec = yaml.safe_load(SPEC.read_text())
    t0 = time.perf_counter()
    meta = build_index([(b["name"], str(a.data / b["path"]), b["fields"]) for b in spec["benchmarks"]], str(tmp / "idx"),
                       n=spec["n"], max_item_frequency=spec["max_item_frequency"])
    res = {"index": {"seconds": round(time.perf_counter() - t0, 2), "ngrams": meta["ngrams"],
                     "mb": round(meta["bytes"] / 1e6, 1),
                     "items": {b: v["indexed_items"] for b, v in meta["benchmarks"].items()}}}
    idx = DecontamIndex(str(tmp / "idx"))
    hosts_en = [d["text"] for d in read(a.data / "text_en" / "c4_sample_shared.jsonl")]
    hosts_zh = [d["gold_text"] for d in read(a.data / "extraction" / "cwce_zh_shared.jsonl.gz")]
    res["recall"] = {}
    for b in spec["benchmarks"]:
        items = read(a.data / b["path"])
        items = [it for it in items if len(_item_text(it, b["fields"])) > 0]
        sample = rng.sample(items, min(a.per_benchmark, len(items)))
        zh = b["name"] in ("cmmlu", "ceval")
        row = {}
        for variant in ("verbatim", "embedded", "edited"):
            hit = total = 0
            for it in sample:
                text = _item_text(it, b["fields"])
                if len(tokens(text)) < idx.n:
                    continue  # not indexable (counted in the index report)
                if variant == "embedded":
                    host = rng.choice(hosts_zh if zh else hosts_en)
                    cut = len(host) // 2
                    text = host[:cut] + "\n" + text + "\n" + host[cut:]
                elif variant == "edited":
                    text = edit(text, rng)
                total += 1
                hit += idx.match_text(text)[0] > 0
            row[variant] = round(hit / max(total, 1), 4)
        res["recall"][b["name"]] = row
    clean = []
    for rel in ("text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
                "text_en/debian_reference_en_shared.jsonl.gz", "text_zh/manpages_zh_cn_shared.jsonl.gz",
                "text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl"):
        clean += [d["text"] for d in read(a.data / rel)]
    flagged = [t[:80] for t in clean if idx.match_text(t)[0] > 0]
    res["false_positives"] = {"documents": len(clean), "flagged": len(flagged),
                              "rate": round(len(flagged) / len(clean), 5), "examples": flagged[:5]}
    print(json.dumps(res, indent=2, ensure_ascii=False))
    if a.corpus:
        res["speed"] = run_speed(f"steps:\n  - step: decontaminate\n    index: {tmp / 'idx'}\n    action: mark\n"
                                 "output:\n  format: parquet\n  columns: [id, contam_ngrams]\n", a.corpus)
        print(json.dumps(res["speed"]))
    Path(a.results).parent.mkdir(parents=True, exist_ok=True)
    Path(a.results).write_text(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
