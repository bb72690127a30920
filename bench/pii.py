#!/usr/bin/env python3
"""PII detection: per-type confusion tables on generated evaluation sets and on presidio's synthetic set,
and throughput, each side by side with the implementation at git HEAD, in the same run.

    python bench/pii.py                      # the report part (files, templates, seed not used for tuning)
    python bench/pii.py --part tune --show 5 # the tuning part, with examples of misses and losses
    python bench/pii.py --corpus corpus.jsonl  # also the pii step alone over a JSONL corpus, one worker

Sets: (1) ``bench/pii_eval_data.py`` plants Faker values (e-mail, phones of 17 regions, cards, IBANs, resident
IDs, IPs, SSNs) and look-alikes (versions from Debian changelogs, dates, order numbers, Luhn-failing numbers,
IDs/IBANs with a wrong check, OIDs, section numbers, ISBNs, amounts) into English Debian documentation and
Chinese man pages / Debian reference; (2) ``pii/presidio_synth_en_shared.jsonl`` (English sentences with
labelled spans; only the types both sides name). Speed: ``find_pii`` over the carrier paragraphs and over the
planted documents, new and HEAD, best of 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import run_speed  # noqa: E402
from pii_eval import head_detector, print_tables, score  # noqa: E402
from pii_eval_data import Doc, build, carrier, fingerprint  # noqa: E402

MAP = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN",
       "IP_ADDRESS": "IP", "IBAN_CODE": "IBAN"}


def presidio(data: Path) -> list[Doc]:
    docs = []
    with open(data / "pii" / "presidio_synth_en_shared.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs.append(Doc("en", r["text"], [(s["start"], s["end"], MAP[s["type"]], "-", "presidio")
                                              for s in r["spans"] if s["type"] in MAP]))
    return docs


def throughput(texts: list[str], find, repeat: int = 3) -> dict:
    """Best of ``repeat`` passes after one warm-up pass (imports, metadata, compiled patterns); the cache of
    phone readings is emptied before each pass, so every number is read afresh as in a real corpus."""
    from gristmill.protect.pii_phone import clear_caches

    mb = sum(len(t.encode()) for t in texts) / 1e6
    best = float("inf")
    for t in texts[:200]:
        find(t)
    for _ in range(repeat):
        clear_caches()
        t0 = time.perf_counter()
        for t in texts:
            find(t)
        best = min(best, time.perf_counter() - t0)
    return {"docs": len(texts), "mb": round(mb, 2), "seconds": round(best, 3), "docs_per_s": round(len(texts) / best),
            "mb_per_s": round(mb / best, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--part", choices=["tune", "report"], default="report")
    ap.add_argument("--docs", type=int, default=3000, help="generated documents (half English, half Chinese)")
    ap.add_argument("--show", type=int, default=0, help="examples of misses, lost look-alikes, carrier hits")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--results", default=str(HERE / "results" / "pii.json"))
    a = ap.parse_args()
    from gristmill.protect.pii import find_pii

    head = head_detector()
    docs = build(a.part, a.docs)
    res: dict = {"part": a.part, "docs": len(docs), "fingerprint": fingerprint(docs)}
    new, old = score(docs, find_pii, a.show), score(docs, head)
    res["generated"] = {"new": new, "head": old}
    print_tables(f"generated, part {a.part} ({len(docs)} docs, {fingerprint(docs)}): new (HEAD alongside)", new, old)
    pdocs = presidio(a.data)
    pn, po = score(pdocs, find_pii, a.show), score(pdocs, head)
    res["presidio_synth_en"] = {"new": pn, "head": po}
    print_tables("presidio_synth_en_shared: new (HEAD alongside)", pn, po)
    if a.show:
        print(json.dumps({"generated": new["examples"], "presidio": pn["examples"]}, ensure_ascii=False, indent=1))
    plain = [p for _, p in carrier(a.part)]
    planted = [d.text for d in docs]
    speed = {}
    for name, texts in (("carrier paragraphs", plain), ("planted documents", planted)):
        s_new, s_old = throughput(texts, find_pii), throughput(texts, head)
        speed[name] = {"new": s_new, "head": s_old, "new_over_head": round(s_new["mb_per_s"] / s_old["mb_per_s"], 3)}
        print(f"\nspeed, {name} ({s_new['docs']} docs, {s_new['mb']} MB): new {s_new['mb_per_s']} MB/s "
              f"({s_new['docs_per_s']} docs/s), HEAD {s_old['mb_per_s']} MB/s ({s_old['docs_per_s']} docs/s), "
              f"ratio new/HEAD {speed[name]['new_over_head']}")
    res["speed"] = speed
    if a.corpus:
        res["step_speed"] = run_speed("steps:\n  - step: pii\n", a.corpus)
        print(json.dumps(res["step_speed"]))
    for part in ("generated", "presidio_synth_en"):
        for side in ("new", "head"):
            res[part][side].pop("examples", None)
    Path(a.results).parent.mkdir(parents=True, exist_ok=True)
    Path(a.results).write_text(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
