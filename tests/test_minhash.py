"""minhash_dedup: near-duplicates of real English and Chinese text, found across shards, clustered,
with the kept document chosen by policy; Traditional/Simplified copies after conversion."""

from __future__ import annotations

import random

import pytest

from gristmill import run
from gristmill.dedup.lsh import optimal_bands, s_curve
from gristmill.dedup.shingles import jaccard, shingle_hashes
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl


def edit(text: str, rate: float, rng: random.Random, zh: bool) -> str:
    """Substitute/delete/insert characters (Chinese) or words (English) at the given rate."""
    units = list(text) if zh else text.split(" ")
    out = []
    for u in units:
        x = rng.random()
        if x < rate / 3:
            continue
        if x < 2 * rate / 3:
            out.append(rng.choice("的一是在不了有和人这中大为上个国") if zh else rng.choice(["alpha", "beta", "gamma"]))
            continue
        out.append(u)
        if x < rate:
            out.append(rng.choice("的一是在") if zh else "delta")
    return ("" if zh else " ").join(out)


@pytest.fixture(scope="module")
def neardup(tmp_path_factory):
    rng = random.Random(7)
    en = [d for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl")) if len(d["text"]) > 1500][:60]
    zh = [d for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz")) if len(d["text"]) > 1500][:60]
    docs, truth = [], {}
    for lang, src in (("en", en), ("zh", zh)):
        for i, d in enumerate(src):
            docs.append({"id": d["id"], "text": d["text"]})
            if i % 3 == 0:  # a third of the documents get a lightly edited copy
                cid = f"copy-{d['id']}"
                # 2% of English words or 0.5% of Chinese characters edited: 5-gram Jaccard about 0.8-0.9
                text = edit(d["text"], 0.02 if lang == "en" else 0.005, rng, lang == "zh")
                if i % 2 == 0:
                    text = "Home | News | Contact\n" + text + "\nCopyright 2024"
                docs.append({"id": cid, "text": text})
                truth[cid] = d["id"]
    rng.shuffle(docs)
    d = tmp_path_factory.mktemp("nd")
    write_jsonl(d / "a.jsonl", docs[: len(docs) // 2])
    write_jsonl(d / "b.jsonl", docs[len(docs) // 2:])
    return d, docs, truth


def test_s_curve_and_bands():
    b, r = optimal_bands(0.6, 128, fn_weight=0.9)
    assert (b, r) == (25, 5) and s_curve(0.7, b, r) > 0.98 and s_curve(0.3, b, r) < 0.06


def test_shingles_are_language_aware():
    en = shingle_hashes("The quick brown fox jumps over the lazy dog", 5)
    assert len(en) == 5  # 9 words -> 5 word 5-grams
    zh = shingle_hashes("我们今天去公园散步", 5)
    assert len(zh) == 5  # 9 characters -> 5 character 5-grams
    assert jaccard(shingle_hashes("Hello,   WORLD! foo bar baz"), shingle_hashes("hello world foo bar baz")) == 1.0


def test_finds_copies_in_both_languages_across_shards(neardup, tmp_path):
    d, docs, truth = neardup
    recipe = tmp_path / "r.yaml"
    recipe.write_text("input:\n  shard_size: 100KB\nsteps:\n  - step: minhash_dedup\n")
    m = run(str(recipe), inputs=[str(d)], output=str(tmp_path / "o"), workers=2, quiet=True)
    assert m["shards"] > 4 and m["reconciled"]
    rejected = {r["id"]: r for r in output_rows(tmp_path / "o", "rejected")}
    kept = {r["id"]: r for r in output_rows(tmp_path / "o")}
    by_text = {x["id"]: x["text"] for x in docs}
    found = 0
    for cid, orig in truth.items():
        pair = {cid, orig}
        gone = pair & set(rejected)
        assert len(gone) <= 1 and not (pair - set(kept) - set(rejected))
        if gone:
            found += 1
            loser = rejected[gone.pop()]
            assert loser["reason"] == "near_duplicate" and loser["dup_cluster_size"] == 2
            assert loser["dup_cluster"] in pair and kept[loser["dup_cluster"]]["dup_cluster_size"] == 2
    sims = {c: jaccard(shingle_hashes(by_text[c]), shingle_hashes(by_text[o])) for c, o in truth.items()}
    assert min(sims.values()) >= 0.72  # every copy is a near-duplicate by the 0.7 definition ...
    assert found == len(truth)  # ... and every one is found, English and Chinese
    assert set(rejected) <= set(truth) | set(truth.values())  # no unique document is removed


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_keep_policy(tmp_path, keep):
    base = read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))[0]["text"]
    rows = [{"id": "short", "text": base}, {"id": "long", "text": base + "\nOne more sentence at the end."}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "r.yaml").write_text(f"steps:\n  - step: minhash_dedup\n    keep: {keep}\n")
    run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
        quiet=True)
    assert [r["id"] for r in output_rows(tmp_path / "o")] == (["short"] if keep == "first" else ["long"])


def test_traditional_and_simplified_pages_meet_after_conversion(tmp_path):
    cn = {d["id"].split("-", 3)[-1]: d for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))}
    tw = {d["id"].split("-", 3)[-1]: d for d in read_jsonl(shared("text_zh/manpages_zh_tw_shared_subset.jsonl.gz"))}
    names = sorted(set(cn) & set(tw))[:60]
    write_jsonl(tmp_path / "cn.jsonl", [{"id": cn[n]["id"], "text": cn[n]["text"]} for n in names])
    write_jsonl(tmp_path / "tw.jsonl", [{"id": tw[n]["id"], "text": tw[n]["text"]} for n in names])
    results = {}
    for convert in ("none", "tw2sp"):  # Taiwan phrases too: 檔案→文件, 使用者→用户
        (tmp_path / f"{convert}.yaml").write_text(f"steps:\n  - step: normalize\n    convert: {convert}\n"
                                                  "  - step: minhash_dedup\n")
        m = run(str(tmp_path / f"{convert}.yaml"), inputs=[str(tmp_path / "cn.jsonl"), str(tmp_path / "tw.jsonl")],
                output=str(tmp_path / convert), workers=1, quiet=True)
        results[convert] = m["counts"]["rejected"]
        rejected = output_rows(tmp_path / convert, "rejected")
        assert all(r["id"].startswith("manpages-zh-TW") for r in rejected)  # the Simplified page comes first
    assert results["none"] <= 5 and results["tw2sp"] >= 0.8 * len(names), results


def test_batched_shingles_equal_per_document_ones(en_docs, zh_docs):
    import numpy as np

    from gristmill.dedup.shingles import batch_shingles

    texts = [d["text"] for d in en_docs[:20]] + ["", "two words", "İstanbul İzmir ÇAĞ " * 30] + \
        [d["text"] for d in zh_docs[:20]] + ["你好"]
    h, off = batch_shingles(texts)
    assert len(off) == len(texts) + 1
    for i, t in enumerate(texts):  # 'İ'.lower() is two characters long: boundaries must not drift
        assert np.array_equal(h[off[i]:off[i + 1]], shingle_hashes(t, distinct=False)), i
