#!/usr/bin/env python3
"""Build the bundled multi-domain evaluation sets ``en-domains`` and ``zh-domains`` from ../shared/data.

    python bench/bakeoff_evalsets.py [--shared ../shared/data] [--out src/gristmill/resources/eval]

Only permissively licensed or copyleft-redistributable sources (resources/NOTICE.md names each):

- en: web (the 56 C4 documents of the ``en`` set), news (the human gold article bodies of
  scrapinghub's article-extraction-benchmark, MIT), technical (Debian Reference sections, GPL-2+; Python 3.11
  documentation pages, PSF-2.0), dialogue (the human/assistant turns of the glaive tool-calling demo, Apache-2.0);
- zh: web (the 45 CWCE main texts of the ``zh`` set), technical (Debian Reference zh-cn sections, GPL-2+; zh_CN
  man pages, GFDL-1.2+), classical (论语 and 诗经 of chinese-poetry, MIT), social (COLD comments labelled
  non-offensive, ten per document, Apache-2.0).

Long texts (except the web sets, kept as they are) are cut at ``--max-chars`` (at a line end) so no document dominates; the domains are interleaved
so that a byte cap (a preset's ``eval_max_bytes``) samples all of them. Deterministic: same input, same files.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import xxhash

HERE = Path(__file__).resolve().parent


def _rows(path: Path) -> list[dict]:
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _cut(text: str, n: int | None) -> str:
    if n is None:
        return text
    text = text.strip()
    if len(text) <= n:
        return text
    head = text[:n]
    return head[:head.rfind("\n")] if "\n" in head[n // 2:] else head


def _pick(rows: list[dict], k: int) -> list[dict]:
    """``k`` rows chosen by id hash: a fixed sample that does not depend on file order."""
    return sorted(rows, key=lambda r: xxhash.xxh3_64_intdigest(str(r["id"]).encode()))[:k]


def _doc(domain: str, src: str, rid, text: str, n: int | None) -> dict:
    return {"id": f"{domain}-{rid}", "domain": domain, "source": src, "text": _cut(text, n)}


def english(d: Path, n: int) -> dict[str, list[dict]]:
    from gristmill.train.evalsets import bundled

    c4 = bundled()["en"]
    aeb = _rows(d / "extraction/aeb_en_shared.jsonl.gz")
    ref = _rows(d / "text_en/debian_reference_en_shared.jsonl.gz")
    py = _pick(_rows(d / "text_en/python311_doc_shared.jsonl.gz"), 60)
    chat = _pick(_rows(d / "instruct/glaive_toolcall_en_demo.jsonl"), 110)
    turns = [(r["id"], "\n".join(f"{t['from']}: {t['value']}" for t in r["conversations"]
                                  if t["from"] in ("human", "gpt"))) for r in chat]
    return {
        "web": [_doc("web", "C4 (c4_demo)", i, t, None) for i, t in enumerate(c4)],  # the `en` set, unchanged
        "news": [_doc("news", "article-extraction-benchmark", r["id"], r["gold_text"], n) for r in aeb],
        "technical": [_doc("technical", "debian-reference-en", r["id"], r["text"], n) for r in ref]
        + [_doc("technical", "python3.11-doc", r["id"], r["text"], n) for r in py],
        "dialogue": [_doc("dialogue", "glaive-toolcall demo", i, t, n) for i, t in turns if len(t) > 200],
    }


def chinese(d: Path, n: int) -> dict[str, list[dict]]:
    from gristmill.train.evalsets import bundled

    cwce = bundled()["zh"]
    ref = _rows(d / "text_zh/debian_reference_zh_cn_shared.jsonl.gz")
    man = _pick([r for r in _rows(d / "text_zh/manpages_zh_cn_shared.jsonl.gz") if len(r["text"]) > 800], 70)
    poems = [r for r in _rows(d / "text_zh/chinese_poetry_shared.jsonl")
             if r["source"].endswith(("lunyu.json", "shijing.json"))]
    cold = [r for r in _rows(d / "toxic/cold_dev_zh.jsonl.gz") if r["label"] == 0]
    social = [(i, "\n".join(r["text"] for r in cold[i * 10:(i + 1) * 10])) for i in range(100)]
    classical = _pick(poems, 80)
    return {
        "web": [_doc("web", "CWCE", i, t, None) for i, t in enumerate(cwce)],  # the `zh` set, unchanged
        "technical": [_doc("technical", "debian-reference-zh-cn", r["id"], r["text"], n) for r in ref]
        + [_doc("technical", "manpages-zh (zh_CN)", r["id"], r["text"], n) for r in man],
        "classical": [_doc("classical", "chinese-poetry (论语, 诗经)", r["id"], r["text"], n) for r in classical],
        "social": [_doc("social", "COLD (non-offensive)", i, t, n) for i, t in social],
    }


def interleave(by_domain: dict[str, list[dict]]) -> list[dict]:
    out, lists = [], [list(v) for v in by_domain.values()]
    while any(lists):
        for x in lists:
            if x:
                out.append(x.pop(0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "src" / "gristmill" / "resources" / "eval")
    ap.add_argument("--max-chars", type=int, default=6000)
    a = ap.parse_args()
    for lang, build in (("en", english), ("zh", chinese)):
        docs = interleave(build(a.shared, a.max_chars))
        path = a.out / f"{lang}-domains.jsonl.gz"
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            for r in docs:
                f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
        by = {}
        for r in docs:
            s = by.setdefault(r["domain"], [0, 0])
            s[0] += 1
            s[1] += len(r["text"].encode())
        print(f"{path}: {len(docs)} documents, {sum(b for _, b in by.values()):,} bytes; "
              + ", ".join(f"{k} {v[0]} docs / {v[1]:,} B" for k, v in by.items()))


if __name__ == "__main__":
    main()
