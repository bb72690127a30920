"""The bake-off machinery on real English and Chinese text: a dataset as an ablation variant (another tool's
output, used as it is), evaluation sets kept out of training (exact and near copies), per-domain bits per byte,
and the rank correlation of every quality signal with per-document bits per byte."""

from __future__ import annotations

import json

import pytest

from gristmill.ablate.correlate import numeric_signals
from gristmill.train import evalsets
from tests.conftest import read_jsonl, shared, write_jsonl

pytest.importorskip("torch", reason="the train extra (torch==2.13.0) is part of the test extra")


def _traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


@pytest.fixture(scope="module")
def bake(tmp_path_factory):
    from gristmill.ablate.runner import ablate

    d = tmp_path_factory.mktemp("bake")
    en = read_jsonl(shared("text_en/dolma_cc_samples.jsonl")) + read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:60]
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:60]
    rows = [{"id": f"en-{i}", "text": r["text"], "lang": "en"} for i, r in enumerate(en)]
    rows += [{"id": f"zh-{i}", "text": r["text"], "lang": "zh"} for i, r in enumerate(zh)]
    # the user's own held-out files, with domains
    held_en = read_jsonl(shared("text_en/debian_reference_en_shared.jsonl.gz"))[:6]
    held_zh = read_jsonl(shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz"))[:6]
    write_jsonl(d / "eval_en.jsonl", [{"text": r["text"][:3000], "domain": "manual" if i % 2 else "intro"}
                                      for i, r in enumerate(held_en)])
    write_jsonl(d / "eval_zh.jsonl", [{"text": r["text"][:3000], "domain": "manual"} for r in held_zh])
    planted = [  # copies of evaluation texts planted in the training data
        {"id": "plant-exact", "text": "  " + held_en[1]["text"][:3000].replace("\n", "\n\n") + "\n", "lang": "en"},
        {"id": "plant-near", "text": "Preface. " + held_en[3]["text"][:3000][:-40] + " Edited.", "lang": "en"},
        {"id": "plant-trad", "text": _traditional(held_zh[2]["text"][:3000]), "lang": "zh"},
    ]
    write_jsonl(d / "raw.jsonl", rows + planted)
    # "another tool's output": a subset, with the language nested in metadata (as datatrove writes it)
    peer = rows[::2]  # the planted copies are not in it
    write_jsonl(d / "peer.jsonl", [{"id": r["id"], "content": r["text"], "metadata": {"language": r["lang"]}}
                                   for r in peer])
    spec = d / "bake.yaml"
    spec.write_text(json.dumps({
        "name": "bake", "data": {"paths": [str(d / "raw.jsonl")]},
        "tokenizer": {"vocab_size": 800, "sample_docs": 300}, "train": {"preset": "cpu-tiny", "tokens": 16000},
        "eval": {"en": str(d / "eval_en.jsonl"), "zh": str(d / "eval_zh.jsonl")}, "seeds": [0],
        "correlate": {"max_chars": 600},
        "variants": [{"name": "raw", "recipe": {"steps": [{"step": "normalize"}]}},
                     {"name": "peer", "data": str(d / "peer.jsonl"), "text_field": "content",
                      "lang_field": "metadata.language"}]}))
    return ablate(str(spec), str(d / "out"), workers=1, quiet=True), d / "out", peer


def test_a_dataset_variant_trains_and_scores_per_language_and_domain(bake):
    r, out, peer_rows = bake
    assert r["variants"] == ["raw", "peer"] and r["eval_sets"] == ["en", "zh"]
    assert r["domain_sets"] == ["en/intro", "en/manual", "zh/manual"]
    peer = r["data"]["peer"]
    n_en = sum(1 for x in peer_rows if x["lang"] == "en")
    assert peer["by_lang"]["en"]["docs"] == n_en and peer["by_lang"]["zh"]["docs"] == len(peer_rows) - n_en
    assert peer["by_lang"]["zh"]["tokens"] > 0 and peer["counts"]["input"] == len(peer_rows)
    assert 0 < r["data"]["raw"]["epochs"] < r["data"]["peer"]["epochs"]  # less data, more repeats
    for v in ("raw", "peer"):
        for e in ("en", "zh", "en/manual"):
            assert 0.5 < r["table"][v][e]["mean"] < 12
    md = (out / "results.md").read_text()
    assert "epochs" in md and "en/intro" in md and "peer" in md


def test_evaluation_copies_are_left_out_before_packing(bake):
    r, out, _ = bake
    ov = r["data"]["raw"]["eval_overlap"]
    assert (ov["exact"], ov["near"]) == (1, 2) and ov["by_set"] == {"en": 2, "zh": 1}
    dropped = {x["id"]: x["kind"] for x in read_jsonl(out / "variants/raw/train/eval_overlap.jsonl")}
    assert dropped == {"plant-exact": "exact", "plant-near": "near", "plant-trad": "near"}
    kept = {x["id"] for x in read_jsonl(out / "variants/raw/train/train.jsonl")}
    assert not kept & set(dropped) and len(kept) + 3 == r["data"]["raw"]["counts"]["kept"]
    assert r["data"]["peer"]["eval_overlap"]["documents"] == r["data"]["peer"]["counts"]["kept"]


def test_the_correlation_table_has_one_row_per_numeric_signal(bake):
    from gristmill.steps.quality import SIGNALS

    r, out, _ = bake
    c = r["correlations"]
    scored = read_jsonl(next((out / "variants/raw/scored/kept").iterdir()))
    signals = numeric_signals(scored)
    assert c["variant"] == "raw" and c["documents"] == len(scored) == r["data"]["raw"]["eval_overlap"]["kept"]
    assert set(SIGNALS) <= set(signals) and "ppl_bpb" not in signals
    for lang in ("en", "zh"):
        assert list(c["table"][lang]) == signals
        rho = c["table"][lang]["n_chars"]["rho"]
        assert rho is not None and -1 <= rho <= 1
    md = (out / "results.md").read_text()
    table = md[md.index("Spearman"):]
    assert sum(1 for line in table.splitlines() if line.startswith("| ") and "rho" not in line) == len(signals)


def test_bundled_multi_domain_sets_are_large_enough():
    docs = evalsets.load_docs(["en-domains", "zh-domains"])
    for name, ds in docs.items():
        assert len(ds) >= 300 and sum(len(d["text"].encode()) for d in ds) >= 500_000
        assert len(evalsets.domains(docs)[name]) == 4
    # the web domain is the original set, so old results stay comparable
    assert evalsets.domains(docs)["en-domains"]["web"] == evalsets.bundled()["en"]


@pytest.fixture(scope="module")
def equal_shares(tmp_path_factory):
    """Two variants with very different language mixes, trained at equal token shares (50/50)."""
    from gristmill.ablate.runner import ablate

    d = tmp_path_factory.mktemp("shares")
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:80]
    zh = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[:40]
    rows = [{"id": f"en-{i}", "text": r["text"][:1500], "lang": "en"} for i, r in enumerate(en)]
    rows += [{"id": f"zh-{i}", "text": r["text"][:600], "lang": "zh"} for i, r in enumerate(zh)]
    write_jsonl(d / "raw.jsonl", rows)
    # "a tool that removed nearly all Chinese": every English document, 3 Chinese ones
    few = [r for r in rows if r["lang"] == "en"] + [r for r in rows if r["lang"] == "zh"][:3]
    write_jsonl(d / "few-zh.jsonl", few)
    spec = d / "shares.yaml"
    spec.write_text(json.dumps({
        "name": "shares", "data": {"paths": [str(d / "raw.jsonl")]}, "shares": {"en": 1, "zh": 1},
        "tokenizer": {"vocab_size": 800, "sample_docs": 300}, "train": {"preset": "cpu-tiny", "tokens": 24000},
        "eval": ["en", "zh"], "seeds": [0],
        "variants": [{"name": "raw", "recipe": "none"}, {"name": "few-zh", "data": str(d / "few-zh.jsonl")}]}))
    return ablate(str(spec), str(d / "out"), workers=1, quiet=True), d / "out", few


