"""Mixing, tokenizers, packed shards (numpy and Megatron), the proxy LM, perplexity and ablations, on real
English and Chinese text."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from gristmill import run
from gristmill.recipe import parse_recipe
from gristmill.tokenize.loader import TokenShards
from gristmill.tokenize.pack import MEGATRON_HEADER, pack, read_megatron_index
from gristmill.tokenize.tokenizer import EOS, load_tokenizer, train_tokenizer
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl

torch = pytest.importorskip("torch", reason="the train extra (torch==2.13.0) is part of the test extra")


@pytest.fixture(scope="module")
def texts():
    en = [d["text"] for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl"))]
    zh = [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))][:150]
    zh += [d["text"] for d in read_jsonl(shared("text_zh/chinese_poetry_shared.jsonl"))][:300]
    return en, zh


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, texts):
    d = tmp_path_factory.mktemp("corpus")
    en, zh = texts
    rows = [{"id": f"en-{i}", "text": t, "lang": "en", "source": "c4"} for i, t in enumerate(en)]
    rows += [{"id": f"zh-{i}", "text": t, "lang": "zh", "source": "man" if i < 150 else "poetry"}
             for i, t in enumerate(zh)]
    write_jsonl(d / "a.jsonl", rows[::2])
    write_jsonl(d / "b.jsonl", rows[1::2])
    return d, rows


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    en, zh = texts
    train_tokenizer(en + zh, vocab_size=2000).save(str(path))
    return str(path)


# -- mixing -------------------------------------------------------------------------------------------------

def _mix(corpus, tmp_path, name, **step):
    d, rows = corpus
    recipe = parse_recipe({"steps": [{"step": "mix", **step}]}, "<t>")
    m = run(recipe, inputs=[str(d / "a.jsonl"), str(d / "b.jsonl")], output=str(tmp_path / name), workers=2,
            quiet=True)
    return m, output_rows(tmp_path / name), output_rows(tmp_path / name, "rejected")


@pytest.mark.parametrize("weights", [{"en": 0.1, "zh": 0.9}, {"en": 0.5, "zh": 0.5}, {"en": 0.9, "zh": 0.1}])
def test_mix_hits_byte_targets_within_one_percent(corpus, tmp_path, weights):
    m, kept, rejected = _mix(corpus, tmp_path, "o", weights=weights, unit="bytes", max_epochs=3)
    assert m["reconciled"] and len(kept) + len(rejected) == len(corpus[1])
    got = Counter()
    for r in kept:
        got[r["lang"]] += len(r["text"].encode()) * r["mix_repeats"]
    total = sum(got.values())
    for g, w in weights.items():
        assert abs(got[g] / total - w) < 0.01, (g, got[g] / total, w)
    info = m["global_steps"]["mix"]
    assert info["shares"] == pytest.approx({g: got[g] / total for g in weights}, abs=1e-6)
    assert max(r["mix_repeats"] for r in kept) <= 3 and max(info["epochs"].values()) <= 3.0001
    assert {r["reason"] for r in rejected} <= {"downsampled"}


def test_mix_in_tokens_by_source_is_deterministic_and_names_the_rest(corpus, tmp_path, tokenizer):
    step = {"by": "source", "weights": {"c4": 0.6, "poetry": 0.4}, "unit": "tokens", "tokenizer": tokenizer,
            "max_epochs": 2, "seed": 7}
    m1, kept1, rej1 = _mix(corpus, tmp_path, "a", **step)
    m2, kept2, _ = _mix(corpus, tmp_path, "b", **step)
    assert [(r["id"], r["mix_repeats"]) for r in kept1] == [(r["id"], r["mix_repeats"]) for r in kept2]
    tok = load_tokenizer(tokenizer)
    got = Counter()
    for r in kept1:
        got[r["source"]] += len(tok.encode(r["text"]).ids) * r["mix_repeats"]
    total = sum(got.values())
    assert abs(got["c4"] / total - 0.6) < 0.01 and abs(got["poetry"] / total - 0.4) < 0.01
    assert Counter(r["reason"] for r in rej1)["not_in_mix"] == 150  # the man pages have no weight
    _, kept3, _ = _mix(corpus, tmp_path, "c", **{**step, "seed": 8})
    assert {r["id"] for r in kept3} != {r["id"] for r in kept1}


def test_mix_with_a_fixed_total_and_the_cli(corpus, tmp_path):
    d, rows = corpus
    r = subprocess.run([sys.executable, "-m", "gristmill", "mix", "-i", str(d / "a.jsonl"), "-i", str(d / "b.jsonl"),
                        "-o", str(tmp_path / "m"), "--weights", "en=0.25,zh=0.75", "--unit", "docs", "--total", "200"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    kept = output_rows(tmp_path / "m")
    n = Counter()
    for k in kept:
        n[k["lang"]] += k["mix_repeats"]
    assert n == {"en": 50, "zh": 150} and "achieved 75.00%" in r.stdout


# -- tokenizer and shards -------------------------------------------------------------------------------------

def test_byte_level_bpe_is_lossless_on_real_text(texts, tokenizer):
    tok = load_tokenizer(tokenizer)
    en, zh = texts
    for t in en[:50] + zh[:50] + ["emoji 🙂 and tabs\t\n  ", "混合 mixed 文本 ①②"]:
        assert tok.decode(tok.encode(t).ids, skip_special_tokens=False) == t
    assert tok.token_to_id(EOS) == 0


@pytest.mark.parametrize("fmt", ["numpy", "megatron"])
def test_shards_round_trip_to_the_original_text(corpus, tokenizer, tmp_path, fmt):
    d, rows = corpus
    m = pack([str(d / "a.jsonl"), str(d / "b.jsonl")], tokenizer, str(tmp_path / "s"), fmt=fmt, seed=3,
             shard_tokens=60_000)
    assert len(m["shards"]) > 1 and m["documents_out"] == len(rows) and m["dtype"] == "uint16"
    ts = TokenShards(str(tmp_path / "s"))
    tok = load_tokenizer(tokenizer)
    decoded = [ts.text(i, tok) for i in range(len(ts))]
    assert sorted(decoded) == sorted(r["text"] for r in rows)
    assert decoded != [r["text"] for r in rows]  # shuffled
    assert ts.num_tokens == m["tokens"] == sum(len(tok.encode(r["text"]).ids) + 1 for r in rows)
    assert m["tokens_by"]["lang"]["en"] + m["tokens_by"]["lang"]["zh"] == m["tokens"]
    # EOS after every document, nowhere else
    eos = sum(int((t == 0).sum()) for t in ts.tokens)
    assert eos == len(rows)
    if fmt == "megatron":
        raw = (tmp_path / "s" / "part-00000.idx").read_bytes()
        assert raw.startswith(MEGATRON_HEADER)
        dtype, lengths, pointers, docs = read_megatron_index(str(tmp_path / "s" / "part-00000.idx"))
        assert dtype == np.uint16 and pointers[1] == lengths[0] * 2 and docs[0] == 0 and len(docs) == len(lengths) + 1
        assert (tmp_path / "s" / "part-00000.bin").stat().st_size == int(lengths.sum()) * 2


def test_shard_order_depends_only_on_the_seed(corpus, tokenizer, tmp_path):
    d, _ = corpus
    a = pack([str(d / "a.jsonl"), str(d / "b.jsonl")], tokenizer, str(tmp_path / "a"), seed=1)
    b = pack([str(d / "b.jsonl"), str(d / "a.jsonl")], tokenizer, str(tmp_path / "b"), seed=1)
    c = pack([str(d / "a.jsonl"), str(d / "b.jsonl")], tokenizer, str(tmp_path / "c"), seed=2)
    ra, rb, rc = (np.fromfile(tmp_path / x / "part-00000.bin", dtype=np.uint16) for x in "abc")
    assert np.array_equal(ra, rb) and not np.array_equal(ra, rc) and a["tokens"] == b["tokens"] == c["tokens"]


def test_loader_batches_and_mix_repeats(corpus, tokenizer, tmp_path):
    d, rows = corpus
    write_jsonl(tmp_path / "r.jsonl", [{"id": "x", "text": "重复三次的文档。", "mix_repeats": 3},
                                       {"id": "y", "text": "once", "mix_repeats": 1},
                                       {"id": "z", "text": "dropped", "mix_repeats": 0}])
    m = pack([str(tmp_path / "r.jsonl")], tokenizer, str(tmp_path / "s"))
    ts = TokenShards(str(tmp_path / "s"))
    assert m["documents_out"] == 4 and sorted(ts.text(i, tokenizer) for i in range(4)) == ["once"] + ["重复三次的文档。"] * 3
    pack([str(d / "a.jsonl")], tokenizer, str(tmp_path / "big"))
    big = TokenShards(str(tmp_path / "big"))
    b1 = big.batch(np.random.default_rng(0), 4, 32)
    b2 = big.batch(np.random.default_rng(0), 4, 32)
    assert b1.shape == (4, 33) and np.array_equal(b1, b2)
    stream = np.asarray(big.tokens[0])
    for row in b1:  # every window is a contiguous slice of the stream
        starts = np.nonzero(stream == row[0])[0]
        assert any(np.array_equal(stream[s:s + 33], row) for s in starts)


def test_eval_texts_are_left_out_of_training_shards(tokenizer, tmp_path):
    from gristmill.train import evalsets

    sets = evalsets.bundled()
    c4 = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))  # its last 56 documents are the English eval set
    write_jsonl(tmp_path / "c4.jsonl", c4)
    m = pack([str(tmp_path / "c4.jsonl")], tokenizer, str(tmp_path / "s"), exclude_hashes=evalsets.text_hashes(sets))
    assert m["documents_excluded"] == len(sets["en"]) == 56 and m["documents_out"] == len(c4) - 56


# -- the proxy LM ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(corpus, tokenizer, tmp_path_factory):
    from gristmill.train import evalsets
    from gristmill.train.trainer import train

    d, _ = corpus
    base = tmp_path_factory.mktemp("lm")
    pack([str(d / "a.jsonl"), str(d / "b.jsonl")], tokenizer, str(base / "shards"))
    r = train(str(base / "shards"), preset="cpu-tiny", tokens=150_000, seed=0, out=str(base / "model"),
              eval_sets=evalsets.bundled())
    return base, r


def test_a_short_training_run_lowers_the_loss(trained):
    base, r = trained
    assert r["loss_last"] < r["loss_first"] - 1.0
    assert r["loss_first"] == pytest.approx(np.log(2000), abs=0.6)  # starts near uniform over the vocabulary
    assert 0.5 < r["eval"]["en"]["bpb"] < 8 and 0.5 < r["eval"]["zh"]["bpb"] < 12
    assert {p.name for p in (base / "model").iterdir()} == {"model.pt", "config.json", "tokenizer.json",
                                                            "train_log.jsonl"}


def test_perplexity_step_matches_bits_per_byte(trained, tmp_path):
    from gristmill.train.trainer import bits_per_byte, load_model

    base, _ = trained
    docs = [{"id": "en", "text": read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))[0]["text"][:1500]},
            {"id": "zh", "text": "今天天气很好，我们去公园散步。" * 5}, {"id": "empty", "text": ""}]
    write_jsonl(tmp_path / "in.jsonl", docs)
    recipe = parse_recipe({"steps": [{"step": "perplexity", "model": str(base / "model"), "max_chars": 5000}]}, "<t>")
    m = run(recipe, inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1, quiet=True)
    got = {r["id"]: r.get("ppl_bpb") for r in output_rows(tmp_path / "o")}
    model, tok = load_model(str(base / "model"))
    for d in docs[:2]:
        assert got[d["id"]] == pytest.approx(bits_per_byte(model, tok, [d["text"]])["bpb"], abs=1e-3)
    assert got["empty"] is None and m["reconciled"]


def test_train_command_and_missing_model_messages(trained, tmp_path):
    base, _ = trained
    r = subprocess.run([sys.executable, "-m", "gristmill", "train", str(base / "shards"), "-o", str(tmp_path / "m"),
                        "--tokens", "20000", "--eval", "zh"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "eval zh:" in r.stdout and "tokens/s" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "gristmill", "train", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "manifest.json missing" in bad.stderr and "Traceback" not in bad.stderr


# -- ablations -------------------------------------------------------------------------------------------------

def test_ablation_is_reproducible_and_resumes(corpus, tmp_path):
    from gristmill.ablate.runner import ablate

    d, _ = corpus
    spec = tmp_path / "abl.yaml"
    spec.write_text(json.dumps({
        "name": "tiny", "data": {"paths": [str(d / "a.jsonl")]},
        "tokenizer": {"vocab_size": 800, "sample_docs": 300}, "train": {"preset": "cpu-tiny", "tokens": 20000},
        "eval": ["en"], "seeds": [0, 1],
        "variants": [{"name": "all", "recipe": {"steps": [{"step": "normalize"}]}},
                     {"name": "long", "recipe": {"steps": [{"step": "filter", "keep": "len(text) >= 2000"}]}}]}))
    a = ablate(str(spec), str(tmp_path / "a"), workers=1, quiet=True)
    b = ablate(str(spec), str(tmp_path / "b"), workers=1, quiet=True)
    assert a["table"] == b["table"] and a["variants"] == ["all", "long"]
    assert a["data"]["long"]["counts"]["kept"] < a["data"]["all"]["counts"]["kept"]
    assert {c["variant"] for c in a["comparisons"]} == {"long"} and a["comparisons"][0]["se"] is not None
    again = ablate(str(spec), str(tmp_path / "a"), workers=1, quiet=True)  # every cell is on disk: nothing retrains
    assert again["table"] == a["table"] and again["seconds"] < a["seconds"]
    page = (tmp_path / "a" / "results.html").read_text()
    assert 'class="plot"' in page and "long" in (tmp_path / "a" / "results.md").read_text()


def test_tokenizer_train_command_on_english_and_chinese(tmp_path, texts):
    out = tmp_path / "tok.json"
    r = subprocess.run([sys.executable, "-m", "gristmill", "tokenizer", "train", "-i",
                        str(shared("text_en/c4_sample_shared.jsonl")), "-i", str(shared("text_zh/chinese_poetry_shared.jsonl")),
                        "-o", str(out), "--vocab-size", "1500", "--sample-docs", "500"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "from 500 documents" in r.stdout
    tok = load_tokenizer(str(out))
    en, zh = texts
    assert tok.get_vocab_size() == 1500 and tok.token_to_id(EOS) == 0
    for t in en[:5] + zh[-5:]:
        assert tok.decode(tok.encode(t).ids) == t
