#!/usr/bin/env python3
"""The bake-off: one bilingual corpus cleaned five ways, each trained with the same budget and seeds.

    python bench/bakeoff.py [--en-mb 2 --zh-mb 2] [--preset cpu-small --tokens 307200 --seeds 0,1,2]
                            [--shares en=0.5,zh=0.5 | raw | as-produced] [--reuse] [--variants datatrove,gristmill]

1. **Corpus**: a seeded sample of the peer-bench corpus (``/work/peers/corpus/plain.jsonl``: Debian documentation,
   man pages, Python docs, handbooks, fortunes, English and Chinese) of ``--en-mb``/``--zh-mb`` MB, plus the web
   samples of ``../shared/data/text_en`` and ``text_zh`` (C4, Dolma CC, RedPajama, ChineseWebText, reviews …).
2. **raw**: ``gristmill run`` with normalise + langid (keep en, zh) + exact dedup. Every other variant starts
   from raw's output, so each difference from raw is the selection alone.
3. **datatrove** 0.10.1's FineWeb chain (GopherRepetition -> GopherQuality -> C4Quality -> FineWebQuality, default
   settings) in the peers' virtual environment (``--datatrove-python``), through the peer-bench runner.
4. **data-juicer** 1.6: the filters of Data-Juicer's own ``redpajama-c4-refine`` recipe that run offline
   (language-id and perplexity filters need downloaded models; word tokenisation is whitespace), run with
   ``dj-process`` per language (``lang: en`` / ``lang: zh``). Skipped with a note when it does not run.
5. **gristmill**: the default bilingual recipe (a recipe variant of the ablation).
6. **gristmill-nd-clf**: the default recipe + MinHash near-dedup + a fastText quality classifier trained here
   (positives: the responses of the Alpaca-GPT4 demo sets, en and zh, as DCLM uses instruction data; negatives:
   as many raw documents per language), keeping the top ``--clf-keep`` share per language.

Then ``gristmill ablate ablations/bakeoff.yaml`` (budget, seeds and preset from the flags) trains every
variant, scores ``en-domains``/``zh-domains`` per domain, correlates raw's quality signals with per-document
bits per byte (on ``--corr-docs`` documents), and this script prints the table. By default every variant is
first mixed to the same token share per language (``--shares en=0.5,zh=0.5``; ``raw``: raw's shares;
``as-produced``: each tool's own mix), so a tool that drops a language is compared on the documents it kept,
repeated as often as the budget needs (the table gives the epochs per language), not on how much of the
language it kept. The CPU default (``cpu-small``, 307,200 tokens = 75 steps) is what three seeds of five variants
fit in about 1.5 hours on a shared 2-core machine. With CUDA present the defaults grow (``gpu-small``, 20M
tokens, 10x the data). Data goes to ``ablations/.data/bakeoff``, results to ``ablations/.data/bakeoff/results``
(``bakeoff.md``: the table; ``results.md``: per domain, data per language, signal correlations).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
import xxhash
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
SKIP_EN = ("python311_doc",)          # its pages are in the peer corpus already (pydoc)
SKIP_ZH = ("sms_spam",)               # short SMS, no licence, not web or documentation text
DJ_OPS_EN = [  # Data-Juicer configs/data_juicer_recipes/redpajama-c4-refine.yaml, the filters that run offline
    {"alphanumeric_filter": {"tokenization": False, "min_ratio": 0.65, "max_ratio": 0.9}},
    {"average_line_length_filter": {"max_len": 3000}},
    {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.3}},
    {"maximum_line_length_filter": {"max_len": 4000}},
    {"special_characters_filter": {"max_ratio": 0.4}},
    {"words_num_filter": {"lang": "en", "tokenization": False, "min_num": 20, "max_num": 10000}},
    {"word_repetition_filter": {"lang": "en", "tokenization": False, "rep_len": 10, "max_ratio": 0.231}},
]


def _say(msg: str) -> None:
    print(f"[bakeoff {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _rows(path: Path):
    import gzip

    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)


def sample_corpus(corpus: Path, shared: Path, out: Path, mb: dict[str, float], seed: int = 0,
                  per_file: int = 0) -> dict:
    """The bake-off's input: a hash-seeded sample of the peer corpus per language, plus the shared web samples."""
    meta = {m["id"]: m for m in _rows(corpus / "plain.meta.jsonl")}
    total: dict[str, int] = {}
    for m in meta.values():
        total[m["lang"]] = total.get(m["lang"], 0) + m["bytes"]
    rate = {lang: min(1.0, mb.get(lang, 0) * 1e6 / max(n, 1)) for lang, n in total.items()}
    stats: dict[str, list[int]] = {}
    with open(out, "wb") as f:
        for r in _rows(corpus / "plain.jsonl"):
            m = meta[r["id"]]
            if xxhash.xxh3_64_intdigest(r["id"].encode(), seed=seed) / 2**64 >= rate[m["lang"]]:
                continue
            f.write(orjson.dumps({"id": r["id"], "text": r["text"], "source": "peer/" + m["source"].split("/")[0]})
                    + b"\n")
            s = stats.setdefault("peer-corpus/" + m["lang"], [0, 0])
            s[0] += 1
            s[1] += len(r["text"].encode())
        for lang, skip in (("en", SKIP_EN), ("zh", SKIP_ZH)):
            for p in sorted((shared / "data" / f"text_{lang}").iterdir()):
                if any(p.name.startswith(x) for x in skip):
                    continue
                for i, r in enumerate(_rows(p)):
                    if per_file and i >= per_file:
                        break
                    if isinstance(r.get("text"), str) and r["text"].strip():
                        f.write(orjson.dumps({"id": f"{p.name}:{r['id']}", "text": r["text"], "source": p.name})
                                + b"\n")
                        s = stats.setdefault(p.name, [0, 0])
                        s[0] += 1
                        s[1] += len(r["text"].encode())
    return stats


