#!/usr/bin/env python3
"""Toxicity and hate: ROC AUC on held-out and cross-dataset real data, per functional category, the language
routing of the step, and speed, each for the bundled models beside the models at git HEAD, in the same run.

    python bench/toxicity.py                    # the bundled models (src/gristmill/resources)
    python bench/toxicity.py --models models/   # models from `gristmill toxicity train … -o models/`

Held-out data is never trained on: Davidson, HatemojiBuild and COLD rows of the spec's held-out split
(recipes/toxicity-shared.yaml), ETHOS (GPL-3.0) and ToxiCN (CC-BY-NC-ND-4.0; its ``test`` part), which are
test-only. Functional cases come from bench/toxicity_cases.py (frames and identity terms unlike the
training templates). The HEAD models give one score, used for both columns.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from toxicity_cases import LABEL, functional_cases, read, real_sets, real_slices  # noqa: E402

from gristmill.classify.bag_model import BagModel  # noqa: E402
from gristmill.classify.fasttext_model import Classifier, roc_auc  # noqa: E402
from gristmill.classify.toxicity import bundled_models, held_out, scores_of  # noqa: E402


def auc(s, y) -> str:
    s, y = np.asarray(s, float), np.asarray(y, bool)
    return "–" if y.all() or not y.any() or np.isnan(s).all() else f"{roc_auc(s, y):.3f}"


def head_models(tmp: Path) -> dict[str, Classifier]:
    """The toxicity models at git HEAD (fastText, one score)."""
    out = {}
    for lang in ("en", "zh"):
        for ext in (".ftz", ".ftz.json"):
            rel = f"src/gristmill/resources/toxicity-{lang}{ext}"
            r = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=ROOT, capture_output=True)
            if r.returncode:
                break
            (tmp / f"{lang}{ext}").write_bytes(r.stdout)
        else:
            out[lang] = Classifier(str(tmp / f"{lang}.ftz"))
    return out


class Pair:
    """Old and new scorers of one language: ``score(texts)`` → (old, new toxicity, new hate)."""

    def __init__(self, old: Classifier | None, new: BagModel) -> None:
        self.old, self.new = old, new

    def score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        o = self.old.scores(texts) if self.old else np.full(len(texts), np.nan)
        s = scores_of(self.new, texts)
        return o, s[:, 0], s[:, 1]


def table(title: str, head: list[str], rows: list[list]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


def targets(pairs: dict[str, Pair]) -> None:
    rows = []
    for lang, sets in real_sets().items():
        for name, data in sets.items():
            texts, lab = [t for t, _ in data], np.array([lab for _, lab in data])
            o, tox, hate = pairs[lang].score(texts)
            off = np.isin(lab, ["offensive", "neutral"])
            ho = np.isin(lab, ["hate", "offensive"])
            rows.append([lang, name, len(lab), int((lab == "hate").sum()), int((lab == "offensive").sum()),
                         auc(o[off], lab[off] == "offensive"), auc(tox[off], lab[off] == "offensive"),
                         auc(o, lab != "neutral"), auc(tox, lab != "neutral"),
                         auc(o, lab == "hate"), auc(hate, lab == "hate"),
                         auc(o[ho], lab[ho] == "hate"), auc(hate[ho], lab[ho] == "hate")])
    table("ROC AUC on held-out real data (old = HEAD fastText, new = bundled)",
          ["lang", "set", "docs", "hate", "offensive", "offensive vs neutral old", "new (toxicity)",
           "toxic vs neutral old", "new (toxicity)", "hate vs rest old", "new (hate)", "hate vs offensive old",
           "new (hate)"], rows)


def slices(pairs: dict[str, Pair]) -> None:
    rows = []
    for lang, sl in real_slices().items():
        for name, pos, neg in sl:
            if not pos or not neg:
                continue
            kind = "toxicity" if "offensive vs" in name else "hate"
            o, tox, hate = pairs[lang].score(pos + neg)
            y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
            rows.append([lang, name, len(pos), len(neg), kind, auc(o, y), auc(tox if kind == "toxicity" else hate, y)])
    table("Functional slices of held-out real data: ROC AUC of the named score", ["lang", "slice", "positives",
          "negatives", "score", "old", "new"], rows)


def functional(pairs: dict[str, Pair]) -> None:
    rows, contrasts = [], []
    for lang in ("en", "zh"):
        cases = functional_cases(lang)
        sc = {c: pairs[lang].score(t) for c, t in cases.items()}
        for c, (o, tox, hate) in sc.items():
            rows.append([lang, c, LABEL[c], len(o), f"{np.mean(o >= 0.5):.0%}", f"{np.mean(tox >= 0.5):.0%}",
                         f"{np.mean(hate >= 0.5):.0%}", f"{hate.mean():.2f}"])
        ho, _, hh = sc["group_hate"]
        for c in ("identity_neutral", "negated_hate", "counter_quote", "personal_insult"):
            o, _, h = sc[c]
            y = np.r_[np.ones(len(ho)), np.zeros(len(o))]
            contrasts.append([lang, f"group hate (no slur) vs {c}", auc(np.r_[ho, o], y), auc(np.r_[hh, h], y)])
    table("Functional test cases (held-out frames and identity terms): share scored ≥ 0.5",
          ["lang", "category", "expected", "cases", "old ≥0.5", "new toxicity ≥0.5", "new hate ≥0.5",
           "new mean hate"], rows)
    table("Functional contrasts: ROC AUC of the hate score (old: its one score)", ["lang", "contrast", "old", "new"],
          contrasts)


def routing() -> None:
    """COLD held-out rows with ``lang: zh`` in the input and no langid step."""
    from gristmill.recipe import load_recipe

    rows = [r for r in read("toxic/cold_dev_zh.jsonl.gz") if held_out(r["text"], 0, 0.2)]
    t = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                  "meta": [json.dumps({"lang": "zh"}) for _ in rows]})
    y = np.array([r["label"] for r in rows])
    out = []
    for desc, extra in (("input field lang: zh (default)", ""), ("lang_field: null (old behaviour)",
                                                                 "\n    lang_field: null")):
        step = load_recipe(text=f"steps:\n  - step: toxicity{extra}\n").steps[0].build()
        step.setup()
        res = step.process(t)
        out.append([desc, json.dumps(res.notes), auc(res.table["toxicity"].to_numpy(zero_copy_only=False), y)])
    table("The toxicity step on Chinese COLD held-out rows that carry `lang: zh` (no langid)",
          ["setting", "language source (manifest notes)", "toxicity ROC AUC"], out)


def web(pairs: dict[str, Pair]) -> None:
    """Clean text of the kind a corpus holds, never trained on: share of documents the step flags."""
    from gristmill.recipe import load_recipe

    c4 = [t for t in _texts("text_en/c4_sample_shared.jsonl") if held_out(t, 0, 0.2)]
    sets = {"en": {"C4 pages, held-out split": c4, "dolma CC pages": _texts("text_en/dolma_cc_samples.jsonl"),
                   "Python docs": [r["text"] for r in read("text_en/python311_doc_shared.jsonl.gz")][:300]},
            "zh": {"ChineseWebText CC pages": _texts("text_zh/chinesewebtext_cc2021_43_shared.jsonl"),
                   "hotel reviews (ChnSentiCorp)": [r["text"] for r in read("text_zh/chnsenticorp_hotel_reviews.jsonl.gz")][:1000],
                   "man pages": [r["text"] for r in read("text_zh/manpages_zh_cn_shared.jsonl.gz")][:300]}}
    step = load_recipe(text="steps:\n  - step: toxicity\n").steps[0].build()
    step.setup()
    rows = []
    for lang, named in sets.items():
        for name, texts in named.items():
            tbl = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "lang": [lang] * len(texts)})
            out = step.process(tbl).table
            tox, hate = (out[c].to_numpy(zero_copy_only=False) for c in ("toxicity", "hate"))
            old = np.array([pairs[lang].old.scores([t[i:i + 1000] for i in range(0, min(len(t), 10_000), 1000)]).max()
                            for t in texts]) if pairs[lang].old else np.full(len(texts), np.nan)
            rows.append([lang, name, len(texts), f"{np.mean(old >= 0.5):.1%}", f"{np.mean(tox >= 0.5):.1%}",
                         f"{np.mean(hate >= 0.5):.1%}"])
    table("Clean text never trained on: share flagged (score ≥ 0.5, highest 1,000-char window of 10,000)",
          ["lang", "set", "docs", "old toxicity", "new toxicity", "new hate"], rows)


def speed(pairs: dict[str, Pair], n: int) -> None:
    from gristmill.recipe import load_recipe

    data = {"en": {"tweets": [t for t, _ in real_sets()["en"]["davidson held-out"]],
                   "web pages": _texts("text_en/c4_sample_shared.jsonl")},
            "zh": {"comments": [t for t, _ in real_sets()["zh"]["cold held-out"]],
                   "web pages": _texts("text_zh/chinesewebtext_cc2021_43_shared.jsonl")}}
    steps = []
    for extra in ("", "\n    max_chars: 2000"):
        st = load_recipe(text=f"steps:\n  - step: toxicity{extra}\n").steps[0].build()
        st.setup()
        steps.append(st)
    rows = []
    for lang, sets in data.items():
        for kind, texts in sets.items():
            texts = (texts * (n // max(len(texts), 1) + 1))[:n]
            chars = sum(len(t) for t in texts) / len(texts)
            tbl = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "lang": [lang] * len(texts)})
            r = [_rate(lambda ts=texts, p=pairs[lang]: p.old.scores(ts), len(texts))]
            r += [_rate(lambda tb=tbl, st=st: st.process(tb), len(texts)) for st in steps]
            rows.append([lang, kind, len(texts), f"{chars:,.0f}", *[f"{x:,.0f}" for x in r], f"{r[1] / r[0]:.2f}",
                         f"{r[2] / r[0]:.2f}"])
    table("Speed, one core, docs/s (best of 3). Old: HEAD fastText (reads 10,000 chars); new: the toxicity step "
          "(windows of 1,000 chars, up to max_chars)", ["lang", "docs", "n", "mean chars", "old", "new step",
                                                        "new, max_chars 2000", "new/old", "new 2000/old"], rows)


def _texts(rel: str) -> list[str]:
    from toxicity_cases import SHARED

    with open(SHARED / rel, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def _rate(fn, n: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="folder with toxicity-en.npz / toxicity-zh.npz (default: the bundled ones)")
    ap.add_argument("--speed-docs", type=int, default=1000, help="documents per speed row (0: skip speed)")
    ap.add_argument("--part", choices=["all", "targets", "slices", "functional", "routing", "web", "speed"],
                    default="all", help="print one table group only")
    a = ap.parse_args()
    paths = bundled_models() if not a.models else {lang: str(Path(a.models) / f"toxicity-{lang}.npz")
                                                   for lang in ("en", "zh")}
    with tempfile.TemporaryDirectory() as tmp:
        old = head_models(Path(tmp))
        pairs = {lang: Pair(old.get(lang), BagModel.load(p)) for lang, p in paths.items()}
        parts = {"targets": lambda: targets(pairs), "slices": lambda: slices(pairs),
                 "functional": lambda: functional(pairs), "routing": routing, "web": lambda: web(pairs),
                 "speed": lambda: speed(pairs, a.speed_docs) if a.speed_docs else None}
        for name, fn in parts.items():
            if a.part in ("all", name):
                fn()


if __name__ == "__main__":
    main()
