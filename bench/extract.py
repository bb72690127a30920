#!/usr/bin/env python3
"""HTML main-content extraction scored on gold sets, gristmill's modes beside the libraries used directly.

    python bench/extract.py [--data ../shared/data/extraction] [--results bench/results/extract.json]

Sets: ``aeb_en_shared`` (English articles, token-level precision/recall/F1 against the gold article body),
``cwce_zh_shared`` (Chinese pages, character-level), ``trafilatura_eval_shared`` (snippets that must / must not
appear). Extractors: gristmill ``fast`` and ``precise`` (the ``extract`` step's functions, no subprocess), and
Resiliparse (main content) and trafilatura (defaults) called directly. Pages/s on one core.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
_WORD = re.compile(r"\w+")
_CHAR = re.compile(r"[\w]", re.U)


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def prf(pred: Counter, gold: Counter) -> tuple[float, float, float]:
    tp = sum((pred & gold).values())
    p = tp / max(sum(pred.values()), 1)
    r = tp / max(sum(gold.values()), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def extractors():
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text

    from gristmill.steps.extract import extract_fast, extract_precise

    return {
        "gristmill fast": lambda h: extract_fast(h)[0],
        "gristmill precise": lambda h: extract_precise(h)[0],
        "resiliparse (main content)": lambda h: extract_plain_text(h, main_content=True),
        "trafilatura (defaults)": lambda h: trafilatura.extract(h) or "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data" / "extraction")
    ap.add_argument("--results", default=str(HERE / "results" / "extract.json"))
    a = ap.parse_args()
    sets = {"aeb_en": load(a.data / "aeb_en_shared.jsonl.gz"), "cwce_zh": load(a.data / "cwce_zh_shared.jsonl.gz"),
            "trafilatura_eval": load(a.data / "trafilatura_eval_shared.jsonl.gz")}
    rows = []
    for name, fn in extractors().items():
        for set_name, docs in sets.items():
            t0 = time.perf_counter()
            outs = [fn(d["html"]) for d in docs]
            dt = time.perf_counter() - t0
            mb = sum(len(d["html"].encode()) for d in docs) / 1e6
            row = {"extractor": name, "set": set_name, "pages": len(docs), "pages_per_s": round(len(docs) / dt, 1),
                   "mb_per_s": round(mb / dt, 2)}
            if set_name in ("aeb_en", "cwce_zh"):
                unit = (lambda s: _WORD.findall(s.lower())) if set_name == "aeb_en" else \
                    (lambda s: _CHAR.findall(s))
                scores = [prf(Counter(unit(o)), Counter(unit(d["gold_text"]))) for o, d in zip(outs, docs, strict=True)]
                row.update({k: round(sum(s[i] for s in scores) / len(scores), 4) for i, k in
                            enumerate(("precision", "recall", "f1"))})
            else:
                tp = fn_ = fp = tn = 0
                for o, d in zip(outs, docs, strict=True):
                    w = ast.literal_eval(d["with_snippets"]) if isinstance(d["with_snippets"], str) else d["with_snippets"]
                    wo = ast.literal_eval(d["without_snippets"]) if isinstance(d["without_snippets"], str) \
                        else d["without_snippets"]
                    tp += sum(s in o for s in w)
                    fn_ += sum(s not in o for s in w)
                    fp += sum(s in o for s in wo)
                    tn += sum(s not in o for s in wo)
                p, r = tp / max(tp + fp, 1), tp / max(tp + fn_, 1)
                row.update({"precision": round(p, 4), "recall": round(r, 4),
                            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                            "accuracy": round((tp + tn) / max(tp + tn + fp + fn_, 1), 4)})
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n| extractor | set | pages | P | R | F1 | pages/s | MB/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['extractor']} | {r['set']} | {r['pages']} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['f1']:.3f} | {r['pages_per_s']} | {r['mb_per_s']} |")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
