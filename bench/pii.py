#!/usr/bin/env python3
"""PII detection quality per type (precision / recall) and speed.

    python bench/pii.py [--data ../shared/data] [--corpus $PEERS/corpus/plain.jsonl] [--seed 1]

Quality: (1) ``pii/presidio_synth_en_shared.jsonl`` (English sentences with labelled spans; only the types both
sides have: e-mail, phone, card, SSN, IP); (2) real Chinese text (``extraction/cwce_zh_shared.jsonl.gz`` gold
texts) with planted mainland phone numbers (plain, spaced, +86, full-width), landlines, resident ID numbers
(valid check digits), e-mail addresses, plus decoys that must not be found: long order numbers, dates, prices,
ID-like numbers with a wrong check digit. A detection counts when it overlaps a gold span of its type.
Speed: the ``pii`` step alone over ``--corpus`` with one worker.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import run_speed  # noqa: E402

MAP = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN",
       "IP_ADDRESS": "IP"}
FAMILY = {"PHONE_CN": "PHONE", "IP_PRIVATE": "IP"}  # scored together with their family


def cn_id(rng: random.Random, valid: bool = True) -> str:
    from gristmill.protect.pii import cn_id_valid

    region = rng.choice(["110105", "310104", "440305", "510107", "330106", "420111"])
    body = f"{region}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    for check in "0123456789X":
        if cn_id_valid(body + check) == valid:
            return body + check
    raise AssertionError


def mobile(rng: random.Random) -> str:
    n = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
    style = rng.choice(["plain", "spaced", "+86", "fullwidth"])
    if style == "spaced":
        return f"{n[:3]} {n[3:7]} {n[7:]}"
    if style == "+86":
        return "+86 " + n
    if style == "fullwidth":
        return n.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    return n


def planted_zh(data: Path, rng: random.Random) -> list[tuple[str, list[tuple[int, int, str]]]]:
    with gzip.open(data / "extraction" / "cwce_zh_shared.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["gold_text"] for line in f]
    docs = []
    for t in texts:
        for k in range(4):
            base = t[k * 300:(k + 1) * 300] or t[:300]
            parts, gold = [], []
            pos = 0
            cut = sorted(rng.sample(range(len(base)), min(3, len(base))))
            for c in cut:
                kind = rng.choice(["mobile", "landline", "id", "email", "decoy_order", "decoy_date", "decoy_id",
                                   "decoy_price"])
                value, typ = {
                    "mobile": lambda: (mobile(rng), "PHONE"),
                    "landline": lambda: (f"0{rng.choice(['10', '21', '755', '571'])}-{rng.randint(2000000, 89999999)}",
                                         "PHONE"),
                    "id": lambda: (cn_id(rng), "CN_ID"),
                    "email": lambda: (f"{rng.choice(['zhang.wei', 'li_na', 'wangfang88'])}@{rng.choice(['163.com', 'qq.com', 'example.cn'])}",
                                      "EMAIL"),
                    "decoy_order": lambda: (f"{rng.randint(10**15, 10**18)}", None),
                    "decoy_date": lambda: (f"{rng.randint(1990, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", None),
                    "decoy_id": lambda: (cn_id(rng, valid=False), None),
                    "decoy_price": lambda: (f"{rng.randint(100, 99999)}.{rng.randint(0, 99):02d}元", None),
                }[kind]()
                parts.append(base[pos:c])
                start = sum(len(p) for p in parts) + 1
                parts.append(" " + value + " ")
                if typ:
                    gold.append((start, start + len(value), typ))
                pos = c
            parts.append(base[pos:])
            docs.append(("".join(parts), gold))
    return docs


def score(docs, types) -> dict:
    from gristmill.protect.pii import find_pii

    tp, fp, fn = Counter(), Counter(), Counter()
    for text, gold in docs:
        found = [(s.start, s.end, FAMILY.get(s.type, s.type)) for s in find_pii(text)]
        found = [f for f in found if f[2] in types]
        for g in gold:
            hit = any(f[2] == g[2] and f[0] < g[1] and g[0] < f[1] for f in found)
            (tp if hit else fn)[g[2]] += 1
        for f in found:
            if not any(f[2] == g[2] and f[0] < g[1] and g[0] < f[1] for g in gold):
                fp[f[2]] += 1
    out = {}
    for t in sorted(types):
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else None
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else None
        out[t] = {"gold": tp[t] + fn[t], "found": tp[t] + fp[t], "precision": p and round(p, 4),
                  "recall": r and round(r, 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--results", default=str(HERE / "results" / "pii.json"))
    a = ap.parse_args()
    res = {}
    en = []
    with open(a.data / "pii" / "presidio_synth_en_shared.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            en.append((r["text"], [(s["start"], s["end"], MAP[s["type"]]) for s in r["spans"] if s["type"] in MAP]))
    res["presidio_synth_en"] = score(en, set(MAP.values()))
    res["planted_zh"] = score(planted_zh(a.data, random.Random(a.seed)), {"PHONE", "CN_ID", "EMAIL"})
    print(json.dumps(res, indent=2))
    if a.corpus:
        res["speed"] = run_speed("steps:\n  - step: pii\n", a.corpus)
        print(json.dumps(res["speed"]))
    Path(a.results).parent.mkdir(parents=True, exist_ok=True)
    Path(a.results).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
