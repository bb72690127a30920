"""target_select (DSIR): a team has a small sample of its target domain and wants the like of it from a raw
corpus. Real shared text: Python docs planted into English web/Debian text, Chinese hotel reviews planted into
Chinese poems, fortunes, web text and man pages; the target sample is a disjoint third of the planted source."""

from __future__ import annotations

import glob
import gzip
import os

import numpy as np
import orjson
import pytest

from gristmill.exec.local import run
from gristmill.recipe import parse_recipe
from gristmill.select.dsir import Featurizer, gumbel_order, id_keys, lang_key

DATA = "/work/shared/data"
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA), reason="needs /work/shared/data")


def _load(rel: str, n: int | None = None, max_chars: int | None = None) -> list[dict]:
    op = gzip.open if rel.endswith(".gz") else open
    out = []
    with op(os.path.join(DATA, rel), "rb") as f:
        for line in f:
            r = orjson.loads(line)
            src = os.path.basename(rel).split("_shared")[0].split(".")[0]
            out.append({"id": r["id"], "text": r["text"][:max_chars], "lang": r.get("lang"), "source": src})
            if n and len(out) >= n:
                break
    return out


def _split(target_source: list[dict]) -> tuple[list[dict], list[dict]]:
    """The target sample (every third document by id) and the planted rest (disjoint)."""
    docs = sorted(target_source, key=lambda r: r["id"])
    return docs[::3], [r for i, r in enumerate(docs) if i % 3]


def _write(path: str, rows: list[dict]) -> None:
    with open(path, "wb") as f:
        for r in rows:
            f.write(orjson.dumps(r) + b"\n")


def _english(max_chars=None):
    sample, planted = _split(_load("text_en/python311_doc_shared.jsonl.gz", max_chars=max_chars))
    others = (_load("text_en/c4_sample_shared.jsonl") + _load("text_en/dolma_cc_samples.jsonl")
              + _load("text_en/datajuicer_mixed_web_shared.jsonl")
              + _load("text_en/debian_reference_en_shared.jsonl.gz", max_chars=max_chars))
    return sample, planted, others


def _chinese(n_reviews=1200, max_chars=None):
    sample, planted = _split(_load("text_zh/chnsenticorp_hotel_reviews.jsonl.gz", n_reviews))
    others = (_load("text_zh/fortunes_zh_shared.jsonl.gz", 1200) + _load("text_zh/chinese_poetry_shared.jsonl")
              + _load("text_zh/chinesewebtext_cc2021_43_shared.jsonl")
              + _load("text_zh/debian_reference_zh_cn_shared.jsonl.gz", max_chars=max_chars)
              + _load("text_zh/manpages_zh_cn_shared.jsonl.gz", 120, max_chars=max_chars))
    return sample, planted, others


def _corpus(tmp, rows: list[dict], files: int) -> str:
    d = os.path.join(tmp, f"in{files}")
    os.makedirs(d, exist_ok=True)
    rows = sorted(rows, key=lambda r: orjson.dumps(r["id"])[::-1])  # interleave the sources, deterministically
    for i in range(files):
        _write(os.path.join(d, f"part{i}.jsonl"), rows[i::files])
    return d


def _rows(folder: str) -> list[dict]:
    out = []
    for p in sorted(glob.glob(os.path.join(folder, "*"))):
        with open(p, "rb") as f:
            out += [orjson.loads(line) for line in f]
    return out


def _select(tmp, name, inputs, target, workers=1, **kw) -> tuple[set[str], dict]:
    out = os.path.join(tmp, name)
    step = {"step": "target_select", "target": [target], **kw}
    m = run(parse_recipe({"name": "t", "steps": [step]}, "<test>"), inputs=[inputs], output=out,
            workers=workers, resume=False, quiet=True)
    kept = {r["id"] for r in _rows(os.path.join(out, "kept"))}
    assert m["reconciled"] is True
    return kept, m["global_steps"]["target_select"]


def test_english_python_docs_recovered_at_true_size(tmp_path):
    sample, planted, others = _english()
    _write(str(tmp_path / "target.jsonl"), sample)
    kept, info = _select(str(tmp_path), "out", _corpus(str(tmp_path), planted + others, 2),
                         str(tmp_path / "target.jsonl"), budget=len(planted))
    truth = {r["id"] for r in planted}
    assert len(kept) == len(planted)
    assert len(kept & truth) / len(kept) >= 0.9
    assert info["by_source"]["python311_doc"]["selected_docs"] == len(kept & truth)
    # random selection at the same size would be about the planted share of the corpus
    assert len(planted) / (len(planted) + len(others)) < 0.5


def test_chinese_reviews_recovered_by_chinese_features(tmp_path):
    sample, planted, others = _chinese()
    _write(str(tmp_path / "target.jsonl"), sample)
    kept, info = _select(str(tmp_path), "out", _corpus(str(tmp_path), planted + others, 2),
                         str(tmp_path / "target.jsonl"), budget=len(planted), seed=7)
    truth = {r["id"] for r in planted}
    assert len(kept) == len(planted)
    assert len(kept & truth) / len(kept) >= 0.9
    assert info["by_lang"]["zh"]["selected_docs"] == len(planted)


