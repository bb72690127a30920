"""Toxicity: the step reads the document's language (langid, then the input field, then default_lang) and
says which it used; the bundled models give a toxicity and a separate hate score that rank held-out real text
in English and Chinese; training from a spec reproduces a model; word lists count."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from gristmill import run
from gristmill.classify.fasttext_model import roc_auc
from gristmill.classify.toxicity import held_out, train_from_spec
from gristmill.recipe import load_recipe
from tests.conftest import ROOT, output_rows, read_jsonl, shared, write_jsonl


def toxicity_step(**params):
    body = "".join(f"\n    {k}: {json.dumps(v)}" for k, v in params.items())
    step = load_recipe(text=f"steps:\n  - step: toxicity{body}\n").steps[0].build()
    step.setup()
    return step


def held(rel: str, key=lambda r: r["text"]) -> list[dict]:
    """Rows of the spec's held-out split (never trained on)."""
    return [r for r in read_jsonl(shared(rel)) if held_out(key(r), 0, 0.2)]


def auc(scores, truth) -> float:
    return roc_auc(np.asarray(scores, float), np.asarray(truth, bool))


@pytest.fixture(scope="module")
def cold_sample() -> list[dict]:
    return held("toxic/cold_dev_zh.jsonl.gz")[:600]


def test_a_lang_field_in_the_input_picks_the_chinese_model_and_the_manifest_says_so(tmp_path, cold_sample):
    # the user's case: Chinese comments carrying `lang: zh`, no langid step in the recipe
    write_jsonl(tmp_path / "in.jsonl", [{"id": r["id"], "text": r["text"], "lang": "zh"} for r in cold_sample])
    (tmp_path / "r.yaml").write_text("steps:\n  - step: toxicity\n")
    run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "out"), workers=1,
        quiet=True)
    rows = {r["id"]: r for r in output_rows(tmp_path / "out")}
    assert {r["toxicity_lang"] for r in rows.values()} == {"zh"} and all(r["lang"] == "zh" for r in rows.values())
    score = [rows[r["id"]]["toxicity"] for r in cold_sample]
    assert auc(score, [r["label"] == 1 for r in cold_sample]) > 0.85
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["steps"][0]["notes"] == {"lang from field lang": len(cold_sample)}
    # without the field (the old behaviour) the English model scores Chinese at about chance
    t = pa.table({"id": [r["id"] for r in cold_sample], "text": [r["text"] for r in cold_sample]})
    res = toxicity_step().process(t)
    assert res.notes == {"lang from default_lang": len(cold_sample)}
    assert auc(res.table["toxicity"].to_numpy(zero_copy_only=False), [r["label"] == 1 for r in cold_sample]) < 0.7


def test_langid_comes_before_the_input_field_and_unknown_languages_use_default_lang():
    step = toxicity_step(lang_field="language")
    t = pa.table({"id": ["1", "2", "3", "4"],
                  "text": ["河南人都是骗子，全部滚出去", "Go back to your country, you people are vermin",
                           "Bonjour à tous", "外地人素质真低"],
                  "lang": ["zh", "en", "fr", None],
                  "meta": ['{"language": "en"}', '{"language": "zh"}', "{}", '{"language": "zh-CN"}']})
    res = step.process(t)
    assert res.table["toxicity_lang"].to_pylist() == ["zh", "en", "en", "zh"]
    assert res.notes == {"lang from langid": 2, "lang from default_lang": 1, "lang from field language": 1}
    none = toxicity_step(default_lang=None).process(t.select(["id", "text", "lang"]))
    assert none.table["toxicity"].to_pylist()[2] is None and none.table["hate"].to_pylist()[2] is None
    assert none.notes["no model"] == 2   # fr, and the row without any language


def test_the_hate_score_ranks_hate_above_merely_offensive_english():
    step = toxicity_step()
    dav = held("toxic/davidson_hate_offensive_en_shared.jsonl.gz")
    dav = [r for r in dav if r["label"] in (0, 1)]
    dav = [r for r in dav if r["label"] == 0] + [r for r in dav if r["label"] == 1][:800]
    out = step.process(pa.table({"id": [r["id"] for r in dav], "text": [r["text"] for r in dav],
                                 "lang": ["en"] * len(dav)})).table
    is_hate = [r["label"] == 0 for r in dav]
    hate, tox = (out[c].to_numpy(zero_copy_only=False) for c in ("hate", "toxicity"))
    assert auc(hate, is_hate) > 0.75      # the toxicity score cannot tell them apart: both are offensive
    assert auc(tox, is_hate) < 0.65 and (tox > 0.5).mean() > 0.9
    ethos = read_jsonl(shared("toxic/ethos_en.jsonl.gz"))   # another dataset, never trained on
    out = step.process(pa.table({"id": [r["id"] for r in ethos], "text": [r["text"] for r in ethos],
                                 "lang": ["en"] * len(ethos)})).table
    assert auc(out["hate"].to_numpy(zero_copy_only=False), [r["label"] == 1 for r in ethos]) > 0.68