def gristmill_run(steps: list[dict], inputs: list[str], out: Path, workers: int) -> dict:
    import gristmill
    from gristmill.recipe import parse_recipe

    recipe = parse_recipe({"output": {"format": "jsonl", "report": False}, "steps": steps}, "<bakeoff>")
    return gristmill.run(recipe, inputs=inputs, output=str(out), workers=workers, resume=False, quiet=True)


def run_datatrove(python: str, peer_bench: Path, raw_kept: Path, out: Path) -> dict:
    files = sorted(raw_kept.glob("*.jsonl"))
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([python, str(peer_bench / "bench_filters_datatrove.py"), "--input", str(raw_kept), "--out",
                    str(out), "--workers", "1", "--tasks", str(len(files))], check=True, capture_output=True)
    return {"seconds": round(time.perf_counter() - t0, 1)}


def run_data_juicer(dj_process: str, raw_kept: Path, out: Path) -> dict:
    """dj-process per language with the offline filters of Data-Juicer's redpajama-c4 refine recipe."""
    shutil.rmtree(out, ignore_errors=True)
    (out / "kept").mkdir(parents=True)
    t0 = time.perf_counter()
    for lang in ("en", "zh"):
        inp = out / f"in-{lang}.jsonl"
        with open(inp, "wb") as f:
            for p in sorted(raw_kept.glob("*.jsonl")):
                for r in _rows(p):
                    if r.get("lang") == lang:
                        f.write(orjson.dumps({"id": r["id"], "text": r["text"], "lang": lang}) + b"\n")
        ops = json.loads(json.dumps(DJ_OPS_EN).replace('"lang": "en"', f'"lang": "{lang}"'))
        work = out / f"work-{lang}"  # Data-Juicer writes its logs and event files beside the export
        cfg = {"project_name": f"bakeoff-{lang}", "dataset_path": str(inp), "np": 1, "text_keys": "text",
               "export_path": str(work / "kept.jsonl"), "open_tracer": False, "process": ops}
        (out / f"{lang}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        with open(out / f"{lang}.log", "wb") as log:
            subprocess.run([dj_process, "--config", str(out / f"{lang}.yaml")], check=True, stdout=log,
                           stderr=subprocess.STDOUT)
        inp.unlink()
        (work / "kept.jsonl").rename(out / "kept" / f"{lang}.jsonl")
    return {"seconds": round(time.perf_counter() - t0, 1), "ops": [next(iter(o)) for o in DJ_OPS_EN]}


def classifier_variant(raw_kept: Path, shared: Path, work: Path, out: Path, keep: float, workers: int) -> dict:
    """Default recipe + MinHash near-dedup + a fastText quality classifier; the top ``keep`` share per language."""
    from gristmill.classify.fasttext_model import train

    raw = [r for p in sorted(raw_kept.glob("*.jsonl")) for r in _rows(p)]
    pos, neg = [], []
    for lang in ("en", "zh"):
        p = [r["output"] for r in _rows(shared / "data" / "instruct" / f"alpaca_{lang}_demo.jsonl") if r.get("output")]
        pool = sorted((r for r in raw if r.get("lang") == lang), key=lambda r: xxhash.xxh3_64_intdigest(r["id"].encode()))
        pos += p
        neg += [r["text"] for r in pool[:len(p)]]
    work.mkdir(parents=True, exist_ok=True)
    model = str(work / "quality.bin")
    rep = train(pos, neg, model, seed=0)
    from gristmill.recipe import default_recipe_path

    steps = yaml.safe_load(default_recipe_path().read_text(encoding="utf-8"))["steps"]
    steps += [{"step": "filter", "name": "en_zh_only", "keep": "lang in ['en', 'zh']"},
              {"step": "minhash_dedup"}, {"step": "classifier", "model": model}]
    m = gristmill_run(steps, [str(raw_kept)], work / "scored", workers)
    scored = [r for p in sorted((work / "scored" / "kept").glob("*.jsonl")) for r in _rows(p)]
    shutil.rmtree(out, ignore_errors=True)
    (out / "kept").mkdir(parents=True)
    cut = {}
    with open(out / "kept" / "part-00000.jsonl", "wb") as f:
        for lang in ("en", "zh"):
            mine = sorted((r for r in scored if r.get("lang") == lang), key=lambda r: -(r.get("quality_score") or 0))
            n = round(len(mine) * keep)
            cut[lang] = {"scored": len(mine), "kept": n, "threshold": mine[n - 1]["quality_score"] if n else None}
            for r in mine[:n]:
                f.write(orjson.dumps(r) + b"\n")
    return {"classifier": rep.to_dict(), "recipe_counts": m["counts"], "top_share": keep, "per_lang": cut}


def table(r: dict) -> str:
    """variant; per language docs and tokens available, share of the training tokens and the epochs that
    implies; en and zh bits per byte; difference from raw with its noise."""
    lines = ["| variant | en docs | en tokens | zh docs | zh tokens | en:zh trained | en epochs | zh epochs | en bpb | "
             "zh bpb | en Δ vs raw | zh Δ vs raw |", "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|"]
    for v in r["variants"]:
        d = r["data"][v]
        bl, sh, ep = d.get("by_lang") or {}, d.get("train_share"), d.get("epochs_by_lang")
        if sh is None:  # results from before equal shares: as produced
            by = (d.get("tokens_by") or {}).get("lang") or {}
            sh = {k: n / max(d.get("tokens") or 1, 1) for k, n in by.items()}
            ep = {k: d.get("epochs") or 0 for k in by}
        cells = []
        for e in ("en", "zh"):
            c = next((c for c in r["comparisons"] if c["variant"] == v and c["eval"] == e), None)
            cells.append("–" if c is None or c["se"] is None else
                         f"{c['diff_bpb']:+.4f} ± {c['se']:.4f}{' *' if c['significant'] else ''}")
        t = {e: r["table"][v][e] for e in ("en", "zh")}
        lines.append(f"| {v} | {bl.get('en', {}).get('docs', 0):,} | {bl.get('en', {}).get('tokens', 0):,} | "
                     f"{bl.get('zh', {}).get('docs', 0):,} | {bl.get('zh', {}).get('tokens', 0):,} | "
                     f"{round(100 * sh.get('en', 0))}:{round(100 * sh.get('zh', 0))} | "
                     f"{ep.get('en', 0):.2f} | {ep.get('zh', 0):.2f} | "
                     f"{t['en']['mean']:.4f} ± {t['en']['std']:.4f} | {t['zh']['mean']:.4f} ± {t['zh']['std']:.4f} | "
                     f"{cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def parse_shares(text: str) -> dict[str, float] | str | None:
    """``en=0.5,zh=0.5`` -> weights; ``as-produced`` -> None; anything else names a variant (``raw``)."""
    if text in ("as-produced", "none", ""):
        return None
    if "=" not in text:
        return text
    return {k.strip(): float(x) for k, x in (p.split("=") for p in text.split(","))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    peers = Path(os.environ.get("PEERS", ROOT.parent / "peers"))  # where ../shared/peer-bench built them
    ap.add_argument("--corpus", type=Path, default=peers / "corpus")
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--datatrove-python", default=str(peers / "venv/bin/python"))
    ap.add_argument("--dj-process", default=str(peers / "venv-dj/bin/dj-process"))
    ap.add_argument("--peer-bench", type=Path, default=SHARED / "peer-bench")
    ap.add_argument("--en-mb", type=float, default=20.0 if cuda else 2.0)
    ap.add_argument("--zh-mb", type=float, default=9.0 if cuda else 2.0)
    ap.add_argument("--preset", default="gpu-small" if cuda else "cpu-small")
    ap.add_argument("--tokens", type=int, default=20_000_000 if cuda else 307_200)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--shares", default="en=0.5,zh=0.5", help="token share per language every variant is mixed "
                    "to before packing (en=0.5,zh=0.5); a variant's name (raw): its shares; as-produced: each "
                    "variant's own mix")
    ap.add_argument("--corr-docs", type=int, default=3000, help="documents of raw scored for the signal "
                    "correlations (a hash-seeded sample; 0: all)")
    ap.add_argument("--variants", default="", help="only these variants (comma-separated; raw is always kept)")
    ap.add_argument("--shared-per-file", type=int, default=0, help="at most this many documents per shared file "
                    "(0: all; for a quick check)")
    ap.add_argument("--clf-keep", type=float, default=0.3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--data", type=Path, default=ROOT / "ablations" / ".data" / "bakeoff")
    ap.add_argument("--out", type=Path, default=ROOT / "ablations" / ".data" / "bakeoff" / "results")
    ap.add_argument("--reuse", action="store_true", help="keep the prepared data if it is there")
    ap.add_argument("--skip-data-juicer", action="store_true")
    ap.add_argument("--table-only", action="store_true", help="print the table of the results in --out (after "
                    "each round of seeds, or at the end) and stop")
    a = ap.parse_args()
    if a.table_only:
        r = json.loads((a.out / "results.json").read_text())
        print(table(r) + ("\n\n(partial: not every seed has run yet)" if r.get("partial") else ""))
        return
    t0 = time.perf_counter()
    d = a.data
    d.mkdir(parents=True, exist_ok=True)
    prep_path = d / "prepare.json"
    prep = json.loads(prep_path.read_text()) if a.reuse and prep_path.exists() else {}
    if not prep:
        _say(f"sampling the corpus ({a.en_mb} MB en, {a.zh_mb} MB zh of the peer corpus + shared web samples)")
        prep["corpus"] = sample_corpus(a.corpus, a.shared, d / "input.jsonl", {"en": a.en_mb, "zh": a.zh_mb},
                                       per_file=a.shared_per_file)
        _say("raw: normalise + langid + exact dedup")
        t = time.perf_counter()
        m = gristmill_run([{"step": "normalize"}, {"step": "langid", "keep": ["en", "zh"]}, {"step": "exact_dedup"}],
                          [str(d / "input.jsonl")], d / "raw", a.workers)
        prep["raw"] = {"counts": m["counts"], "seconds": round(time.perf_counter() - t, 1)}
        _say(f"raw kept {m['counts']['kept']:,} of {m['counts']['input']:,}; datatrove's FineWeb chain")
        prep["datatrove"] = run_datatrove(a.datatrove_python, a.peer_bench, d / "raw" / "kept", d / "datatrove")
        if not a.skip_data_juicer:
            _say("Data-Juicer filters")
            try:
                prep["data-juicer"] = run_data_juicer(a.dj_process, d / "raw" / "kept", d / "data-juicer")
            except (subprocess.CalledProcessError, OSError) as e:
                prep["data-juicer"] = {"error": str(e)}
                _say(f"Data-Juicer did not run ({e}); its variant is left out")
        _say("gristmill + near-dedup + quality classifier")
        t = time.perf_counter()
        prep["gristmill-nd-clf"] = classifier_variant(d / "raw" / "kept", a.shared, d / "clf", d / "gristmill-nd-clf",
                                                      a.clf_keep, a.workers)
        prep["gristmill-nd-clf"]["seconds"] = round(time.perf_counter() - t, 1)
        prep_path.write_text(json.dumps(prep, indent=2, ensure_ascii=False))
    prep_s = time.perf_counter() - t0
    spec = yaml.safe_load((ROOT / "ablations" / "bakeoff.yaml").read_text(encoding="utf-8"))
    spec["train"] = {"preset": a.preset, "tokens": a.tokens}
    spec["seeds"] = [int(s) for s in a.seeds.split(",")]
    spec["shares"] = parse_shares(a.shares)
    if spec["shares"] is None:
        del spec["shares"]
    spec["correlate"] = {**spec.get("correlate", {}), "max_docs": a.corr_docs or None}
    if "error" in prep.get("data-juicer", {"error": "skipped"}):
        spec["variants"] = [v for v in spec["variants"] if v["name"] != "data-juicer"]
    if a.variants:
        keep = {"raw", *a.variants.split(",")}
        spec["variants"] = [v for v in spec["variants"] if v["name"] in keep]
    def abs_(p: str) -> str:  # the file's .data/bakeoff/… paths, in --data
        return str((d / p.removeprefix(".data/bakeoff/")).resolve())

    spec["data"]["paths"] = [abs_(p) for p in spec["data"]["paths"]]
    for v in spec["variants"]:
        if isinstance(v.get("data"), str):
            v["data"] = abs_(v["data"])
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bakeoff.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    from gristmill.ablate.runner import ablate

    t = time.perf_counter()
    r = ablate(str(a.out / "bakeoff.yaml"), str(a.out), workers=a.workers, progress_every=60)
    train_s = time.perf_counter() - t
    print()
    print(table(r))
    print()
    print("(* = the difference exceeds twice its seed-noise standard error)")
    print(f"\npreparation {prep_s:.0f} s, ablation {train_s:.0f} s, total {time.perf_counter() - t0:.0f} s "
          f"({a.preset}, {a.tokens:,} tokens x {len(spec['seeds'])} seeds, shares {a.shares}); "
          f"details in {a.out}/results.md")
    (a.out / "bakeoff.json").write_text(json.dumps({"prepare": prep, "table": table(r), "prep_seconds": round(prep_s),
                                                    "ablate_seconds": round(train_s), "argv": sys.argv[1:],
                                                    "preset": a.preset, "tokens": a.tokens, "shares": a.shares,
                                                    "seeds": spec["seeds"]}, indent=2, ensure_ascii=False))
    (a.out / "bakeoff.md").write_text(table(r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