def test_mixed_language_target_deterministic_for_workers_and_sharding(tmp_path):
    """A target of Python docs and hotel reviews over an English + Chinese corpus: each language fills its
    share of the budget with its own documents; 1 vs 2 workers give byte-identical outputs, and another
    sharding selects the same documents."""
    en_s, en_p, en_o = _english(max_chars=3000)
    zh_s, zh_p, zh_o = _chinese(450, max_chars=3000)
    _write(str(tmp_path / "target.jsonl"), en_s + zh_s)
    rows = en_p + en_o + zh_p + zh_o
    budget = len(en_p) + len(zh_p)
    tmp = str(tmp_path)
    one, info = _select(tmp, "w1", _corpus(tmp, rows, 3), str(tmp_path / "target.jsonl"), 1, budget=budget)
    two, _ = _select(tmp, "w2", _corpus(tmp, rows, 3), str(tmp_path / "target.jsonl"), 2, budget=budget)
    other, _ = _select(tmp, "s1", _corpus(tmp, rows, 1), str(tmp_path / "target.jsonl"), 1, budget=budget)
    for sub in ("kept", "rejected"):
        files = sorted(os.listdir(tmp_path / "w1" / sub))
        assert files == sorted(os.listdir(tmp_path / "w2" / sub))
        for f in files:
            assert (tmp_path / "w1" / sub / f).read_bytes() == (tmp_path / "w2" / sub / f).read_bytes()
    assert one == two == other
    by_id = {r["id"]: r["target_logw"] for r in _rows(str(tmp_path / "s1" / "kept"))}
    assert all(by_id[r["id"]] == r["target_logw"] for r in _rows(str(tmp_path / "w1" / "kept")))  # bit-equal
    en_truth, zh_truth = {r["id"] for r in en_p}, {r["id"] for r in zh_p}
    zh_ids = {r["id"] for r in rows if lang_key(r["lang"], r["text"]) == "zh"}
    by = info["by_lang"]
    assert by["en"]["selected_docs"] == round(budget * len(en_s) / (len(en_s) + len(zh_s)))
    assert len(one & en_truth) / by["en"]["selected_docs"] >= 0.9
    assert len(one & zh_truth) / by["zh"]["selected_docs"] >= 0.9
    assert len(one & zh_ids) == by["zh"]["selected_docs"]          # Chinese quota filled by Chinese documents
    # the signal column: kept rows carry target_logw, rejected rows say why
    kept_rows, rejected = _rows(str(tmp_path / "w1" / "kept")), _rows(str(tmp_path / "w1" / "rejected"))
    assert len(kept_rows) + len(rejected) == len(rows)
    assert all(isinstance(r["target_logw"], float) for r in kept_rows)
    assert {r["reason"] for r in rejected} == {"not_selected"}
    assert all((r["target_logw"] is None) == (lang_key(r.get("lang"), r["text"]) not in ("en", "zh"))
               for r in rejected)                           # no weight: a language the target does not have
    low = min(r["target_logw"] for r in kept_rows if r["id"] in en_truth)
    en_rest = {x["id"] for x in en_o}
    assert np.median([r["target_logw"] for r in rejected if r["id"] in en_rest and r["target_logw"] is not None]) < low


def test_character_budget_is_met_by_the_closest_prefix(tmp_path):
    sample, planted, others = _chinese(300)
    _write(str(tmp_path / "target.jsonl"), sample)
    inp = _corpus(str(tmp_path), planted + others, 2)
    a, info = _select(str(tmp_path), "a", inp, str(tmp_path / "target.jsonl"), unit="chars", budget=5000, seed=1)
    chars = {r["id"]: len(r["text"]) for r in planted + others}
    assert abs(sum(chars[i] for i in a) - 5000) <= max(chars[i] for i in a)   # the closest prefix
    assert info["selected"] == sum(chars[i] for i in a)
    assert len(a & {r["id"] for r in planted}) / len(a) >= 0.9


def test_gumbel_top_k_samples_in_proportion_to_weights():
    """Gumbel top-1 over ids picks each document with probability ∝ its weight."""
    logw = np.log(np.array([1.0, 2.0, 5.0]))
    wins = np.zeros(3)
    for seed in range(3000):
        wins[gumbel_order(logw, id_keys(["a", "b", "c"], seed))[0]] += 1
    assert np.allclose(wins / wins.sum(), [0.125, 0.25, 0.625], atol=0.03)


def test_chinese_features_use_characters_and_words():
    both = Featurizer(1 << 20)
    chars = Featurizer(1 << 20, zh_words=False)
    text = "酒店的服务很好，早餐也不错"
    assert set(chars.features(text, "zh")) < set(both.features(text, "zh"))
    assert list(both.features(text, "zh")) == list(Featurizer(1 << 20).features(text, "zh"))