def test_the_hate_score_ranks_chinese_hate_above_insults_and_neutral_talk_about_groups():
    step = toxicity_step()
    tcn = [r for r in read_jsonl(shared("toxic/toxicn_zh.jsonl.gz")) if r["toxicn_ex_split"] == "test"]
    out = step.process(pa.table({"id": [r["id"] for r in tcn], "text": [r["text"] for r in tcn],
                                 "lang": ["zh"] * len(tcn)})).table
    hate = out["hate"].to_numpy(zero_copy_only=False)
    typ = np.array([r["toxic_type"] for r in tcn])
    # ToxiCN is test-only (non-commercial licence); the model learnt from COLD and templates
    assert auc(hate, typ == 2) > 0.62
    assert auc(hate[typ > 0], typ[typ > 0] == 2) > 0.58


def test_a_toxic_paragraph_is_not_averaged_away_in_a_long_document():
    pages = [r["text"] for r in held("text_en/c4_sample_shared.jsonl") + read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))
             if 3000 < len(r["text"]) < 9000]   # web pages never trained on
    tweets = [r["text"] for r in held("toxic/davidson_hate_offensive_en_shared.jsonl.gz") if r["label"] == 1]
    # a comment thread of six held-out abusive tweets pasted into the middle of each web page
    dirty = [p[:len(p) // 2] + "\nComments:\n" + "\n".join(tweets[6 * i:6 * i + 6]) + "\n" + p[len(p) // 2:]
             for i, p in enumerate(pages)]
    t = pa.table({"id": [str(i) for i in range(2 * len(pages))], "text": pages + dirty,
                  "lang": ["en"] * (2 * len(pages))})
    n = len(pages)
    windows = toxicity_step().process(t).table["toxicity"].to_numpy(zero_copy_only=False)
    whole = toxicity_step(window_chars=20_000).process(t).table["toxicity"].to_numpy(zero_copy_only=False)
    assert n >= 10 and (windows[n:] >= 0.5).mean() > 0.8 and (windows[:n] >= 0.5).mean() < 0.2
    assert (whole[n:] >= 0.5).mean() < 0.5   # one score over the whole page misses most threads


def test_word_lists_and_a_fasttext_model_of_your_own(tmp_path):
    from gristmill.classify.fasttext_model import train

    (tmp_path / "words.txt").write_text("# my list\nidiot\n傻瓜\n")
    dav = read_jsonl(shared("toxic/davidson_hate_offensive_en_shared.jsonl.gz"))[:3000]
    train([r["text"] for r in dav if r["label"] < 2], [r["text"] for r in dav if r["label"] == 2],
          str(tmp_path / "en.ftz"), epoch=3)
    step = toxicity_step(word_lists=[str(tmp_path / "words.txt")], default_lang=None,
                         models={"en": str(tmp_path / "en.ftz")})
    t = pa.table({"id": ["a", "b", "c"], "text": ["You idiot, idiotic idea", "你这个傻瓜", "Bonjour à tous"],
                  "lang": ["en", "zh", "fr"]})
    out = step.process(t).table
    assert out["toxic_words"].to_pylist() == [1, 1, 0]  # whole English words only
    assert out["toxicity"].to_pylist()[2] is None and out["toxicity"].to_pylist()[0] > 0.5
    assert out["hate"].to_pylist()[0] is None     # a fastText model gives toxicity only
    assert out["hate"].to_pylist()[1] is not None  # the bundled Chinese model gives both


def test_training_from_a_spec_reports_held_out_auc_and_is_deterministic(tmp_path):
    rows = read_jsonl(shared("toxic/cold_dev_zh.jsonl.gz"))[:2500]
    write_jsonl(tmp_path / "toxic" / "cold.jsonl", rows)
    spec = tmp_path / "spec.yaml"
    spec.write_text("test_share: 0.2\nseed: 0\nlanguages:\n  zh:\n    epochs: 2\n    sets:\n"
                    "      - {path: toxic/cold.jsonl, label_field: label, labels: {1: hate, 0: neutral}}\n")
    r = subprocess.run([sys.executable, "-m", "gristmill", "toxicity", "train", str(spec), "--root",
                        str(tmp_path), "-o", str(tmp_path / "a")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    train_from_spec(str(spec), str(tmp_path), str(tmp_path / "b"))   # again, in this process
    outs = [(tmp_path / d / "toxicity-zh.npz").read_bytes() for d in ("a", "b")]
    rep = json.loads((tmp_path / "a" / "toxicity-report.json").read_text())["zh"]
    assert rep["held_out"]["cold.jsonl"]["toxicity_auc"] > 0.85 and rep["template_docs"] > 500
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_the_shared_spec_reproduces_the_bundled_models(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gristmill", "toxicity", "train",
                        str(ROOT / "src/gristmill/recipes/toxicity-shared.yaml"), "--root", str(shared(".")),
                        "-o", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for lang in ("en", "zh"):
        bundled = ROOT / f"src/gristmill/resources/toxicity-{lang}.npz"
        assert (tmp_path / f"toxicity-{lang}.npz").read_bytes() == bundled.read_bytes(), lang


def test_a_spec_entry_trains_on_its_own_split_only():
    """``where`` keeps a labelled set's train split out of its test split (ToxiCN ships both in one file)."""
    from pathlib import Path

    from gristmill.classify.toxicity import read_set

    path = Path(shared("toxic/toxicn_zh.jsonl.gz"))
    entry = {"label_field": "toxic_type", "labels": {0: "neutral", 1: "offensive", 2: "hate"}}
    every = read_set(path, entry)
    train = read_set(path, entry | {"where": {"toxicn_ex_split": "train"}})
    test = {r["text"] for r in read_jsonl(path) if r["toxicn_ex_split"] == "test"}
    assert 0 < len(train) < len(every) and not test & {e.text for e in train}
    assert {e.label for e in train} == {"neutral", "offensive", "hate"}
    assert read_set(path, entry | {"where": {"toxicn_ex_split": ["train", "test"]}}) == every


def test_fasttext_fits_of_one_file_give_one_model_however_many_ran_before(tmp_path):
    """fastText carries state from one training to the next in a process (the same file and seed gave other
    models, and NaN retries, after a few fits): every fit trains in a fresh process, so the same file and
    settings give the same model every time."""
    from gristmill.classify.fasttext_model import fit_file, prepare
    from gristmill.errors import GristmillError

    dav = read_jsonl(shared("toxic/davidson_hate_offensive_en_shared.jsonl.gz"))[:1500]
    path = tmp_path / "train.txt"
    path.write_text("".join(f"__label__{'tox' if r['label'] < 2 else 'ok'} {prepare(r['text'])}\n" for r in dav))
    params = {"epoch": 2, "lr": 0.5, "wordNgrams": 2, "dim": 16, "bucket": 50_000, "minCount": 1, "seed": 0}
    texts = [prepare(r["text"]) for r in dav[:200]]
    fits = []
    for _ in range(3):  # another fit in between (in one process, the second fit of params came out different)
        fit_file(str(path), **(params | {"dim": 32, "epoch": 3}))
        fits.append(fit_file(str(path), **params))
    labels, probs = fits[0].predict(texts)
    assert {lab[0] for lab in labels} == {"__label__tox", "__label__ok"}  # a real model: both labels predicted
    for m in fits[1:]:
        assert m.lr_used == fits[0].lr_used == 0.5
        other = m.predict(texts)
        assert other[0] == labels and np.array_equal(np.concatenate(other[1]), np.concatenate(probs))
    with pytest.raises(GristmillError, match="fastText training failed: .*cannot be opened"):
        fit_file(str(tmp_path / "missing.txt"), **params)


def test_a_fasttext_fit_ignores_modules_in_the_working_folder_and_takes_numpy_settings(tmp_path, monkeypatch):
    """The training process does not import from the caller's working folder (a ./fasttext.py there shadowed
    the real one), and numpy numbers are settings like Python's."""
    from gristmill.classify.fasttext_model import fit_file, prepare

    dav = read_jsonl(shared("toxic/davidson_hate_offensive_en_shared.jsonl.gz"))[:1500]
    path = tmp_path / "train.txt"
    path.write_text("".join(f"__label__{'tox' if r['label'] < 2 else 'ok'} {prepare(r['text'])}\n" for r in dav))
    work = tmp_path / "work"
    work.mkdir()
    (work / "fasttext.py").write_text("raise ImportError('shadowed')\n")
    monkeypatch.chdir(work)
    model = fit_file(str(path), epoch=np.int64(2), lr=np.float64(0.5), wordNgrams=np.int32(2), dim=16, bucket=50_000,
                     minCount=1, seed=0)
    assert set(model.get_labels()) == {"__label__tox", "__label__ok"}
