"""Keep rate of the default recipe on technical documentation, before and after language shares and the prose
signals (issue #16), per source and language, with web junk beside it so the gates are seen to stay shut.

    python bench/technical_keep.py                 # ~1-2 min on one core; man pages are rendered once, cached
    python bench/technical_keep.py --json out.json --examples 5

"before" is the previous default: ``langid`` with ``by_line: false`` (one label per document from its first
2,000 characters) and the bilingual rules as they were (``gq_alpha_words``, ``zh_han_frac``,
``c4_terminal_lines``; no prose rules). "after" is ``recipes/default.yaml`` as it is. Both run normalize →
langid → quality → filter (exact dedup is left out: it compares documents, not their quality) on the same
signals code, so the difference is the language decision and the rules.

The rules were tuned on one half of the Python 3.11 documentation and of the zh_CN man pages (``crc32(id)``
even); every other source below was looked at only through this script: the other halves, Debian Reference
(en, zh_CN), the zh_TW man pages of the held-out half, English man pages of this machine rendered with
``man -P cat`` and the HTML and text documentation under ``/usr/share/doc``. The web samples (C4, Dolma CC,
Data-Juicer's mix, ChineseWebText with its clean/dirty labels) check that junk is still rejected.

The script also checks that every zh_CN/zh_TW page pair gets one decision, and times ``langid`` both ways and
the ``quality`` step with and without the ``prose`` signal family (CPU seconds, best of 5 taken in turn, as
ratios).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BEFORE_RULES = {  # the bilingual preset's rules before #16; None removes a rule added since
    "en:gopher_below_alpha_threshold": "not (lang == 'en') or (gq_alpha_words >= 0.8)",
    "zh:zh_low_han": "not (lang == 'zh') or (zh_han_frac >= 0.15)",
    "zh:zh_no_terminal_punct": "not (lang == 'zh') or (c4_terminal_lines >= 0.05)",
    "en:too_little_prose": None, "zh:zh_too_little_prose": None, "other:too_little_prose": None,
}


def read_jsonl(rel: str) -> list[dict]:
    p = SHARED / rel
    with (gzip.open(p, "rt", encoding="utf-8") if p.suffix == ".gz" else open(p, encoding="utf-8")) as f:
        return [json.loads(line) for line in f if line.strip()]


def tune_half(doc_id: str) -> bool:
    return zlib.crc32(doc_id.encode()) % 2 == 0


def man_pages(cache: Path, n: int) -> list[dict]:
    """English man pages of this machine (man1, man5, man8), a fixed sample by name, rendered to text."""
    files = sorted(glob.glob("/usr/share/man/man[158]/*"))
    files = sorted(files, key=lambda f: zlib.crc32(os.path.basename(f).encode()))[:n]
    cache.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MANWIDTH": "80"}
    out = []
    for f in files:
        c = cache / (os.path.basename(f) + ".txt")
        if not c.exists():
            try:
                r = subprocess.run(["man", "-P", "cat", "-l", f], capture_output=True, env=env, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                continue
            c.write_bytes(r.stdout)
        text = c.read_text(encoding="utf-8", errors="replace")
        if text.strip():
            out.append({"id": "man:" + os.path.basename(f), "text": text})
    return out


def usr_doc_html(n: int) -> list[dict]:
    from gristmill.steps.extract import extract_fast

    files = sorted((f for f in glob.glob("/usr/share/doc/**/*.html", recursive=True) if os.path.isfile(f)),
                   key=lambda f: zlib.crc32(f.encode()))
    out = []
    for f in files[:n]:
        text, _ = extract_fast(Path(f).read_text(encoding="utf-8", errors="replace"))
        if text.strip():
            out.append({"id": "html:" + f.removeprefix("/usr/share/doc/"), "text": text})
    return out


SKIP = ("changelog", "copyright", "news", "authors", "thanks", "license", "copying", "todo", "credits")


def usr_doc_text(n: int) -> list[dict]:
    files = [f for f in glob.glob("/usr/share/doc/**/*", recursive=True) if os.path.isfile(f)
             and (os.path.basename(f).lower().startswith(("readme", "faq")) or f.endswith((".md", ".txt", ".md.gz",
                                                                                      ".txt.gz")))
             and not any(s in os.path.basename(f).lower() for s in SKIP)]
    out = []
    for f in sorted(files, key=lambda f: zlib.crc32(f.encode())):
        with (gzip.open(f) if f.endswith(".gz") else open(f, "rb")) as fh:
            raw = fh.read()
        text = raw.decode("utf-8", errors="replace")
        if len(text) >= 1000:
            out.append({"id": "doc:" + f.removeprefix("/usr/share/doc/"), "text": text})
        if len(out) >= n:
            break
    return out


def sources(args) -> list[tuple[str, str, list[dict]]]:
    """(name, role, documents): role is tuned, held-out or web."""
    py = read_jsonl("text_en/python311_doc_shared.jsonl.gz")
    cn = read_jsonl("text_zh/manpages_zh_cn_shared.jsonl.gz")
    tw = read_jsonl("text_zh/manpages_zh_tw_shared_subset.jsonl.gz")
    cwt = read_jsonl("text_zh/chinesewebtext_quality_labeled.jsonl")
    return [
        ("Python 3.11 docs, tuning half", "tuned", [d for d in py if tune_half(d["id"])]),
        ("zh_CN man pages, tuning half", "tuned", [d for d in cn if tune_half(d["id"])]),
        ("Python 3.11 docs, other half", "held-out", [d for d in py if not tune_half(d["id"])]),
        ("zh_CN man pages, other half", "held-out", [d for d in cn if not tune_half(d["id"])]),
        ("zh_TW man pages, other half", "held-out",
         [d for d in tw if not tune_half(d["id"].replace("-TW-", "-CN-"))]),
        ("Debian Reference (en)", "held-out", read_jsonl("text_en/debian_reference_en_shared.jsonl.gz")),
        ("Debian Reference (zh_CN)", "held-out", read_jsonl("text_zh/debian_reference_zh_cn_shared.jsonl.gz")),
        ("man pages of this machine (en)", "held-out", man_pages(Path(args.cache) / "man", args.man)),
        ("/usr/share/doc HTML", "held-out", usr_doc_html(args.docs)),
        ("/usr/share/doc README/.md/.txt", "held-out", usr_doc_text(args.docs)),
        ("C4 sample (en web)", "web", read_jsonl("text_en/c4_sample_shared.jsonl")),
        ("Dolma CC (en web)", "web", read_jsonl("text_en/dolma_cc_samples.jsonl")),
        ("Data-Juicer web mix", "web", read_jsonl("text_en/datajuicer_mixed_web_shared.jsonl")),
        ("ChineseWebText CC-2021-43 (zh web)", "web", read_jsonl("text_zh/chinesewebtext_cc2021_43_shared.jsonl")),
        ("ChineseWebText labelled clean", "web", [d for d in cwt if "-clean-" in d["id"]]),
        ("ChineseWebText labelled dirty", "web", [d for d in cwt if "-dirty-" in d["id"]]),
    ]


def pipelines():
    from gristmill.recipe import load_recipe
    from gristmill.steps.filter import Filter, FilterParams
    from gristmill.steps.langid import LangId, LangIdParams

    out = {}
    for name in ("before", "after"):
        steps = []
        for spec in load_recipe(path=str(ROOT / "src/gristmill/recipes/default.yaml")).steps:
            step = spec.build()
            if step.name == "exact_dedup":
                continue
            if name == "before" and step.name == "langid":
                step = LangId(LangIdParams(by_line=False))
            if name == "before" and step.name == "filter":
                step = Filter(FilterParams(preset=["bilingual"], rules=BEFORE_RULES))
            if hasattr(step, "setup"):
                step.setup()
            steps.append(step)
        out[name] = steps
    return out


def decide(docs: list[dict], steps) -> list[tuple[str | None, str]]:
    """(rejecting rule or None, language) per document."""
    t = pa.table({"id": [str(i) for i in range(len(docs))], "text": [d["text"] for d in docs]})
    reasons: list[str | None] = [None] * len(docs)
    langs = [""] * len(docs)
    rows = list(range(len(docs)))
    for step in steps:
        res = step.process(t)
        t = res.table
        if "lang" in t.column_names:
            for j, lang in zip(rows, t.column("lang").to_pylist(), strict=True):
                langs[j] = lang
        if res.reject is not None and res.reject.any():
            k = 0
            for j, rej in enumerate(res.reject):
                if rej:
                    reasons[rows[j]] = res.reason[k]
                    k += 1
            keep = [j for j, rej in enumerate(res.reject) if not rej]
            rows = [rows[j] for j in keep]
            t = t.take(pa.array(keep, pa.int64()))
    return list(zip(reasons, langs, strict=True))


def _best(runs: dict, rounds: int = 5) -> dict[str, float]:
    """Best CPU seconds of each of ``runs`` (name -> callable), taken in turn so that a busy machine slows
    them alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def langid_seconds(texts: list[str]) -> dict[str, float]:
    """``langid`` by document (``by_line: false``) and by line, on the same texts."""
    from gristmill.steps.langid import LangId, LangIdParams

    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    steps = {name: LangId(LangIdParams(by_line=by_line)) for name, by_line in (("by_document", False),
                                                                             ("by_line", True))}
    for step in steps.values():
        step.setup()
    return _best({name: (lambda s=step: s.process(t)) for name, step in steps.items()})