def test_equal_shares_mix_every_variant_to_the_same_language_shares(equal_shares):
    r, out, few = equal_shares
    for v in ("raw", "few-zh"):
        m = json.loads((out / "variants" / v / "shards" / "manifest.json").read_text())
        by = m["tokens_by"]["lang"]
        assert set(by) == {"en", "zh"}
        for lang in ("en", "zh"):  # the packed data, what training reads
            assert abs(by[lang] / m["tokens"] - 0.5) < 0.04, (v, by)
        mix = r["data"][v]["shares"]["mix"]
        assert mix["epochs"]["en"] == pytest.approx(1.0, abs=0.02)  # the language with more: used whole, once
        assert mix["epochs"]["zh"] > 1 and m["tokens"] >= 24000  # the other repeated; at least the budget
        assert r["data"][v]["shares"]["weights"] == {"en": 0.5, "zh": 0.5}
    few_zh = r["data"]["few-zh"]
    avail = sum(len(x["text"].encode()) for x in few if x["lang"] == "zh")
    assert few_zh["by_lang"]["zh"]["docs"] == 3 and few_zh["by_lang"]["zh"]["bytes"] == avail
    ep = few_zh["epochs_by_lang"]
    assert ep["zh"] > 10 * ep["en"] and ep["zh"] > 3  # the 3 Chinese documents are repeated many times
    # per language: the budget's share over the tokens available
    trained = json.loads((out / "cells/few-zh/seed-0.json").read_text())["train"]["tokens_trained"]
    assert ep["zh"] == pytest.approx(trained * few_zh["train_share"]["zh"] / few_zh["by_lang"]["zh"]["tokens"],
                                     rel=1e-2)
    assert r["data"]["raw"]["epochs_by_lang"]["zh"] < ep["zh"]
    md = (out / "results.md").read_text()
    assert "share trained / epochs" in md and "same token shares per language (en 1, zh 1" in md


def test_as_produced_is_the_default(bake):
    r, out, _ = bake
    assert r["data"]["raw"]["shares"] is None
    ep = r["data"]["peer"]["epochs_by_lang"]
    assert ep["en"] == ep["zh"] == pytest.approx(r["data"]["peer"]["epochs"], rel=1e-2)


def test_shares_may_name_a_variant_whose_shares_every_variant_gets(equal_shares, tmp_path):
    from gristmill.ablate.runner import ablate

    _, out, _ = equal_shares
    spec = json.loads((out.parent / "shares.yaml").read_text())
    spec.update(shares="raw", train={"preset": "cpu-tiny", "tokens": 2048},
                tokenizer={"path": str(out / "tokenizer.json")})
    path = tmp_path / "ref.yaml"
    path.write_text(json.dumps(spec))
    r = ablate(str(path), str(tmp_path / "out"), workers=1, quiet=True)
    raw = r["data"]["raw"]["by_lang"]
    want = raw["zh"]["tokens"] / (raw["zh"]["tokens"] + raw["en"]["tokens"])
    for v in ("raw", "few-zh"):
        assert r["data"][v]["shares"]["weights"]["zh"] == pytest.approx(want, abs=1e-4)
        assert r["data"][v]["train_share"]["zh"] == pytest.approx(want, abs=0.04)
