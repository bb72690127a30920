"""Annotation and scoring speed, and how well scorers trained on a judge's labels recover its hidden rule.

The judge (tests/annotate_judge.py) runs on loopback in this process, with its hidden rule over real English
and Chinese text from ../shared/data. Measured side by side in one run:

- annotation throughput of ``gristmill.annotate`` (sample, prompt, client with cache and retries, parsing,
  journal) against a bare baseline posting the same requests with ``urllib`` from as many threads (no
  cache, no parsing, no journal), at concurrency 1 and 8, and a rerun answered from the cache;
- held-out Spearman of each model type against the noiseless hidden rule and against the judge's labels,
  per language;
- scoring throughput of each trained scorer on one core (docs/s and MB/s per CPU second of this process,
  median of 3 runs: the judge thread is idle then, and CPU time holds up on a shared machine where wall time
  does not), fastText the reference.

    python bench/annotate_speed.py [--n 4000] [--encoder MODEL_DIR] [--corpus PEERS/corpus] [--json out.json]

With ``--corpus`` (the peer-bench corpus: plain.jsonl + plain.meta.jsonl) the scorers also score its first
2,000 documents of each language, whole documents of web and documentation size, on one core.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.annotate_judge as J  # noqa: E402
from gristmill.annotate.prompts import builtin, render  # noqa: E402
from gristmill.annotate.run import annotate  # noqa: E402
from gristmill.annotate.sample import stratified  # noqa: E402
from gristmill.classify.metrics import spearman  # noqa: E402
from gristmill.classify.scores import held_out, load_scorer, read_annotations, train_scorer  # noqa: E402


def raw_posts(url: str, docs: list[dict], concurrency: int) -> float:
    """Seconds to post the same requests with urllib from ``concurrency`` threads (the baseline)."""
    bodies = [json.dumps({"model": "judge", "messages": [{"role": "user", "content": render(
        builtin("edu", d["lang"]), d["text"], d["lang"])[0]}], "temperature": 0.0, "max_tokens": 256}).encode()
        for d in docs]

    def post(b: bytes) -> None:
        req = urllib.request.Request(url + "/chat/completions", data=b, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            json.loads(r.read())

    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as ex:
        list(ex.map(post, bodies))
    return time.perf_counter() - t


def cpu_seconds(fn, repeat: int = 3) -> float:
    """The median CPU seconds of this process over ``repeat`` runs of ``fn()``."""
    runs = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        runs.append(time.process_time() - t)
    return sorted(runs)[len(runs) // 2]


def corpus_docs(folder: str, per_lang: int) -> dict[str, list[str]]:
    """The first ``per_lang`` texts of each language (en, zh) of the peer-bench corpus."""
    out: dict[str, list[str]] = {"en": [], "zh": []}
    with open(Path(folder) / "plain.jsonl", encoding="utf-8") as f, \
            open(Path(folder) / "plain.meta.jsonl", encoding="utf-8") as m:
        for line, meta in zip(f, m, strict=True):
            lang = json.loads(meta)["lang"]
            if lang in out and len(out[lang]) < per_lang:
                out[lang].append(json.loads(line)["text"])
            if all(len(v) >= per_lang for v in out.values()):
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000, help="documents annotated and trained on (70/30 split)")
    ap.add_argument("--encoder", help="a gristmill train or Hugging Face folder for the embed model type")
    ap.add_argument("--corpus", help="peer-bench corpus folder: also score its documents (full size)")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    pieces = J._chunks
    J._chunks = lambda t, size=500, least=150: pieces(t, size, least)
    docs = J.corpus(per_source=1500)
    rule = J.Rule(docs)
    srv = J.make_judge(rule)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    sample = stratified(docs, a.n)
    res: dict = {"documents": len(sample), "load_average": list(os.getloadavg()), "annotation": {}}
    tmp = Path(tempfile.mkdtemp())
    print(f"{len(sample):,} documents ({sum(d['lang'] == 'zh' for d in sample):,} zh); load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (the judge and the client share this process)")
    part = sample[: min(len(sample), 1500)]
    for c in (1, 8):
        base = raw_posts(url, part, c)
        t = time.perf_counter()
        annotate(part, str(tmp / f"c{c}"), model="judge", base_url=url, concurrency=c)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        annotate(part, str(tmp / f"c{c}"), model="judge", base_url=url, concurrency=c)  # all done: nothing sent
        again = time.perf_counter() - t
        res["annotation"][c] = {"docs": len(part), "gristmill_docs_s": round(len(part) / ours, 1),
                                "urllib_baseline_docs_s": round(len(part) / base, 1),
                                "ratio": round(base / ours, 2), "rerun_s": round(again, 2)}
        print(f"annotation, concurrency {c}: gristmill {len(part) / ours:,.0f} docs/s, bare urllib "
              f"{len(part) / base:,.0f} docs/s (x{base / ours:.2f}); rerun of finished work {again:.2f} s")
    out = tmp / "all"
    annotate(sample, str(out), model="judge", base_url=url, concurrency=8)
    rows = read_annotations([str(out)])[0]
    test = [r for r in rows if held_out(r["id"], 0.3)]
    res["models"] = {}
    kinds = [("fasttext", "q.bin"), ("linear", "q.npz")] + ([("embed", "e.npz")] if a.encoder else [])
    for kind, name in kinds:
        t = time.perf_counter()
        rep = train_scorer(rows, str(tmp / name), model_type=kind, test_share=0.3, encoder=a.encoder)
        train_s = time.perf_counter() - t
        scorer = load_scorer(str(tmp / name))
        fig = {"train_s": round(train_s, 1), "train_docs": rep["train_docs"]}
        for lang in ("en", "zh"):
            p = [r for r in test if r["lang"] == lang]
            texts = [r["text"] for r in p]
            scorer.scores(texts[:50])  # warm: imports, jieba's dictionary, the model
            pred = scorer.scores(texts)
            dt = cpu_seconds(lambda scorer=scorer, texts=texts: scorer.scores(texts))
            fig[lang] = {"held_out": len(p), "spearman_hidden": round(spearman(pred, [rule.value(r["text"], lang)
                                                                                      for r in p]), 3),
                         "spearman_labels": rep["held_out"][lang]["spearman"], "f1_at_3": rep["held_out"][lang]["f1"],
                         "docs_s_core": round(len(p) / dt), "mb_s_core": round(sum(len(x.encode()) for x in texts)
                                                                             / dt / 1e6, 2)}
        res["models"][kind] = fig
        print(f"{kind}: trained on {rep['train_docs']:,} in {train_s:.1f} s; " + "; ".join(
            f"{lang}: Spearman vs rule {fig[lang]['spearman_hidden']:.3f}, vs labels {fig[lang]['spearman_labels']:.3f}, "
            f"{fig[lang]['docs_s_core']:,} docs/s/core ({fig[lang]['mb_s_core']} MB/s)" for lang in ("en", "zh")))
    if a.corpus:
        full = corpus_docs(a.corpus, 2000)
        res["corpus_scoring"] = {}
        train_scorer(rows, str(tmp / "q2k.bin"), test_share=0.3, max_chars=2000)
        for kind, name in kinds + [("fasttext, first 2,000 characters", "q2k.bin")]:
            scorer = load_scorer(str(tmp / name))
            figs = {}
            for lang, texts in full.items():
                scorer.scores(texts[:50])
                dt = cpu_seconds(lambda scorer=scorer, texts=texts: scorer.scores(texts))
                mb = sum(len(x.encode()) for x in texts) / 1e6
                figs[lang] = {"docs": len(texts), "mean_bytes": round(mb * 1e6 / len(texts)),
                              "docs_s_core": round(len(texts) / dt), "mb_s_core": round(mb / dt, 2)}
            res["corpus_scoring"][kind] = figs
            print(f"{kind} on the peer-bench corpus: " + "; ".join(
                f"{lang}: {f['docs']:,} docs of {f['mean_bytes']:,} bytes on average, {f['docs_s_core']:,} docs/s/core "
                f"({f['mb_s_core']} MB/s)" for lang, f in figs.items()))
    ft = res["models"]["fasttext"]
    for fig in res["models"].values():
        for lang in ("en", "zh"):
            fig[lang]["speed_vs_fasttext"] = round(fig[lang]["docs_s_core"] / ft[lang]["docs_s_core"], 2)
    srv.shutdown()
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
