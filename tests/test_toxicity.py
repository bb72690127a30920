"""Toxicity: the bundled models separate held-out real toxic and clean text in English and Chinese; training
from the spec reproduces them; word lists count."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa

from gristmill.classify.fasttext_model import roc_auc
from gristmill.recipe import load_recipe
from tests.conftest import ROOT, read_jsonl, shared


def toxicity_step(**params):
    body = "".join(f"\n    {k}: {json.dumps(v)}" for k, v in params.items())
    step = load_recipe(text=f"steps:\n  - step: toxicity{body}\n").steps[0].build()
    step.setup()
    return step


def test_bundled_models_rank_real_held_out_text():
    import xxhash

    step = toxicity_step()
    for rel, lang, positive in [("toxic/davidson_hate_offensive_en_shared.jsonl.gz", "en", {0, 1}),
                                ("toxic/cold_dev_zh.jsonl.gz", "zh", {1})]:
        rows = read_jsonl(shared(rel))
        # the training split sends a document to the held-out set by this hash (seed 0, share 0.2)
        held = [r for r in rows if xxhash.xxh64_intdigest(r["text"].encode("utf-8", "surrogatepass"), seed=0) / 2**64 < 0.2]
        t = pa.table({"id": [r["id"] for r in held], "text": [r["text"] for r in held], "lang": [lang] * len(held)})
        scores = step.process(t).table["toxicity"].to_numpy(zero_copy_only=False)
        truth = np.array([r["label"] in positive for r in held])
        assert roc_auc(scores, truth) > (0.95 if lang == "en" else 0.88), lang


def test_word_lists_and_languages_without_a_model(tmp_path):
    (tmp_path / "words.txt").write_text("# my list\nidiot\n傻瓜\n")
    step = toxicity_step(word_lists=[str(tmp_path / "words.txt")], default_lang=None)
    t = pa.table({"id": ["a", "b", "c"], "text": ["You idiot, idiotic idea", "你这个傻瓜", "Bonjour à tous"],
                  "lang": ["en", "zh", "fr"]})
    out = step.process(t).table
    assert out["toxic_words"].to_pylist() == [1, 1, 0]  # whole English words only
    assert out["toxicity"].to_pylist()[2] is None and out["toxicity"].to_pylist()[0] > 0.5


def test_training_from_the_shared_spec_reports_auc(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gristmill", "toxicity", "train",
                        str(ROOT / "src/gristmill/recipes/toxicity-shared.yaml"), "--root", str(shared(".")),
                        "-o", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "toxicity-report.json").read_text())
    assert rep["en"]["roc_auc"] > 0.95 and rep["zh"]["roc_auc"] > 0.88
    # deterministic: the same data and seed give the bundled models' held-out scores
    bundled = json.loads((ROOT / "src/gristmill/resources/toxicity-report.json").read_text())
    assert rep["en"]["roc_auc"] == bundled["en"]["roc_auc"] and rep["zh"]["roc_auc"] == bundled["zh"]["roc_auc"]