def quality_seconds(texts: list[str], lang: str) -> dict[str, float]:
    """The ``quality`` step without and with the prose signal family, on the same texts."""
    from gristmill.steps.quality import FAMILIES, Quality, QualityParams

    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "lang": [lang] * len(texts)})
    steps = {"without_prose": Quality(QualityParams(families=[f for f in FAMILIES if f != "prose"])),
             "with_prose": Quality(QualityParams())}
    return _best({name: (lambda s=step: s.process(t)) for name, step in steps.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default="/tmp/gristmill-bench-technical", help="rendered man pages go here")
    ap.add_argument("--man", type=int, default=150, help="English man pages to render (a fixed sample)")
    ap.add_argument("--docs", type=int, default=150, help="/usr/share/doc HTML files and text files, each")
    ap.add_argument("--examples", type=int, default=3, help="changed decisions to print per source")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    srcs = sources(args)
    pipes = pipelines()
    report = []
    print(f"{'source':36} {'role':9} {'docs':>5} {'kept before':>12} {'kept after':>12}  main languages after; "
          "top reasons after")
    for name, role, docs in srcs:
        if not docs:
            print(f"{name:36} {role:9} (none found on this machine)")
            continue
        before, after = decide(docs, pipes["before"]), decide(docs, pipes["after"])
        kb, ka = sum(r is None for r, _ in before), sum(r is None for r, _ in after)
        langs = collections.Counter(lang for _, lang in after).most_common(3)
        reasons = collections.Counter(r for r, _ in after if r).most_common(3)
        print(f"{name:36} {role:9} {len(docs):5} {kb:5} {kb / len(docs):6.1%} {ka:5} {ka / len(docs):6.1%}  "
              + " ".join(f"{k}:{v}" for k, v in langs) + "; " + ", ".join(f"{k} {v}" for k, v in reasons))
        flips = [(d["id"], b, a) for d, b, a in zip(docs, before, after, strict=True) if (b[0] is None) != (a[0] is None)]
        for doc_id, b, a in flips[: args.examples]:
            print(f"      {doc_id[:60]:60} {b[0] or 'kept'} ({b[1]}) -> {a[0] or 'kept'} ({a[1]})")
        report.append({"source": name, "role": role, "docs": len(docs), "kept_before": kb, "kept_after": ka,
                       "langs_after": dict(langs), "reasons_after": dict(reasons),
                       "changed": [{"id": i, "before": b, "after": a} for i, b, a in flips]})
    # Simplified = Traditional: one decision per zh_CN / zh_TW page pair
    cn = {d["id"].removeprefix("manpages-zh-CN-"): d for d in read_jsonl("text_zh/manpages_zh_cn_shared.jsonl.gz")}
    tw = {d["id"].removeprefix("manpages-zh-TW-"): d for d in read_jsonl("text_zh/manpages_zh_tw_shared_subset.jsonl.gz")}
    names = sorted(set(cn) & set(tw))
    pairs = {}
    for which in ("before", "after"):
        a = decide([cn[n] for n in names], pipes[which])
        b = decide([tw[n] for n in names], pipes[which])
        pairs[which] = [n for n, x, y in zip(names, a, b, strict=True) if (x[0] is None) != (y[0] is None)]
        print(f"zh_CN/zh_TW page pairs with different keep/reject ({which}): {len(pairs[which])} of {len(names)}"
              + (f" ({', '.join(pairs[which][:5])})" if pairs[which] else ""))
    # what language shares and prose lines cost, side by side on the same documents
    timing = {}
    for lang in ("en", "zh"):
        texts = [d["text"] for name, role, docs in srcs for d in docs if ("zh" in name or "Chinese" in name)
                 == (lang == "zh")]
        lid, q = langid_seconds(texts), quality_seconds(texts, lang)
        timing[lang] = {"docs": len(texts), **{f"langid_{k}_s": round(v, 3) for k, v in lid.items()},
                        "langid_ratio": round(lid["by_line"] / lid["by_document"], 2),
                        **{f"quality_{k}_s": round(v, 3) for k, v in q.items()},
                        "quality_ratio": round(q["with_prose"] / q["without_prose"], 2)}
        print(f"langid CPU seconds, {lang} sources ({len(texts)} docs): by document {lid['by_document']:.3f}, "
              f"by line {lid['by_line']:.3f}, x{lid['by_line'] / lid['by_document']:.2f}")
        print(f"quality CPU seconds, {lang} sources: without the prose family {q['without_prose']:.3f}, with it "
              f"{q['with_prose']:.3f}, x{q['with_prose'] / q['without_prose']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"sources": report, "pairs_differing": pairs, "langid": timing},
                                              indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
