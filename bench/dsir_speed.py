#!/usr/bin/env python3
"""DSIR (``target_select``) throughput on real shared text, one core, side by side with a plain-Python
reference of the same features in the same run.

    python bench/dsir_speed.py [--data /work/shared/data] [--peer /work/peers/corpus] [--results bench/results/dsir_speed.json]

For each set: documents per CPU second (median, min-max of 3 runs; a run repeats the set until it has taken
at least 0.3 CPU s, so small sets are timed as precisely as large ones) of
  featurize  tokens → hashed unigram+bigram bucket ids (gristmill words hashed by the C core as it tokenizes,
             jieba words and characters hashed by the token-list extension, one call per document; batches of
             1,000 documents, as the map phase does per Arrow batch); and the same without either extension
             (Python tokenizer, numpy hashing over the batch)
  jieba      zh sets: rjieba.cut alone, the bound on featurize for Chinese
  reference  the same bucket ids from plain Python (a polynomial hash per token and splitmix64 per feature on
             Python ints): the baseline; the bench checks both give identical ids
  score      log importance weights of stored features (the reduce phase: one gather + reduceat per shard)
  score-ref  the same weights summed in a Python loop
and the ratios featurize/reference and score/score-ref.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import orjson
import rjieba

from gristmill.select.dsir import BagModel, Featurizer, lang_key, log_ratio, score
from gristmill.text import native, token_lists

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import fmt, load_average, spread  # noqa: E402

M64 = (1 << 64) - 1
SETS = [("en c4", "text_en/c4_sample_shared.jsonl", None), ("en dolma cc", "text_en/dolma_cc_samples.jsonl", None),
        ("en python docs", "text_en/python311_doc_shared.jsonl.gz", None),
        ("zh hotel reviews", "text_zh/chnsenticorp_hotel_reviews.jsonl.gz", 4000),
        ("zh web cc2021", "text_zh/chinesewebtext_cc2021_43_shared.jsonl", None),
        ("zh fortunes", "text_zh/fortunes_zh_shared.jsonl.gz", 2000)]


def _mix(h: int) -> int:
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & M64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & M64
    return h ^ (h >> 31)


def _uni_bi(hs: list[int], salt: int) -> list[int]:
    if len(hs) < 2:
        return [_mix(h ^ salt) for h in hs]
    return [_mix(h ^ salt) for h in hs] + [_mix(((a * 0x9E3779B97F4A7C15) + (b ^ 0xD6E8FEB86659FD93)) & M64)
                                           for a, b in zip(hs, hs[1:], strict=False)]


def _token_hash(t: str) -> int:
    h, p = 0, 1
    for c in t:
        h = (h + ord(c) * p) & M64
        p = (p * 0x100000001B3) & M64
    return _mix((h + len(t)) & M64)


def reference_features(f: Featurizer, text: str, key: str) -> list[int]:
    """Plain-Python features, the same as ``Featurizer.batch`` (one polynomial hash per token occurrence)."""
    out: list[int] = []
    if key != "zh" or f.zh_words:
        out += _uni_bi([_token_hash(t) for t in f.tokens(text, key)], 0)
    if key == "zh" and f.zh_chars:
        out += _uni_bi([ord(c) for c in text if ord(c) > 32 and c != "\u3000"], 0xA0761D6478BD642F)
    return [h % f.buckets for h in out[:f.max_features]]


def _load(data: str, rel: str, n: int | None) -> list[tuple[str, str]]:
    op = gzip.open if rel.endswith(".gz") else open
    out = []
    with op(os.path.join(data, rel), "rb") as fh:
        for line in fh:
            r = orjson.loads(line)
            out.append((r["text"], lang_key(r.get("lang"), r["text"])))
            if n and len(out) >= n:
                break
    return out


MIN_CPU_S = 0.3  # a timed run repeats the set until it has taken this much CPU time


PEER_DOCS = 2000


def _peer(folder: str, lang: str, n: int) -> list[tuple[str, str]]:
    """The first ``n`` documents of ``lang`` in the peer-bench corpus."""
    out = []
    with open(os.path.join(folder, "plain.jsonl"), "rb") as f, open(os.path.join(folder, "plain.meta.jsonl"), "rb") as m:
        for line, meta in zip(f, m, strict=True):
            if orjson.loads(meta)["lang"] == lang:
                out.append((orjson.loads(line)["text"], lang_key(lang)))
                if len(out) >= n:
                    break
    return out


def _rate(fn, n: int, repeat: int = 3) -> dict:
    """Documents per CPU second of this process (per-core rates on a busy machine): median, min, max."""
    rates = []
    for _ in range(repeat):
        t0 = time.process_time()
        done = 0
        while True:
            fn()
            done += n
            dt = time.process_time() - t0
            if dt >= MIN_CPU_S:
                break
        rates.append(done / dt)
    return spread(rates)


def _segment(texts: list[str]) -> None:
    """rjieba.cut of every text, each result dropped at once (as featurize drops it: holding them all would add
    the garbage collector's time)."""
    for t in texts:
        rjieba.cut(t)


def _numpy_only(f: Featurizer, texts: list[str], keys: list[str]) -> None:
    """The map phase without the C extensions (Python tokenizer, numpy hashing): the former path."""
    native.AVAILABLE = token_lists.AVAILABLE = False
    try:
        for i in range(0, len(texts), 1000):
            f.batch(texts[i:i + 1000], keys[i:i + 1000])
    finally:
        native.AVAILABLE = token_lists.AVAILABLE = True


def measure(name: str, docs: list[tuple[str, str]]) -> dict:
    """Rates of one set (documents per CPU second)."""
    f = Featurizer()
    texts, keys = [t for t, _ in docs], [k for _, k in docs]
    flat, off, _ = f.batch(texts, keys)                             # warms the token caches for both
    feats = [flat[off[i]:off[i + 1]] for i in range(len(docs))]
    ref = [reference_features(f, t, k) for t, k in docs]
    assert all(list(x) == y for x, y in zip(feats, ref, strict=True)), "reference differs"
    ratio = log_ratio(BagModel.fit(feats[::2], f.buckets), BagModel.fit(feats, f.buckets), 0.1)
    fast_w = score(feats, ratio)
    ref_w = np.array([sum(ratio[b] for b in x) for x in ref])
    assert np.allclose(fast_w, ref_w), "scores differ"
    r = {"set": name, "docs": len(docs), "mean_chars": round(sum(len(t) for t, _ in docs) / len(docs)),
         "featurize": _rate(lambda: [f.batch(texts[i:i + 1000], keys[i:i + 1000])
                                    for i in range(0, len(texts), 1000)], len(docs)),
         "featurize_no_core": _rate(lambda: _numpy_only(f, texts, keys), len(docs)) if native.AVAILABLE else None,
         "jieba": _rate(lambda: _segment(texts), len(docs)) if "zh" in keys else None,
         "reference": _rate(lambda: [reference_features(f, t, k) for t, k in docs], len(docs)),
         "score": _rate(lambda: score(feats, ratio), len(docs)),
         "score_ref": _rate(lambda: [sum(ratio[b] for b in x) for x in ref], len(docs))}
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--results", default="bench/results/dsir_speed.json")
    ap.add_argument("--peer", help="the peer-bench corpus folder (plain.jsonl, plain.meta.jsonl): also its first "
                                   f"{PEER_DOCS:,} documents of each language, whole web and documentation pages")
    a = ap.parse_args()
    rows = []
    load_start = load_average()
    sets = [(name, _load(a.data, rel, n)) for name, rel, n in SETS]
    if a.peer:
        sets += [(f"{la} peer corpus", _peer(a.peer, la, PEER_DOCS)) for la in ("en", "zh")]
    for name, docs in sets:
        r = measure(name, docs)
        med = {k: v["median"] for k, v in r.items() if isinstance(v, dict)}
        r["featurize_x"] = round(med["featurize"] / med["reference"], 2)
        r["score_x"] = round(med["score"] / med["score_ref"], 1)
        if r["featurize_no_core"]:
            r["core_x"] = round(med["featurize"] / med["featurize_no_core"], 2)
        rows.append(r)
        print(f"{name:18} {r['docs']:>5} docs {r['mean_chars']:>6} chars | featurize {fmt(r['featurize'], 0)}/s "
              f"(without the C extensions {fmt(r['featurize_no_core'], 0) if r['featurize_no_core'] else '-'}/s"
              f"{'; jieba alone ' + fmt(r['jieba'], 0) + '/s' if r['jieba'] else ''}) "
              f"ref {fmt(r['reference'], 0)}/s ({r['featurize_x']}x) | score {fmt(r['score'], 0)}/s "
              f"ref {fmt(r['score_ref'], 0)}/s ({r['score_x']}x)", flush=True)
    print(f"documents per CPU second, median (min-max) of 3; load average {load_start} at the start, "
          f"{load_average()} at the end (shared machine)")
    os.makedirs(os.path.dirname(a.results) or ".", exist_ok=True)
    with open(a.results, "w") as fh:
        json.dump({"cpu_count": os.cpu_count(), "load_start": load_start, "load_end": load_average(), "rows": rows},
                  fh, indent=1)


if __name__ == "__main__":
    main()
